"""Small dialogs of the main window: open a session, edit a thought."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.store import SessionInfo

log = logging.getLogger(__name__)

SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1


class OpenSessionDialog(QDialog):
    """Dialog that lists sessions, most recently changed first, to open one."""

    def __init__(self, sessions: list[SessionInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open session")
        self.resize(520, 360)
        self.sessions = QListWidget()
        for info in sessions:
            changed = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.updated_at))
            item = QListWidgetItem(f"{info.name}  ({info.node_count} nodes, changed {changed})")
            item.setData(SESSION_ID_ROLE, info.id)
            self.sessions.addItem(item)
        if sessions:
            self.sessions.setCurrentRow(0)
        self.sessions.itemDoubleClicked.connect(self.accept)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.Open).setEnabled(bool(sessions))

        layout = QVBoxLayout(self)
        if not sessions:
            layout.addWidget(QLabel("No sessions yet: type an idea and press Grow to start one."))
        layout.addWidget(self.sessions)
        layout.addWidget(buttons)

    def selected_session_id(self) -> str | None:
        """Return the id of the highlighted session, or None when the list is empty."""
        item = self.sessions.currentItem()
        return item.data(SESSION_ID_ROLE) if item is not None else None


class EditThoughtDialog(QDialog):
    """Dialog that edits the text of one thought. The caller saves it with ``ThoughtTree.edit_text``."""

    def __init__(self, title: str, text: str, original: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 340)
        self.editor = QPlainTextEdit(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        if original is not None:
            note = QLabel("This thought was edited before; the model's original text is kept.")
            note.setToolTip(original)
            layout.addWidget(note)
        layout.addWidget(self.editor)
        layout.addWidget(buttons)
        self.editor.setFocus()

    def text(self) -> str:
        return self.editor.toPlainText()
