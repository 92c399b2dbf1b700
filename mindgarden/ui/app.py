"""Start the desktop app: QApplication, qasync event loop, crash dialog and the model load."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import qasync
from PySide6.QtWidgets import QApplication

from mindgarden import __version__
from mindgarden.core import crashlog
from mindgarden.core.errors import MindGardenError
from mindgarden.engine.types import Engine
from mindgarden.ui.crash import CrashHandler, RecentLogHandler
from mindgarden.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def load_engine(path: Path) -> Engine:
    """Load a GGUF model. It blocks until the file is loaded, so call it on the inference worker."""
    # Imported here so the window opens before llama.cpp's shared libraries are loaded.
    from mindgarden.engine.llama_engine import LlamaEngine

    return LlamaEngine(path)


def offer_startup_notices(window: MainWindow, previous_crash: tuple[Path, str] | None) -> None:
    """Tell the user about a native crash of the last run and a damaged database moved aside."""
    if previous_crash is not None:
        kept, text = previous_crash
        box = window.show_message(
            f"MindGarden stopped unexpectedly last time. The crash report is saved in {kept}; "
            "please attach it when you report the problem.", title="Crash report")
        box.setDetailedText(text)
    if window.store.recovered_from is not None:
        window.show_message(
            f"The session database was damaged, so MindGarden moved it to {window.store.recovered_from} "
            "and started a new, empty one. Your persona states and settings are unchanged.",
            title="Session database recovered")


def run_app(model: str | None = None, argv: list[str] | None = None) -> int:
    """Open the main window, load ``model`` (default: the bundled one) and run until it closes.

    Args:
        model: path of a GGUF file, or None for the bundled default model.
        argv: arguments for QApplication, by default ``sys.argv``.

    Returns:
        The process exit status.
    """
    from mindgarden.cli import resolve_model_path

    recent = RecentLogHandler()
    logging.getLogger().addHandler(recent)
    if logging.getLogger().level > logging.INFO:
        # The crash dialog shows recent INFO lines even when the console shows warnings only.
        for handler in logging.getLogger().handlers:
            if handler is not recent and handler.level == logging.NOTSET:
                handler.setLevel(logging.getLogger().level)
        logging.getLogger().setLevel(logging.INFO)

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("MindGarden")
    app.setApplicationVersion(__version__)
    crash_handler = CrashHandler(recent)
    crash_handler.install()
    log.info("Starting MindGarden %s", __version__)
    previous_crash = crashlog.take_previous_report()
    crashlog.enable()

    try:
        window = MainWindow()
    except MindGardenError as error:
        log.error("The main window cannot open: %s", error)
        crash_handler.uninstall()
        logging.getLogger().removeHandler(recent)
        raise
    window.apply_theme_setting()
    window.follow_system_theme()
    window.show()
    offer_startup_notices(window, previous_crash)
    if window.settings_problems:
        window.show_message("\n".join(window.settings_problems), title="Settings")
    if model is None and window.settings.use_remote:
        window.load_model_from_settings()
    else:
        try:
            path = resolve_model_path(model or window.settings.model_path)
        except MindGardenError as error:
            window.status.show_no_model()
            window.show_message(str(error))
            log.error("No model to load: %s", error)
        else:
            log.info("Loading model %s", path)
            window.switch_model(path)

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    app.setQuitOnLastWindowClosed(True)
    try:
        with loop:
            loop.run_until_complete(closed.wait())
    finally:
        app.aboutToQuit.disconnect(closed.set)
        if window.isVisible():
            window.close()
        crash_handler.uninstall()
        logging.getLogger().removeHandler(recent)
        asyncio.set_event_loop(None)
    log.info("MindGarden stopped")
    return 0
