"""A scripted engine for layout and painting tests, where the real model adds nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

from mindgarden.engine.types import (
    FINISH_CANCELLED,
    FINISH_LENGTH,
    BranchDelta,
    BranchFinished,
    BranchRequest,
    BranchResult,
    EngineEvent,
    ExpansionFinished,
    ExpansionStarted,
    ModelInfo,
)


class ScriptedEngine:
    """Streams ``words`` for every branch, one word per step, with an optional delay per step."""

    def __init__(self, words: list[str] | None = None, step_seconds: float = 0.0) -> None:
        self.words = words or "a scripted thought about the idea".split()
        self.step_seconds = step_seconds
        self.info = ModelInfo(path="scripted", name="scripted", sha256="0" * 64, context_length=4096)

    def expand(self, requests: list[BranchRequest], cancel: threading.Event | None = None) -> Iterator[EngineEvent]:
        started = time.perf_counter()
        yield ExpansionStarted(len(requests), 0, 0)
        texts = [""] * len(requests)
        reason = FINISH_LENGTH
        steps = 0
        for step, word in enumerate(self.words):
            if cancel is not None and cancel.is_set():
                reason = FINISH_CANCELLED
                break
            for index in range(len(requests)):
                piece = (" " if step else "") + f"{word}{index if step == 0 else ''}"
                texts[index] += piece
                yield BranchDelta(index, piece)
            steps += 1
            if self.step_seconds:
                time.sleep(self.step_seconds)
        for index, request in enumerate(requests):
            yield BranchFinished(BranchResult(index, texts[index], reason, steps, time.perf_counter() - started,
                                              request.seed, 1.0, 2.0, 1.5, -1.0))
        yield ExpansionFinished(0, 0, steps * len(requests), time.perf_counter() - started, steps)

    def close(self) -> None:
        pass
