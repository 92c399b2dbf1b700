"""Chat completion bodies for OpenAI-compatible servers and the statistics read back from their chunks."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any

from mindgarden.core.sampling import SamplerSettings
from mindgarden.engine.types import FINISH_ERROR, FINISH_LENGTH, FINISH_STOP, BranchRequest

log = logging.getLogger(__name__)

# OpenAI accepts at most 20 top log-probabilities per token; vLLM's default limit is 20 as well.
MAX_TOP_LOGPROBS = 20

_STOP_REASONS = {"stop", "eos", "end_turn", "stop_sequence", "tool_calls", "function_call"}
_LENGTH_REASONS = {"length", "max_tokens", "model_length"}


def extra_sampler_fields(sampler: SamplerSettings, min_new_tokens: int) -> dict[str, Any]:
    """Return active sampler settings outside the OpenAI schema, under llama-server, llama-cpp-python and vLLM names.

    Only active samplers are sent. These fields are best-effort: llama-cpp-python's server and
    vLLM ignore names they do not know, while the OpenAI API rejects them with HTTP 400.
    """
    fields: dict[str, Any] = {}
    if sampler.min_p > 0.0:
        fields["min_p"] = sampler.min_p
    if sampler.top_k > 0:
        fields["top_k"] = sampler.top_k
    if min_new_tokens > 0:
        fields["min_tokens"] = min_new_tokens
    if sampler.repeat_penalty != 1.0:
        fields["repeat_penalty"] = sampler.repeat_penalty
        fields["repetition_penalty"] = sampler.repeat_penalty
        fields["repeat_last_n"] = sampler.penalty_last_n
    if sampler.typical_p < 1.0:
        fields["typical_p"] = sampler.typical_p
    if sampler.top_n_sigma > 0.0:
        fields["top_n_sigma"] = sampler.top_n_sigma
    if sampler.xtc_probability > 0.0:
        fields["xtc_probability"] = sampler.xtc_probability
        fields["xtc_threshold"] = sampler.xtc_threshold
    if sampler.dry_multiplier > 0.0:
        fields["dry_multiplier"] = sampler.dry_multiplier
        fields["dry_base"] = sampler.dry_base
        fields["dry_allowed_length"] = sampler.dry_allowed_length
        fields["dry_penalty_last_n"] = sampler.dry_penalty_last_n
    if sampler.mirostat_tau > 0.0:
        # The in-process engine uses Mirostat 2.0; llama-server calls the switch "mirostat",
        # llama-cpp-python's server "mirostat_mode".
        fields["mirostat"] = 2
        fields["mirostat_mode"] = 2
        fields["mirostat_tau"] = sampler.mirostat_tau
        fields["mirostat_eta"] = sampler.mirostat_eta
    return fields


def chat_body(model: str, request: BranchRequest, top_logprobs: int, extra_sampling: bool) -> dict[str, Any]:
    """Build the JSON body of one streamed ``/chat/completions`` request."""
    sampler = request.sampler
    body: dict[str, Any] = {
        "model": model,
        "messages": [dict(message) for message in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": request.max_new_tokens,
        "temperature": sampler.temperature,
        "top_p": sampler.top_p,
        "seed": request.seed,
    }
    if request.stop:
        body["stop"] = list(request.stop)
    if sampler.frequency_penalty:
        body["frequency_penalty"] = sampler.frequency_penalty
    if sampler.presence_penalty:
        body["presence_penalty"] = sampler.presence_penalty
    if top_logprobs > 0:
        body["logprobs"] = True
        body["top_logprobs"] = top_logprobs
    if extra_sampling:
        body.update(extra_sampler_fields(sampler, request.min_new_tokens))
    return body


def map_finish_reason(reason: str) -> tuple[str, str | None]:
    """Map a server's finish reason to MindGarden's; returns (reason, error message or None)."""
    if reason in _STOP_REASONS:
        return FINISH_STOP, None
    if reason in _LENGTH_REASONS:
        return FINISH_LENGTH, None
    return FINISH_ERROR, f"The server ended the branch with finish reason {reason!r}."


def top_entropy(top_logprobs: list[dict[str, Any]]) -> float | None:
    """Estimate a token's entropy in nats from its top log-probabilities, renormalised to sum to 1.

    NOTE: this ignores the tail beyond the top entries, so it is an estimate that is usually lower
    than the full entropy of a flat distribution. Compare it between branches of one server only.
    """
    seen: dict[str, float] = {}
    for entry in top_logprobs:
        token = entry.get("token")
        logprob = entry.get("logprob")
        if isinstance(token, str) and isinstance(logprob, (int, float)) and math.isfinite(logprob):
            seen.setdefault(token, float(logprob))
    if not seen:
        return None
    probabilities = [math.exp(logprob) for logprob in seen.values()]
    total = sum(probabilities)
    if total <= 0.0:
        return None
    return -sum(p / total * math.log(p / total) for p in probabilities if p > 0.0)


@dataclass
class ChunkStats:
    """Text, token counts, log-probabilities and finish reason read from the chunks of one branch."""

    text: str = ""
    content_chunks: int = 0
    entropies: list[float] = field(default_factory=list)
    logprobs: list[float] = field(default_factory=list)
    logprob_tokens: int = 0
    completion_tokens: int | None = None
    prompt_tokens: int | None = None
    finish_reason: str | None = None

    def read_logprobs(self, choice: dict[str, Any]) -> None:
        logprobs = choice.get("logprobs")
        if not isinstance(logprobs, dict):
            return
        for entry in logprobs.get("content") or ():
            if not isinstance(entry, dict):
                continue
            self.logprob_tokens += 1
            logprob = entry.get("logprob")
            if isinstance(logprob, (int, float)) and math.isfinite(logprob):
                self.logprobs.append(float(logprob))
            entropy = top_entropy(entry.get("top_logprobs") or [])
            if entropy is not None:
                self.entropies.append(entropy)

    def read_usage(self, chunk: dict[str, Any]) -> None:
        usage = chunk.get("usage")
        if not isinstance(usage, dict):
            return
        if isinstance(usage.get("completion_tokens"), int):
            self.completion_tokens = usage["completion_tokens"]
        if isinstance(usage.get("prompt_tokens"), int):
            self.prompt_tokens = usage["prompt_tokens"]

    @property
    def token_count(self) -> int:
        """Tokens generated: the server's usage, else log-probability entries, else content chunks (an estimate)."""
        if self.completion_tokens is not None:
            return self.completion_tokens
        if self.logprob_tokens:
            return self.logprob_tokens
        return self.content_chunks
