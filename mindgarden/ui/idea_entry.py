"""The idea entry above the tree, where a new session starts."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit

from mindgarden.ui.model_switch import dropped_model_path


class IdeaEntry(QPlainTextEdit):
    """Multi-line idea entry in which Ctrl+Return submits the idea instead of triggering a window shortcut."""

    submitted = Signal()

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and self._is_submit(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._is_submit(event):
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        # A dropped model file goes on to the main window, which loads it, instead of becoming text.
        if dropped_model_path(source) is not None:
            return False
        return super().canInsertFromMimeData(source)

    @staticmethod
    def _is_submit(event: QKeyEvent) -> bool:
        return (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))
