"""Curation of the shown tree: star, prune and edit thoughts, export preference pairs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mindgarden.core.errors import MindGardenError
from mindgarden.core.export import ExportResult, export_dpo
from mindgarden.core.tree import ROOT
from mindgarden.ui.dialogs import EditThoughtDialog

log = logging.getLogger(__name__)


class CurationMixin:
    """Curation actions of MainWindow, which provides the session, status bar and messages."""

    def _selected_thought(self, verb: str) -> str | None:
        node_id = self.selected_node_id()
        if node_id is None or self.session is None:
            return None
        node = self.session.tree.node(node_id)
        if node.kind == ROOT:
            self.statusBar().showMessage(f"The root idea cannot be {verb}: select a thought below it.", 5000)
            return None
        return node_id

    def toggle_star(self) -> None:
        """Star the selected thought, or unstar it if it is starred."""
        node_id = self._selected_thought("starred")
        if node_id is None:
            return
        node = self.session.tree.node(node_id)
        self._change(lambda: self.session.tree.set_starred(node_id, not node.starred))

    def toggle_prune(self) -> None:
        """Prune the selected thought, or restore it if it is pruned."""
        node_id = self._selected_thought("pruned")
        if node_id is None:
            return
        node = self.session.tree.node(node_id)
        self._change(lambda: self.session.tree.set_pruned(node_id, not node.pruned))

    def edit_selected(self) -> None:
        """Open the selected node's text in an edit dialog. Saving keeps the model's original text."""
        node_id = self.selected_node_id()
        if node_id is None or self.session is None:
            return
        node = self.session.tree.node(node_id)
        if not node.complete:
            self.statusBar().showMessage("This thought is still growing: edit it once it has finished.", 5000)
            return
        title = "Edit the idea" if node.kind == ROOT else f"Edit thought ({node.persona})"
        dialog = EditThoughtDialog(title, node.text, node.original_text, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._save_edit(node_id, dialog.text()))
        dialog.finished.connect(lambda _result: setattr(self, "edit_dialog", None))
        self.edit_dialog = dialog
        dialog.open()

    def _save_edit(self, node_id: str, text: str) -> None:
        if self.session is None or node_id not in self.session.tree:
            return
        self._change(lambda: self.session.tree.edit_text(node_id, text))

    def _change(self, change: Callable[[], object]) -> None:
        try:
            change()
        except MindGardenError as error:
            self._report(error)
            return
        if not self.runner.busy:
            self.status.show_saved(True)

    # -- export -------------------------------------------------------------------

    def show_export_dialog(self) -> None:
        if self.session is None:
            return
        suggested = str(Path.home() / f"{self.session.name}.dpo.jsonl")
        path, _filter = QFileDialog.getSaveFileName(self, "Export preference pairs", suggested,
                                                    "JSON Lines (*.jsonl);;All files (*)")
        if path:
            self.export_preferences(Path(path))

    def export_preferences(self, path: Path) -> ExportResult | None:
        """Write the session's starred-versus-pruned pairs to ``path`` and report the counts."""
        if self.session is None:
            return None
        try:
            result = export_dpo(self.session.tree, self.personas, path, "neutral")
        except MindGardenError as error:
            self._report(error)
            return None
        lines = [f"Wrote {len(result.rows)} preference pairs to {path}."]
        if result.skipped:
            reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(result.skipped.items()))
            lines.append(f"Skipped {result.skipped_total} pairs ({reasons}).")
        if not result.rows:
            lines.append("Star a thought and prune one of its siblings to make a pair.")
        self.show_message("\n".join(lines), "Export preference pairs", QMessageBox.Icon.Information)
        return result
