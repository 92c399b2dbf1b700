"""Model loading: progress and cancel, native failures, memory estimates, switching."""

from __future__ import annotations

import struct

import pytest

from mindgarden.core.errors import ModelFileError
from mindgarden.engine.gguf import read_gguf
from mindgarden.engine.llama_engine import LlamaEngine, LoadCancelled
from mindgarden.engine.memory import GIB, estimate_bytes, kv_bytes_per_token, memory_warning


def unknown_architecture_file(path):
    key, value = b"general.architecture", b"no-such-architecture"
    body = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    body += struct.pack("<Q", len(key)) + key + struct.pack("<I", 8) + struct.pack("<Q", len(value)) + value
    path.write_bytes(body)
    return path


def test_progress_reaches_one(model_path):
    fractions = []
    engine = LlamaEngine(model_path, n_ctx=512, progress=lambda fraction: fractions.append(fraction) or True)
    engine.close()
    assert fractions
    assert fractions[-1] == pytest.approx(1.0)
    assert fractions == sorted(fractions)


def test_cancel_during_load(model_path):
    with pytest.raises(LoadCancelled, match="cancelled"):
        LlamaEngine(model_path, n_ctx=512, progress=lambda fraction: False)


def test_unknown_architecture_named(tmp_path):
    path = unknown_architecture_file(tmp_path / "odd model.gguf")
    read_gguf(path)
    with pytest.raises(ModelFileError, match="could not load") as caught:
        LlamaEngine(path)
    assert str(path) in str(caught.value)


def test_memory_estimate_of_bundled(model_path):
    info = read_gguf(model_path)
    # SmolLM2-135M: 30 layers, 3 KV heads of 64 dimensions, f16 keys and values.
    assert kv_bytes_per_token(info) == 30 * 3 * (64 + 64) * 2
    assert estimate_bytes(info, 8192) > info.file_size + 8192 * kv_bytes_per_token(info)
    assert memory_warning(model_path, 8192, available=64 * GIB) is None


def test_memory_warning_names_sizes(model_path):
    warning = memory_warning(model_path, 8192, available=100 << 20)
    assert warning is not None
    assert model_path.name in warning
    assert "GiB" in warning


def test_switching_frees_the_model(model_path, tmp_path):
    import shutil

    copy = tmp_path / "second.gguf"
    shutil.copyfile(model_path, copy)
    for path in (model_path, copy, model_path):
        engine = LlamaEngine(path, n_ctx=512)
        engine.close()
        assert engine.model is None
        assert engine.ctx is None
