"""The export dialog: format, scope, prompt mode and pair options, with a live preview and counts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.errors import MindGardenError
from mindgarden.core.export import FORMATS, export, preview
from mindgarden.core.export.options import DEFAULT_FORMAT, TRAINER_FORMATS, ExportResult
from mindgarden.core.personas import Persona
from mindgarden.core.store import Session

log = logging.getLogger(__name__)

PREVIEW_ROWS = 3
DEFAULT_PAIRS_PER_GROUP = 15
FORMAT_LABELS = {
    "trl-dpo": "TRL DPO, conversational (prompt, chosen, rejected)",
    "trl-dpo-standard": "TRL DPO, plain strings",
    "trl-kto": "TRL KTO, unpaired (prompt, completion, label)",
    "trl-reward": "TRL reward model (chosen, rejected)",
    "axolotl-dpo": "Axolotl DPO, chat_template.default",
    "llamafactory": "LLaMA-Factory ranking (ShareGPT) + dataset_info.json",
    "oasst": "OpenAssistant ranked message trees",
    "markdown": "Outline: Markdown",
    "opml": "Outline: OPML",
    "graphml": "Outline: GraphML",
    "json": "MindGarden JSON (every field, re-importable)",
}
SUFFIXES = {"markdown": ".md", "opml": ".opml", "graphml": ".graphml", "json": ".json"}


class ExportDialog(QDialog):
    """Chooses what to export and where, previews the first rows, then writes the files."""

    def __init__(self, session: Session, personas: dict[str, Persona], selected_node_id: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.session = session
        self.personas = personas
        self.selected_node_id = selected_node_id
        self.export_result: ExportResult | None = None

        self.format = QComboBox()
        for name in FORMATS:
            self.format.addItem(FORMAT_LABELS.get(name, name), name)
        self.format.setCurrentIndex(FORMATS.index(DEFAULT_FORMAT))
        self.scope = QComboBox()
        self.scope.addItem("Whole session", "session")
        if selected_node_id is not None:
            self.scope.addItem("Subtree of the selected thought", f"subtree:{selected_node_id}")
        self.scope.addItem("Starred path from the root", "starred-path")
        self.prompt_mode = QComboBox()
        self.prompt_mode.addItem("Neutral: no persona priming in the prompt", "neutral")
        self.prompt_mode.addItem("As generated: with the persona's priming", "as-generated")
        self.pair_mode = QComboBox()
        self.pair_mode.addItem("Ranks: every ordered pair", "all")
        self.pair_mode.addItem("Ranks: best against each other sibling", "best-vs-rest")
        self.max_pairs = QSpinBox()
        self.max_pairs.setRange(1, 1000)
        self.max_pairs.setValue(DEFAULT_PAIRS_PER_GROUP)
        self.max_pairs.setSuffix(" pairs per set of siblings")
        self.margin = QCheckBox("Add a margin column (trl-reward)")
        self.path = QLineEdit(str(Path.home() / f"{session.name}{self._suffix()}"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Scope", self.scope)
        form.addRow("Prompt", self.prompt_mode)
        form.addRow("Pairs from ranks", self.pair_mode)
        form.addRow("Cap", self.max_pairs)
        form.addRow("", self.margin)
        form.addRow("File", path_row)

        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.preview_text = QPlainTextEdit()
        self.preview_text.setReadOnly(True)
        self.preview_text.setMinimumHeight(220)
        self.preview_text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.write)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Preview"))
        layout.addWidget(self.preview_text, 1)
        layout.addWidget(self.counts)
        layout.addWidget(self.buttons)

        for combo in (self.format, self.scope, self.prompt_mode, self.pair_mode):
            combo.currentIndexChanged.connect(self.refresh)
        self.format.currentIndexChanged.connect(self._update_suffix)
        self.max_pairs.valueChanged.connect(self.refresh)
        self.margin.toggled.connect(self.refresh)
        self.refresh()

    def options(self) -> dict:
        return {
            "format": self.format.currentData(),
            "scope": self.scope.currentData(),
            "prompt_mode": self.prompt_mode.currentData(),
            "pair_mode": self.pair_mode.currentData(),
            "max_pairs_per_group": self.max_pairs.value(),
            "margin": self.margin.isChecked(),
        }

    def refresh(self) -> None:
        """Rebuild the preview and counts for the current options, without writing anything."""
        trainer = self.format.currentData() in TRAINER_FORMATS
        for widget in (self.prompt_mode, self.pair_mode, self.max_pairs):
            widget.setEnabled(trainer)
        self.margin.setEnabled(self.format.currentData() == "trl-reward")
        try:
            shown = preview(self.session.tree, self.personas, limit=PREVIEW_ROWS,
                            session_name=self.session.name, **self.options())
        except MindGardenError as error:
            self.preview_text.setPlainText("")
            self.counts.setText(str(error))
            self.export_button.setEnabled(False)
            return
        if trainer:
            text = "\n\n".join(json.dumps(row, ensure_ascii=False, indent=1) for row in shown.rows)
            noun = "rows"
        else:
            text = shown.text
            noun = "nodes"
        self.preview_text.setPlainText(text or "(nothing to export with these options)")
        lines = [f"{shown.total} {noun} will be written."]
        if shown.skipped:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(shown.skipped.items()))
            lines.append(f"Skipped {shown.skipped_total} ({reasons}).")
        lines.extend(shown.warnings)
        if trainer and not shown.total:
            lines.append("Star a thought and prune one of its siblings, rank siblings, or edit a thought "
                         "to make preference data.")
        self.counts.setText("\n".join(lines))
        self.export_button.setEnabled(True)

    def write(self) -> None:
        """Write the export; on an error the dialog stays open and shows the message."""
        path = Path(self.path.text().strip()).expanduser()
        try:
            self.export_result = export(self.session.tree, self.personas, path, session_name=self.session.name,
                                 **self.options())
        except MindGardenError as error:
            log.warning("Export to %s failed: %s", path, error)
            self.counts.setText(str(error))
            return
        self.accept()

    def summary(self) -> str:
        """Describe the written export: files, rows and skips."""
        if self.export_result is None:
            return ""
        files = ", ".join(str(path) for path in self.export_result.paths)
        noun = "rows" if self.format.currentData() in TRAINER_FORMATS else "nodes"
        lines = [f"Wrote {self.export_result.written_count} {noun} to {files}."]
        if self.export_result.skipped:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(self.export_result.skipped.items()))
            lines.append(f"Skipped {self.export_result.skipped_total} ({reasons}).")
        lines.extend(self.export_result.warnings)
        return "\n".join(lines)

    def _suffix(self) -> str:
        return SUFFIXES.get(self.format.currentData() if hasattr(self, "format") else DEFAULT_FORMAT, ".jsonl")

    def _update_suffix(self) -> None:
        current = Path(self.path.text())
        self.path.setText(str(current.with_suffix(self._suffix())))

    def _browse(self) -> None:
        chosen, _filter = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), "All files (*)")
        if chosen:
            self.path.setText(chosen)
