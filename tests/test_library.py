"""Model library: discovery in folder layouts of Ollama, LM Studio, GPT4All and the Hugging Face cache."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import pytest

from mindgarden.core.errors import ModelFileError, StorageError
from mindgarden.engine.gguf import file_type_name, read_gguf_header
from mindgarden.engine.library import (
    DiscoveryRoots,
    add_model,
    describe_model,
    discover,
    format_parameter_count,
    load_user_models,
    remove_model,
)

ALIGNMENT = 32
TEMPLATE = "{% for message in messages %}{{ message['content'] }}{% endfor %}"


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<Q", len(data)) + data


def _value(value: object) -> bytes:
    if isinstance(value, bool):
        return struct.pack("<I?", 7, value)
    if isinstance(value, int):
        return struct.pack("<II", 4, value)
    return struct.pack("<I", 8) + _string(str(value))


def gguf_bytes(metadata: dict, tensors: list[tuple[str, tuple[int, ...]]]) -> bytes:
    """Return a valid GGUF v3 file with the given metadata and F32 tensors of the given shapes."""
    body = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, value in metadata.items():
        body += _string(key) + _value(value)

    offset = 0
    for name, dims in tensors:
        body += _string(name) + struct.pack("<I", len(dims))
        body += b"".join(struct.pack("<Q", dim) for dim in dims)
        body += struct.pack("<IQ", 0, offset)
        elements = 1
        for dim in dims:
            elements *= dim
        offset += (elements * 4 + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT

    body += b"\0" * (-len(body) % ALIGNMENT)
    return body + b"\0" * offset


def llama_metadata(**overrides: object) -> dict:
    metadata = {
        "general.architecture": "llama",
        "general.name": "Tiny",
        "general.file_type": 15,
        "general.license": "apache-2.0",
        "general.size_label": "2K",
        "llama.context_length": 4096,
        "tokenizer.chat_template": TEMPLATE,
    }
    metadata.update(overrides)
    return metadata


# 64 x 32 + 64 = 2112 elements.
TENSORS = [("token_embd.weight", (64, 32)), ("output_norm.weight", (64,))]


def write_model(path: Path, metadata: dict | None = None, tensors: list | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gguf_bytes(metadata or llama_metadata(), tensors if tensors is not None else TENSORS))
    return path


def write_ollama(root: Path, model: str, tag: str, blob_data: bytes | None, namespace: str = "library") -> Path:
    """Write an Ollama manifest naming one model layer; write its blob unless blob_data is None."""
    digest = hashlib.sha256(blob_data or model.encode()).hexdigest()
    manifest = root / "manifests" / "registry.ollama.ai" / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "0" * 64, "size": 2},
        "layers": [
            {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{digest}", "size": 1},
            {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "1" * 64, "size": 1},
        ],
    }))
    blob = root / "blobs" / f"sha256-{digest}"
    if blob_data is not None:
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(blob_data)
    return blob


def write_hf_cache(root: Path, repo: str, revision: str, file_name: str, data: bytes) -> tuple[Path, Path]:
    """Write a hub cache repository whose snapshot file is a relative symlink into blobs/."""
    folder = root / ("models--" + repo.replace("/", "--"))
    blob = folder / "blobs" / hashlib.sha256(data).hexdigest()
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(data)
    (folder / "refs").mkdir(exist_ok=True)
    (folder / "refs" / "main").write_text(revision)
    snapshot_file = folder / "snapshots" / revision / file_name
    snapshot_file.parent.mkdir(parents=True, exist_ok=True)
    snapshot_file.symlink_to(os.path.relpath(blob, snapshot_file.parent))
    return snapshot_file, blob


@pytest.fixture
def layout(tmp_path):
    """Folders of every source with a few models each, plus an empty user list."""
    ollama = tmp_path / "ollama"
    write_ollama(ollama, "llama3.2", "3b", gguf_bytes(llama_metadata(), TENSORS))
    write_ollama(ollama, "tiny", "latest", gguf_bytes(llama_metadata(**{"general.file_type": 7}), TENSORS), "someone")
    write_ollama(ollama, "gone", "latest", None)

    lmstudio = tmp_path / "lmstudio"
    write_model(lmstudio / "publisher" / "Tiny-GGUF" / "tiny-Q4_K_M.gguf")
    write_model(
        lmstudio / "publisher" / "Tiny-GGUF" / "mmproj-tiny-f16.gguf",
        {"general.architecture": "clip", "general.file_type": 1},
    )
    split = {"split.count": 2, "split.tensors.count": 2}
    write_model(
        lmstudio / "publisher" / "Big-GGUF" / "big-Q8_0-00001-of-00002.gguf",
        llama_metadata(**split, **{"split.no": 0, "general.file_type": 7}),
        TENSORS[:1],
    )
    write_model(
        lmstudio / "publisher" / "Big-GGUF" / "big-Q8_0-00002-of-00002.gguf",
        {"general.architecture": "llama", **split, "split.no": 1},
        TENSORS[1:],
    )

    gpt4all = tmp_path / "gpt4all"
    write_model(gpt4all / "orca-mini.gguf", llama_metadata(**{"general.file_type": 2, "general.license": "mit"}))
    (gpt4all / "broken.gguf").write_text("not a model")

    hub = tmp_path / "hub"
    snapshot_file, blob = write_hf_cache(
        hub, "org/Tiny-GGUF", "a" * 40, "tiny.Q4_1.gguf", gguf_bytes(llama_metadata(**{"general.file_type": 3}), TENSORS)
    )

    roots = DiscoveryRoots(
        ollama=(ollama,), lmstudio=(lmstudio,), gpt4all=(gpt4all,), huggingface=(hub,),
        user_list=tmp_path / "data" / "models.json",
    )
    return {"roots": roots, "hf_file": snapshot_file, "hf_blob": blob, "tmp": tmp_path}


def by_name(entries: list) -> dict:
    return {entry.name: entry for entry in entries}


def test_discover_names_every_source(layout):
    names = {(entry.source, entry.name) for entry in discover(layout["roots"])}
    assert names == {
        ("ollama", "llama3.2:3b"),
        ("ollama", "someone/tiny:latest"),
        ("ollama", "gone:latest"),
        ("lmstudio", "publisher/Tiny-GGUF/tiny-Q4_K_M.gguf"),
        ("lmstudio", "publisher/Big-GGUF/big-Q8_0-00001-of-00002.gguf"),
        ("gpt4all", "orca-mini.gguf"),
        ("gpt4all", "broken.gguf"),
        ("huggingface", "org/Tiny-GGUF/tiny.Q4_1.gguf"),
    }


def test_ollama_manifest_resolves_to_blob(layout):
    entry = by_name(discover(layout["roots"]))["llama3.2:3b"]
    assert entry.path.parent.name == "blobs"
    assert entry.path.name.startswith("sha256-")
    assert entry.usable
    assert entry.quantization == "Q4_K_M"


def test_ollama_missing_blob_unusable(layout):
    entry = by_name(discover(layout["roots"]))["gone:latest"]
    assert not entry.usable
    assert "not found" in entry.error


def test_metadata_values(layout):
    entry = by_name(discover(layout["roots"]))["publisher/Tiny-GGUF/tiny-Q4_K_M.gguf"]
    assert entry.architecture == "llama"
    assert entry.quantization == "Q4_K_M"
    assert entry.parameter_count == 64 * 32 + 64
    assert entry.parameter_label == "2K"
    assert entry.context_length == 4096
    assert entry.has_chat_template
    assert entry.license == "apache-2.0"
    assert entry.file_size == entry.path.stat().st_size
    assert entry.split_count == 1


def test_quantization_per_file_type(layout):
    entries = by_name(discover(layout["roots"]))
    assert entries["someone/tiny:latest"].quantization == "Q8_0"
    assert entries["orca-mini.gguf"].quantization == "Q4_0"
    assert entries["org/Tiny-GGUF/tiny.Q4_1.gguf"].quantization == "Q4_1"


def test_invalid_file_listed_unusable(layout):
    entry = by_name(discover(layout["roots"]))["broken.gguf"]
    assert not entry.usable
    assert "not a GGUF model file" in entry.error
    assert entry.quantization is None
    assert entry.file_size == len("not a model")


def test_vision_projector_skipped(layout):
    paths = [entry.path.name for entry in discover(layout["roots"])]
    assert "mmproj-tiny-f16.gguf" not in paths


def test_split_model_first_part_only(layout):
    entries = [entry for entry in discover(layout["roots"]) if "Big-GGUF" in entry.name]
    assert len(entries) == 1
    entry = entries[0]
    assert entry.usable, entry.error
    assert entry.split_count == 2
    assert entry.parameter_count == 64 * 32 + 64
    parts = sorted(entry.path.parent.glob("big-*.gguf"))
    assert entry.file_size == sum(part.stat().st_size for part in parts)


def test_split_model_missing_part(layout):
    folder = layout["tmp"] / "lmstudio" / "publisher" / "Big-GGUF"
    (folder / "big-Q8_0-00002-of-00002.gguf").unlink()
    entry = by_name(discover(layout["roots"]))["publisher/Big-GGUF/big-Q8_0-00001-of-00002.gguf"]
    assert not entry.usable
    assert "big-Q8_0-00002-of-00002.gguf is missing" in entry.error


def test_huggingface_symlink_resolved(layout):
    entry = by_name(discover(layout["roots"]))["org/Tiny-GGUF/tiny.Q4_1.gguf"]
    assert entry.path.is_symlink()
    assert entry.path.resolve() == layout["hf_blob"].resolve()
    assert entry.usable


def test_duplicate_paths_listed_once(layout):
    add_model(layout["hf_blob"], layout["roots"].user_list)
    entries = discover(layout["roots"])
    matching = [entry for entry in entries if entry.path.resolve() == layout["hf_blob"].resolve()]
    assert len(matching) == 1
    assert matching[0].source == "huggingface"


def test_missing_roots_find_nothing(tmp_path):
    roots = DiscoveryRoots(
        ollama=(tmp_path / "a",), lmstudio=(tmp_path / "b",), gpt4all=(tmp_path / "c",),
        huggingface=(tmp_path / "d",), folders=(tmp_path / "e",), user_list=tmp_path / "f.json",
    )
    assert discover(roots) == []


def test_add_model_persists(tmp_path):
    model = write_model(tmp_path / "mine" / "own.gguf")
    list_path = tmp_path / "data" / "models.json"
    entry = add_model(model, list_path)
    assert entry.source == "file"
    assert entry.usable
    assert load_user_models(list_path) == [model.resolve()]
    assert json.loads(list_path.read_text())["models"] == [str(model.resolve())]
    assert [path.name for path in list_path.parent.iterdir()] == ["models.json"]

    found = discover(DiscoveryRoots(user_list=list_path))
    assert [item.name for item in found] == ["own.gguf"]


def test_add_model_twice_listed_once(tmp_path):
    model = write_model(tmp_path / "own.gguf")
    list_path = tmp_path / "models.json"
    add_model(model, list_path)
    add_model(model, list_path)
    assert load_user_models(list_path) == [model.resolve()]


def test_add_model_rejects_invalid(tmp_path):
    list_path = tmp_path / "models.json"
    bad = tmp_path / "bad.gguf"
    bad.write_text("text")
    with pytest.raises(ModelFileError, match="not a GGUF model file"):
        add_model(bad, list_path)
    with pytest.raises(ModelFileError, match="not found"):
        add_model(tmp_path / "absent.gguf", list_path)
    assert not list_path.exists()


def test_remove_model(tmp_path):
    model = write_model(tmp_path / "own.gguf")
    list_path = tmp_path / "models.json"
    add_model(model, list_path)
    assert remove_model(model, list_path) is True
    assert load_user_models(list_path) == []
    assert remove_model(model, list_path) is False
    assert model.exists()


def test_user_list_missing_file_flagged(tmp_path):
    model = write_model(tmp_path / "own.gguf")
    list_path = tmp_path / "models.json"
    add_model(model, list_path)
    model.unlink()
    entries = discover(DiscoveryRoots(user_list=list_path))
    assert len(entries) == 1
    assert not entries[0].usable
    assert "not found" in entries[0].error


def test_damaged_user_list(tmp_path):
    list_path = tmp_path / "models.json"
    list_path.write_text("{ not json")
    model = write_model(tmp_path / "own.gguf")
    with pytest.raises(StorageError, match="not valid JSON"):
        add_model(model, list_path)
    assert list_path.read_text() == "{ not json"
    assert discover(DiscoveryRoots(user_list=list_path)) == []


def test_real_model_metadata(model_path):
    entry = describe_model(model_path, model_path.name, "file")
    assert entry.usable
    assert entry.quantization == "Q4_1"
    assert entry.parameter_count == 134_515_008
    assert entry.parameter_label == "135M"
    assert entry.size_label == "135M"
    assert entry.context_length == 8192
    assert entry.license == "apache-2.0"
    assert entry.has_chat_template


def test_file_type_names():
    assert file_type_name(0) == "F32"
    assert file_type_name(1) == "F16"
    assert file_type_name(3) == "Q4_1"
    assert file_type_name(15) == "Q4_K_M"
    assert file_type_name(32) == "BF16"
    assert file_type_name(1024 + 18) == "Q6_K (guessed)"
    assert file_type_name(500) == "unknown type 500"


def test_header_reader_accepts_split_part(tmp_path):
    path = write_model(tmp_path / "x-00002-of-00003.gguf", llama_metadata(**{"split.count": 3, "split.no": 1}))
    info = read_gguf_header(path)
    assert info.split_count == 3
    assert info.split_index == 1


def test_parameter_labels():
    assert format_parameter_count(134_515_008) == "135M"
    assert format_parameter_count(8_030_261_248) == "8.0B"
    assert format_parameter_count(2112) == "2K"
    assert format_parameter_count(12) == "12"


def test_default_roots_follow_environment(tmp_path):
    roots = DiscoveryRoots.default(
        home=tmp_path, environ={"OLLAMA_MODELS": str(tmp_path / "o"), "HF_HOME": str(tmp_path / "hf")}
    )
    assert roots.ollama[0] == tmp_path / "o"
    assert tmp_path / ".ollama" / "models" in roots.ollama
    assert roots.huggingface == (tmp_path / "hf" / "hub",)
    assert tmp_path / ".lmstudio" / "models" in roots.lmstudio
    assert tmp_path / ".cache" / "lm-studio" / "models" in roots.lmstudio
    assert roots.user_list is not None
