"""Preference data from a thought tree: starred versus pruned siblings as DPO pairs."""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.personas import Persona
from mindgarden.core.prompting import expansion_messages
from mindgarden.core.tree import Node, ThoughtTree

log = logging.getLogger(__name__)

PROMPT_MODES = ("neutral", "as-generated")


@dataclass
class ExportResult:
    """Rows built for one export, the metadata row of each, and why others were skipped."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def _usable(text: str) -> bool:
    return bool(text.strip())


def _node_metadata(node: Node) -> dict[str, Any]:
    return {
        "node_id": node.id,
        "persona": node.persona,
        "temperature": node.temperature,
        "sampler": node.sampler,
        "seed": node.seed,
        "model_name": node.model_name,
        "model_sha256": node.model_sha256,
        "token_count": node.token_count,
        "edited": node.edited,
    }


def dpo_pairs(
    tree: ThoughtTree,
    personas: dict[str, Persona],
    prompt_mode: str = "neutral",
) -> ExportResult:
    """Pair every starred child with every pruned sibling, in TRL's conversational DPO layout.

    In ``neutral`` mode the prompt carries no persona priming, so a model trained on it learns
    the preferred behaviour unprompted. In ``as-generated`` mode both sides share the priming
    of the persona that wrote the chosen branch; pairs whose sides were written under
    different primings are skipped there, because the system text must be identical.
    """
    if prompt_mode not in PROMPT_MODES:
        raise InvalidInputError(f"Prompt mode {prompt_mode!r} is invalid: use one of {', '.join(PROMPT_MODES)}.")

    result = ExportResult()
    for parent in tree.nodes():
        children = [child for child in tree.children(parent.id) if child.complete]
        starred = [child for child in children if child.starred]
        pruned = [child for child in children if child.pruned]
        for chosen in starred:
            for rejected in pruned:
                if not _usable(chosen.text) or not _usable(rejected.text):
                    result.skipped["empty text"] += 1
                    continue
                if chosen.text.strip() == rejected.text.strip():
                    result.skipped["identical texts"] += 1
                    continue
                persona = None
                if prompt_mode == "as-generated":
                    if chosen.persona != rejected.persona:
                        result.skipped["different persona primings"] += 1
                        continue
                    persona = personas.get(chosen.persona)
                prompt = expansion_messages(tree, parent.id, persona)
                result.rows.append({
                    "prompt": prompt,
                    "chosen": [{"role": "assistant", "content": chosen.text.strip()}],
                    "rejected": [{"role": "assistant", "content": rejected.text.strip()}],
                })
                result.metadata.append({
                    "group_id": parent.id,
                    "chosen": _node_metadata(chosen),
                    "rejected": _node_metadata(rejected),
                    "prompt_mode": prompt_mode,
                })
    return result


def write_jsonl(rows: list[dict[str, Any]], path: Path) -> None:
    """Write one JSON object per line, atomically: an existing file is replaced only on success."""
    path = Path(path)
    if path.is_dir():
        raise InvalidInputError(f"Export path {path} is a folder: give a file name such as pairs.jsonl.")
    if not path.parent.exists():
        raise InvalidInputError(f"Export folder {path.parent} does not exist: create it or choose another path.")
    temporary = path.with_name(path.name + ".partial")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise InvalidInputError(f"Writing {path} failed: {error}. Choose a writable location.") from error


def export_dpo(tree: ThoughtTree, personas: dict[str, Persona], out: Path,
               prompt_mode: str = "neutral") -> ExportResult:
    """Write DPO pairs to ``out`` and their metadata to ``out`` with ``.meta.jsonl`` beside it."""
    result = dpo_pairs(tree, personas, prompt_mode)
    out = Path(out)
    write_jsonl(result.rows, out)
    write_jsonl(result.metadata, out.with_name(out.stem + ".meta.jsonl"))
    log.info("Exported %d DPO pairs to %s (%d skipped: %s)", len(result.rows), out,
             result.skipped_total, dict(result.skipped))
    return result
