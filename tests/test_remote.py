"""The remote engine against llama-cpp-python's OpenAI-compatible server and scripted local HTTP servers."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mindgarden.core.personas import load_personas
from mindgarden.core.sampling import ExpansionPlan, SamplerSettings
from mindgarden.core.store import SessionStore
from mindgarden.engine import remote_keys
from mindgarden.engine.growth import Grower
from mindgarden.engine.remote import RemoteEngine, RemoteError, load_api_key, store_api_key
from mindgarden.engine.types import BranchDelta, BranchFinished, BranchRequest, ExpansionFinished, ExpansionStarted

SERVER_ALIAS = "smollm2-135m"
SERVER_START_SECONDS = 90
SCRIPTED_MODEL = "scripted-model"
SCRIPTED_WORDS = ["Plant", " a", " seed", " and", " wait."]
RIGHT_KEY = "sk-test-right-key-1234"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def branch_requests(count: int, max_new_tokens: int = 16, **sampler: float) -> list[BranchRequest]:
    settings = SamplerSettings(**{"temperature": 0.9, **sampler})
    messages = ({"role": "user", "content": "Give one idea for a small town library."},)
    return [BranchRequest(messages=messages, sampler=settings, seed=index + 1, max_new_tokens=max_new_tokens)
            for index in range(count)]


def collect(engine: RemoteEngine, requests: list[BranchRequest], cancel: threading.Event | None = None):
    events = list(engine.expand(requests, cancel))
    results = sorted((event.result for event in events if isinstance(event, BranchFinished)),
                     key=lambda result: result.index)
    return events, results


# --- llama-cpp-python's server -------------------------------------------------------------


@pytest.fixture(scope="module")
def llama_server(model_path, tmp_path_factory):
    """llama-cpp-python's OpenAI-compatible server with the bundled model, on a free local port."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(model_path), "--model_alias", SERVER_ALIAS,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
        # By default the server ends a running stream when the next request arrives.
        "--interrupt_requests", "false",
        "--verbose", "false",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(command, stdout=log_file, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        wait_until_ready(process, base_url, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def wait_until_ready(process: subprocess.Popen, base_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama-cpp-python's server exited with code {process.returncode}:\n"
                        f"{log_path.read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(f"{base_url}/models", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    pytest.fail(f"llama-cpp-python's server did not answer within {SERVER_START_SECONDS}s:\n"
                f"{log_path.read_text(errors='replace')[-4000:]}")


def test_server_streams_four_branches(llama_server):
    engine = RemoteEngine(llama_server, SERVER_ALIAS, timeout=60.0)
    events, results = collect(engine, branch_requests(4, max_new_tokens=16))

    assert isinstance(events[0], ExpansionStarted)
    assert isinstance(events[-1], ExpansionFinished)
    first_delta = next(position for position, event in enumerate(events) if isinstance(event, BranchDelta))
    first_finish = next(position for position, event in enumerate(events) if isinstance(event, BranchFinished))
    assert first_delta < first_finish
    assert [result.index for result in results] == [0, 1, 2, 3]
    for result in results:
        assert result.text.strip(), result
        assert result.finish_reason in ("stop", "length"), result
        assert 0 < result.token_count <= 16, result
        assert result.seed == result.index + 1
        assert result.mean_entropy is not None, result
        assert result.mean_logprob is not None, result
    for result in results:
        streamed = "".join(event.text for event in events
                           if isinstance(event, BranchDelta) and event.index == result.index)
        assert streamed == result.text
    assert events[-1].generated_tokens == sum(result.token_count for result in results)


def test_server_cancel_keeps_partial_text(llama_server):
    engine = RemoteEngine(llama_server, SERVER_ALIAS, timeout=60.0)
    cancel = threading.Event()
    events = []
    started = time.monotonic()
    for event in engine.expand(branch_requests(2, max_new_tokens=400), cancel):
        events.append(event)
        if isinstance(event, BranchDelta) and sum(isinstance(e, BranchDelta) for e in events) >= 3:
            cancel.set()
    elapsed = time.monotonic() - started
    results = [event.result for event in events if isinstance(event, BranchFinished)]

    assert len(results) == 2
    assert {result.finish_reason for result in results} == {"cancelled"}
    assert any(result.text for result in results)
    assert all(result.token_count < 400 for result in results)
    assert elapsed < 30, f"cancelling took {elapsed:.1f}s"


def test_server_wrong_model_raises(llama_server):
    engine = RemoteEngine(llama_server, "no-such-model")
    with pytest.raises(RemoteError) as caught:
        list(engine.expand(branch_requests(1)))
    message = str(caught.value)
    assert llama_server in message
    assert "does not serve model 'no-such-model'" in message
    assert SERVER_ALIAS in message


def test_grower_with_remote_engine(llama_server):
    store = SessionStore()
    session = store.create_session("remote")
    session.tree.set_root("How could a small town library become a place people visit every week?")
    grower = Grower(session, RemoteEngine(llama_server, SERVER_ALIAS), load_personas())

    children = grower.grow(session.tree.root_id, ExpansionPlan(branches=4, max_new_tokens=24))
    session.flush()

    assert len(children) == 4
    for child in children:
        assert child.complete
        assert child.text.strip()
        assert child.finish_reason in ("stop", "length")
        assert child.model_name == SERVER_ALIAS
        assert child.token_count > 0
    reopened = store.open_session(session.id)
    assert {node.id for node in reopened.tree.children(reopened.tree.root_id)} == {child.id for child in children}
    session.close()
    store.close()


# --- scripted local servers ----------------------------------------------------------------


class ScriptedHandler(BaseHTTPRequestHandler):
    """Request handler that acts as an OpenAI-compatible server; the first path segment selects the behaviour."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - the signature is fixed by BaseHTTPRequestHandler
        pass

    @property
    def behaviour(self) -> str:
        return self.path.strip("/").split("/")[0]

    def send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def authorised(self) -> bool:
        if self.behaviour != "auth" or self.headers.get("Authorization") == f"Bearer {RIGHT_KEY}":
            return True
        self.send_json(401, {"error": {"message": "Invalid API key", "type": "invalid_request_error"}})
        return False

    def do_GET(self):
        self.server.authorizations.append(self.headers.get("Authorization"))
        if not self.authorised():
            return
        if self.behaviour == "hang":
            self.send_json(404, {"error": {"message": "Not Found"}})
            return
        self.send_json(200, {"object": "list", "data": [{"id": SCRIPTED_MODEL, "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        self.server.authorizations.append(self.headers.get("Authorization"))
        if not self.authorised():
            return
        if self.behaviour == "fail500":
            self.send_json(500, {"error": {"message": "CUDA out of memory", "code": 500}})
            return
        if self.behaviour == "hang":
            self.server.release.wait(30)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        if self.behaviour == "garbage":
            self.wfile.write(b"data: <html>not json</html>\n\n")
            return
        self.stream_words(body)

    def send_event(self, payload: dict | str) -> None:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        self.wfile.write(f"data: {data}\n\n".encode())
        self.wfile.flush()

    def stream_words(self, body: dict) -> None:
        words = SCRIPTED_WORDS * (40 if self.behaviour == "slow" else 1)
        self.wfile.write(b": ping\n\n")
        self.send_event({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})
        for position, word in enumerate(words):
            if self.behaviour == "midfail" and body["seed"] == 1 and position == 2:
                # Drop the connection without [DONE], as a crashing server would.
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            logprobs = {"content": [{"token": word, "logprob": -0.5, "top_logprobs": [
                {"token": word, "logprob": -0.5}, {"token": "x", "logprob": -1.5}]}]}
            self.send_event({"choices": [{"index": 0, "delta": {"content": word}, "logprobs": logprobs,
                                          "finish_reason": None}]})
            if self.behaviour == "slow":
                time.sleep(0.05)
        self.send_event({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        self.send_event({"choices": [], "usage": {"prompt_tokens": 11, "completion_tokens": len(words),
                                                  "total_tokens": 11 + len(words)}})
        self.send_event("[DONE]")


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that cancels closes its connection mid-stream, so writes fail with a broken pipe.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


@pytest.fixture
def scripted():
    """A scripted OpenAI-compatible server whose ``url(behaviour)`` builds a base URL for a behaviour."""
    server = ScriptedServer(("127.0.0.1", 0), ScriptedHandler)
    server.bodies = []
    server.authorizations = []
    server.release = threading.Event()
    thread = threading.Thread(target=server.serve_forever, name="scripted-server", daemon=True)
    thread.start()
    port = server.server_address[1]
    server.url = lambda behaviour: f"http://127.0.0.1:{port}/{behaviour}/v1"
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_scripted_stream_maps_chunks(scripted):
    engine = RemoteEngine(scripted.url("ok"), SCRIPTED_MODEL)
    events, results = collect(engine, branch_requests(3))

    assert [result.text for result in results] == ["".join(SCRIPTED_WORDS)] * 3
    assert all(result.finish_reason == "stop" for result in results)
    assert all(result.token_count == len(SCRIPTED_WORDS) for result in results)
    assert results[0].mean_entropy == pytest.approx(0.5822, abs=1e-3)
    assert results[0].mean_logprob == pytest.approx(-0.5)
    assert events[-1].prompt_tokens == 33


def test_scripted_request_body(scripted):
    engine = RemoteEngine(scripted.url("ok"), SCRIPTED_MODEL)
    request = BranchRequest(messages=({"role": "user", "content": "hi"},),
                            sampler=SamplerSettings(temperature=0.7, top_p=0.9, min_p=0.1, top_k=40),
                            seed=7, max_new_tokens=12, min_new_tokens=3, stop=("\n\n",))
    collect(engine, [request])
    body = scripted.bodies[-1]

    assert body["model"] == SCRIPTED_MODEL
    assert body["messages"] == [{"role": "user", "content": "hi"}]
    assert body["stream"] is True
    assert body["temperature"] == 0.7
    assert body["top_p"] == 0.9
    assert body["min_p"] == 0.1
    assert body["top_k"] == 40
    assert body["min_tokens"] == 3
    assert body["seed"] == 7
    assert body["max_tokens"] == 12
    assert body["stop"] == ["\n\n"]
    assert body["top_logprobs"] == 5

    plain = RemoteEngine(scripted.url("ok"), SCRIPTED_MODEL, extra_sampling=False, top_logprobs=0)
    collect(plain, [request])
    assert "min_p" not in scripted.bodies[-1]
    assert "top_k" not in scripted.bodies[-1]
    assert "logprobs" not in scripted.bodies[-1]


def test_scripted_branch_failure_keeps_partial(scripted):
    engine = RemoteEngine(scripted.url("midfail"), SCRIPTED_MODEL)
    _, results = collect(engine, branch_requests(3))

    assert results[0].finish_reason == "error"
    assert results[0].text == "".join(SCRIPTED_WORDS[:2])
    assert scripted.url("midfail").rstrip("/") in results[0].error
    assert [result.finish_reason for result in results[1:]] == ["stop", "stop"]
    assert all(result.text == "".join(SCRIPTED_WORDS) for result in results[1:])


def test_scripted_cancel_is_prompt(scripted):
    engine = RemoteEngine(scripted.url("slow"), SCRIPTED_MODEL)
    cancel = threading.Event()
    results = []
    started = time.monotonic()
    for event in engine.expand(branch_requests(2), cancel):
        if isinstance(event, BranchDelta):
            cancel.set()
        if isinstance(event, BranchFinished):
            results.append(event.result)

    assert time.monotonic() - started < 3
    assert [result.finish_reason for result in results] == ["cancelled", "cancelled"]
    assert any(result.text for result in results)


def test_http_500_names_server_message(scripted):
    engine = RemoteEngine(scripted.url("fail500"), SCRIPTED_MODEL)
    with pytest.raises(RemoteError) as caught:
        list(engine.expand(branch_requests(2)))

    assert caught.value.status == 500
    assert scripted.url("fail500") in str(caught.value)
    assert "HTTP 500: CUDA out of memory" in str(caught.value)


def test_hanging_server_times_out(scripted):
    engine = RemoteEngine(scripted.url("hang"), SCRIPTED_MODEL, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        list(engine.expand(branch_requests(1)))

    assert time.monotonic() - started < 10
    assert scripted.url("hang") in str(caught.value)
    assert "sent nothing for 1 seconds" in str(caught.value)


def test_malformed_stream_raises(scripted):
    engine = RemoteEngine(scripted.url("garbage"), SCRIPTED_MODEL)
    with pytest.raises(RemoteError) as caught:
        list(engine.expand(branch_requests(1)))

    assert "malformed stream" in str(caught.value)
    assert scripted.url("garbage") in str(caught.value)


def test_closed_port_raises():
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    engine = RemoteEngine(base_url, SCRIPTED_MODEL, timeout=5.0)
    with pytest.raises(RemoteError) as caught:
        list(engine.expand(branch_requests(1)))

    assert base_url in str(caught.value)
    assert "refused the connection" in str(caught.value)


def test_wrong_api_key_raises(scripted, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = RemoteEngine(scripted.url("auth"), SCRIPTED_MODEL, api_key="sk-wrong-key-9876")
    with pytest.raises(RemoteError) as caught:
        list(wrong.expand(branch_requests(1)))
    assert caught.value.status == 401
    assert "rejected the API key" in str(caught.value)

    right = RemoteEngine(scripted.url("auth"), SCRIPTED_MODEL, api_key=RIGHT_KEY)
    _, results = collect(right, branch_requests(1))
    assert results[0].finish_reason == "stop"
    assert scripted.authorizations[-1] == f"Bearer {RIGHT_KEY}"
    assert RIGHT_KEY not in caplog.text
    assert "sk-wrong-key-9876" not in caplog.text
    assert RIGHT_KEY not in repr(right)
    assert RIGHT_KEY not in repr(right.info)


@pytest.mark.parametrize("base_url", ["ftp://127.0.0.1/v1", "127.0.0.1:8080", "http://user:secret@127.0.0.1/v1"])
def test_invalid_base_url_raises(base_url):
    with pytest.raises(RemoteError) as caught:
        RemoteEngine(base_url, SCRIPTED_MODEL)
    assert "secret" not in str(caught.value)


def test_base_url_gets_v1(scripted):
    engine = RemoteEngine(scripted.url("ok").removesuffix("/v1"), SCRIPTED_MODEL)
    assert engine.address.api_path == "/ok/v1"
    assert engine.info.device == "remote"
    assert engine.info.name == SCRIPTED_MODEL


# --- API keys in the keyring ---------------------------------------------------------------


def fake_keyring(monkeypatch, fail: bool = False) -> dict:
    """Install a stand-in ``keyring`` module that keeps passwords in a dict, or fails like a locked keyring."""
    stored: dict = {}
    errors = types.ModuleType("keyring.errors")

    class KeyringError(Exception):
        pass

    class PasswordDeleteError(KeyringError):
        pass

    errors.KeyringError = KeyringError
    errors.PasswordDeleteError = PasswordDeleteError
    module = types.ModuleType("keyring")
    module.errors = errors

    def set_password(service, account, password):
        if fail:
            raise KeyringError("no backend")
        stored[(service, account)] = password

    def get_password(service, account):
        if fail:
            raise KeyringError("no backend")
        return stored.get((service, account))

    def delete_password(service, account):
        if (service, account) not in stored:
            raise PasswordDeleteError("not found")
        del stored[(service, account)]

    module.set_password = set_password
    module.get_password = get_password
    module.delete_password = delete_password
    monkeypatch.setitem(sys.modules, "keyring", module)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    return stored


def test_keyring_round_trip(monkeypatch, scripted):
    stored = fake_keyring(monkeypatch)
    url = scripted.url("auth")

    assert store_api_key(url + "/", RIGHT_KEY)
    assert load_api_key(url) == RIGHT_KEY
    assert (remote_keys.KEYRING_SERVICE, url) in stored
    engine = RemoteEngine(url, SCRIPTED_MODEL)
    assert engine.has_api_key
    _, results = collect(engine, branch_requests(1))
    assert results[0].finish_reason == "stop"

    assert store_api_key(url, "")
    assert load_api_key(url) is None


def test_keyring_failure_is_quiet(monkeypatch, caplog):
    fake_keyring(monkeypatch, fail=True)
    caplog.set_level(logging.WARNING)

    assert store_api_key("http://127.0.0.1:8080/v1", RIGHT_KEY) is False
    assert load_api_key("http://127.0.0.1:8080/v1") is None
    assert "keyring failed" in caplog.text
    assert RIGHT_KEY not in caplog.text


def test_keyring_missing_returns_none(monkeypatch):
    monkeypatch.setitem(sys.modules, "keyring", None)

    assert store_api_key("http://127.0.0.1:8080/v1", RIGHT_KEY) is False
    assert load_api_key("http://127.0.0.1:8080/v1") is None
