"""Compute devices registered with ggml, and how many layers fit in a GPU's free memory."""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass
from pathlib import Path

from mindgarden.engine.gguf import GGUFInfo
from mindgarden.engine.memory import OVERHEAD_BYTES, kv_bytes_per_token

log = logging.getLogger(__name__)

# enum ggml_backend_dev_type in ggml-backend.h (llama.cpp vendored by llama-cpp-python 0.3.36).
DEVICE_KINDS = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel", 4: "meta"}
ALL_LAYERS = 999


@dataclass(frozen=True)
class Device:
    """One ggml backend device with the memory it reports, in bytes."""

    name: str
    kind: str
    free: int
    total: int


def _ggml_library() -> ctypes.CDLL | None:
    import llama_cpp

    folder = Path(llama_cpp.__file__).parent / "lib"
    for name in ("libggml.so", "libggml.dylib", "ggml.dll"):
        candidate = folder / name
        if candidate.exists():
            try:
                return ctypes.CDLL(str(candidate))
            except OSError as error:
                log.warning("Cannot open %s to list devices: %s", candidate, error)
    return None


def list_devices() -> list[Device]:
    """Return the devices ggml registered (CPU, GPUs), with their free and total memory."""
    from mindgarden.engine import native

    native.ensure_backend()
    library = _ggml_library()
    if library is None:
        return []
    library.ggml_backend_dev_count.restype = ctypes.c_size_t
    library.ggml_backend_dev_get.restype = ctypes.c_void_p
    library.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    library.ggml_backend_dev_name.restype = ctypes.c_char_p
    library.ggml_backend_dev_name.argtypes = [ctypes.c_void_p]
    library.ggml_backend_dev_type.restype = ctypes.c_int
    library.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    library.ggml_backend_dev_memory.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_size_t),
                                                ctypes.POINTER(ctypes.c_size_t)]
    devices = []
    for index in range(library.ggml_backend_dev_count()):
        handle = library.ggml_backend_dev_get(index)
        free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
        library.ggml_backend_dev_memory(handle, ctypes.byref(free), ctypes.byref(total))
        name = (library.ggml_backend_dev_name(handle) or b"?").decode("utf-8", errors="replace")
        kind = DEVICE_KINDS.get(library.ggml_backend_dev_type(handle), "unknown")
        devices.append(Device(name, kind, free.value, total.value))
    return devices


def choose_gpu_layers(info: GGUFInfo, n_ctx: int, gpu_free_bytes: int, reserve_bytes: int = OVERHEAD_BYTES) -> int:
    """Estimate how many layers fit in ``gpu_free_bytes``. Returns ALL_LAYERS when all do.

    Each layer counts as an equal share of the file plus its share of an ``n_ctx``-token KV
    cache, and the output layer counts as one more layer. Real layers differ in size with
    mixed quantizations and large vocabularies, so the result is an estimate.
    """
    layers = int(info.get(f"{info.architecture}.block_count", 0) or 0)
    if layers <= 0 or gpu_free_bytes <= reserve_bytes:
        return 0
    per_layer = info.file_size / (layers + 1) + kv_bytes_per_token(info) * n_ctx / layers
    fitting = int((gpu_free_bytes - reserve_bytes) // per_layer)
    return ALL_LAYERS if fitting >= layers + 1 else min(fitting, layers)


def automatic_gpu_layers(info: GGUFInfo, n_ctx: int) -> int:
    """Return the GPU layer count for the free memory of ggml's GPU devices (0 without any)."""
    free = sum(device.free for device in list_devices() if device.kind == "gpu")
    count = choose_gpu_layers(info, n_ctx, free) if free else 0
    log.info("GPU memory free: %.1f GiB, offloading %s layers", free / (1 << 30),
             "all" if count == ALL_LAYERS else count)
    return count
