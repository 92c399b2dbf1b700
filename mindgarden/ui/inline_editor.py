"""Inline editing of the selected thought under the reading pane; saving keeps the original."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from mindgarden.core.tree import ROOT, Node


class InlineEditor(QWidget):
    """An editor for the selected node's text. Ctrl+Return saves; Revert restores the model's text.

    The editor only sends ``save_requested``; the window turns it into an undoable edit.
    """

    save_requested = Signal(str, str)
    """Emitted with the node id and the new text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_id: str | None = None
        self._original: str | None = None
        self.label = QLabel("Select a thought to edit it here.")
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("The selected thought's text")
        self.editor.setTabChangesFocus(True)
        self.save_button = QPushButton("Save edit")
        self.save_button.setToolTip("Save the text as an edit; the model's original is kept (Ctrl+Return)")
        self.revert_button = QPushButton("Revert to original")
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.editor.textChanged.connect(self._update_buttons)
        # The window binds Ctrl+Return to Grow, so the editor claims the key while it has focus.
        self.editor.installEventFilter(self)

        buttons = QHBoxLayout()
        buttons.addWidget(self.label, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(buttons)
        layout.addWidget(self.editor)
        self.show_node(None)

    def show_node(self, node: Node | None) -> None:
        """Load ``node`` for editing; a growing or missing node leaves the editor read-only."""
        self.node_id = node.id if node is not None else None
        self._original = node.original_text if node is not None else None
        self.editor.blockSignals(True)
        self.editor.setPlainText(node.text if node is not None else "")
        self.editor.blockSignals(False)
        editable = node is not None and node.complete
        self.editor.setReadOnly(not editable)
        if node is None:
            self.label.setText("Select a thought to edit it here.")
        elif not node.complete:
            self.label.setText("This thought is still growing.")
        elif node.kind == ROOT:
            self.label.setText("Edit the idea")
        else:
            self.label.setText("Edit this thought" + (" (edited)" if node.edited else ""))
        self._saved_text = node.text if node is not None else ""
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.editor and event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress):
            key_event: QKeyEvent = event  # type: ignore[assignment]
            is_save = (key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                       and key_event.modifiers() & Qt.KeyboardModifier.ControlModifier)
            if is_save:
                event.accept()
                if event.type() == QEvent.Type.KeyPress:
                    self.save()
                return True
        return super().eventFilter(watched, event)

    def save(self) -> None:
        if self.node_id is None or self.editor.isReadOnly():
            return
        text = self.editor.toPlainText()
        if text != self._saved_text:
            self.save_requested.emit(self.node_id, text)

    def revert(self) -> None:
        if self.node_id is not None and self._original is not None:
            self.save_requested.emit(self.node_id, self._original)

    def _update_buttons(self) -> None:
        editable = self.node_id is not None and not self.editor.isReadOnly()
        self.save_button.setEnabled(editable and self.editor.toPlainText() != self._saved_text)
        self.revert_button.setEnabled(editable and self._original is not None)
