"""The Sessions dialog: saved sessions, recent first, to open, rename, duplicate or delete."""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.errors import MindGardenError
from mindgarden.core.store import SessionInfo, SessionStore

log = logging.getLogger(__name__)

SESSION_ID_ROLE = Qt.ItemDataRole.UserRole + 1


def format_time(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp))


class SessionsDialog(QDialog):
    """Dialog over the session store. ``open_requested`` carries the id of the session to open.

    The session shown in the main window (``current_id``) cannot be deleted here, because its
    Session object would keep writing into a deleted row.
    """

    open_requested = Signal(str)
    renamed = Signal(str, str)

    def __init__(self, store: SessionStore, current_id: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sessions")
        self.resize(680, 420)
        self.store = store
        self.current_id = current_id
        self.confirm_box: QMessageBox | None = None

        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Name", "Nodes", "Changed", "Created"])
        self.table.setColumnWidth(0, 300)
        self.table.itemDoubleClicked.connect(lambda _item, _column: self.open_selected())
        self.table.currentItemChanged.connect(self._on_current_changed)
        self.empty_label = QLabel("No sessions yet: type an idea and press Grow to start one.")

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("New name for the selected session")
        self.name_edit.returnPressed.connect(self.rename_selected)
        self.rename_button = QPushButton("Rename")
        self.rename_button.clicked.connect(self.rename_selected)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(self.delete_selected)
        self.error = QLabel()
        self.error.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.name_edit, 1)
        actions.addWidget(self.rename_button)
        actions.addWidget(self.duplicate_button)
        actions.addWidget(self.delete_button)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Close)
        self.buttons.accepted.connect(self.open_selected)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload the list from the store, most recently changed first, and select ``select``."""
        select = select or self.selected_id()
        try:
            sessions = self.store.list_sessions()
        except MindGardenError as error:
            self._show_error(error)
            sessions = []
        self.table.clear()
        for info in sessions:
            self.table.addTopLevelItem(self._item(info))
        self.empty_label.setVisible(not sessions)
        ids = [info.id for info in sessions]
        if ids:
            row = ids.index(select) if select in ids else 0
            self.table.setCurrentItem(self.table.topLevelItem(row))
        self._update_buttons()

    def _item(self, info: SessionInfo) -> QTreeWidgetItem:
        name = f"{info.name} (open)" if info.id == self.current_id else info.name
        item = QTreeWidgetItem([name, str(info.node_count), format_time(info.updated_at),
                                format_time(info.created_at)])
        item.setData(0, SESSION_ID_ROLE, info.id)
        item.setData(1, SESSION_ID_ROLE, info.name)
        item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def selected_id(self) -> str | None:
        item = self.table.currentItem()
        return item.data(0, SESSION_ID_ROLE) if item is not None else None

    def selected_name(self) -> str | None:
        item = self.table.currentItem()
        return item.data(1, SESSION_ID_ROLE) if item is not None else None

    def _on_current_changed(self, current: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        self.name_edit.setText(current.data(1, SESSION_ID_ROLE) if current is not None else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        session_id = self.selected_id()
        for button in (self.rename_button, self.duplicate_button, self.buttons.button(
                QDialogButtonBox.StandardButton.Open)):
            button.setEnabled(session_id is not None)
        self.delete_button.setEnabled(session_id is not None and session_id != self.current_id)
        if session_id is not None and session_id == self.current_id:
            self.delete_button.setToolTip("The open session cannot be deleted: open another one first.")
        else:
            self.delete_button.setToolTip("Delete the selected session after a confirmation")

    def _show_error(self, error: MindGardenError) -> None:
        log.warning("Session operation failed: %s", error)
        self.error.setText(str(error))

    def open_selected(self) -> None:
        session_id = self.selected_id()
        if session_id is None:
            return
        self.open_requested.emit(session_id)
        self.accept()

    def rename_selected(self) -> bool:
        """Rename the selected session to the name field's text. Returns whether it was renamed."""
        session_id, name = self.selected_id(), self.name_edit.text().strip()
        if session_id is None:
            return False
        if not name:
            self.error.setText("The session name is empty: type a new name first.")
            return False
        try:
            self.store.rename_session(session_id, name)
        except MindGardenError as error:
            self._show_error(error)
            return False
        log.info("Renamed session %s to %s", session_id, name)
        self.error.clear()
        self.renamed.emit(session_id, name)
        self.refresh(select=session_id)
        return True

    def duplicate_selected(self) -> str | None:
        """Copy the selected session under a free name. Returns the copy's id."""
        session_id, name = self.selected_id(), self.selected_name()
        if session_id is None:
            return None
        try:
            copy = self.store.duplicate_session(session_id, self.store.unique_name(f"{name} copy"))
        except MindGardenError as error:
            self._show_error(error)
            return None
        self.error.clear()
        self.refresh(select=copy.id)
        return copy.id

    def delete_selected(self) -> QMessageBox | None:
        """Ask before deleting the selected session; Cancel is the default button."""
        session_id, name = self.selected_id(), self.selected_name()
        if session_id is None or session_id == self.current_id:
            return None
        count = self.table.currentItem().text(1)
        box = QMessageBox(QMessageBox.Icon.Question, "Delete session",
                          f"Delete the session {name!r} and its {count} thoughts? This cannot be undone.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self._delete(session_id))
        box.finished.connect(lambda _result: setattr(self, "confirm_box", None))
        self.confirm_box = box
        box.open()
        return box

    def _delete(self, session_id: str) -> None:
        try:
            self.store.delete_session(session_id)
        except MindGardenError as error:
            self._show_error(error)
            return
        log.info("Deleted session %s", session_id)
        self.refresh()
