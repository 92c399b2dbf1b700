"""The app entry point: qasync loop, model load on the worker, clean exit."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from mindgarden.ui.app import run_app
from mindgarden.ui.crash import CrashDialog, CrashHandler, RecentLogHandler
from mindgarden.ui.main_window import MainWindow
from mindgarden.ui.runner import THREAD_NAME

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform plugin cannot size or raise windows and warns about it.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints", "This plugin does not support raise"),
]


MAX_POLLS = 3000


def test_run_app_loads_model_and_exits(qapp, model_path):
    status_texts: list[str] = []
    hook_before = sys.excepthook

    def poll() -> None:
        windows = [widget for widget in QApplication.topLevelWidgets()
                   if isinstance(widget, MainWindow) and widget.isVisible()]
        if not windows:
            return
        window = windows[0]
        status_texts.append(window.status.model.text())
        # Closing after MAX_POLLS without a model ends the app, so the asserts fail instead of hanging.
        if window.engine is not None or len(status_texts) >= MAX_POLLS:
            window.close()

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(poll)
    timer.start()
    try:
        exit_status = run_app(str(model_path), [])
    finally:
        timer.stop()

    assert exit_status == 0
    assert "Loading model…" in status_texts
    loaded = [text for text in status_texts if text.startswith(model_path.name)]
    assert loaded
    assert " · CPU · " in loaded[-1] or " · GPU · " in loaded[-1]
    assert "context" in loaded[-1]
    assert [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)] == []
    assert sys.excepthook is hook_before


def test_crash_handler_shows_one_dialog(qtbot):
    recent = RecentLogHandler()
    recent.lines.append("INFO earlier line")
    handler = CrashHandler(recent)
    for message in ("first failure", "second failure"):
        try:
            raise RuntimeError(message)
        except RuntimeError as error:
            handler.handle_exception(type(error), error, error.__traceback__)

    qtbot.waitUntil(lambda: handler.dialog is not None and "second failure" in handler.dialog.details.toPlainText())
    dialog = handler.dialog
    qtbot.addWidget(dialog)
    report = handler.dialog.details.toPlainText()
    assert "RuntimeError: first failure" in report
    assert "Traceback" in report
    assert "INFO earlier line" in report
    crash_dialogs = [widget for widget in QApplication.topLevelWidgets()
                     if isinstance(widget, CrashDialog) and widget.isVisible()]
    assert crash_dialogs == [dialog]


def test_startup_notices_name_files(qtbot, home, tmp_path):
    from mindgarden.core.store import SessionStore
    from mindgarden.engine.fake import ScriptedEngine
    from mindgarden.ui.app import offer_startup_notices

    SessionStore().close()
    (home / "sessions.sqlite3").write_bytes(b"this is not a database" * 100)
    window = MainWindow(engine=ScriptedEngine(), store=SessionStore())
    qtbot.addWidget(window)
    report = tmp_path / "crash-1.log"
    offer_startup_notices(window, (report, "Fatal Python error: Segmentation fault"))

    boxes = [widget for widget in QApplication.topLevelWidgets() if widget.inherits("QMessageBox")]
    texts = " ".join(box.text() for box in boxes)
    assert str(report) in texts
    assert str(window.store.recovered_from) in texts
    assert any("Segmentation fault" in box.detailedText() for box in boxes)
    for box in boxes:
        box.close()
