"""A small GGUF header reader: validates a file and reads its metadata without loading weights."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from mindgarden.core.errors import ModelFileError

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
SPLIT_PATTERN = re.compile(r"-(\d{5})-of-(\d{5})\.gguf$")

# Metadata value types, from the GGUF specification in ggml's docs/gguf.md.
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING = 8
_ARRAY = 9

# ggml tensor types: (elements per block, bytes per block), from ggml's type traits.
_BLOCK_SIZES = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110),
    22: (256, 82), 23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8),
    29: (256, 56), 30: (1, 2), 34: (256, 54), 35: (256, 66), 39: (32, 17),
}

# Arrays longer than this (token lists, merges) are skipped, not read, to keep the scan fast.
_MAX_ARRAY_READ = 64

# Values of general.file_type: llama.cpp's enum llama_ftype, as exposed by llama-cpp-python 0.3.36
# (LLAMA_FTYPE_* in llama_cpp/llama_cpp.py). That version defines no values 4 to 6 or 33 to 35.
FILE_TYPE_NAMES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K",
    11: "Q3_K_S", 12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S",
    17: "Q5_K_M", 18: "Q6_K", 19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS",
    23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL", 26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M",
    30: "IQ4_XS", 31: "IQ1_M", 32: "BF16", 36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4_MOE",
    39: "NVFP4", 40: "Q1_0", 41: "Q2_0",
}
# llama.cpp sets this bit when it guessed the file type from the tensor types.
FILE_TYPE_GUESSED = 1024


@dataclass
class GGUFInfo:
    """The metadata and tensor count stated in a GGUF file's header."""

    path: Path
    version: int
    tensor_count: int
    metadata: dict[str, Any] = field(default_factory=dict)
    file_size: int = 0
    # Sum of the element counts of the tensors in this file (one part only for split models).
    parameter_count: int = 0

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def architecture(self) -> str:
        return str(self.get("general.architecture", "unknown"))

    @property
    def context_length(self) -> int | None:
        value = self.get(f"{self.architecture}.context_length")
        return int(value) if value is not None else None

    @property
    def chat_template(self) -> str | None:
        return self.get("tokenizer.chat_template")

    @property
    def split_count(self) -> int:
        """Number of files the model is split into; 1 for a single-file model."""
        value = self.get("split.count")
        return value if isinstance(value, int) and value > 1 else 1

    @property
    def split_index(self) -> int:
        """Zero-based index of this file among the split parts (``split.no``); 0 when not split."""
        value = self.get("split.no")
        return value if isinstance(value, int) else 0

    @property
    def quantization(self) -> str | None:
        """Name of general.file_type (for example ``Q4_K_M``), or None when the key is missing."""
        value = self.get("general.file_type")
        return file_type_name(value) if isinstance(value, int) else None


class _Reader:
    def __init__(self, handle: BinaryIO, path: Path, size: int) -> None:
        self.handle = handle
        self.path = path
        self.size = size

    def read(self, count: int) -> bytes:
        data = self.handle.read(count)
        if len(data) != count:
            raise ModelFileError(
                f"Model file {self.path} is truncated: its header ends early. "
                "Download it again; the transfer was probably cut off."
            )
        return data

    def scalar(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        length = self.scalar("<Q")
        if length > self.size:
            raise ModelFileError(f"Model file {self.path} is damaged: a header string claims {length} bytes.")
        return self.read(length).decode("utf-8", errors="replace")

    def value(self, value_type: int) -> Any:
        if value_type in _SCALARS:
            return self.scalar(_SCALARS[value_type])
        if value_type == _STRING:
            return self.string()
        if value_type == _ARRAY:
            item_type = self.scalar("<I")
            count = self.scalar("<Q")
            if count > self.size:
                raise ModelFileError(f"Model file {self.path} is damaged: an array claims {count} items.")
            if count > _MAX_ARRAY_READ and item_type in _SCALARS:
                self.handle.seek(struct.calcsize(_SCALARS[item_type]) * count, 1)
                return f"<array of {count}>"
            items = [self.value(item_type) for _ in range(count)]
            return items if count <= _MAX_ARRAY_READ else f"<array of {count}>"
        raise ModelFileError(f"Model file {self.path} is damaged: unknown metadata type {value_type}.")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Validate a GGUF file and return its header; raises ModelFileError naming the file and the fix."""
    return _read_header(Path(path), allow_split=False)


def read_gguf_header(path: str | Path) -> GGUFInfo:
    """Validate a GGUF file like read_gguf, but accept any part of a split model.

    Model listings use this to show a split model by its first part. Only read_gguf guards
    the loader, because llama.cpp must be given the first part.
    """
    return _read_header(Path(path), allow_split=True)


def file_type_name(file_type: int) -> str:
    """Return the llama.cpp name of a general.file_type value, such as ``Q4_1`` for 3."""
    guessed = bool(file_type & FILE_TYPE_GUESSED)
    base = file_type & ~FILE_TYPE_GUESSED
    name = FILE_TYPE_NAMES.get(base, f"unknown type {base}")
    return f"{name} (guessed)" if guessed else name


def _read_header(path: Path, allow_split: bool) -> GGUFInfo:
    if not path.exists():
        raise ModelFileError(f"Model file {path} not found. Check the path or choose another GGUF file.")
    if path.is_dir():
        raise ModelFileError(f"Model path {path} is a folder: choose a .gguf file inside it.")
    try:
        handle = path.open("rb")
    except OSError as error:
        raise ModelFileError(f"Model file {path} cannot be read: {error.strerror}. Check its permissions.") from error

    with handle:
        size = path.stat().st_size
        reader = _Reader(handle, path, size)
        magic = handle.read(4)
        if magic != MAGIC:
            raise ModelFileError(
                f"{path} is not a GGUF model file (it starts with {magic!r}, not b'GGUF'). "
                "Choose a .gguf file, for example one converted with llama.cpp."
            )
        version = reader.scalar("<I")
        if version not in SUPPORTED_VERSIONS:
            raise ModelFileError(
                f"Model file {path} uses GGUF version {version}; this MindGarden reads versions "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}. Convert the model again with a current llama.cpp."
            )
        tensor_count = reader.scalar("<Q")
        kv_count = reader.scalar("<Q")
        metadata = {}
        for _ in range(kv_count):
            key = reader.string()
            metadata[key] = reader.value(reader.scalar("<I"))
        info = GGUFInfo(path, version, tensor_count, metadata, size)

        split_count = metadata.get("split.count")
        if not allow_split and isinstance(split_count, int) and split_count > 1:
            raise ModelFileError(
                f"Model file {path} is one part of a model split into {split_count} files. "
                "Open the first part (…-00001-of-…gguf) with all parts in the same folder."
            )
        info.parameter_count = _check_tensor_data(reader, info)
    return info


def _check_tensor_data(reader: _Reader, info: GGUFInfo) -> int:
    """Return the total element count of the tensors; raise ModelFileError when their data runs past the file end."""
    data_end = 0
    total_elements = 0
    for _ in range(info.tensor_count):
        reader.string()
        n_dims = reader.scalar("<I")
        dims = [reader.scalar("<Q") for _ in range(n_dims)]
        tensor_type = reader.scalar("<I")
        offset = reader.scalar("<Q")
        elements = 1
        for dim in dims:
            elements *= dim
        total_elements += elements
        if tensor_type not in _BLOCK_SIZES:
            continue
        block_elements, block_bytes = _BLOCK_SIZES[tensor_type]
        data_end = max(data_end, offset + elements // block_elements * block_bytes)
    alignment = int(info.get("general.alignment", DEFAULT_ALIGNMENT) or DEFAULT_ALIGNMENT)
    position = reader.handle.tell()
    data_start = (position + alignment - 1) // alignment * alignment
    if data_end > 0 and data_start + data_end > info.file_size:
        raise ModelFileError(
            f"Model file {info.path} is truncated: its tensors need {data_start + data_end:,} bytes "
            f"but the file has {info.file_size:,}. Download it again."
        )
    return total_elements
