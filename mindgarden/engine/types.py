"""Requests, results and streamed events shared by every engine backend."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from mindgarden.core.sampling import SamplerSettings

FINISH_STOP = "stop"
FINISH_LENGTH = "length"
FINISH_CANCELLED = "cancelled"
FINISH_ERROR = "error"


@dataclass(frozen=True)
class BranchRequest:
    """One branch to sample: its conversation, sampler settings, seed and token limits.

    ``min_new_tokens`` bans end-of-generation until that many tokens exist, so a branch
    is never empty; setting it to ``max_new_tokens`` gives fixed-length branches.
    """

    messages: tuple[dict[str, str], ...]
    sampler: SamplerSettings
    seed: int
    max_new_tokens: int = 96
    min_new_tokens: int = 1
    stop: tuple[str, ...] = ()
    tag: Any = None


@dataclass
class BranchResult:
    """The outcome of one branch, with its per-token statistics (entropy in nats)."""

    index: int
    text: str
    finish_reason: str
    token_count: int
    seconds: float
    seed: int
    mean_entropy: float | None = None
    max_entropy: float | None = None
    first_entropy: float | None = None
    mean_logprob: float | None = None
    error: str | None = None
    reasoning: str | None = None


@dataclass(frozen=True)
class ExpansionStarted:
    branch_count: int
    prompt_tokens: int
    evaluated_prompt_tokens: int


@dataclass(frozen=True)
class BranchDelta:
    index: int
    text: str


@dataclass(frozen=True)
class BranchFinished:
    result: BranchResult


@dataclass(frozen=True)
class ExpansionFinished:
    """Totals of one expansion; ``evaluated_prompt_tokens`` excludes tokens the cache held."""

    prompt_tokens: int
    evaluated_prompt_tokens: int
    generated_tokens: int
    seconds: float
    decode_steps: int = 0

    @property
    def tokens_per_second(self) -> float:
        return self.generated_tokens / self.seconds if self.seconds > 0 else 0.0


EngineEvent = ExpansionStarted | BranchDelta | BranchFinished | ExpansionFinished


@dataclass
class ModelInfo:
    """Facts about the loaded model that the UI shows and the tree records."""

    path: str
    name: str
    sha256: str
    device: str = "CPU"
    gpu_layers: int = 0
    context_length: int = 0
    trained_context_length: int = 0
    has_chat_template: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class Engine(Protocol):
    """A backend that expands a node into branches, yielding events as tokens arrive."""

    info: ModelInfo

    def expand(self, requests: list[BranchRequest], cancel: Any = None) -> Any: ...

    def close(self) -> None: ...
