"""GGUF validation: every kind of bad file is rejected, by name, before llama.cpp opens it."""

from __future__ import annotations

import struct

import pytest

from mindgarden.core.errors import ModelFileError
from mindgarden.engine.gguf import read_gguf


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def header(version: int = 3, metadata: dict | None = None, tensors: int = 0) -> bytes:
    metadata = metadata or {"general.architecture": "llama"}
    body = b"GGUF" + struct.pack("<IQQ", version, tensors, len(metadata))
    for key, value in metadata.items():
        body += _string(key)
        if isinstance(value, int):
            body += struct.pack("<I", 4) + struct.pack("<I", value)
        else:
            body += struct.pack("<I", 8) + _string(value)
    return body


def test_real_model_reads(model_path):
    info = read_gguf(model_path)
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert "im_start" in info.chat_template


def test_missing_file_named(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        read_gguf(tmp_path / "absent.gguf")


def test_not_gguf_named(tmp_path):
    path = tmp_path / "notes.gguf"
    path.write_text("just some text, not a model")
    with pytest.raises(ModelFileError, match="not a GGUF model file"):
        read_gguf(path)


def test_unsupported_version(tmp_path):
    path = tmp_path / "old.gguf"
    path.write_bytes(header(version=1))
    with pytest.raises(ModelFileError, match="version 1"):
        read_gguf(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "cut.gguf"
    path.write_bytes(header()[:-3])
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(path)


def test_truncated_tensor_data(model_path, tmp_path):
    path = tmp_path / "half.gguf"
    with model_path.open("rb") as source:
        path.write_bytes(source.read(model_path.stat().st_size // 2))
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(path)


def test_split_part_named(tmp_path):
    path = tmp_path / "big-00002-of-00003.gguf"
    path.write_bytes(header(metadata={"general.architecture": "llama", "split.count": 3}))
    with pytest.raises(ModelFileError, match="split into 3"):
        read_gguf(path)


def test_folder_named(tmp_path):
    with pytest.raises(ModelFileError, match="folder"):
        read_gguf(tmp_path)
