"""Where a model comes from (a local GGUF file or a remote server) and the outcome of switching to one."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from mindgarden.core.errors import MindGardenError, ModelFileError
from mindgarden.engine.gguf import GGUFInfo, read_gguf
from mindgarden.engine.types import Engine

log = logging.getLogger(__name__)

ProgressCallback = Callable[[float], bool]


class ModelSource(Protocol):
    """Something the inference worker can open into an engine, and open again after a failed switch."""

    @property
    def name(self) -> str: ...

    def open(self, progress: ProgressCallback) -> Engine: ...


@dataclass(frozen=True)
class LocalModel:
    """A GGUF file loaded in process by llama.cpp."""

    path: Path
    gpu_layers: int | None = None

    @property
    def name(self) -> str:
        return self.path.name

    def open(self, progress: ProgressCallback) -> Engine:
        """Load the file; blocks for the whole load, so call it on the inference worker.

        Raises:
            ModelFileError: the file is invalid, unreadable or rejected by llama.cpp.
            LoadCancelled: ``progress`` returned False.
        """
        # Imported here so the window opens before llama.cpp's shared libraries are loaded.
        from mindgarden.engine.llama_engine import LlamaEngine

        try:
            return LlamaEngine(self.path, progress=progress, n_gpu_layers=self.gpu_layers)
        except OSError as error:
            # The file can vanish or become unreadable between the check on the GUI thread and the load.
            raise ModelFileError(f"Model file {self.path} cannot be read: {error}. "
                                 "Check that it still exists and is readable, then load it again.") from error


@dataclass(frozen=True)
class RemoteModel:
    """A model served by an OpenAI-compatible server; creating its engine opens no connection."""

    base_url: str
    model: str
    # None means the key stored in the system keyring for base_url, if any.
    api_key: str | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.model} at {self.base_url}"

    def open(self, progress: ProgressCallback) -> Engine:
        """Create the remote engine. Its first expansion checks that the server serves the model.

        Raises:
            RemoteError: the address or the model name is invalid.
        """
        from mindgarden.engine.remote import RemoteEngine

        engine = RemoteEngine(self.base_url, self.model, api_key=self.api_key)
        progress(1.0)
        return engine


@dataclass(frozen=True)
class SwitchOutcome:
    """What a model switch on the worker ended with.

    ``engine`` is the loaded engine (None when nothing is loaded) and ``source`` is where it
    came from. ``failure`` is why the requested model did not load. In that case ``engine``,
    if any, is the previous model loaded again. ``restore_error`` is why reloading it failed.
    """

    source: ModelSource
    engine: Engine | None
    failure: MindGardenError | None = None
    restore_error: MindGardenError | None = None

    @property
    def restored(self) -> bool:
        """Whether the requested model failed and the previous one is loaded again."""
        return self.failure is not None and self.engine is not None


def check_model_file(path: Path) -> GGUFInfo:
    """Validate a GGUF file's header without loading weights; cheap enough for the GUI thread.

    Raises:
        ModelFileError: naming the file and what to do, for a missing, unreadable, non-GGUF,
            unsupported-version, truncated or split-part file.
    """
    try:
        return read_gguf(path)
    except OSError as error:
        # read_gguf turns a failed open into ModelFileError, but a read can still fail (EIO, a removed disk).
        log.warning("Reading the header of %s failed: %s", path, error)
        raise ModelFileError(f"Model file {path} cannot be read: {error}. "
                             "Check the disk and the file's permissions, or choose another file.") from error
