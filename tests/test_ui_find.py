"""Find dialog: search by text, persona, starred and pruned, and jump to a result."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from mindgarden.engine.fake import ScriptedEngine
from mindgarden.ui.main_window import MainWindow

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]


@pytest.fixture
def window(qtbot):
    shown = MainWindow(engine=ScriptedEngine("a Lantern glows over the river".split()))
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    shown.idea_entry.setPlainText("an idea about boats")
    assert shown.grow_idea()
    qtbot.waitUntil(lambda: not shown.runner.busy, timeout=30_000)
    yield shown
    shown.close()


def children(window: MainWindow):
    return window.session.tree.children(window.session.tree.root_id)


def test_find_text_is_case_insensitive(window):
    dialog = window.show_find()
    dialog.text.setText("LANTERN")
    assert dialog.results.count() == 4
    dialog.text.setText("boats")
    assert dialog.results.count() == 1
    dialog.text.setText("nowhere")
    assert dialog.results.count() == 0


def test_find_starred_jumps_to_node(window, qtbot):
    target = children(window)[2]
    window.set_starred(target.id, True)
    window.select_node(window.session.tree.root_id)

    dialog = window.show_find()
    dialog.starred.setChecked(True)
    assert dialog.results.count() == 1
    dialog.results.setFocus()
    qtbot.keyClick(dialog.results, Qt.Key.Key_Return)

    assert window.selected_node_id() == target.id
    assert window.canvas.current_id == target.id


def test_find_pruned_and_persona(window):
    pruned = children(window)[1]
    window.set_pruned(pruned.id, True)
    dialog = window.show_find()
    dialog.pruned.setChecked(True)
    assert [dialog.results.item(row).data(Qt.ItemDataRole.UserRole + 1)
            for row in range(dialog.results.count())] == [pruned.id]

    dialog.pruned.setChecked(False)
    dialog.persona.setCurrentIndex(dialog.persona.findData(pruned.persona))
    expected = [node.id for node in children(window) if node.persona == pruned.persona]
    assert dialog.results.count() == len(expected)


def test_find_double_click_jumps(window, qtbot):
    target = children(window)[3]
    dialog = window.show_find()
    dialog.text.setText("A3 LANTERN")
    assert dialog.results.count() == 1
    item = dialog.results.item(0)
    dialog.results.itemActivated.emit(item)
    assert window.selected_node_id() == target.id
