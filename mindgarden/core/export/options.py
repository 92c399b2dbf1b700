"""Export settings, their allowed values, and the result an export or preview returns."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mindgarden.core.errors import InvalidInputError

TRAINER_FORMATS = (
    "trl-dpo",
    "trl-dpo-standard",
    "trl-kto",
    "trl-reward",
    "oasst",
    "axolotl-dpo",
    "llamafactory",
)
OUTLINE_FORMATS = ("markdown", "opml", "graphml", "json")
FORMATS = TRAINER_FORMATS + OUTLINE_FORMATS
DEFAULT_FORMAT = "trl-dpo"

PROMPT_MODES = ("neutral", "as-generated")
PAIR_MODES = ("all", "best-vs-rest")

# Skip reasons, shared by the pair builder, the row builders and the tests.
SKIP_INCOMPLETE = "incomplete branch"
SKIP_EMPTY = "empty text"
SKIP_IDENTICAL = "identical texts"
SKIP_TIE = "tied ranks"
SKIP_PERSONAS = "different persona primings"
SKIP_PERSONA_MISSING = "persona not found"
SKIP_CONTRADICTION = "contradicting marks"
SKIP_DUPLICATE = "duplicate row"
SKIP_CAP = "over the per-group cap"


@dataclass(frozen=True)
class ExportOptions:
    """Settings of one export: format, scope, prompt mode and pair construction."""

    format: str = DEFAULT_FORMAT
    scope: str = "session"
    prompt_mode: str = "neutral"
    pair_mode: str = "all"
    max_pairs_per_group: int | None = None
    margin: bool = False

    def validate(self) -> ExportOptions:
        """Return self after checking every value; raises InvalidInputError naming the bad one."""
        if self.format not in FORMATS:
            raise InvalidInputError(f"Export format {self.format!r} is invalid: use one of {', '.join(FORMATS)}.")
        if self.prompt_mode not in PROMPT_MODES:
            raise InvalidInputError(
                f"Prompt mode {self.prompt_mode!r} is invalid: use one of {', '.join(PROMPT_MODES)}."
            )
        if self.pair_mode not in PAIR_MODES:
            raise InvalidInputError(f"Pair mode {self.pair_mode!r} is invalid: use one of {', '.join(PAIR_MODES)}.")
        cap = self.max_pairs_per_group
        if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
            raise InvalidInputError(
                f"Max pairs per group {cap!r} is invalid: use a whole number of at least 1, or no cap."
            )
        if self.margin and self.format != "trl-reward":
            raise InvalidInputError(
                f"A margin column exists only in the trl-reward format, not in {self.format!r}: "
                "choose trl-reward or leave the margin off."
            )
        if self.format == "oasst" and self.prompt_mode == "as-generated":
            raise InvalidInputError(
                "The oasst format has no system message for the persona priming: "
                "use prompt mode neutral with oasst."
            )
        return self


@dataclass
class ExportResult:
    """Rows built for one export, the metadata row of each, and why others were skipped.

    ``rows`` and ``metadata`` are parallel lists for the trainer formats. Outline formats
    leave them empty and set ``node_count`` instead. ``warnings`` are problems that do not
    stop the export, such as a KTO file with a single label.
    """

    rows: list[dict[str, Any]] = field(default_factory=list)
    metadata: list[dict[str, Any]] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    warnings: list[str] = field(default_factory=list)
    format: str = DEFAULT_FORMAT
    paths: list[Path] = field(default_factory=list)
    node_count: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def written_count(self) -> int:
        """Return rows for trainer formats and nodes for outline formats."""
        return len(self.rows) if self.format in TRAINER_FORMATS else self.node_count


@dataclass
class Preview:
    """The first rows (or outline text) of an export that was not written, with full counts."""

    format: str
    rows: list[dict[str, Any]]
    text: str
    total: int
    skipped: Counter
    warnings: list[str]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())
