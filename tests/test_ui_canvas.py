"""The garden canvas, compare view and undo stack offscreen, on the scripted engine."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QMessageBox

from mindgarden.engine.fake import ScriptedEngine
from mindgarden.ui.compare import NODE_MIME
from mindgarden.ui.main_window import MainWindow
from mindgarden.ui.runner import THREAD_NAME

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]

TIMEOUT_MS = 30_000


@pytest.fixture
def window(qtbot):
    """A shown window with one grown session of four children; checks no thread or timer outlives it."""
    created = MainWindow(engine=ScriptedEngine())
    qtbot.addWidget(created)
    created.show()
    created.activateWindow()
    qtbot.waitExposed(created)
    created.idea_entry.setPlainText("Why do cities have parks?")
    assert created.grow_idea()
    qtbot.waitUntil(lambda: not created.runner.busy, timeout=TIMEOUT_MS)
    created.canvas.tree_scene.flush()
    yield created
    created.close()
    assert not created.runner._timer.isActive()
    assert not created.canvas.tree_scene.pending
    assert [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)] == []


def children(window: MainWindow):
    tree = window.session.tree
    return tree.children(tree.root_id)


def press(qtbot, window: MainWindow, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, key, modifier)


def test_canvas_shows_every_node(window):
    scene = window.canvas.tree_scene

    assert set(scene.cards) == {node.id for node in window.session.tree.nodes()}
    assert all(card.isVisible() for card in scene.cards.values())
    rects = [card.sceneBoundingRect() for card in scene.cards.values()]
    for index, rect in enumerate(rects):
        for other in rects[index + 1:]:
            assert not rect.adjusted(2, 2, -2, -2).intersects(other)


def test_star_undo_redo(window, qtbot):
    node = children(window)[0]
    window.select_node(node.id)

    press(qtbot, window, Qt.Key.Key_S)
    assert window.session.tree.node(node.id).starred
    assert window.canvas.tree_scene.cards[node.id].starred

    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not window.session.tree.node(node.id).starred
    assert not window.canvas.tree_scene.cards[node.id].starred

    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.session.tree.node(node.id).starred


def test_prune_undo_restores_star(window, qtbot):
    node = children(window)[0]
    window.select_node(node.id)
    press(qtbot, window, Qt.Key.Key_S)

    press(qtbot, window, Qt.Key.Key_X)
    assert window.session.tree.node(node.id).pruned
    assert not window.session.tree.node(node.id).starred
    assert window.canvas.tree_scene.cards[node.id].opacity() < 1.0

    window.undo_stack.undo()
    assert not window.session.tree.node(node.id).pruned
    assert window.session.tree.node(node.id).starred
    assert window.canvas.tree_scene.cards[node.id].opacity() == 1.0

    window.undo_stack.redo()
    assert window.session.tree.node(node.id).pruned


def test_rank_mode_with_tie(window, qtbot):
    first, second, third, _fourth = children(window)
    window.select_node(first.id)

    press(qtbot, window, Qt.Key.Key_R)
    assert window.canvas.rank_mode
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_2)
    press(qtbot, window, Qt.Key.Key_R)
    assert not window.canvas.rank_mode

    tree = window.session.tree
    assert tree.node(first.id).rank == 1
    assert tree.node(second.id).rank == 1
    assert tree.node(third.id).rank == 2

    window.undo_stack.undo()
    assert tree.node(third.id).rank is None
    assert tree.node(second.id).rank == 1
    window.undo_stack.redo()
    assert tree.node(third.id).rank == 2


def test_edit_keeps_original_and_undoes(window, qtbot):
    node = children(window)[1]
    original = node.text
    window.select_node(node.id)
    press(qtbot, window, Qt.Key.Key_E)
    window.edit_dialog.editor.setPlainText("Parks are the city's lungs.")
    window.edit_dialog.accept()

    tree = window.session.tree
    assert tree.node(node.id).text == "Parks are the city's lungs."
    assert tree.node(node.id).original_text == original

    window.undo_stack.undo()
    assert tree.node(node.id).text == original
    assert tree.node(node.id).original_text is None

    window.undo_stack.redo()
    assert tree.node(node.id).text == "Parks are the city's lungs."
    assert tree.node(node.id).original_text == original


def test_delete_asks_then_undo_restores(window, qtbot):
    victim = children(window)[2]
    window.select_node(victim.id)
    press(qtbot, window, Qt.Key.Key_Delete)

    box = window.delete_box
    assert box is not None
    assert victim.id in window.session.tree
    box.button(QMessageBox.StandardButton.Yes).click()

    tree = window.session.tree
    assert victim.id not in tree
    window.canvas.tree_scene.flush()
    assert victim.id not in window.canvas.tree_scene.cards

    window.undo_stack.undo()
    assert victim.id in tree
    assert [node.id for node in children(window)][2] == victim.id
    window.canvas.tree_scene.flush()
    assert window.canvas.tree_scene.cards[victim.id].isVisible()

    window.undo_stack.redo()
    assert victim.id not in tree


def test_delete_cancel_keeps_node(window, qtbot):
    victim = children(window)[0]
    window.select_node(victim.id)
    press(qtbot, window, Qt.Key.Key_Delete)
    window.delete_box.button(QMessageBox.StandardButton.Cancel).click()

    assert victim.id in window.session.tree
    assert window.undo_stack.count() == 0


def test_arrow_keys_navigate(window, qtbot):
    tree = window.session.tree
    first, second, *_rest = children(window)
    window.select_node(tree.root_id)

    press(qtbot, window, Qt.Key.Key_Down)
    assert window.selected_node_id() == first.id
    assert window.canvas.current_id == first.id
    press(qtbot, window, Qt.Key.Key_Right)
    assert window.selected_node_id() == second.id
    press(qtbot, window, Qt.Key.Key_Left)
    assert window.selected_node_id() == first.id
    press(qtbot, window, Qt.Key.Key_Left)
    assert window.selected_node_id() == first.id
    press(qtbot, window, Qt.Key.Key_Up)
    assert window.selected_node_id() == tree.root_id
    assert window.canvas.tree_scene.cards[tree.root_id].current


def test_current_path_highlighted(window):
    first = children(window)[0]
    window.select_node(first.id)
    scene = window.canvas.tree_scene

    assert scene.cards[first.id].current
    assert scene.cards[window.session.tree.root_id].on_path
    assert not scene.cards[children(window)[1].id].on_path


def test_collapse_and_hide_pruned(window, qtbot):
    tree = window.session.tree
    scene = window.canvas.tree_scene
    window.select_node(tree.root_id)

    press(qtbot, window, Qt.Key.Key_Space)
    assert all(not scene.cards[node.id].isVisible() for node in children(window))
    assert scene.cards[tree.root_id].collapsed_count == 4
    press(qtbot, window, Qt.Key.Key_Space)
    assert all(scene.cards[node.id].isVisible() for node in children(window))

    pruned = children(window)[3]
    window.set_pruned(pruned.id, True)
    press(qtbot, window, Qt.Key.Key_H)
    assert not scene.cards[pruned.id].isVisible()
    assert scene.cards[children(window)[0].id].isVisible()


def test_zoom_and_fit(window, qtbot):
    canvas = window.canvas
    before = canvas.zoom()
    press(qtbot, window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == pytest.approx(before * 1.2)
    press(qtbot, window, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert canvas.zoom() == pytest.approx(before)

    press(qtbot, window, Qt.Key.Key_F)
    visible = canvas.visible_scene_rect()
    for card in canvas.tree_scene.cards.values():
        assert visible.contains(card.sceneBoundingRect())


def test_compare_is_blind_until_revealed(window, qtbot):
    first = children(window)[0]
    window.select_node(first.id)
    window.show_compare()
    compare = window.compare

    assert len(compare.cards) == 4
    assert all(not card.identity.isVisible() for card in compare.cards)
    assert all(first.persona not in card.title.text() for card in compare.cards)
    compare.reveal.setChecked(True)
    assert all(card.identity.isVisible() for card in compare.cards)
    assert first.persona in compare.cards[0].identity.text()


def test_compare_keys_pick_sibling(window, qtbot):
    window.select_node(children(window)[0].id)
    window.show_compare()

    qtbot.keyClick(window.compare, Qt.Key.Key_3)
    assert window.selected_node_id() == children(window)[2].id
    qtbot.keyClick(window.compare, Qt.Key.Key_9)
    assert window.selected_node_id() == children(window)[2].id


def drop(tier, node_id: str) -> None:
    mime = QMimeData()
    mime.setData(NODE_MIME, node_id.encode("ascii"))
    event = QDropEvent(QPointF(5, 5), Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    # A real drag needs a running QDrag loop, so the test hands the drop event to the tier directly.
    tier.dropEvent(event)
    assert event.isAccepted()


def test_compare_drop_ranks_with_tie(window, qtbot):
    first, second, third, _fourth = children(window)
    window.select_node(first.id)
    window.show_compare()
    compare = window.compare
    tier_one = compare.tiers[0]

    drop(tier_one, first.id)
    drop(tier_one, third.id)
    drop(compare.tiers[1], second.id)

    tree = window.session.tree
    assert tree.node(first.id).rank == 1
    assert tree.node(third.id).rank == 1
    assert tree.node(second.id).rank == 2
    assert tier_one.members.text() == "A C"

    window.undo_stack.undo()
    assert tree.node(second.id).rank is None
    assert compare.tiers[1].members.text() == "–"


def test_compare_star_and_prune_buttons(window, qtbot):
    first, second, *_rest = children(window)
    window.select_node(first.id)
    window.show_compare()

    qtbot.mouseClick(window.compare.cards[0].star_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.compare.cards[1].prune_button, Qt.MouseButton.LeftButton)

    tree = window.session.tree
    assert tree.node(first.id).starred
    assert tree.node(second.id).pruned
    assert window.compare.cards[1].prune_button.isChecked()


def test_streaming_refreshes_only_changed_cards(qtbot):
    window = MainWindow(engine=ScriptedEngine(words=[f"w{index}" for index in range(60)], step_seconds=0.005))
    qtbot.addWidget(window)
    window.show()
    window.idea_entry.setPlainText("What does a garden remember?")
    assert window.grow_idea()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    scene = window.canvas.tree_scene
    scene.flush()
    first = children(window)[0]
    idle_ids = [node.id for node in window.session.tree.nodes() if node.id != first.id]
    before = {node_id: scene.cards[node_id].refresh_count for node_id in idle_ids}
    frames_before = scene.frame_count

    window.select_node(first.id)
    assert window.expand_selected()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not scene.pending, timeout=TIMEOUT_MS)

    grandchildren = window.session.tree.children(first.id)
    assert len(grandchildren) == 4
    for node in grandchildren:
        assert scene.cards[node.id].isVisible()
        assert scene.cards[node.id].line == node.first_line(120)
    assert {node_id: scene.cards[node_id].refresh_count for node_id in idle_ids} == before
    # Streamed tokens are batched: far fewer frames than the 60 words times 4 branches.
    assert scene.frame_count - frames_before < 60 * 4
    window.close()
    assert not scene.pending
