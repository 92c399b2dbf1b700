"""Sessions dialog and the autosave indicator in the main window, offscreen."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QMessageBox

from mindgarden.engine.fake import ScriptedEngine
from mindgarden.ui.main_window import MainWindow
from mindgarden.ui.runner import THREAD_NAME

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]


@pytest.fixture
def window(qtbot):
    shown = MainWindow(engine=ScriptedEngine())
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    shown.close()
    assert not shown.runner._timer.isActive()
    assert [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)] == []


def grow(qtbot, window: MainWindow, idea: str) -> str:
    window.idea_entry.setPlainText(idea)
    assert window.grow_idea()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)
    return window.session.id


def names(dialog) -> list[str]:
    return [dialog.table.topLevelItem(row).text(0) for row in range(dialog.table.topLevelItemCount())]


def test_sessions_listed_recent_first(window, qtbot):
    grow(qtbot, window, "first idea")
    grow(qtbot, window, "second idea")
    dialog = window.show_sessions_dialog()
    assert names(dialog) == ["second idea (open)", "first idea"]
    assert dialog.table.topLevelItem(0).text(1) == "5"


def test_rename_updates_store_and_title(window, qtbot):
    session_id = grow(qtbot, window, "old name")
    dialog = window.show_sessions_dialog()
    dialog.name_edit.setText("new name")
    assert dialog.rename_selected()
    assert window.store.find_session(session_id).name == "new name"
    assert window.windowTitle() == "MindGarden: new name"


def test_duplicate_adds_copy(window, qtbot):
    grow(qtbot, window, "idea")
    dialog = window.show_sessions_dialog()
    copy_id = dialog.duplicate_selected()
    assert copy_id is not None
    copy = window.store.find_session(copy_id)
    assert copy.name == "idea copy"
    assert copy.node_count == 5


def test_delete_cancel_keeps_session(window, qtbot):
    first = grow(qtbot, window, "keep me")
    grow(qtbot, window, "open one")
    dialog = window.show_sessions_dialog()
    dialog.refresh(select=first)
    box = dialog.delete_selected()
    assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert window.store.find_session(first).name == "keep me"

    box = dialog.delete_selected()
    box.button(QMessageBox.StandardButton.Yes).click()
    assert [info.id for info in window.store.list_sessions()] == [window.session.id]
    assert names(dialog) == ["open one (open)"]


def test_open_session_cannot_be_deleted(window, qtbot):
    grow(qtbot, window, "shown")
    dialog = window.show_sessions_dialog()
    assert not dialog.delete_button.isEnabled()
    assert dialog.delete_selected() is None


def test_open_from_dialog(window, qtbot):
    first = grow(qtbot, window, "first")
    grow(qtbot, window, "second")
    dialog = window.show_sessions_dialog()
    dialog.refresh(select=first)
    dialog.open_selected()
    assert window.session.id == first


def test_indicator_shows_unsaved_stream(qtbot):
    shown = MainWindow(engine=ScriptedEngine([f"w{index}" for index in range(200)], step_seconds=0.01))
    qtbot.addWidget(shown)
    shown.show()
    shown.idea_entry.setPlainText("slow idea")
    assert shown.grow_idea()
    qtbot.waitUntil(lambda: shown.status.saved.text().startswith("Saving…"), timeout=30_000)
    qtbot.waitUntil(lambda: not shown.runner.busy, timeout=30_000)
    assert shown.status.saved.text() == "Saved"
    shown.close()
