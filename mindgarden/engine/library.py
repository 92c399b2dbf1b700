"""The model library: finds GGUF models from other local apps and reads their metadata without loading weights."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from mindgarden.core import paths
from mindgarden.core.errors import ModelFileError, StorageError
from mindgarden.engine.gguf import SPLIT_PATTERN, read_gguf_header

log = logging.getLogger(__name__)

SOURCES = ("ollama", "lmstudio", "gpt4all", "huggingface", "file")

USER_MODELS_FILE = "models.json"
USER_MODELS_VERSION = 1

OLLAMA_MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_REGISTRY = "registry.ollama.ai"
OLLAMA_DEFAULT_NAMESPACE = "library"


@dataclass(frozen=True)
class ModelEntry:
    """One model in the library: where it is, what its header states, or why it cannot be used."""

    path: Path
    name: str
    source: str
    file_size: int = 0
    architecture: str | None = None
    parameter_count: int | None = None
    size_label: str | None = None
    quantization: str | None = None
    context_length: int | None = None
    has_chat_template: bool = False
    license: str | None = None
    split_count: int = 1
    error: str | None = None

    @property
    def usable(self) -> bool:
        return self.error is None

    @property
    def parameter_label(self) -> str | None:
        """Parameter count for display, such as ``135M``: counted from the tensors, else general.size_label."""
        if self.parameter_count:
            return format_parameter_count(self.parameter_count)
        return self.size_label


@dataclass(frozen=True)
class DiscoveryRoots:
    """The folders that discover() scans, one tuple per source, and the list of user-added files."""

    ollama: tuple[Path, ...] = ()
    lmstudio: tuple[Path, ...] = ()
    gpt4all: tuple[Path, ...] = ()
    huggingface: tuple[Path, ...] = ()
    folders: tuple[Path, ...] = ()
    user_list: Path | None = None

    @classmethod
    def default(cls, home: Path | None = None, environ: Mapping[str, str] | None = None) -> DiscoveryRoots:
        """Return the default locations of each app's models for this user and platform.

        Only the app calls this: tests build DiscoveryRoots from temporary folders, so they
        never read real user folders.
        """
        home = home if home is not None else Path.home()
        environ = environ if environ is not None else os.environ
        return cls(
            ollama=_ollama_roots(home, environ),
            lmstudio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
            gpt4all=(_gpt4all_root(home, environ),),
            huggingface=(_huggingface_root(home, environ),),
            folders=(paths.user_models_dir(), paths.bundled_models_dir()),
            user_list=user_models_path(),
        )


def _ollama_roots(home: Path, environ: Mapping[str, str]) -> tuple[Path, ...]:
    # Ollama reads OLLAMA_MODELS. Its Linux installer runs the server as the user "ollama",
    # so a service install keeps its store in /usr/share/ollama/.ollama/models.
    roots = []
    if environ.get("OLLAMA_MODELS"):
        roots.append(Path(environ["OLLAMA_MODELS"]))
    roots.append(home / ".ollama" / "models")
    if sys.platform.startswith("linux"):
        roots.append(Path("/usr/share/ollama/.ollama/models"))
    return tuple(roots)


def _gpt4all_root(home: Path, environ: Mapping[str, str]) -> Path:
    # Default download paths from gpt4all_desktop/settings.md in the nomic-ai/gpt4all repository.
    if sys.platform == "win32":
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else home / "AppData" / "Local"
        return base / "nomic.ai" / "GPT4All"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "nomic.ai" / "GPT4All"
    return home / ".local" / "share" / "nomic.ai" / "GPT4All"


def _huggingface_root(home: Path, environ: Mapping[str, str]) -> Path:
    # huggingface_hub: HF_HUB_CACHE wins, then HF_HOME/hub, then ~/.cache/huggingface/hub.
    if environ.get("HF_HUB_CACHE"):
        return Path(environ["HF_HUB_CACHE"])
    if environ.get("HF_HOME"):
        return Path(environ["HF_HOME"]) / "hub"
    return home / ".cache" / "huggingface" / "hub"


def format_parameter_count(count: int) -> str:
    """Return a short label for a parameter count: 134515008 gives ``135M``, 8030261248 gives ``8.0B``."""
    if count >= 1_000_000_000:
        return f"{count / 1_000_000_000:.1f}B"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.0f}M"
    if count >= 1_000:
        return f"{count / 1_000:.0f}K"
    return str(count)


# Metadata


def describe_model(path: Path, name: str, source: str) -> ModelEntry:
    """Read the header of a GGUF file (all parts of a split model) and return its entry.

    A file that fails validation gives an entry whose ``error`` is the ModelFileError message.
    """
    path = Path(path)
    try:
        info = read_gguf_header(path)
        parts = _split_parts(path, info.split_count)
        part_infos = [info] + [read_gguf_header(part) for part in parts[1:]]
    except ModelFileError as error:
        log.info("Model %s (%s) is unusable: %s", name, path, error)
        return ModelEntry(path=path, name=name, source=source, file_size=_size_or_zero(path), error=str(error))

    license_name = info.get("general.license")
    size_label = info.get("general.size_label")
    return ModelEntry(
        path=path,
        name=name,
        source=source,
        file_size=sum(part.file_size for part in part_infos),
        architecture=info.architecture,
        parameter_count=sum(part.parameter_count for part in part_infos) or None,
        size_label=str(size_label) if size_label is not None else None,
        quantization=info.quantization,
        context_length=info.context_length,
        has_chat_template=bool(info.chat_template),
        license=str(license_name) if license_name is not None else None,
        split_count=info.split_count,
    )


def _split_parts(path: Path, split_count: int) -> list[Path]:
    """Return the paths of all parts of a split model, given its first part; raise when one is missing."""
    if split_count == 1:
        return [path]
    match = SPLIT_PATTERN.search(path.name)
    if match is None or int(match.group(1)) != 1:
        raise ModelFileError(
            f"Model file {path} is one part of a model split into {split_count} files, but its name "
            "does not end in -00001-of-NNNNN.gguf. Open the first part of the model instead."
        )
    stem = path.name[: match.start()]
    parts = [path.with_name(f"{stem}-{index:05d}-of-{split_count:05d}.gguf") for index in range(1, split_count + 1)]
    missing = [part.name for part in parts if not part.is_file()]
    if missing:
        raise ModelFileError(
            f"Model {path.name} is split into {split_count} files but {', '.join(missing)} "
            f"is missing from {path.parent}. Download the missing parts into that folder."
        )
    return parts


def _size_or_zero(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_projector(entry: ModelEntry) -> bool:
    # Vision projectors (mmproj-*.gguf, architecture "clip") sit next to models in LM Studio
    # and Hugging Face folders, but llama.cpp cannot load them as a language model.
    return entry.architecture == "clip"


def _is_later_split_part(path: Path) -> bool:
    match = SPLIT_PATTERN.search(path.name)
    return match is not None and int(match.group(1)) != 1


# Discovery


def discover(roots: DiscoveryRoots | None = None) -> list[ModelEntry]:
    """Find GGUF models in every root and return one entry per file, sorted by source and name.

    Files reachable from several roots (a Hugging Face blob added by hand as well) are listed
    once, under the first source in SOURCES order. Split models are listed by their first part.
    """
    roots = roots if roots is not None else DiscoveryRoots.default()
    scanners = (
        _scan_ollama(roots.ollama),
        _scan_lmstudio(roots.lmstudio),
        _scan_gpt4all(roots.gpt4all),
        _scan_huggingface(roots.huggingface),
        _scan_folders(roots.folders),
        _scan_user_list(roots.user_list),
    )

    entries: dict[Path, ModelEntry] = {}
    for scanner in scanners:
        for entry in scanner:
            key = _resolved(entry.path)
            if key in entries:
                log.debug("Skipping %s: already listed as %s", entry.path, entries[key].name)
                continue
            if _is_projector(entry):
                log.debug("Skipping vision projector %s", entry.path)
                continue
            entries[key] = entry

    result = sorted(entries.values(), key=lambda entry: (SOURCES.index(entry.source), entry.name.lower()))
    unusable = sum(1 for entry in result if not entry.usable)
    log.info("Model discovery found %d models (%d unusable)", len(result), unusable)
    return result


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _list_dir(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except FileNotFoundError:
        return []
    except OSError as error:
        log.warning("Cannot list model folder %s: %s", folder, error)
        return []


def _gguf_files(folder: Path, recursive: bool) -> Iterator[Path]:
    """Yield the .gguf files in a folder, first parts only for split models."""
    for child in _list_dir(folder):
        if child.is_dir():
            if recursive:
                yield from _gguf_files(child, recursive)
            continue
        if child.suffix.lower() == ".gguf" and not _is_later_split_part(child):
            yield child


def _scan_ollama(roots: Iterable[Path]) -> Iterator[ModelEntry]:
    """Yield Ollama models: manifests/<registry>/<namespace>/<model>/<tag> JSON files naming blobs."""
    for root in roots:
        manifests = root / "manifests"
        for registry in _list_dir(manifests):
            for namespace in _list_dir(registry):
                for model in _list_dir(namespace):
                    for manifest in _list_dir(model):
                        if manifest.is_file() and not manifest.name.startswith("."):
                            entry = _ollama_entry(root, manifest)
                            if entry is not None:
                                yield entry


def _ollama_name(registry: str, namespace: str, model: str, tag: str) -> str:
    # Ollama shows library models as "model:tag" and prefixes other namespaces and registries.
    if registry == OLLAMA_DEFAULT_REGISTRY and namespace == OLLAMA_DEFAULT_NAMESPACE:
        return f"{model}:{tag}"
    if registry == OLLAMA_DEFAULT_REGISTRY:
        return f"{namespace}/{model}:{tag}"
    return f"{registry}/{namespace}/{model}:{tag}"


def _ollama_entry(root: Path, manifest: Path) -> ModelEntry | None:
    model = manifest.parent
    name = _ollama_name(model.parent.parent.name, model.parent.name, model.name, manifest.name)
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        log.warning("Cannot read Ollama manifest %s: %s", manifest, error)
        return ModelEntry(
            path=manifest, name=name, source="ollama",
            error=f"Ollama manifest {manifest} cannot be read ({error}). Pull the model again with `ollama pull {name}`.",
        )

    layers = document.get("layers") if isinstance(document, dict) else None
    digest = None
    for layer in layers if isinstance(layers, list) else []:
        if isinstance(layer, dict) and layer.get("mediaType") == OLLAMA_MODEL_MEDIA_TYPE:
            digest = layer.get("digest")
            break
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        # Models imported from safetensors store tensors as separate layers, with no GGUF file.
        log.debug("Ollama manifest %s has no GGUF model layer; skipping it", manifest)
        return None

    blob = root / "blobs" / digest.replace(":", "-", 1)
    return describe_model(blob, name, "ollama")


def _scan_lmstudio(roots: Iterable[Path]) -> Iterator[ModelEntry]:
    """Yield LM Studio models, kept as <publisher>/<repository>/<file>.gguf under each root."""
    # NOTE: LM Studio lets the user move its models folder. This scan does not read that
    # setting, so the user must add models from a moved folder by hand.
    for root in roots:
        for path in _gguf_files(root, recursive=True):
            yield describe_model(path, path.relative_to(root).as_posix(), "lmstudio")


def _scan_gpt4all(roots: Iterable[Path]) -> Iterator[ModelEntry]:
    """Yield GPT4All models, kept as .gguf files directly in its download folder."""
    for root in roots:
        for path in _gguf_files(root, recursive=False):
            yield describe_model(path, path.name, "gpt4all")


def _scan_huggingface(roots: Iterable[Path]) -> Iterator[ModelEntry]:
    """Yield GGUF files in the Hugging Face hub cache, named ``org/name/file.gguf``.

    Files in ``models--<org>--<name>/snapshots/<revision>/`` are symlinks into ``blobs/``.
    Entries keep the snapshot path, and discover() deduplicates them by the resolved blob.
    """
    for root in roots:
        for repository in _list_dir(root):
            if not repository.name.startswith("models--") or not repository.is_dir():
                continue
            repo_id = "/".join(repository.name[len("models--"):].split("--"))
            seen_names: set[str] = set()
            for snapshot in _list_dir(repository / "snapshots"):
                for path in _gguf_files(snapshot, recursive=True):
                    name = f"{repo_id}/{path.relative_to(snapshot).as_posix()}"
                    if name in seen_names:
                        # The same file name in an older revision with different content.
                        name = f"{name} (revision {snapshot.name[:7]})"
                    seen_names.add(name)
                    yield describe_model(path, name, "huggingface")


def _scan_folders(folders: Iterable[Path]) -> Iterator[ModelEntry]:
    for folder in folders:
        for path in _gguf_files(folder, recursive=True):
            yield describe_model(path, path.name, "file")


def _scan_user_list(list_path: Path | None) -> Iterator[ModelEntry]:
    if list_path is None:
        return
    try:
        models = load_user_models(list_path)
    except StorageError as error:
        log.error("Skipping user-added models: %s", error)
        return
    for path in models:
        yield describe_model(path, path.name, "file")


# User-added models


def user_models_path() -> Path:
    """Return the JSON file that lists the models the user added by hand."""
    return paths.data_dir() / USER_MODELS_FILE


def load_user_models(list_path: Path | None = None) -> list[Path]:
    """Return the paths in the user-added model list; an absent list is empty.

    Raises StorageError when the list exists but is not valid, so a caller never
    overwrites a damaged list with an empty one.
    """
    list_path = list_path if list_path is not None else user_models_path()
    try:
        text = list_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as error:
        raise StorageError(f"The model list {list_path} cannot be read: {error}. Check its permissions.") from error

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise StorageError(
            f"The model list {list_path} is not valid JSON ({error}). Fix or delete the file, then add models again."
        ) from error
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, list) or not all(isinstance(item, str) for item in models):
        raise StorageError(
            f'The model list {list_path} has no "models" list of paths. Fix or delete the file, then add models again.'
        )
    return [Path(item) for item in models]


def add_model(path: str | Path, list_path: Path | None = None) -> ModelEntry:
    """Validate a GGUF file and add it to the user-added model list; return its entry.

    Raises ModelFileError when the file is missing or not a usable GGUF file, and
    StorageError when the list cannot be read or written. Adding a listed file again
    changes nothing.
    """
    list_path = list_path if list_path is not None else user_models_path()
    resolved = _resolved(Path(path).expanduser())
    if _is_later_split_part(resolved):
        raise ModelFileError(
            f"Model file {resolved} is a later part of a split model. Add the first part (…-00001-of-…gguf)."
        )
    entry = describe_model(resolved, resolved.name, "file")
    if entry.error is not None:
        raise ModelFileError(entry.error)

    models = load_user_models(list_path)
    if resolved not in models:
        models.append(resolved)
        _write_user_models(list_path, models)
        log.info("Added model %s to %s", resolved, list_path)
    return entry


def remove_model(path: str | Path, list_path: Path | None = None) -> bool:
    """Remove a file from the user-added model list; return False when it was not listed.

    The model file itself is never deleted.
    """
    list_path = list_path if list_path is not None else user_models_path()
    requested = Path(path).expanduser()
    targets = {requested, _resolved(requested)}
    models = load_user_models(list_path)
    remaining = [model for model in models if model not in targets]
    if len(remaining) == len(models):
        return False
    _write_user_models(list_path, remaining)
    log.info("Removed model %s from %s", requested, list_path)
    return True


def _write_user_models(list_path: Path, models: list[Path]) -> None:
    """Write the list to a temporary file in the same folder, then rename it over the old list."""
    document = {"version": USER_MODELS_VERSION, "models": [str(model) for model in models]}
    temporary: Path | None = None
    try:
        list_path.parent.mkdir(parents=True, exist_ok=True)
        handle = tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=list_path.parent, prefix=f".{list_path.name}.", suffix=".tmp", delete=False
        )
        temporary = Path(handle.name)
        with handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, list_path)
    except OSError as error:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise StorageError(
            f"The model list {list_path} cannot be written: {error}. Check free space and permissions."
        ) from error


__all__ = [
    "SOURCES", "DiscoveryRoots", "ModelEntry", "add_model", "describe_model", "discover",
    "format_parameter_count", "load_user_models", "remove_model", "user_models_path",
]
