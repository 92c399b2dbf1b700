"""The export dialog previews rows and counts, writes the chosen format and reports errors."""

from __future__ import annotations

import json

import pytest
from PySide6.QtWidgets import QDialog

from mindgarden.core.personas import load_personas
from mindgarden.core.store import SessionStore
from mindgarden.ui.export_dialog import ExportDialog

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform plugin cannot size or raise windows and warns about it.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints", "This plugin does not support raise"),
]


@pytest.fixture
def marked_session():
    session = SessionStore().create_session("bridges")
    tree = session.tree
    root = tree.set_root("How could bridges be more than crossings?")
    texts = ["Bridges with markets on them.", "Bridges as gardens.", "Bridges as gardens.", "  "]
    children = [tree.add_child(root.id, text=text, finish_reason="stop", persona="neutral",
                               sampler={"temperature": 1.0}, seed=index) for index, text in enumerate(texts)]
    tree.set_starred(children[0].id, True)
    tree.set_pruned(children[1].id, True)
    tree.set_pruned(children[3].id, True)
    return session


def select_format(dialog: ExportDialog, name: str) -> None:
    dialog.format.setCurrentIndex(dialog.format.findData(name))


def test_preview_shows_rows_and_skips(qtbot, marked_session):
    dialog = ExportDialog(marked_session, load_personas(), None)
    qtbot.addWidget(dialog)
    assert "1 rows will be written" in dialog.counts.text()
    assert "empty text: 1" in dialog.counts.text()
    assert "Bridges with markets on them." in dialog.preview_text.toPlainText()


def test_kto_written_to_chosen_path(qtbot, marked_session, tmp_path):
    dialog = ExportDialog(marked_session, load_personas(), None)
    qtbot.addWidget(dialog)
    select_format(dialog, "trl-kto")
    out = tmp_path / "labels ü.jsonl"
    dialog.path.setText(str(out))
    dialog.write()
    assert dialog.export_result is not None
    assert dialog.result() == QDialog.DialogCode.Accepted
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {row["label"] for row in rows} == {True, False}
    assert str(out) in dialog.summary()


def test_bad_folder_keeps_dialog_open(qtbot, marked_session, tmp_path):
    dialog = ExportDialog(marked_session, load_personas(), None)
    qtbot.addWidget(dialog)
    missing = tmp_path / "missing" / "pairs.jsonl"
    dialog.path.setText(str(missing))
    dialog.write()
    assert dialog.export_result is None
    assert "does not exist" in dialog.counts.text()
    assert not missing.parent.exists()


def test_outline_format_changes_suffix(qtbot, marked_session):
    dialog = ExportDialog(marked_session, load_personas(), None)
    qtbot.addWidget(dialog)
    select_format(dialog, "markdown")
    assert dialog.path.text().endswith(".md")
    assert "How could bridges be more than crossings?" in dialog.preview_text.toPlainText()
    assert not dialog.pair_mode.isEnabled()


def test_window_export_action_opens_dialog(qtbot):
    from mindgarden.engine.fake import ScriptedEngine
    from mindgarden.ui.main_window import MainWindow

    window = MainWindow(engine=ScriptedEngine())
    qtbot.addWidget(window)
    window.idea_entry.setPlainText("Why do we keep old letters?")
    assert window.grow_idea()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10_000)
    window.export_action.trigger()
    dialogs = [child for child in window.findChildren(ExportDialog) if child.isVisible()]
    assert len(dialogs) == 1
    assert "rows will be written" in dialogs[0].counts.text()
    dialogs[0].reject()
