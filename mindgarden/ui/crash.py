"""One crash dialog for unexpected exceptions from any thread, with the traceback and recent log lines."""

from __future__ import annotations

import collections
import logging
import sys
import threading
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)

RECENT_LOG_LINES = 200


class RecentLogHandler(logging.Handler):
    """Log handler that keeps the last ``capacity`` formatted records for the crash dialog."""

    def __init__(self, capacity: int = RECENT_LOG_LINES) -> None:
        super().__init__(logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except (TypeError, ValueError):
            self.handleError(record)


class CrashDialog(QDialog):
    """Dialog with every unexpected exception of this run, later ones appended to the open dialog."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MindGarden: unexpected error")
        self.resize(760, 520)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        intro = QLabel(
            "MindGarden hit an unexpected error. Your sessions are saved as they change. "
            "Copy the text below into a bug report, then continue or quit."
        )
        intro.setWordWrap(True)
        buttons = QDialogButtonBox()
        copy_button = QPushButton("Copy")
        copy_button.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.details.toPlainText()))
        buttons.addButton(copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton("Continue", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.addButton("Quit", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(QApplication.quit)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def add_report(self, report: str) -> None:
        existing = self.details.toPlainText()
        self.details.setPlainText(f"{existing}\n\n{report}" if existing else report)


class CrashHandler(QObject):
    """Router of unexpected exceptions from the GUI and worker threads into one CrashDialog.

    ``install`` replaces ``sys.excepthook`` and ``threading.excepthook``. Exceptions from
    other threads travel to the GUI thread through a queued signal.
    """

    _reported = Signal(str)

    def __init__(self, recent: RecentLogHandler, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recent = recent
        self.dialog: CrashDialog | None = None
        self._previous_hooks = (sys.excepthook, threading.excepthook)
        self._reported.connect(self._show)

    def install(self) -> None:
        sys.excepthook = self.handle_exception
        threading.excepthook = self._handle_thread_exception

    def uninstall(self) -> None:
        sys.excepthook, threading.excepthook = self._previous_hooks

    def handle_exception(self, kind: type[BaseException], error: BaseException,
                         trace: TracebackType | None) -> None:
        """Log an unexpected exception and show it in the crash dialog."""
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.critical("Unexpected error", exc_info=(kind, error, trace))
        text = "".join(traceback.format_exception(kind, error, trace))
        recent = "\n".join(self.recent.lines)
        self._reported.emit(f"{text}\nRecent log lines:\n{recent}")

    def _handle_thread_exception(self, hook_args: threading.ExceptHookArgs) -> None:
        self.handle_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback)

    def _show(self, report: str) -> None:
        if self.dialog is None:
            self.dialog = CrashDialog(QApplication.activeWindow())
        self.dialog.add_report(report)
        self.dialog.show()
        self.dialog.raise_()
