"""Shared fixtures: an isolated data folder for every test and one real model per run."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from mindgarden.core import paths


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    """Point MINDGARDEN_HOME at a fresh folder so no test reads or writes real user data."""
    folder = tmp_path / "home"
    monkeypatch.setenv(paths.HOME_ENV, str(folder))
    monkeypatch.delenv(paths.MODEL_ENV, raising=False)
    return folder


@pytest.fixture(scope="session")
def model_path():
    found = paths.find_default_model()
    if found is None:
        pytest.fail("The bundled model is missing: run `./dev.sh test`, which provisions it first.")
    return found


@pytest.fixture(scope="session")
def real_engine(model_path, tmp_path_factory):
    """The bundled SmolLM2-135M model, loaded once per test run."""
    from mindgarden.engine.llama_engine import LlamaEngine

    previous = os.environ.get(paths.HOME_ENV)
    os.environ[paths.HOME_ENV] = str(tmp_path_factory.mktemp("engine-home"))
    try:
        engine = LlamaEngine(model_path)
    finally:
        if previous is None:
            os.environ.pop(paths.HOME_ENV, None)
        else:
            os.environ[paths.HOME_ENV] = previous
    yield engine
    engine.close()


@pytest.fixture
def engine(real_engine):
    """The real engine with an empty KV cache, so tests do not depend on each other's order."""
    real_engine.reset_cache()
    return real_engine


@pytest.fixture
def make_window(qtbot):
    """Build shown main windows on a given engine.

    Afterwards it checks that no thread or timer outlives them, and it restores the
    application's palette and style because themes change them.
    """
    import threading

    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from mindgarden.ui.main_window import MainWindow
    from mindgarden.ui.runner import THREAD_NAME

    app = QApplication.instance()
    palette, style = QPalette(app.palette()), app.style().name()
    windows: list[MainWindow] = []

    def make(engine=None) -> MainWindow:
        window = MainWindow(engine=engine)
        qtbot.addWidget(window)
        window.show()
        window.activateWindow()
        qtbot.waitExposed(window)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
        assert not window.runner._timer.isActive()
    app.setStyle(style)
    app.setPalette(palette)
    assert [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)] == []
