"""llama.cpp process-wide set-up: backend start, log routing and model file hashes."""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import os
import threading
from pathlib import Path

import llama_cpp

from mindgarden.core import paths

log = logging.getLogger(__name__)
native_log = logging.getLogger("mindgarden.llama_cpp")

# ggml_log_level in ggml.h: 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous line.
_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.INFO, 3: logging.WARNING, 4: logging.ERROR}
_init_lock = threading.Lock()
_initialised = False
_line_parts: list[str] = []
_last_level = logging.DEBUG


@llama_cpp.llama_log_callback
def _log_callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
    global _last_level
    if level != 5:
        _last_level = _LEVELS.get(level, logging.DEBUG)
    _line_parts.append(text.decode("utf-8", errors="replace"))
    if _line_parts[-1].endswith("\n"):
        line = "".join(_line_parts).rstrip()
        _line_parts.clear()
        if line:
            native_log.log(_last_level, "%s", line)


def ensure_backend() -> None:
    """Start llama.cpp's backend once and send its log into Python logging."""
    global _initialised
    with _init_lock:
        if _initialised:
            return
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        llama_cpp.llama_backend_init()
        _initialised = True
        log.info("llama.cpp backend ready (llama-cpp-python %s, GPU offload %s)",
                 llama_cpp.__version__, "supported" if llama_cpp.llama_supports_gpu_offload() else "not supported")


def gpu_offload_supported() -> bool:
    ensure_backend()
    return bool(llama_cpp.llama_supports_gpu_offload())


def file_sha256(path: Path) -> str:
    """Return a file's sha256, cached by path, size and modification time in the data folder."""
    path = Path(path).resolve()
    stat = path.stat()
    key = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    cache_file = paths.data_dir() / "model-hashes.json"
    try:
        cache = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cache = {}
    if key in cache:
        return cache[key]

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    cache[key] = digest.hexdigest()
    temporary = cache_file.with_suffix(".tmp")
    try:
        temporary.write_text(json.dumps(cache, indent=1), encoding="utf-8")
        temporary.replace(cache_file)
    except OSError as error:
        log.warning("Could not cache the hash of %s: %s", path, error)
    return cache[key]


def total_memory_bytes() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def release_free_memory() -> None:
    """Ask glibc to return freed heap pages to the system, so a closed model's memory shows as free.

    Does nothing where the C library has no ``malloc_trim`` (macOS, Windows, musl).
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        log.debug("malloc_trim is not available on this system")
