"""Export entry points for the CLI and the UI: build, preview and write any export format."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from mindgarden.core import interchange, outline
from mindgarden.core.errors import InvalidInputError
from mindgarden.core.export.oasst import build_oasst_tree
from mindgarden.core.export.options import DEFAULT_FORMAT, TRAINER_FORMATS, ExportOptions, ExportResult, Preview
from mindgarden.core.export.pairs import build_labels, build_pairs
from mindgarden.core.export.rows import PromptCache, kto_row, label_metadata, pair_metadata, pair_row
from mindgarden.core.export.scope import Scope, resolve_scope
from mindgarden.core.export.writing import (
    check_target,
    llamafactory_entry,
    merge_dataset_info,
    metadata_path,
    write_jsonl,
    write_text,
)
from mindgarden.core.personas import Persona
from mindgarden.core.tree import ThoughtTree

log = logging.getLogger(__name__)

PREVIEW_ROWS = 5
PREVIEW_LINES = 40


def _kto_warnings(rows: list[dict[str, Any]]) -> list[str]:
    labels = Counter(row["label"] for row in rows)
    if not rows or len(labels) > 1:
        return []
    only = next(iter(labels))
    missing = "pruned" if only else "starred"
    return [
        f"All {len(rows)} KTO rows have label {str(only).lower()}: the KTO loss needs both labels, "
        f"so mark some branches as {missing} too."
    ]


def _build_trainer(tree: ThoughtTree, personas: dict[str, Persona], options: ExportOptions,
                   scope: Scope) -> ExportResult:
    result = ExportResult(format=options.format)
    prompts = PromptCache(tree)

    if options.format == "oasst":
        row, metadata = build_oasst_tree(tree, scope, options.prompt_mode, result.skipped)
        if row["prompt"]["replies"]:
            result.rows.append(row)
            result.metadata.append(metadata)
    elif options.format == "trl-kto":
        for item in build_labels(tree, scope, options, personas, result.skipped):
            result.rows.append(kto_row(item, prompts))
            result.metadata.append(label_metadata(item, options.prompt_mode))
        result.warnings.extend(_kto_warnings(result.rows))
    else:
        for pair in build_pairs(tree, scope, options, personas, result.skipped):
            result.rows.append(pair_row(pair, options.format, prompts, options.prompt_mode, options.margin))
            result.metadata.append(pair_metadata(pair, options.format, options.prompt_mode))

    for index, metadata in enumerate(result.metadata):
        metadata["row"] = index
    if not result.rows:
        result.warnings.append(
            "No rows: star some branches and prune or rank their siblings first, or widen the scope."
        )
    return result


def _render_outline(tree: ThoughtTree, options: ExportOptions, scope: Scope, session_name: str) -> str:
    node_ids = None if scope.kind == "session" else scope.node_ids
    if options.format == "markdown":
        return outline.render_markdown(tree, scope.top_id, node_ids)
    if options.format == "opml":
        return outline.render_opml(tree, session_name, scope.top_id, node_ids)
    if options.format == "graphml":
        return outline.render_graphml(tree, node_ids)
    if scope.kind != "session":
        raise InvalidInputError(
            f"The json format contains a whole session, so scope {options.scope!r} is invalid for it: use scope session."
        )
    return interchange.dumps_session(tree, session_name)


def _prepare(tree: ThoughtTree, options: ExportOptions) -> tuple[ExportOptions, Scope]:
    options = options.validate()
    return options, resolve_scope(tree, options.scope)


def build_export(tree: ThoughtTree, personas: dict[str, Persona], options: ExportOptions,
                 session_name: str = "MindGarden session") -> tuple[ExportResult, str]:
    """Build an export in memory: the result, and the text of an outline format ("" for trainer formats)."""
    options, scope = _prepare(tree, options)
    if options.format in TRAINER_FORMATS:
        return _build_trainer(tree, personas, options, scope), ""
    text = _render_outline(tree, options, scope, session_name)
    node_count = len(tree) if scope.kind == "session" else len(scope.node_ids)
    return ExportResult(format=options.format, node_count=node_count), text


def export(
    tree: ThoughtTree,
    personas: dict[str, Persona],
    out_path: Path,
    format: str = DEFAULT_FORMAT,
    scope: str = "session",
    prompt_mode: str = "neutral",
    pair_mode: str = "all",
    max_pairs_per_group: int | None = None,
    margin: bool = False,
    session_name: str = "MindGarden session",
) -> ExportResult:
    """Write an export of ``tree`` to ``out_path`` and return its rows, skip counts and warnings.

    Trainer formats write ``out_path`` and the sidecar ``<stem>.meta.jsonl`` beside it (and,
    for llamafactory, merge an entry into ``dataset_info.json`` there). Outline formats
    write only ``out_path``. Every file is replaced atomically.

    Raises:
        InvalidInputError: an option is invalid, the scope names no node, or the path
            cannot be written.
    """
    options = ExportOptions(format, scope, prompt_mode, pair_mode, max_pairs_per_group, margin)
    out = check_target(Path(out_path))
    result, text = build_export(tree, personas, options, session_name)

    if format not in TRAINER_FORMATS:
        write_text(text, out)
        result.paths.append(out)
        log.info("Exported %d nodes as %s to %s", result.node_count, format, out)
        return result

    write_jsonl(result.rows, out)
    write_jsonl(result.metadata, metadata_path(out))
    result.paths.extend([out, metadata_path(out)])
    if format == "llamafactory":
        info_path, _name = merge_dataset_info(out, llamafactory_entry(out, prompt_mode == "as-generated"))
        result.paths.append(info_path)
    log.info("Exported %d %s rows to %s (%d skipped: %s)", len(result.rows), format, out,
             result.skipped_total, dict(result.skipped))
    for warning in result.warnings:
        log.warning("Export to %s: %s", out, warning)
    return result


def preview(
    tree: ThoughtTree,
    personas: dict[str, Persona],
    format: str = DEFAULT_FORMAT,
    scope: str = "session",
    prompt_mode: str = "neutral",
    pair_mode: str = "all",
    max_pairs_per_group: int | None = None,
    margin: bool = False,
    limit: int = PREVIEW_ROWS,
    session_name: str = "MindGarden session",
) -> Preview:
    """Build an export without writing it: the first ``limit`` rows (or outline lines) and full counts."""
    options = ExportOptions(format, scope, prompt_mode, pair_mode, max_pairs_per_group, margin)
    result, text = build_export(tree, personas, options, session_name)
    head = "\n".join(text.splitlines()[:PREVIEW_LINES])
    return Preview(format=format, rows=result.rows[:limit], text=head, total=result.written_count,
                   skipped=result.skipped, warnings=result.warnings)


def dpo_pairs(tree: ThoughtTree, personas: dict[str, Persona], prompt_mode: str = "neutral") -> ExportResult:
    """Build TRL conversational DPO rows for the whole session without writing them."""
    result, _text = build_export(tree, personas, ExportOptions("trl-dpo", "session", prompt_mode))
    return result


def export_dpo(tree: ThoughtTree, personas: dict[str, Persona], out: Path,
               prompt_mode: str = "neutral") -> ExportResult:
    """Write TRL conversational DPO pairs to ``out`` and their metadata to ``<stem>.meta.jsonl``."""
    return export(tree, personas, out, "trl-dpo", "session", prompt_mode)
