"""The main window offscreen: growing, streaming, stopping and curating a thought tree."""

from __future__ import annotations

import json
import threading

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont

from mindgarden.core.store import SessionStore
from mindgarden.engine.fake import ScriptedEngine
from mindgarden.engine.types import FINISH_CANCELLED, FINISH_LENGTH, FINISH_STOP
from mindgarden.ui.main_window import MainWindow
from mindgarden.ui.runner import THREAD_NAME
from mindgarden.ui.tree_model import STAR, STREAMING_MARK

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform plugin warns about this on every top-level window.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]

REAL_MODEL_TIMEOUT_MS = 300_000
SCRIPTED_TIMEOUT_MS = 30_000
SLOW_WORDS = [f"word{index}" for index in range(400)]


def inference_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]


def grow(window: MainWindow, idea: str) -> None:
    window.idea_entry.setPlainText(idea)
    assert window.grow_idea()


def wait_idle(qtbot, window: MainWindow, timeout: int = SCRIPTED_TIMEOUT_MS) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=timeout)


def first_child(window: MainWindow):
    tree = window.session.tree
    return tree.children(tree.root_id)[0]


def row_text(window: MainWindow, node_id: str) -> str:
    return window.model.index_of(node_id).data()


def test_expansion_on_real_model_adds_rows(make_window, engine, qtbot):
    window = make_window(engine)
    window.panel.max_new_tokens.setValue(24)
    grow(window, "How could a public library work without any books?")
    wait_idle(qtbot, window, REAL_MODEL_TIMEOUT_MS)

    tree = window.session.tree
    root_index = window.model.index_of(tree.root_id)
    assert window.model.rowCount(root_index) == 4
    texts = []
    for row in range(4):
        index = window.model.index(row, 0, root_index)
        node = tree.node(window.model.node_id(index))
        assert node.text.strip()
        assert node.finish_reason in (FINISH_STOP, FINISH_LENGTH)
        assert index.data()
        assert STREAMING_MARK not in index.data()
        texts.append(node.text)

    session_id = window.session.id
    window.close()
    store = SessionStore()
    reopened = store.open_session(session_id)
    assert [node.text for node in reopened.tree.children(reopened.tree.root_id)] == texts
    reopened.close()
    store.close()


def test_event_loop_runs_while_generating(make_window, engine, qtbot):
    window = make_window(engine)
    window.panel.max_new_tokens.setValue(48)
    ticks_while_streaming = []
    seen_lengths = set()

    def tick() -> None:
        if window.session is None or not window.runner.busy:
            return
        children = window.session.tree.children(window.session.tree.root_id)
        if children and not children[0].complete:
            ticks_while_streaming.append(1)
            seen_lengths.add(len(children[0].text))

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    try:
        grow(window, "What would a city designed for sleep look like?")
        wait_idle(qtbot, window, REAL_MODEL_TIMEOUT_MS)
    finally:
        timer.stop()

    assert len(ticks_while_streaming) >= 3
    # Several distinct partial lengths mean the text reached the tree while it grew.
    assert len(seen_lengths) >= 2
    assert window.status.speed.text().endswith("tokens/s")


def test_star_and_prune_by_shortcut(make_window, qtbot):
    window = make_window(ScriptedEngine())
    grow(window, "Why do people keep diaries?")
    wait_idle(qtbot, window)
    tree = window.session.tree
    starred, pruned = tree.children(tree.root_id)[:2]

    window.select_node(starred.id)
    window.tree_view.setFocus()
    qtbot.keyClick(window.tree_view, Qt.Key.Key_S)
    assert tree.node(starred.id).starred
    assert row_text(window, starred.id).startswith(STAR)

    window.select_node(pruned.id)
    qtbot.keyClick(window.tree_view, Qt.Key.Key_X)
    assert tree.node(pruned.id).pruned
    font = window.model.index_of(pruned.id).data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont)
    assert font.strikeOut()

    qtbot.keyClick(window.tree_view, Qt.Key.Key_X)
    assert not tree.node(pruned.id).pruned
    assert not window.model.index_of(pruned.id).data(Qt.ItemDataRole.FontRole).strikeOut()


def test_edit_keeps_original(make_window, qtbot):
    window = make_window(ScriptedEngine())
    grow(window, "What makes a good walk?")
    wait_idle(qtbot, window)
    child = first_child(window)
    original = child.text

    window.select_node(child.id)
    window.tree_view.setFocus()
    qtbot.keyClick(window.tree_view, Qt.Key.Key_E)
    dialog = window.edit_dialog
    assert dialog is not None
    assert dialog.text() == original
    dialog.editor.setPlainText("A good walk has no destination.")
    dialog.accept()

    node = window.session.tree.node(child.id)
    assert node.text == "A good walk has no destination."
    assert node.original_text == original
    assert row_text(window, child.id) == "A good walk has no destination."
    # The reading pane renders on the next pass of the event loop.
    qtbot.waitUntil(lambda: "A good walk has no destination." in window.reading_pane.toPlainText())

    session_id = window.session.id
    window.close()
    store = SessionStore()
    reopened = store.open_session(session_id)
    assert reopened.tree.node(child.id).original_text == original
    reopened.close()
    store.close()


def test_stop_keeps_partial_text(make_window, qtbot):
    window = make_window(ScriptedEngine(words=SLOW_WORDS, step_seconds=0.02))
    grow(window, "What is a forest for?")
    assert window.runner.busy
    qtbot.waitUntil(lambda: len(first_child(window).text.split()) >= 3, timeout=SCRIPTED_TIMEOUT_MS)
    assert row_text(window, first_child(window).id).endswith(STREAMING_MARK)

    window.tree_view.setFocus()
    qtbot.keyClick(window.tree_view, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)

    for node in window.session.tree.children(window.session.tree.root_id):
        assert node.finish_reason == FINISH_CANCELLED
        assert node.text.strip()
        assert len(node.text.split()) < len(SLOW_WORDS)
        assert "(stopped)" in row_text(window, node.id)


def test_empty_idea_shows_error(make_window, qtbot):
    window = make_window(ScriptedEngine())
    window.idea_entry.setPlainText("   \n ")
    qtbot.mouseClick(window.grow_button, Qt.MouseButton.LeftButton)

    assert window.message_box is not None
    assert "idea is empty" in window.message_box.text()
    assert window.session is None
    assert window.store.list_sessions() == []
    assert window.model.rowCount() == 0


def test_close_during_expansion_cancels(make_window, qtbot):
    window = make_window(ScriptedEngine(words=SLOW_WORDS, step_seconds=0.02))
    grow(window, "Where do lost ideas go?")
    qtbot.waitUntil(lambda: len(first_child(window).text.split()) >= 2, timeout=SCRIPTED_TIMEOUT_MS)
    session_id = window.session.id

    window.close()
    assert inference_threads() == []

    store = SessionStore()
    reopened = store.open_session(session_id)
    children = reopened.tree.children(reopened.tree.root_id)
    assert len(children) == 4
    for node in children:
        assert node.finish_reason == FINISH_CANCELLED
        assert node.text.strip()
    reopened.close()
    store.close()


def test_open_session_restores_rows(make_window, qtbot):
    window = make_window(ScriptedEngine())
    grow(window, "What should a kitchen remember?")
    wait_idle(qtbot, window)
    name = window.session.name
    grow(window, "A second idea")
    wait_idle(qtbot, window)

    assert window.open_session(name)
    root_index = window.model.index_of(window.session.tree.root_id)
    assert root_index.data() == "What should a kitchen remember?"
    assert window.model.rowCount(root_index) == 4
    assert window.store.list_sessions()[0].name == "A second idea"


def test_export_writes_starred_pruned_pair(make_window, qtbot, tmp_path):
    window = make_window(ScriptedEngine())
    grow(window, "How do rivers decide where to go?")
    wait_idle(qtbot, window)
    tree = window.session.tree
    chosen, rejected = tree.children(tree.root_id)[:2]
    tree.set_starred(chosen.id, True)
    tree.set_pruned(rejected.id, True)

    out = tmp_path / "pairs.jsonl"
    result = window.export_preferences(out)

    assert result is not None
    assert len(result.rows) == 1
    row = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert row["chosen"][0]["content"] == chosen.text.strip()
    assert "Wrote 1 preference pairs" in window.message_box.text()


def test_undo_paused_while_streaming(make_window, qtbot):
    window = make_window(ScriptedEngine(words=SLOW_WORDS, step_seconds=0.02))
    grow(window, "What is a river for?")
    wait_idle(qtbot, window)
    window.select_node(first_child(window).id)
    window.tree_view.setFocus()
    qtbot.keyClick(window.tree_view, Qt.Key.Key_S)
    assert window.undo_action.isEnabled()

    window.expand_action.trigger()
    assert window.runner.busy
    assert not window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert first_child(window).starred

    window.stop_action.trigger()
    wait_idle(qtbot, window)
    assert window.undo_action.isEnabled()
    window.undo_action.trigger()
    assert not first_child(window).starred


def test_inline_edit_keeps_original_and_undoes(make_window, qtbot):
    window = make_window(ScriptedEngine())
    grow(window, "What is a bridge for?")
    wait_idle(qtbot, window)
    node = first_child(window)
    model_text = node.text
    window.select_node(node.id)
    assert window.inline_editor.editor.toPlainText() == model_text
    assert not window.inline_editor.save_button.isEnabled()

    window.inline_editor.editor.setPlainText("A bridge is a place to meet halfway.")
    window.inline_editor.editor.setFocus()
    qtbot.keyClick(window.inline_editor.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert node.text == "A bridge is a place to meet halfway."
    assert node.original_text == model_text
    assert window.inline_editor.revert_button.isEnabled()
    qtbot.waitUntil(lambda: "A bridge is a place to meet halfway." in window.reading_pane.toPlainText(),
                    timeout=SCRIPTED_TIMEOUT_MS)

    window.undo_action.trigger()
    assert node.text == model_text
    assert node.original_text is None
    assert window.inline_editor.editor.toPlainText() == model_text


def test_inline_editor_typing_s_does_not_star(make_window, qtbot):
    window = make_window(ScriptedEngine())
    grow(window, "What is a lamp for?")
    wait_idle(qtbot, window)
    node = first_child(window)
    window.select_node(node.id)
    window.inline_editor.editor.setFocus()
    qtbot.keyClicks(window.inline_editor.editor, "sx")
    assert not node.starred
    assert not node.pruned
    assert window.inline_editor.editor.toPlainText().startswith("sx")


def test_second_expansion_is_queued(make_window, qtbot):
    window = make_window(ScriptedEngine(words=SLOW_WORDS[:30], step_seconds=0.01))
    grow(window, "What is a harbour for?")
    wait_idle(qtbot, window)
    tree = window.session.tree
    first, second = tree.children(tree.root_id)[:2]

    window.select_node(first.id)
    assert window.expand_selected()
    window.select_node(second.id)
    assert window.expand_selected()
    assert len(window.queued) == 1
    wait_idle(qtbot, window)
    qtbot.waitUntil(lambda: not window.queued and not window.runner.busy, timeout=SCRIPTED_TIMEOUT_MS)

    assert len(tree.children(first.id)) == window.panel.branches.value()
    assert len(tree.children(second.id)) == window.panel.branches.value()
    assert all(child.finish_reason == "length" for child in tree.children(second.id))


def test_modal_dialog_while_streaming(make_window, qtbot):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    window = make_window(ScriptedEngine(words=SLOW_WORDS[:150], step_seconds=0.01))
    grow(window, "What is a lighthouse for?")
    qtbot.waitUntil(lambda: len(first_child(window).text.split()) >= 2, timeout=SCRIPTED_TIMEOUT_MS)
    box = QMessageBox(QMessageBox.Icon.Information, "Busy", "Branches keep growing behind this dialog.",
                      QMessageBox.StandardButton.Ok, window)
    words_before = len(first_child(window).text.split())
    seen_during = []
    QTimer.singleShot(400, lambda: (seen_during.append(len(first_child(window).text.split())), box.accept()))
    box.exec()
    assert seen_during and seen_during[0] > words_before
    wait_idle(qtbot, window)
    assert first_child(window).finish_reason == "length"


def test_reasoning_shown_collapsed(make_window, qtbot):
    from PySide6.QtCore import QUrl

    from mindgarden.ui.reading_pane import REASONING_LINK

    window = make_window(ScriptedEngine())
    grow(window, "What is a map for?")
    wait_idle(qtbot, window)
    node = first_child(window)
    window.session.tree.update(node.id, reasoning="Consider who reads maps and why.")
    window.select_node(node.id)
    window.reading_pane.render()
    assert "Show reasoning" in window.reading_pane.toPlainText()
    assert "Consider who reads maps" not in window.reading_pane.toPlainText()
    window.reading_pane.anchorClicked.emit(QUrl(REASONING_LINK))
    assert "Consider who reads maps and why." in window.reading_pane.toPlainText()
