"""Curation of the shown tree: star, prune, rank, edit and delete thoughts with undo, export pairs."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from mindgarden.core.errors import MindGardenError
from mindgarden.core.export import ExportResult, export_dpo
from mindgarden.core.tree import ROOT
from mindgarden.ui.dialogs import EditThoughtDialog
from mindgarden.ui.export_dialog import ExportDialog
from mindgarden.ui.undo import (
    DeleteSubtreeCommand,
    NodeFieldsCommand,
    edit_command,
    prune_command,
    rank_command,
    star_command,
)

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
        self.set_starred(node_id, not self.session.tree.node(node_id).starred)

    def toggle_prune(self) -> None:
        """Prune the selected thought, or restore it if it is pruned."""
        node_id = self._selected_thought("pruned")
        if node_id is None:
            return
        self.set_pruned(node_id, not self.session.tree.node(node_id).pruned)

    def set_starred(self, node_id: str, starred: bool) -> None:
        if self.session is not None:
            self._push(star_command(self.session.tree, node_id, starred))

    def set_pruned(self, node_id: str, pruned: bool) -> None:
        if self.session is not None:
            self._push(prune_command(self.session.tree, node_id, pruned))

    def set_rank(self, node_id: str, rank: int | None) -> None:
        """Rank a thought among its siblings, 1 being best; equal ranks are ties and None clears."""
        if self.session is None or node_id not in self.session.tree:
            return
        if self.session.tree.node(node_id).kind == ROOT:
            self.statusBar().showMessage("The root idea has no siblings to rank against.", 5000)
            return
        self._push(rank_command(self.session.tree, node_id, rank))

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
        self._push(edit_command(self.session.tree, node_id, text))

    def delete_selected(self) -> None:
        """Ask to delete the selected thought and its subtree; the deletion can be undone."""
        node_id = self._selected_thought("deleted")
        if node_id is None:
            return
        if self.runner.busy:
            self.statusBar().showMessage("Wait for the expansion to finish before deleting thoughts.", 5000)
            return
        count = self._subtree_size(node_id)
        box = QMessageBox(QMessageBox.Icon.Question, "Delete thought",
                          f"Delete this thought and the {count - 1} thoughts below it? Undo (Ctrl+Z) restores them.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self._delete(node_id))
        box.finished.connect(lambda _result: setattr(self, "delete_box", None))
        self.delete_box = box
        box.open()

    def _subtree_size(self, node_id: str) -> int:
        count = 0
        stack = [node_id]
        while stack:
            count += 1
            stack.extend(self.session.tree.children_ids(stack.pop()))
        return count

    def _delete(self, node_id: str) -> None:
        if self.session is None or node_id not in self.session.tree or self.runner.busy:
            return
        parent_id = self.session.tree.node(node_id).parent_id
        self._push(DeleteSubtreeCommand(self.session.tree, node_id, "Delete"))
        if parent_id is not None:
            self.select_node(parent_id)

    def _push(self, command: NodeFieldsCommand | DeleteSubtreeCommand) -> None:
        try:
            command.apply()
        except MindGardenError as error:
            self._report(error)
            return
        self.undo_stack.push(command)
        if not self.runner.busy:
            self.status.show_saved(True)

    # -- export -------------------------------------------------------------------

    def show_export_dialog(self) -> ExportDialog | None:
        """Open the export dialog (format, scope, prompt mode, preview) for the open session."""
        if self.session is None:
            return None
        dialog = ExportDialog(self.session, self.personas, self.selected_node_id(), self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(
            lambda: self.show_message(dialog.summary(), "Export", QMessageBox.Icon.Information))
        dialog.open()
        return dialog

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
