"""Atomic file writing for exports: JSONL, text, and LLaMA-Factory's dataset_info.json."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from mindgarden.core.errors import InvalidInputError

log = logging.getLogger(__name__)

DATASET_INFO = "dataset_info.json"


def check_target(path: Path) -> Path:
    """Return ``path`` if a file can be written there; raises InvalidInputError otherwise."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"Export path {path} is a folder: give a file name such as pairs.jsonl.")
    if not path.parent.exists():
        raise InvalidInputError(f"Export folder {path.parent} does not exist: create it or choose another path.")
    return path


def write_text(text: str, path: Path) -> None:
    """Write ``text`` as UTF-8, atomically: an existing file is replaced only on success."""
    path = check_target(path)
    temporary = path.with_name(path.name + ".partial")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InvalidInputError(f"Writing {path} failed: {error}. Choose a writable location.") from error


def jsonl_text(rows: list[dict[str, Any]]) -> str:
    """Return one JSON object per line, UTF-8 text as is, NaN and infinity rejected."""
    try:
        return "".join(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n" for row in rows)
    except ValueError as error:
        raise InvalidInputError(
            f"A row contains a value JSON cannot represent ({error}): check the session for NaN metrics."
        ) from error


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    """Write one JSON object per line, atomically: an existing file is replaced only on success."""
    write_text(jsonl_text(rows), path)


def metadata_path(out: Path) -> Path:
    """Return the sidecar path ``<stem>.meta.jsonl`` beside ``out``."""
    out = Path(out)
    return out.with_name(out.stem + ".meta.jsonl")


def llamafactory_entry(out: Path, with_system: bool) -> dict[str, Any]:
    """Build the dataset_info.json entry for a ShareGPT preference file (LLaMA-Factory data/README.md)."""
    columns = {"messages": "conversations"}
    if with_system:
        columns["system"] = "system"
    columns.update({"chosen": "chosen", "rejected": "rejected"})
    return {"file_name": Path(out).name, "formatting": "sharegpt", "ranking": True, "columns": columns}


def merge_dataset_info(out: Path, entry: dict[str, Any]) -> tuple[Path, str]:
    """Add ``entry`` under the file's stem to dataset_info.json beside ``out``, keeping other entries.

    Returns the path of dataset_info.json and the dataset name. An existing entry of the
    same name is replaced; an unreadable file is left alone and reported.
    """
    out = Path(out)
    info_path = out.with_name(DATASET_INFO)
    name = out.stem
    existing: dict[str, Any] = {}
    if info_path.exists():
        try:
            existing = json.loads(info_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInputError(
                f"{info_path} cannot be read as JSON ({error}): fix or move it, then export again."
            ) from error
        if not isinstance(existing, dict):
            raise InvalidInputError(
                f"{info_path} contains a {type(existing).__name__}, expected an object of datasets: fix or move it."
            )
    if name in existing:
        log.info("Replacing the %r entry in %s", name, info_path)
    existing[name] = entry
    write_text(json.dumps(existing, ensure_ascii=False, indent=2) + "\n", info_path)
    return info_path, name
