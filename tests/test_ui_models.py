"""Model switching, load progress and Cancel, the Models dialog and the remote server setting, offscreen."""

from __future__ import annotations

import json
import os
import shutil
import struct
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from mindgarden.core.settings import load_settings, settings_path
from mindgarden.engine.fake import ScriptedEngine
from mindgarden.engine.library import DiscoveryRoots
from mindgarden.ui import model_switch
from mindgarden.ui.main_window import MainWindow
from mindgarden.ui.runner import THREAD_NAME

pytestmark = [
    pytest.mark.qt_log_level_fail("WARNING"),
    # The offscreen platform plugin cannot size or raise windows and warns about it.
    pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints", "This plugin does not support raise"),
]

LOAD_TIMEOUT_MS = 120_000
REAL_MODEL_TIMEOUT_MS = 300_000

# GGUF metadata value types, from the GGUF specification.
UINT16 = 2
UINT32 = 4
STRING = 8


def gguf_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def gguf_file(path: Path, metadata: dict[str, tuple[int, object]], version: int = 3) -> Path:
    """Write a GGUF header with ``metadata`` ({key: (type, value)}) and no tensors."""
    body = b"GGUF" + struct.pack("<I", version) + struct.pack("<Q", 0) + struct.pack("<Q", len(metadata))
    for key, (value_type, value) in metadata.items():
        body += gguf_string(key) + struct.pack("<I", value_type)
        if value_type == STRING:
            body += gguf_string(value)
        elif value_type == UINT16:
            body += struct.pack("<H", value)
        else:
            body += struct.pack("<I", value)
    path.write_bytes(body)
    return path


def missing_file(folder: Path, _model: Path) -> Path:
    return folder / "missing.gguf"


def text_file(folder: Path, _model: Path) -> Path:
    path = folder / "notes.gguf"
    path.write_text("These are notes, not a model.\n", encoding="utf-8")
    return path


def wrong_version(folder: Path, _model: Path) -> Path:
    return gguf_file(folder / "version-99.gguf", {"general.architecture": (STRING, "llama")}, version=99)


def truncated_copy(folder: Path, model: Path) -> Path:
    path = folder / "truncated.gguf"
    with model.open("rb") as source:
        path.write_bytes(source.read(model.stat().st_size // 2))
    return path


def split_part(folder: Path, _model: Path) -> Path:
    return gguf_file(folder / "split-00001-of-00002.gguf",
                     {"general.architecture": (STRING, "llama"), "split.count": (UINT16, 2)})


def folder_path(folder: Path, _model: Path) -> Path:
    path = folder / "a-folder.gguf"
    path.mkdir()
    return path


def unreadable_file(folder: Path, model: Path) -> Path:
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    path = folder / "unreadable.gguf"
    shutil.copyfile(model, path)
    path.chmod(0)
    return path


BAD_FILES = [missing_file, text_file, wrong_version, truncated_copy, split_part, folder_path, unreadable_file]


def unknown_architecture(folder: Path) -> Path:
    """A valid GGUF header that llama.cpp rejects: an architecture it does not know, zero tensors."""
    return gguf_file(folder / "unknown-arch.gguf", {"general.architecture": (STRING, "no-such-architecture")})


def inference_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]


def switch(qtbot, window: MainWindow, path: Path) -> None:
    """Switch to ``path`` and wait until the window has handled the outcome."""
    with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
        assert window.switch_model(path)


@pytest.fixture
def loaded_window(make_window, qtbot, model_path):
    """A window that loaded the bundled model itself, so it owns the engine."""
    window = make_window()
    switch(qtbot, window, model_path)
    assert window.engine is not None
    assert window.engine.ctx is not None
    return window


def close_message(window: MainWindow) -> str:
    box = window.message_box
    assert box is not None
    text = box.text()
    box.close()
    return text


@pytest.mark.parametrize("make_bad_file", BAD_FILES, ids=lambda function: function.__name__)
def test_bad_file_keeps_previous_model(loaded_window, tmp_path, model_path, make_bad_file):
    window = loaded_window
    previous = window.engine
    status_before = window.status.model.text()
    bad = make_bad_file(tmp_path, model_path)

    assert not window.switch_model(bad)

    assert str(bad) in close_message(window)
    assert window.engine is previous
    assert previous.ctx is not None
    assert not window.runner.loading
    assert window.status.model.text() == status_before
    assert window.status.progress.isHidden()


def test_native_failure_reloads_previous(loaded_window, qtbot, tmp_path, model_path, monkeypatch):
    window = loaded_window
    # The crafted header has no sizes, so the memory estimate falls back to large defaults.
    monkeypatch.setattr(model_switch, "memory_warning", lambda _path, _n_ctx: None)
    bad = unknown_architecture(tmp_path)

    switch(qtbot, window, bad)

    text = close_message(window)
    assert str(bad) in text
    assert model_path.name in text
    assert window.engine is not None
    assert window.engine.info.path == str(model_path)
    assert window.engine.ctx is not None
    assert window.status.model.text().startswith(model_path.name)

    window.panel.max_new_tokens.setValue(4)
    window.idea_entry.setPlainText("Name one use for a paperclip.")
    assert window.grow_idea()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=REAL_MODEL_TIMEOUT_MS)
    children = window.session.tree.children(window.session.tree.root_id)
    assert children
    assert any(child.text for child in children)


def test_switch_to_copy_changes_status(loaded_window, qtbot, tmp_path, model_path):
    window = loaded_window
    copy = tmp_path / "copy-of-smol.gguf"
    shutil.copyfile(model_path, copy)
    previous = window.engine

    switch(qtbot, window, copy)

    assert window.message_box is None
    assert window.engine is not previous
    assert previous.ctx is None
    assert window.engine.info.path == str(copy)
    assert window.status.model.text().startswith("copy-of-smol.gguf · ")
    assert window.status.progress.isHidden()
    assert window.status.progress.value() > 0


def test_cancel_keeps_previous_model(loaded_window, qtbot, tmp_path, model_path):
    window = loaded_window
    copy = tmp_path / "never-loaded.gguf"
    shutil.copyfile(model_path, copy)
    gate = threading.Event()
    # Hold the single worker, so Cancel is pressed before the load reports any progress.
    window.runner._executor.submit(gate.wait)
    try:
        with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
            assert window.switch_model(copy)
            assert window.status.cancel_button.isVisible()
            assert window.status.model.text() == "Loading model…"
            window.status.cancel_button.click()
            gate.set()
    finally:
        gate.set()

    text = close_message(window)
    assert "cancelled" in text
    assert model_path.name in text
    assert window.engine.info.path == str(model_path)
    assert window.engine.ctx is not None
    assert window.status.model.text().startswith(model_path.name)
    assert window.status.cancel_button.isHidden()


def test_memory_warning_cancel_loads_nothing(make_window, tmp_path, monkeypatch):
    engine = ScriptedEngine()
    window = make_window(engine)
    monkeypatch.setattr(model_switch, "memory_warning", lambda path, _n_ctx: f"{Path(path).name} is too big.")
    candidate = unknown_architecture(tmp_path)

    assert window.switch_model(candidate)
    box = window.memory_box
    assert box is not None
    assert "unknown-arch.gguf is too big." in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()

    assert window.memory_box is None
    assert not window.runner.loading
    assert window.engine is engine


def test_failed_switch_keeps_borrowed_engine(make_window, qtbot, tmp_path, monkeypatch):
    engine = ScriptedEngine()
    window = make_window(engine)
    monkeypatch.setattr(model_switch, "memory_warning", lambda _path, _n_ctx: None)
    bad = unknown_architecture(tmp_path)

    switch(qtbot, window, bad)

    text = close_message(window)
    assert str(bad) in text
    assert "stays in use" in text
    assert window.engine is engine


def drop_events(path: Path) -> tuple[QDragEnterEvent, QDropEvent, QMimeData]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    return enter, drop, mime


def test_drop_gguf_switches_model(loaded_window, qtbot, tmp_path, model_path):
    window = loaded_window
    copy = tmp_path / "dropped.gguf"
    shutil.copyfile(model_path, copy)
    enter, drop, _mime = drop_events(copy)

    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
        QApplication.sendEvent(window, drop)

    assert window.engine.info.path == str(copy)
    assert window.status.model.text().startswith("dropped.gguf · ")


def test_drop_other_file_is_ignored(make_window, tmp_path):
    window = make_window(ScriptedEngine())
    notes = tmp_path / "notes.txt"
    notes.write_text("not a model", encoding="utf-8")
    enter, _drop, mime = drop_events(notes)

    QApplication.sendEvent(window, enter)

    assert not enter.isAccepted()
    assert window.idea_entry.canInsertFromMimeData(mime)
    assert not window.idea_entry.canInsertFromMimeData(drop_events(tmp_path / "model.gguf")[2])


def test_open_model_file_dialog_switches(loaded_window, qtbot, tmp_path, model_path):
    window = loaded_window
    copy = tmp_path / "chosen.gguf"
    shutil.copyfile(model_path, copy)
    dialog = window.show_model_file_dialog()
    assert window.model_file_dialog is dialog

    with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
        dialog.fileSelected.emit(str(copy))
    dialog.reject()

    assert window.engine.info.path == str(copy)


@pytest.fixture
def gpt4all_roots(tmp_path, model_path) -> DiscoveryRoots:
    """A GPT4All-style download folder with one working model and one broken file."""
    folder = tmp_path / "GPT4All"
    folder.mkdir()
    (folder / "smol.gguf").symlink_to(model_path)
    (folder / "broken.gguf").write_text("not a model", encoding="utf-8")
    return DiscoveryRoots(gpt4all=(folder,), user_list=tmp_path / "models.json")


def open_models_dialog(window: MainWindow, qtbot, roots: DiscoveryRoots):
    dialog = window.show_models_dialog(roots)
    qtbot.waitUntil(lambda: bool(dialog.entries) and not dialog.scanning, timeout=LOAD_TIMEOUT_MS)
    return dialog


def row_of(dialog, name: str) -> int:
    return [entry.name for entry in dialog.entries].index(name)


def cell(dialog, row: int, column: str) -> str:
    from mindgarden.ui.models_dialog import COLUMNS

    return dialog.table.item(row, COLUMNS.index(column)).text()


def test_models_dialog_lists_gpt4all_folder(make_window, qtbot, gpt4all_roots):
    window = make_window(ScriptedEngine())
    dialog = open_models_dialog(window, qtbot, gpt4all_roots)

    assert dialog.table.rowCount() == 2
    good = row_of(dialog, "smol.gguf")
    assert cell(dialog, good, "Source") == "GPT4All"
    assert cell(dialog, good, "Architecture") == "llama"
    assert cell(dialog, good, "Quantization") == "Q4_1"
    assert cell(dialog, good, "Parameters") == "135M"
    assert cell(dialog, good, "Chat template") == "yes"
    assert cell(dialog, good, "Size") == "94 MiB"
    assert cell(dialog, good, "Status") == "Ready"

    broken = row_of(dialog, "broken.gguf")
    item = dialog.table.item(broken, 0)
    assert cell(dialog, broken, "Status") == "Unusable"
    assert "not a GGUF model file" in item.toolTip()
    grey = dialog.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    assert item.foreground().color() == grey

    dialog.select_row(broken)
    assert not dialog.load_button.isEnabled()
    assert not dialog.remove_button.isEnabled()
    dialog.reject()


def test_models_dialog_load_switches(make_window, qtbot, gpt4all_roots):
    window = make_window()
    dialog = open_models_dialog(window, qtbot, gpt4all_roots)
    dialog.select_row(row_of(dialog, "smol.gguf"))
    assert dialog.load_button.isEnabled()

    with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
        dialog.load_button.click()
    dialog.reject()

    assert window.engine is not None
    assert window.status.model.text().startswith("smol.gguf · ")


def test_models_dialog_add_and_remove(make_window, qtbot, gpt4all_roots, tmp_path, model_path):
    window = make_window(ScriptedEngine())
    dialog = open_models_dialog(window, qtbot, gpt4all_roots)
    extra = tmp_path / "elsewhere" / "added.gguf"
    extra.parent.mkdir()
    shutil.copyfile(model_path, extra)

    with qtbot.waitSignal(dialog.scanned, timeout=LOAD_TIMEOUT_MS):
        assert dialog.add_file(extra)
    added = row_of(dialog, "added.gguf")
    assert cell(dialog, added, "Source") == "File"
    assert json.loads(gpt4all_roots.user_list.read_text(encoding="utf-8"))["models"] == [str(extra.resolve())]

    dialog.select_row(added)
    assert dialog.remove_button.isEnabled()
    with qtbot.waitSignal(dialog.scanned, timeout=LOAD_TIMEOUT_MS):
        dialog.remove_button.click()
    assert "added.gguf" not in [entry.name for entry in dialog.entries]
    assert extra.is_file()

    assert not dialog.add_file(tmp_path / "missing.gguf")
    assert str(tmp_path / "missing.gguf") in dialog.message_box.text()
    dialog.message_box.close()
    dialog.reject()


def test_remote_settings_keep_key_out_of_file(make_window, qtbot, monkeypatch):
    from mindgarden.engine import remote
    from mindgarden.engine.remote import RemoteEngine

    stored: dict[str, str] = {}
    monkeypatch.setattr(remote, "store_api_key", lambda url, key: stored.update({url: key}) or True)
    # No keyring is read: the window passes the key it was given in Settings.
    monkeypatch.setattr(remote, "load_api_key", lambda _url: None)
    window = make_window(ScriptedEngine())
    dialog = window.show_settings_dialog()
    dialog.use_remote.setChecked(True)
    dialog.remote_url.setText("http://127.0.0.1:9/")
    dialog.remote_model.setText("tiny-model")
    dialog.api_key_edit.setText("secret-key-123")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()

    saved_text = settings_path().read_text(encoding="utf-8")
    assert "secret-key-123" not in saved_text
    # Keyed like RemoteEngine reads it: the address without the API path or a trailing slash.
    assert stored == {"http://127.0.0.1:9": "secret-key-123"}
    reloaded, problems = load_settings()
    assert problems == []
    assert reloaded.use_remote is True
    assert reloaded.remote_base_url == "http://127.0.0.1:9/"
    assert reloaded.remote_model == "tiny-model"

    with qtbot.waitSignal(window.runner.model_switched, timeout=LOAD_TIMEOUT_MS):
        assert window.load_model_from_settings()
    assert isinstance(window.engine, RemoteEngine)
    assert window.engine.model == "tiny-model"
    assert window.engine.has_api_key
    assert window.status.model.text() == "tiny-model · remote"


def test_remote_invalid_address_keeps_model(make_window):
    engine = ScriptedEngine()
    window = make_window(engine)

    assert not window.switch_to_remote("ftp://example.invalid", "tiny-model")

    assert "ftp://example.invalid" in close_message(window)
    assert window.engine is engine
    assert not window.runner.loading
