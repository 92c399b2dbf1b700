"""Exports of a thought tree: preference data for trainers, outlines and MindGarden JSON."""

from __future__ import annotations

from mindgarden.core.export.options import (
    FORMATS,
    OUTLINE_FORMATS,
    PAIR_MODES,
    PROMPT_MODES,
    TRAINER_FORMATS,
    ExportOptions,
    ExportResult,
    Preview,
)
from mindgarden.core.export.scope import SCOPE_HELP, resolve_node_id, resolve_scope
from mindgarden.core.export.service import build_export, dpo_pairs, export, export_dpo, preview
from mindgarden.core.export.writing import metadata_path, write_jsonl

__all__ = [
    "FORMATS",
    "OUTLINE_FORMATS",
    "PAIR_MODES",
    "PROMPT_MODES",
    "SCOPE_HELP",
    "TRAINER_FORMATS",
    "ExportOptions",
    "ExportResult",
    "Preview",
    "build_export",
    "dpo_pairs",
    "export",
    "export_dpo",
    "metadata_path",
    "preview",
    "resolve_node_id",
    "resolve_scope",
    "write_jsonl",
]
