"""The in-process llama.cpp engine: batched branches that share the KV cache of their prefix."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import llama_cpp
import numpy as np

from mindgarden.core.errors import MindGardenError, ModelFileError, PromptTooLongError
from mindgarden.core.sampling import SamplerSettings
from mindgarden.engine import devices, native
from mindgarden.engine.chat import ChatFormatter
from mindgarden.engine.gguf import read_gguf
from mindgarden.engine.memory import kv_bytes_per_token
from mindgarden.engine.prefix_cache import PrefixCache, common_prefix_length
from mindgarden.engine.textstream import TextStream
from mindgarden.engine.types import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    FINISH_STOP,
    BranchDelta,
    BranchFinished,
    BranchRequest,
    BranchResult,
    EngineEvent,
    ExpansionFinished,
    ExpansionStarted,
    ModelInfo,
)

log = logging.getLogger(__name__)

DEFAULT_MAX_CONTEXT = 16384
KV_MEMORY_FRACTION = 0.25
MAX_SEQUENCES = 64
BATCH_SIZE = 512
DRY_BREAKERS = ("\n", ":", '"', "*")


@dataclass
class _Branch:
    """State of one branch while it decodes."""

    index: int
    request: BranchRequest
    seq_id: int
    prompt: list[int]
    chain: int
    stream: TextStream
    budget: int
    eog_ban: int | None
    position: int = 0
    generated: list[int] = field(default_factory=list)
    entropies: list[float] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    pending_token: int | None = None
    finished: bool = False


class LlamaEngine:
    """Loads one GGUF model and expands nodes into batched branches.

    Use it from one thread at a time: the GUI runs it on a single worker thread.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        n_ctx: int | None = None,
        n_threads: int | None = None,
        n_gpu_layers: int | None = None,
        max_sequences: int = MAX_SEQUENCES,
        progress: Callable[[float], bool] | None = None,
    ) -> None:
        """Load ``model_path``; ``progress(fraction)`` is called while loading and may return False to cancel.

        Raises:
            ModelFileError: the file is invalid or llama.cpp cannot load it.
            LoadCancelled: ``progress`` returned False.
        """
        path = Path(model_path).expanduser()
        self.gguf = read_gguf(path)
        native.ensure_backend()
        self.notices: list[str] = []

        model_params = llama_cpp.llama_model_default_params()
        gpu = llama_cpp.llama_supports_gpu_offload()
        if n_gpu_layers is not None:
            model_params.n_gpu_layers = n_gpu_layers
        elif gpu:
            planned_context = n_ctx or min(self.gguf.context_length or 4096, DEFAULT_MAX_CONTEXT)
            model_params.n_gpu_layers = devices.automatic_gpu_layers(self.gguf, planned_context)
        else:
            model_params.n_gpu_layers = 0
        cancelled = False

        def report_progress(fraction: float, _user_data: ctypes.c_void_p) -> bool:
            nonlocal cancelled
            if progress is None:
                return True
            try:
                keep_going = bool(progress(float(fraction)))
            except Exception:  # noqa: BLE001 - an exception must not unwind through C code
                log.exception("Model load progress callback failed; cancelling the load")
                keep_going = False
            cancelled = cancelled or not keep_going
            return keep_going

        # Kept on self: llama.cpp calls it during the load, so it must outlive this frame's locals.
        self._progress_callback = llama_cpp.llama_progress_callback(report_progress)
        model_params.progress_callback = self._progress_callback
        started = time.perf_counter()
        self.model = llama_cpp.llama_model_load_from_file(str(path).encode("utf-8"), model_params)
        if not self.model and not cancelled and model_params.n_gpu_layers > 0:
            log.warning("Loading %s with %d GPU layers failed; retrying on the CPU", path.name,
                        model_params.n_gpu_layers)
            self.notices.append("GPU offload failed, so the model runs on the CPU.")
            model_params.n_gpu_layers = 0
            self.model = llama_cpp.llama_model_load_from_file(str(path).encode("utf-8"), model_params)
        if cancelled:
            if self.model:
                llama_cpp.llama_model_free(self.model)
            raise LoadCancelled(f"Loading {path.name} was cancelled; the previous model stays in use.")
        if not self.model:
            raise ModelFileError(
                f"llama.cpp could not load {path}. The file may use an architecture this version "
                "does not support; see the log for details, or choose another GGUF file."
            )
        self.vocab = llama_cpp.llama_model_get_vocab(self.model)
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        trained = llama_cpp.llama_model_n_ctx_train(self.model)

        memory_cap = int(native.total_memory_bytes() * KV_MEMORY_FRACTION / max(kv_bytes_per_token(self.gguf), 1))
        context = n_ctx or min(trained, DEFAULT_MAX_CONTEXT, max(memory_cap, 512))
        self.n_threads = n_threads or max(os.cpu_count() or 1, 1)
        self.max_sequences = max_sequences
        context_params = llama_cpp.llama_context_default_params()
        context_params.n_ctx = context
        context_params.n_batch = BATCH_SIZE
        context_params.n_ubatch = BATCH_SIZE
        context_params.n_seq_max = max_sequences
        context_params.n_threads = self.n_threads
        context_params.n_threads_batch = self.n_threads
        context_params.kv_unified = True
        self.ctx = llama_cpp.llama_init_from_model(self.model, context_params)
        if not self.ctx:
            llama_cpp.llama_model_free(self.model)
            raise ModelFileError(
                f"llama.cpp could not create a context of {context} tokens for {path}. "
                "Choose a smaller context size or free memory."
            )
        self.n_ctx = llama_cpp.llama_n_ctx(self.ctx)
        self.memory = llama_cpp.llama_get_memory(self.ctx)
        self.batch = llama_cpp.llama_batch_init(max(BATCH_SIZE, max_sequences), 0, 1)
        self.cache = PrefixCache(max_sequences)
        # Recurrent and hybrid models cannot drop part of a sequence, so nothing is reused.
        self.reuse_enabled = not (llama_cpp.llama_model_is_recurrent(self.model)
                                  or llama_cpp.llama_model_is_hybrid(self.model))
        self.eog_tokens = [t for t in range(self.n_vocab) if llama_cpp.llama_vocab_is_eog(self.vocab, t)]
        self._piece_buffer = ctypes.create_string_buffer(256)
        self._shifted = np.empty((max_sequences, self.n_vocab), dtype=np.float32)
        self._weights = np.empty((max_sequences, self.n_vocab), dtype=np.float32)
        self._lock = threading.Lock()

        template = self.gguf.chat_template
        native_template = llama_cpp.llama_model_chat_template(self.model, None)
        if not template and native_template:
            template = native_template.decode("utf-8", errors="replace")
        self.formatter = ChatFormatter(template, self._token_text(llama_cpp.llama_vocab_bos(self.vocab)),
                                       self._token_text(llama_cpp.llama_vocab_eos(self.vocab)))

        self.info = ModelInfo(
            path=str(path),
            name=path.name,
            sha256=native.file_sha256(path),
            device="GPU" if gpu and model_params.n_gpu_layers > 0 else "CPU",
            gpu_layers=min(model_params.n_gpu_layers, llama_cpp.llama_model_n_layer(self.model)) if gpu else 0,
            context_length=self.n_ctx,
            trained_context_length=trained,
            has_chat_template=self.formatter.has_template,
        )
        log.info("Loaded %s in %.2f s: %s, context %d of %d trained, %d threads, chat template %s",
                 path.name, time.perf_counter() - started, self.info.device, self.n_ctx, trained,
                 self.n_threads, "yes" if self.formatter.has_template else "no")

    # -- tokens ---------------------------------------------------------------------

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._token_bytes(token, special=True).decode("utf-8", errors="replace")

    def _token_bytes(self, token: int, special: bool = False) -> bytes:
        size = llama_cpp.llama_token_to_piece(self.vocab, token, self._piece_buffer, 256, 0, special)
        if size < 0:
            buffer = ctypes.create_string_buffer(-size)
            size = llama_cpp.llama_token_to_piece(self.vocab, token, buffer, -size, 0, special)
            return buffer.raw[:size]
        return self._piece_buffer.raw[:size]

    def tokenize(self, text: str, add_special: bool = True, parse_special: bool = True) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 16
        tokens = (llama_cpp.llama_token * capacity)()
        count = llama_cpp.llama_tokenize(self.vocab, data, len(data), tokens, capacity, add_special, parse_special)
        if count < 0:
            capacity = -count
            tokens = (llama_cpp.llama_token * capacity)()
            count = llama_cpp.llama_tokenize(self.vocab, data, len(data), tokens, capacity, add_special,
                                             parse_special)
        result = list(tokens[:count])
        bos = llama_cpp.llama_vocab_bos(self.vocab)
        # A template that writes the BOS text itself plus add_special would give two BOS tokens.
        if len(result) >= 2 and result[0] == bos and result[1] == bos:
            result = result[1:]
        return result

    def prompt_tokens(self, messages: list[dict[str, str]] | tuple[dict[str, str], ...]) -> list[int]:
        """Tokenize a conversation; markers such as ``<|im_end|>`` count as special tokens only
        where the chat template wrote them, never inside an idea or a thought."""
        placeholders = [f"\x00{index}\x00" for index in range(len(messages))]
        masked = [{**message, "content": placeholder} for message, placeholder in zip(messages, placeholders)]
        rendered = self.formatter.render(masked)
        if not all(rendered.count(placeholder) == 1 for placeholder in placeholders):
            # NOTE: a template that rewrites message contents defeats the masking; such a model
            # parses special-token text inside contents as special tokens.
            return self.tokenize(self.formatter.render(list(messages)))

        tokens: list[int] = []
        remaining = rendered
        for message, placeholder in zip(messages, placeholders):
            before, remaining = remaining.split(placeholder, 1)
            tokens += self.tokenize(before, add_special=not tokens)
            tokens += self.tokenize(message["content"], add_special=False, parse_special=False)
        tokens += self.tokenize(remaining, add_special=False)
        return tokens

    # -- samplers -------------------------------------------------------------------

    def _build_chain(self, settings: SamplerSettings, seed: int, ban_eog: bool) -> tuple[int, int | None]:
        """Build a llama.cpp sampler chain; returns it and the index of the EOG ban, if any."""
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = lambda sampler: llama_cpp.llama_sampler_chain_add(chain, sampler)  # noqa: E731
        ban_index = None
        if ban_eog and self.eog_tokens:
            biases = (llama_cpp.llama_logit_bias * len(self.eog_tokens))()
            for slot, token in enumerate(self.eog_tokens):
                biases[slot].token = token
                biases[slot].bias = float("-inf")
            add(llama_cpp.llama_sampler_init_logit_bias(self.n_vocab, len(self.eog_tokens), biases))
            ban_index = 0
        if settings.repeat_penalty != 1.0 or settings.frequency_penalty or settings.presence_penalty:
            add(llama_cpp.llama_sampler_init_penalties(self.n_vocab, settings.penalty_last_n, settings.repeat_penalty,
                                                       settings.frequency_penalty, settings.presence_penalty))
        if settings.dry_multiplier > 0:
            breakers = (ctypes.c_char_p * len(DRY_BREAKERS))(*(b.encode() for b in DRY_BREAKERS))
            add(llama_cpp.llama_sampler_init_dry(self.vocab, settings.dry_multiplier, settings.dry_base,
                                                 settings.dry_allowed_length, settings.dry_penalty_last_n,
                                                 breakers, len(DRY_BREAKERS)))
        if settings.temperature <= 0:
            add(llama_cpp.llama_sampler_init_greedy())
            return chain, ban_index
        if settings.mirostat_tau > 0:
            add(llama_cpp.llama_sampler_init_temp(settings.temperature))
            add(llama_cpp.llama_sampler_init_mirostat_v2(seed, settings.mirostat_tau, settings.mirostat_eta))
            return chain, ban_index
        if settings.top_n_sigma > 0:
            add(llama_cpp.llama_sampler_init_top_n_sigma(settings.top_n_sigma))
        if settings.top_k > 0:
            add(llama_cpp.llama_sampler_init_top_k(settings.top_k))
        if settings.typical_p < 1.0:
            add(llama_cpp.llama_sampler_init_typical(settings.typical_p, 1))
        if settings.top_p < 1.0:
            add(llama_cpp.llama_sampler_init_top_p(settings.top_p, 1))
        if settings.min_p > 0:
            add(llama_cpp.llama_sampler_init_min_p(settings.min_p, 1))
        if settings.xtc_probability > 0:
            add(llama_cpp.llama_sampler_init_xtc(settings.xtc_probability, settings.xtc_threshold, 1, seed))
        add(llama_cpp.llama_sampler_init_temp(settings.temperature))
        add(llama_cpp.llama_sampler_init_dist(seed))
        return chain, ban_index

    # -- KV cache -------------------------------------------------------------------

    def _release(self, seq_id: int) -> None:
        llama_cpp.llama_memory_seq_rm(self.memory, seq_id, -1, -1)
        self.cache.drop(seq_id)

    def _allocate(self, reserved: set[int]) -> int:
        free = self.cache.free_ids(reserved)
        if free:
            seq_id = free[0]
        else:
            seq_id = self.cache.lru_victim(reserved)
            if seq_id is None:
                raise RuntimeError("No free sequence: more branches than the context has sequences.")
            self._release(seq_id)
        reserved.add(seq_id)
        return seq_id

    def _make_room(self, cells_needed: int, reserved: set[int]) -> None:
        """Evict least-recently-used cached sequences until ``cells_needed`` fit."""
        while self.cache.used_cells() + cells_needed > self.n_ctx:
            victim = self.cache.lru_victim(reserved)
            if victim is None:
                return
            self._release(victim)

    def _fork(self, source: int | None, length: int, target: int) -> int:
        """Give ``target`` the first ``length`` cached tokens of ``source``; returns the length kept."""
        if source is None or length <= 0 or not self.reuse_enabled:
            return 0
        llama_cpp.llama_memory_seq_cp(self.memory, source, target, 0, length)
        if not llama_cpp.llama_memory_seq_rm(self.memory, target, length, -1):
            # WORKAROUND: memory that cannot drop a partial sequence gets a full re-evaluation.
            llama_cpp.llama_memory_seq_rm(self.memory, target, -1, -1)
            return 0
        return length

    def _decode(self, entries: list[tuple[int, int, int, bool]]) -> None:
        """Decode (token, position, seq_id, wants_logits) entries as one llama_decode call."""
        batch = self.batch
        for slot, (token, position, seq_id, logits) in enumerate(entries):
            batch.token[slot] = token
            batch.pos[slot] = position
            batch.n_seq_id[slot] = 1
            batch.seq_id[slot][0] = seq_id
            batch.logits[slot] = logits
        batch.n_tokens = len(entries)
        status = llama_cpp.llama_decode(self.ctx, batch)
        if status != 0:
            raise _DecodeError(status)

    # -- expansion ------------------------------------------------------------------

    def expand(self, requests: list[BranchRequest], cancel: threading.Event | None = None) -> Iterator[EngineEvent]:
        """Sample every request as one batch, yielding events as tokens arrive.

        The shared prompt prefix is evaluated once. Each distinct prompt then fills its own
        suffix, and every live branch advances by one token per ``llama_decode`` call.
        """
        with self._lock:
            yield from self._expand(requests, cancel or threading.Event())

    def _expand(self, requests: list[BranchRequest], cancel: threading.Event) -> Iterator[EngineEvent]:
        started = time.perf_counter()
        if not requests:
            return
        if len(requests) > self.max_sequences - 1:
            raise ValueError(f"At most {self.max_sequences - 1} branches fit in one expansion.")

        # Group branches by prompt, so each distinct prompt is evaluated once.
        prompts: list[list[int]] = []
        group_of: list[int] = []
        for request in requests:
            tokens = self.prompt_tokens(request.messages)
            if len(tokens) >= self.n_ctx:
                raise PromptTooLongError(len(tokens), self.n_ctx)
            for index, existing in enumerate(prompts):
                if existing == tokens:
                    group_of.append(index)
                    break
            else:
                prompts.append(tokens)
                group_of.append(len(prompts) - 1)

        reserved: set[int] = set()
        plan = [self.cache.best_match(tokens) for tokens in prompts]
        new_tokens = sum(len(tokens) - length for tokens, (_, length) in zip(prompts, plan))
        wanted = sum(request.max_new_tokens for request in requests)
        for seq_id, _ in plan:
            if seq_id is not None:
                reserved.add(seq_id)
        self._make_room(new_tokens + wanted, reserved)
        evaluated = 0

        # Step 1: the prefix common to every distinct prompt, evaluated once.
        common: list[int] = prompts[0]
        for tokens in prompts[1:]:
            common = common[: common_prefix_length(common, tokens)]
        if len(prompts) > 1 and common and any(length < len(common) for _, length in plan):
            source, length = self.cache.best_match(common)
            common_seq = self._allocate(reserved)
            kept = self._fork(source, min(length, len(common)), common_seq)
            entries = [(token, kept + offset, common_seq, False) for offset, token in enumerate(common[kept:])]
            evaluated += len(entries)
            self._decode_chunks(entries)
            self.cache.set(common_seq, common)
            plan = [(common_seq, len(common)) if length < len(common) else (seq_id, length)
                    for seq_id, length in plan]

        # Step 2: each distinct prompt fills its suffix; the last token of each gives logits.
        group_seq: list[int] = []
        body: list[tuple[int, int, int, bool]] = []
        tails: list[tuple[int, int, int, bool]] = []
        for tokens, (source, length) in zip(prompts, plan):
            seq_id = self._allocate(reserved)
            kept = self._fork(source, min(length, len(tokens) - 1), seq_id)
            body.extend((token, kept + offset, seq_id, False) for offset, token in enumerate(tokens[kept:-1]))
            tails.append((tokens[-1], len(tokens) - 1, seq_id, True))
            evaluated += len(tokens) - kept
            group_seq.append(seq_id)
        yield ExpansionStarted(len(requests), sum(len(tokens) for tokens in prompts), evaluated)
        self._decode_chunks(body)
        self._decode(tails)
        for group, tokens in enumerate(prompts):
            self.cache.set(group_seq[group], tokens)

        # Step 3: one sequence per branch, sharing its group's cells.
        free_cells = max(self.n_ctx - self.cache.used_cells(), 0)
        per_branch = max(free_cells // len(requests), 1)
        branches: list[_Branch] = []
        used_group_seq: set[int] = set()
        for index, request in enumerate(requests):
            group = group_of[index]
            if group_seq[group] not in used_group_seq:
                seq_id = group_seq[group]
                used_group_seq.add(seq_id)
            else:
                seq_id = self._allocate(reserved)
                llama_cpp.llama_memory_seq_cp(self.memory, group_seq[group], seq_id, -1, -1)
            ban = request.min_new_tokens > 0
            chain, ban_index = self._build_chain(request.sampler, request.seed, ban)
            stop = tuple(request.stop) + self.formatter.default_stop
            budget = min(request.max_new_tokens, per_branch, self.n_ctx - len(prompts[group]))
            branches.append(_Branch(index, request, seq_id, prompts[group], chain, TextStream(stop),
                                    budget, ban_index, position=len(prompts[group])))

        # Step 4: sample the first token of every branch from its group's logits row, unless
        # Stop came during the prefill: then every branch ends here, empty and cancelled.
        if cancel.is_set():
            for branch in branches:
                yield from self._finish(branch, FINISH_CANCELLED, started)
        else:
            logits = self._logits(len(tails))
            rows = [group_of[branch.index] for branch in branches]
            yield from self._sample_step(branches, logits, rows, started)

        # Step 5: decode every live branch together, one token each per step.
        steps = 1
        try:
            while True:
                live = [branch for branch in branches if not branch.finished]
                if not live:
                    break
                if cancel.is_set():
                    for branch in live:
                        yield from self._finish(branch, FINISH_CANCELLED, started)
                    break
                entries = [(b.pending_token, b.position, b.seq_id, True) for b in live]
                try:
                    self._decode(entries)
                except _DecodeError as error:
                    if error.status != 1:
                        raise
                    yield from self._relieve_pressure(live, reserved, started)
                    continue
                for branch in live:
                    branch.position += 1
                logits = self._logits(len(live))
                yield from self._sample_step(live, logits, list(range(len(live))), started)
                steps += 1
        finally:
            for branch in branches:
                llama_cpp.llama_sampler_free(branch.chain)
                self.cache.set(branch.seq_id, branch.prompt + branch.generated[: branch.position - len(branch.prompt)])

        generated = sum(len(branch.generated) for branch in branches)
        seconds = time.perf_counter() - started
        log.info("Expanded %d branches: %d prompt tokens (%d evaluated), %d generated in %.2f s (%.1f tokens/s)",
                 len(branches), sum(len(tokens) for tokens in prompts), evaluated, generated, seconds,
                 generated / seconds if seconds else 0.0)
        yield ExpansionFinished(sum(len(tokens) for tokens in prompts), evaluated, generated, seconds, steps)

    def _decode_chunks(self, entries: list[tuple[int, int, int, bool]]) -> None:
        for start in range(0, len(entries), BATCH_SIZE):
            self._decode(entries[start:start + BATCH_SIZE])

    def _logits(self, rows: int) -> np.ndarray:
        pointer = llama_cpp.llama_get_logits(self.ctx)
        return np.ctypeslib.as_array(pointer, shape=(rows, self.n_vocab))

    def _sample_step(self, branches: list[_Branch], logits: np.ndarray, rows: list[int],
                     started: float) -> Iterator[EngineEvent]:
        # Entropy and log-probabilities come from the raw distribution, before any sampler.
        # float32 with float64 sums: one exp pass over the rows, about 1 ms for 8 x 49k.
        unique_rows = sorted(set(rows))
        block = logits if len(unique_rows) == logits.shape[0] else logits[unique_rows]
        count = block.shape[0]
        shifted = np.subtract(block, block.max(axis=1, keepdims=True), out=self._shifted[:count])
        weights = np.exp(shifted, out=self._weights[:count])
        totals = weights.sum(axis=1, dtype=np.float64)
        log_totals = np.log(totals)
        entropy = log_totals - np.einsum("ij,ij->i", weights, shifted, dtype=np.float64) / totals
        position_of = {row: index for index, row in enumerate(unique_rows)}

        for branch, row in zip(branches, rows):
            token = llama_cpp.llama_sampler_sample(branch.chain, self.ctx, row)
            where = position_of[row]
            branch.entropies.append(float(entropy[where]))
            branch.logprobs.append(float(shifted[where, token] - log_totals[where]))

            if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                yield from self._finish(branch, FINISH_STOP, started)
                continue
            branch.generated.append(token)
            delta = branch.stream.feed(self._token_bytes(token))
            if delta:
                yield BranchDelta(branch.index, delta)
            if branch.stream.stopped:
                yield from self._finish(branch, FINISH_STOP, started)
                continue
            if len(branch.generated) >= branch.budget:
                yield from self._finish(branch, FINISH_LENGTH, started)
                continue
            if branch.eog_ban is not None and len(branch.generated) >= branch.request.min_new_tokens:
                removed = llama_cpp.llama_sampler_chain_remove(branch.chain, branch.eog_ban)
                llama_cpp.llama_sampler_free(removed)
                branch.eog_ban = None
            branch.pending_token = token

    def _relieve_pressure(self, live: list[_Branch], reserved: set[int], started: float) -> Iterator[EngineEvent]:
        """Free KV cells when a decode found no room: evict cache, else end the longest branch."""
        victim = self.cache.lru_victim(reserved)
        if victim is not None:
            log.debug("KV cache full: evicting cached sequence %d", victim)
            self._release(victim)
            return
        longest = max(live, key=lambda branch: len(branch.generated))
        log.warning("KV cache full: ending branch %d at %d tokens", longest.index, len(longest.generated))
        yield from self._finish(longest, FINISH_LENGTH, started)

    def _finish(self, branch: _Branch, reason: str, started: float) -> Iterator[EngineEvent]:
        branch.finished = True
        tail = branch.stream.finish()
        if tail:
            yield BranchDelta(branch.index, tail)
        entropies = branch.entropies
        result = BranchResult(
            index=branch.index,
            text=branch.stream.text.strip(),
            finish_reason=reason,
            token_count=len(branch.generated),
            seconds=time.perf_counter() - started,
            seed=branch.request.seed,
            mean_entropy=float(np.mean(entropies)) if entropies else None,
            max_entropy=float(np.max(entropies)) if entropies else None,
            first_entropy=entropies[0] if entropies else None,
            mean_logprob=float(np.mean(branch.logprobs)) if branch.logprobs else None,
            reasoning=branch.stream.reasoning.strip() or None,
        )
        yield BranchFinished(result)

    def reset_cache(self) -> None:
        """Forget every cached sequence, as after loading; the next expansion starts cold."""
        with self._lock:
            llama_cpp.llama_memory_clear(self.memory, True)
            self.cache.clear()

    def close(self, timeout: float = 10.0) -> None:
        """Free the context and the model; waits up to ``timeout`` seconds for a running expansion."""
        if not self._lock.acquire(timeout=timeout):
            # An abandoned expansion generator still owns the lock. Freeing the context under it
            # could crash, so the memory is left to the operating system.
            log.error("Could not close model %s: an expansion is still running", self.info.name)
            return
        try:
            if getattr(self, "ctx", None):
                llama_cpp.llama_batch_free(self.batch)
                llama_cpp.llama_free(self.ctx)
                self.ctx = None
            if getattr(self, "model", None):
                llama_cpp.llama_model_free(self.model)
                self.model = None
            native.release_free_memory()
            log.info("Closed model %s", self.info.name)
        finally:
            self._lock.release()


class LoadCancelled(MindGardenError):
    """The user cancelled a model load."""


class _DecodeError(RuntimeError):
    def __init__(self, status: int) -> None:
        super().__init__(f"llama_decode failed with status {status}")
        self.status = status
