"""The remote engine: branches sampled by an OpenAI-compatible server (llama-server, vLLM, Ollama, llama-cpp-python)."""

from __future__ import annotations

import http.client
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mindgarden.engine.remote_chat import MAX_TOP_LOGPROBS, ChunkStats, chat_body, map_finish_reason
from mindgarden.engine.remote_http import (
    DEFAULT_BASE_URL,
    RemoteError,
    ServerAddress,
    connection_error,
    iter_sse_data,
    malformed_stream,
    open_connection,
    parse_base_url,
    parse_chunk,
    request_headers,
    shutdown_socket,
    status_error,
)
from mindgarden.engine.remote_keys import load_api_key, store_api_key
from mindgarden.engine.types import (
    FINISH_CANCELLED,
    FINISH_ERROR,
    BranchDelta,
    BranchFinished,
    BranchRequest,
    BranchResult,
    EngineEvent,
    ExpansionFinished,
    ExpansionStarted,
    ModelInfo,
)

__all__ = ["DEFAULT_BASE_URL", "RemoteEngine", "RemoteError", "load_api_key", "store_api_key"]

log = logging.getLogger(__name__)

POLL_SECONDS = 0.05
DEFAULT_MAX_CONCURRENCY = 4
DEFAULT_TOP_LOGPROBS = 5


class RemoteEngine:
    """An engine that sends each branch as one streamed chat completion to an OpenAI-compatible server.

    Branches of an expansion run concurrently, at most ``max_concurrency`` at a time, and their
    chunks are merged into one event stream. A branch that fails before its first chunk (server
    unreachable, HTTP error, time-out, malformed response) stops the whole expansion with a
    RemoteError, because the same cause would fail every branch. A branch that fails after its
    first chunk finishes with reason "error" and keeps its partial text while the others go on.

    Args:
        base_url: the API root, such as ``http://127.0.0.1:8080/v1``; ``/v1`` is added when missing.
        model: the model name the server serves.
        api_key: sent as a bearer token; when None, the key stored in the system keyring for
            ``base_url`` is used, if any. The key is never logged.
        timeout: seconds to wait for the connection and for each read from the server.
        max_concurrency: the maximum number of requests in flight at once.
        top_logprobs: top log-probabilities requested per token to estimate entropy; 0 requests none.
        extra_sampling: send sampler settings outside the OpenAI schema (min_p, top_k, ...).
            Best-effort: servers that do not know a field ignore it, the OpenAI API rejects it.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        top_logprobs: int = DEFAULT_TOP_LOGPROBS,
        extra_sampling: bool = True,
    ) -> None:
        self.address = parse_base_url(base_url)
        url = self.address.base_url
        if not model.strip():
            raise RemoteError(
                f"No model name is set for the server at {url}: enter the name the server serves.", url)
        if not timeout > 0:
            raise RemoteError(
                f"The time-out {timeout!r} for {url} is invalid: it must be a positive number of seconds.", url)
        if max_concurrency < 1:
            raise RemoteError(
                f"The request limit {max_concurrency!r} for {url} is invalid: it must be at least 1.", url)
        if not 0 <= top_logprobs <= MAX_TOP_LOGPROBS:
            raise RemoteError(
                f"top_logprobs={top_logprobs!r} for {url} is invalid: it must be between 0 and {MAX_TOP_LOGPROBS}.",
                url)

        self.model = model.strip()
        self.timeout = float(timeout)
        self.max_concurrency = max_concurrency
        self.top_logprobs = top_logprobs
        self.extra_sampling = extra_sampling
        self._api_key = api_key or load_api_key(url)
        self.info = ModelInfo(path=url, name=self.model, sha256="", device="remote",
                              extra={"api": "openai-chat-completions"})
        self._model_checked = False
        self._check_lock = threading.Lock()
        self._runs: set[_ExpansionRun] = set()
        self._runs_lock = threading.Lock()
        log.info("Remote engine for model %s at %s (API key %s, time-out %gs, %d requests at once)",
                 self.model, url, "set" if self._api_key else "not set", self.timeout, max_concurrency)

    def __repr__(self) -> str:
        return f"RemoteEngine(base_url={self.address.base_url!r}, model={self.model!r})"

    @property
    def has_api_key(self) -> bool:
        return bool(self._api_key)

    def check_model(self) -> None:
        """Check that the server lists the model; raises RemoteError if it does not.

        The check matters because llama-cpp-python's server and llama-server serve requests for
        an unknown model with their own model instead of HTTP 404. Servers without a model list
        (HTTP 404 or 405 on ``/models``) pass unchecked.
        """
        path = self.address.endpoint("models")
        connection = open_connection(self.address, self.timeout)
        try:
            connection.request("GET", path, headers=request_headers(self._api_key, "application/json"))
            response = connection.getresponse()
            body = response.read()
        except OSError as error:
            raise connection_error(self.address, error, self.timeout) from error
        except http.client.HTTPException as error:
            raise malformed_stream(self.address, f"invalid HTTP response to GET {path}: {error!r}") from error
        finally:
            connection.close()

        if response.status in (404, 405):
            log.info("%s has no model list (HTTP %d), so the model name %s is not checked",
                     self.address.base_url, response.status, self.model)
            return
        if response.status != 200:
            raise status_error(self.address, response.status, body, self.model, path)
        served = _model_ids(body)
        if served is None:
            log.warning("The model list of %s is not in the OpenAI format, so the model name %s is not checked",
                        self.address.base_url, self.model)
            return
        if served and self.model not in served and f"{self.model}:latest" not in served:
            raise RemoteError(
                f"The model server at {self.address.base_url} does not serve model {self.model!r}. "
                f"It serves: {', '.join(sorted(served))}. Choose one of those names.",
                self.address.base_url, 404,
            )
        log.info("%s serves model %s", self.address.base_url, self.model)

    def _ensure_model_checked(self) -> None:
        with self._check_lock:
            if not self._model_checked:
                self.check_model()
                self._model_checked = True

    def expand(self, requests: list[BranchRequest], cancel: threading.Event | None = None) -> Iterator[EngineEvent]:
        """Send every request to the server at once, yielding events as chunks arrive.

        Setting ``cancel`` closes the open responses; their branches finish as cancelled with
        their partial text. Raises RemoteError when a branch fails before its first chunk.
        """
        cancel = cancel or threading.Event()
        self._ensure_model_checked()
        run = _ExpansionRun(self, requests, cancel)
        with self._runs_lock:
            self._runs.add(run)
        try:
            yield from run.events()
        finally:
            with self._runs_lock:
                self._runs.discard(run)

    def close(self) -> None:
        """Stop expansions in progress by closing their responses."""
        with self._runs_lock:
            runs = list(self._runs)
        for run in runs:
            run.stop()


def _model_ids(body: bytes) -> set[str] | None:
    """Return the model ids of an OpenAI ``/models`` response, or None if it has another shape."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    return {entry["id"] for entry in entries if isinstance(entry, dict) and isinstance(entry.get("id"), str)}


@dataclass(frozen=True)
class _Fatal:
    """A failure that ends the expansion, passed from a branch thread to the generator."""

    index: int
    error: Exception


class _StreamFailed(Exception):
    """A failed branch stream; ``started`` is True when a valid chunk arrived before the failure."""

    def __init__(self, error: RemoteError, started: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.started = started


class _ExpansionRun:
    """One expansion in flight: a thread per branch that puts events on a queue the generator drains."""

    def __init__(self, engine: RemoteEngine, requests: list[BranchRequest], cancel: threading.Event) -> None:
        self.engine = engine
        self.address: ServerAddress = engine.address
        self.requests = requests
        self.cancel = cancel
        self.events_queue: queue.Queue[BranchDelta | BranchFinished | _Fatal] = queue.Queue()
        self._stopped = threading.Event()
        # Sockets, not connections: http.client drops a connection's socket once a response owns it.
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._prompt_tokens: dict[int, int] = {}

    def stop(self) -> None:
        """Close every open response; branch threads then finish as cancelled."""
        with self._lock:
            self._stopped.set()
            sockets = list(self._sockets)
        for sock in sockets:
            shutdown_socket(sock)

    @property
    def stopping(self) -> bool:
        return self._stopped.is_set() or self.cancel.is_set()

    def events(self) -> Iterator[EngineEvent]:
        started = time.perf_counter()
        count = len(self.requests)
        log.info("Sending %d branches to %s (model %s)", count, self.address.base_url, self.engine.model)
        yield ExpansionStarted(count, 0, 0)

        results: list[BranchResult] = []
        executor = ThreadPoolExecutor(max_workers=max(1, min(self.engine.max_concurrency, count)),
                                      thread_name_prefix="remote-branch")
        try:
            for index, request in enumerate(self.requests):
                executor.submit(self._run_branch_guarded, index, request)
            while len(results) < count:
                if self.cancel.is_set() and not self._stopped.is_set():
                    log.info("Cancelling %d branches at %s", count - len(results), self.address.base_url)
                    self.stop()
                try:
                    item = self.events_queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if isinstance(item, _Fatal):
                    log.error("Branch %d at %s failed before its first chunk: %s", item.index,
                              self.address.base_url, item.error)
                    raise item.error
                if isinstance(item, BranchFinished):
                    results.append(item.result)
                yield item
        finally:
            self.stop()
            executor.shutdown(wait=True, cancel_futures=True)

        seconds = time.perf_counter() - started
        prompt_tokens = sum(self._prompt_tokens.values())
        generated = sum(result.token_count for result in results)
        finished = ExpansionFinished(prompt_tokens, prompt_tokens, generated, seconds)
        log.info("Expansion at %s finished: %d branches, %d tokens in %.2fs (%.1f tokens/s)",
                 self.address.base_url, count, generated, seconds, finished.tokens_per_second)
        yield finished

    def _finish(self, index: int, request: BranchRequest, stats: ChunkStats, reason: str, started: float,
                error: str | None = None) -> None:
        entropies = stats.entropies
        if stats.prompt_tokens is not None:
            self._prompt_tokens[index] = stats.prompt_tokens
        result = BranchResult(
            index=index,
            text=stats.text,
            finish_reason=reason,
            token_count=stats.token_count,
            seconds=time.perf_counter() - started,
            seed=request.seed,
            mean_entropy=sum(entropies) / len(entropies) if entropies else None,
            max_entropy=max(entropies) if entropies else None,
            first_entropy=entropies[0] if entropies else None,
            mean_logprob=sum(stats.logprobs) / len(stats.logprobs) if stats.logprobs else None,
            error=error,
        )
        self.events_queue.put(BranchFinished(result))

    def _run_branch_guarded(self, index: int, request: BranchRequest) -> None:
        try:
            self._run_branch(index, request)
        except Exception as error:
            # A bug, not a server failure: the generator re-raises it so it reaches the crash
            # dialog instead of dying silently in the thread pool and leaving the expansion waiting.
            log.exception("Branch %d at %s failed unexpectedly", index, self.address.base_url)
            self.events_queue.put(_Fatal(index, error))

    def _run_branch(self, index: int, request: BranchRequest) -> None:
        started = time.perf_counter()
        stats = ChunkStats()
        if self.stopping:
            self._finish(index, request, stats, FINISH_CANCELLED, started)
            return
        connection = open_connection(self.address, self.engine.timeout)
        try:
            reason, error = self._stream(connection, index, request, stats)
        except _StreamFailed as failure:
            if self.stopping:
                reason, error = FINISH_CANCELLED, None
            elif failure.started:
                log.warning("Branch %d at %s failed after %d characters: %s", index, self.address.base_url,
                            len(stats.text), failure.error)
                reason, error = FINISH_ERROR, str(failure.error)
            else:
                self.events_queue.put(_Fatal(index, failure.error))
                return
        finally:
            connection.close()
        self._finish(index, request, stats, reason, started, error)

    def _stream(self, connection: http.client.HTTPConnection, index: int, request: BranchRequest,
                stats: ChunkStats) -> tuple[str, str | None]:
        """Send one request and read its chunks into ``stats``; returns (finish reason, error message)."""
        engine = self.engine
        path = self.address.endpoint("chat/completions")
        body = json.dumps(chat_body(engine.model, request, engine.top_logprobs, engine.extra_sampling))
        started = False
        sock: socket.socket | None = None
        response: http.client.HTTPResponse | None = None
        try:
            connection.connect()
            sock = connection.sock
            with self._lock:
                if self._stopped.is_set():
                    return FINISH_CANCELLED, None
                self._sockets.add(sock)
            connection.request("POST", path, body=body.encode("utf-8"),
                               headers=request_headers(engine._api_key, "text/event-stream"))
            response = connection.getresponse()
            if response.status != 200:
                raise _StreamFailed(status_error(self.address, response.status, response.read(), engine.model, path),
                                    False)
            for data in iter_sse_data(response):
                if data.strip() == "[DONE]":
                    break
                chunk = parse_chunk(self.address, data)
                self._read_chunk(chunk, index, stats)
                started = True
                if stats.finish_reason is not None and self.stopping:
                    break
        except RemoteError as error:
            raise _StreamFailed(error, started) from error
        except OSError as error:
            raise _StreamFailed(connection_error(self.address, error, engine.timeout), started) from error
        except http.client.HTTPException as error:
            raise _StreamFailed(malformed_stream(self.address, f"invalid HTTP response: {error!r}"), started) from error
        finally:
            if response is not None:
                response.close()
            if sock is not None:
                with self._lock:
                    self._sockets.discard(sock)
                sock.close()

        if stats.finish_reason is not None:
            return map_finish_reason(stats.finish_reason)
        if self.stopping:
            return FINISH_CANCELLED, None
        # NOTE: llama-cpp-python's server (0.3.x) ends a stream with [DONE] and no finish reason
        # when another request arrives, unless it runs with --interrupt_requests false.
        raise _StreamFailed(malformed_stream(
            self.address, "the stream ended before a finish reason; if this is llama-cpp-python's server, "
            "start it with --interrupt_requests false"), started)

    def _read_chunk(self, chunk: dict[str, Any], index: int, stats: ChunkStats) -> None:
        if "error" in chunk:
            error = chunk["error"]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise RemoteError(f"The model server at {self.address.base_url} reported an error in the stream: "
                              f"{message}. Check the server's log.", self.address.base_url)
        stats.read_usage(chunk)
        choices = chunk.get("choices")
        if choices is None and "usage" in chunk:
            return
        if not isinstance(choices, list):
            raise malformed_stream(self.address, "a chunk has no 'choices' list")
        if not choices:
            return
        choice = choices[0]
        if not isinstance(choice, dict):
            raise malformed_stream(self.address, "a choice is not a JSON object")
        delta = choice.get("delta") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        stats.read_logprobs(choice)
        if isinstance(content, str) and content:
            stats.text += content
            stats.content_chunks += 1
            self.events_queue.put(BranchDelta(index, content))
        reason = choice.get("finish_reason")
        if isinstance(reason, str) and reason:
            stats.finish_reason = reason

