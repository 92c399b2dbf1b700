"""Settings dialog, theme and persona editor in the main window, offscreen."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from mindgarden.core.settings import load_settings
from mindgarden.engine.fake import ScriptedEngine
from mindgarden.ui.theme import is_dark

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints"),
]

REAL_MODEL_TIMEOUT_MS = 300_000


def save_dialog(dialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_settings_dialog_saves_and_applies(make_window, qtbot):
    window = make_window(ScriptedEngine())
    dialog = window.show_settings_dialog()
    dialog.branches.setValue(7)
    dialog.max_new_tokens.setValue(33)
    dialog.sampler_boxes["top_k"].setValue(40)
    save_dialog(dialog)

    assert window.panel.branches.value() == 7
    assert window.panel.max_new_tokens.value() == 33
    assert window.panel.plan().base_sampler.top_k == 40
    saved, problems = load_settings()
    assert problems == []
    assert saved.branches == 7
    assert saved.sampler.top_k == 40


def test_invalid_setting_reported_at_start(make_window, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "settings.json").write_text('{"branches": 0, "max_new_tokens": 50}', encoding="utf-8")
    window = make_window(ScriptedEngine())
    assert window.panel.branches.value() == 4
    assert window.panel.max_new_tokens.value() == 50
    assert len(window.settings_problems) == 1
    assert "'branches'" in window.settings_problems[0]


def test_dark_theme_applies_dark_palette(make_window):
    window = make_window(ScriptedEngine())
    assert not is_dark(QApplication.palette())
    dialog = window.show_settings_dialog()
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    save_dialog(dialog)

    assert is_dark(QApplication.palette())
    assert QApplication.style().name().lower() == "fusion"
    assert window.canvas.backgroundBrush().color().lightness() < 128
    assert load_settings()[0].theme == "dark"


def test_persona_editor_rejects_invalid_name(make_window, home):
    window = make_window(ScriptedEngine())
    editor = window.show_persona_editor()
    editor.new_persona()
    editor.name.setText("Late Train")

    assert editor.save_current() is None
    assert "'Late Train'" in editor.error.text()
    assert not (home / "personas").exists()


def test_persona_editor_copies_bundled_persona(make_window, home):
    window = make_window(ScriptedEngine())
    editor = window.show_persona_editor()
    editor.reload(select="deadline")
    bundled = editor.personas["deadline"].source
    original = bundled.read_text(encoding="utf-8")
    editor.description.setText("Changed by the user")
    editor.save_current()

    assert bundled.read_text(encoding="utf-8") == original
    assert (home / "personas" / "deadline.toml").is_file()
    assert window.personas["deadline"].description == "Changed by the user"


def test_new_persona_used_by_real_expansion(make_window, engine, qtbot):
    window = make_window(engine)
    editor = window.show_persona_editor()
    editor.new_persona()
    editor.name.setText("late-train")
    editor.description.setText("On the last train home")
    editor.temperature.setValue(0.9)
    editor.priming.setPlainText("It is past midnight on the last train, and I am writing on my phone.")
    assert editor.save_current() is not None
    editor.close()

    names = [window.panel.personas.item(row).text() for row in range(window.panel.personas.count())]
    assert "late-train" in names
    window.panel.set_chosen_personas(["late-train"])
    window.panel.branches.setValue(2)
    window.panel.max_new_tokens.setValue(16)
    window.idea_entry.setPlainText("What could a train station offer at night?")
    assert window.grow_idea()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=REAL_MODEL_TIMEOUT_MS)

    children = window.session.tree.children(window.session.tree.root_id)
    assert len(children) == 2
    assert [child.persona for child in children] == ["late-train", "late-train"]
    assert all(child.text.strip() for child in children)
