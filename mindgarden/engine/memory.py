"""Memory estimates for a GGUF model: weights plus KV cache, checked before loading."""

from __future__ import annotations

from pathlib import Path

from mindgarden.engine.gguf import GGUFInfo, read_gguf

GIB = 1 << 30
# llama.cpp's compute buffers and bookkeeping, an estimate from the CPU logs of small models.
OVERHEAD_BYTES = 256 << 20


def kv_bytes_per_token(info: GGUFInfo) -> int:
    """Estimate the f16 KV-cache bytes one token takes, from the GGUF header."""
    arch = info.architecture
    layers = int(info.get(f"{arch}.block_count", 32) or 32)
    embedding = int(info.get(f"{arch}.embedding_length", 4096) or 4096)
    heads = int(info.get(f"{arch}.attention.head_count", 32) or 32)
    kv_heads = info.get(f"{arch}.attention.head_count_kv", heads) or heads
    kv_heads = int(kv_heads if isinstance(kv_heads, int) else heads)
    key_length = int(info.get(f"{arch}.attention.key_length", embedding // max(heads, 1)) or 64)
    value_length = int(info.get(f"{arch}.attention.value_length", key_length) or key_length)
    return layers * kv_heads * (key_length + value_length) * 2


def estimate_bytes(info: GGUFInfo, n_ctx: int) -> int:
    """Estimate the memory a model takes: its weights, a KV cache of ``n_ctx`` tokens and overhead."""
    return info.file_size + kv_bytes_per_token(info) * n_ctx + OVERHEAD_BYTES


def available_bytes() -> int | None:
    """Return MemAvailable from /proc/meminfo, or None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def memory_warning(path: str | Path, n_ctx: int, available: int | None = None) -> str | None:
    """Return a warning when the model probably does not fit in free memory, else None."""
    info = read_gguf(path)
    needed = estimate_bytes(info, n_ctx)
    free = available if available is not None else available_bytes()
    if free is None or needed <= free:
        return None
    return (f"{Path(path).name} needs about {needed / GIB:.1f} GiB (weights plus a {n_ctx}-token context) "
            f"but only {free / GIB:.1f} GiB of memory is free. Close other programs, choose a smaller "
            "quantization, or lower the context size.")
