"""The Models dialog: GGUF models found on this computer, scanned off the GUI thread, to load, add or remove."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.errors import MindGardenError, StorageError
from mindgarden.engine.library import (
    DiscoveryRoots,
    ModelEntry,
    add_model,
    discover,
    load_user_models,
    remove_model,
)

log = logging.getLogger(__name__)

COLUMNS = ("Name", "Source", "Architecture", "Parameters", "Quantization", "Size", "Context",
           "Chat template", "License", "Status")
SOURCE_LABELS = {"ollama": "Ollama", "lmstudio": "LM Studio", "gpt4all": "GPT4All",
                 "huggingface": "Hugging Face", "file": "File"}
MIB = 1 << 20
GIB = 1 << 30


@dataclass(frozen=True)
class Discovery:
    """Result of one scan: the models found and which of their files the user added by hand."""

    entries: list[ModelEntry]
    user_added: frozenset[Path]


def format_size(size: int) -> str:
    """Return a file size as GiB from 1 GiB up, else MiB."""
    if size >= GIB:
        return f"{size / GIB:.1f} GiB"
    return f"{size / MIB:.0f} MiB"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def scan(roots: DiscoveryRoots | None) -> Discovery:
    """Run model discovery; it reads file headers, so call it off the GUI thread."""
    entries = discover(roots)
    list_path = roots.user_list if roots is not None else None
    try:
        user_added = frozenset(_resolved(path) for path in load_user_models(list_path))
    except StorageError as error:
        log.error("Cannot read the list of added models: %s", error)
        user_added = frozenset()
    return Discovery(entries, user_added)


class ModelsDialog(QDialog):
    """Table of discovered models with Load, Add file… and Remove.

    Args:
        roots: the folders to scan; None scans each app's default folders. Tests pass
            temporary folders here so they never read the user's real models.
    """

    load_requested = Signal(str)
    """Emitted with the path of the model the user chose to load."""
    scanned = Signal()
    """Emitted after the table shows a finished scan."""
    _discovered = Signal(int, object)
    _discovery_failed = Signal(int, object)

    def __init__(self, roots: DiscoveryRoots | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models")
        self.resize(980, 420)
        self.roots = roots
        self.entries: list[ModelEntry] = []
        self.user_added: frozenset[Path] = frozenset()
        self.message_box: QMessageBox | None = None
        self.file_dialog: QFileDialog | None = None
        self._generation = 0
        # A private pool with one thread, so closing the dialog can wait for its scan.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._discovered.connect(self._on_discovered)
        self._discovery_failed.connect(self._on_discovery_failed)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.load_selected())
        self.state = QLabel("")

        self.load_button = QPushButton("Load")
        self.load_button.setToolTip("Load the selected model in place of the loaded one")
        self.load_button.clicked.connect(self.load_selected)
        self.add_button = QPushButton("Add file…")
        self.add_button.setToolTip("Add a GGUF file from any folder to this list")
        self.add_button.clicked.connect(self.show_add_dialog)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove a file you added from this list; the file itself stays on disk")
        self.remove_button.clicked.connect(self.remove_selected)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        close_box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close_box.rejected.connect(self.reject)

        buttons = QHBoxLayout()
        for button in (self.load_button, self.add_button, self.remove_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close_box)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.state)
        layout.addLayout(buttons)
        self._update_buttons()
        self.refresh()

    # -- scanning -------------------------------------------------------------------

    @property
    def scanning(self) -> bool:
        return self._pool.activeThreadCount() > 0

    def refresh(self) -> None:
        """Scan the model folders again on the dialog's worker thread."""
        self._generation += 1
        generation, roots = self._generation, self.roots
        self.state.setText("Looking for models…")
        self.refresh_button.setEnabled(False)

        def job() -> None:
            # Runs on the pool thread: it emits signals and touches no widget.
            try:
                found = scan(roots)
            except Exception as error:  # handed to the GUI thread, which reports or raises it
                log.debug("Model discovery raised on the worker", exc_info=True)
                self._discovery_failed.emit(generation, error)
                return
            self._discovered.emit(generation, found)

        self._pool.start(job)

    def _on_discovered(self, generation: int, found: Discovery) -> None:
        if generation != self._generation:
            return
        self.refresh_button.setEnabled(True)
        self.show_entries(found.entries, found.user_added)
        self.scanned.emit()

    def _on_discovery_failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.refresh_button.setEnabled(True)
        if isinstance(error, (MindGardenError, OSError)):
            log.error("Model discovery failed: %s", error)
            self.state.setText(f"Looking for models failed: {error}")
            self.scanned.emit()
            return
        raise error

    def show_entries(self, entries: list[ModelEntry], user_added: frozenset[Path] = frozenset()) -> None:
        """Fill the table; unusable models are greyed, with the reason as their tooltip."""
        self.entries = list(entries)
        self.user_added = user_added
        self.table.setRowCount(0)
        self.table.setRowCount(len(self.entries))
        grey = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for row, entry in enumerate(self.entries):
            for column, text in enumerate(self._row_texts(entry)):
                item = QTableWidgetItem(text)
                if entry.usable:
                    item.setToolTip(str(entry.path))
                else:
                    item.setForeground(grey)
                    item.setToolTip(entry.error)
                self.table.setItem(row, column, item)
        unusable = sum(1 for entry in self.entries if not entry.usable)
        self.state.setText(f"{len(self.entries)} models found, {unusable} unusable (hover a grey row for why)."
                           if unusable else f"{len(self.entries)} models found.")
        self._update_buttons()

    @staticmethod
    def _row_texts(entry: ModelEntry) -> list[str]:
        context = f"{entry.context_length:,}" if entry.context_length else ""
        if not entry.usable:
            chat = ""
        else:
            chat = "yes" if entry.has_chat_template else "no"
        return [
            entry.name,
            SOURCE_LABELS.get(entry.source, entry.source),
            entry.architecture or "",
            entry.parameter_label or "",
            entry.quantization or "",
            format_size(entry.file_size) if entry.file_size else "",
            context,
            chat,
            entry.license or "",
            "Ready" if entry.usable else "Unusable",
        ]

    # -- actions --------------------------------------------------------------------

    def selected_entry(self) -> ModelEntry | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.entries[rows[0].row()]

    def select_row(self, row: int) -> None:
        self.table.selectRow(row)

    def _update_buttons(self) -> None:
        entry = self.selected_entry()
        self.load_button.setEnabled(entry is not None and entry.usable)
        self.remove_button.setEnabled(entry is not None and _resolved(entry.path) in self.user_added)

    def load_selected(self) -> bool:
        """Ask the window to load the selected model. Returns whether one was requested."""
        entry = self.selected_entry()
        if entry is None or not entry.usable:
            return False
        log.info("Loading model %s (%s) from the Models dialog", entry.name, entry.path)
        self.load_requested.emit(str(entry.path))
        return True

    def show_add_dialog(self) -> QFileDialog:
        dialog = QFileDialog(self, "Add a GGUF model", "", "GGUF models (*.gguf);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.add_file)
        dialog.finished.connect(lambda _result: setattr(self, "file_dialog", None))
        self.file_dialog = dialog
        dialog.open()
        return dialog

    def add_file(self, path: str | Path) -> bool:
        """Add a GGUF file to the user's model list and scan again. Returns whether it was added."""
        list_path = self.roots.user_list if self.roots is not None else None
        try:
            add_model(path, list_path)
        except MindGardenError as error:
            self._show_message(str(error))
            return False
        self.refresh()
        return True

    def remove_selected(self) -> bool:
        """Remove the selected model from the user's list; the file stays on disk. Returns whether it was listed."""
        entry = self.selected_entry()
        if entry is None:
            return False
        list_path = self.roots.user_list if self.roots is not None else None
        try:
            removed = remove_model(entry.path, list_path)
        except MindGardenError as error:
            self._show_message(str(error))
            return False
        if not removed:
            self._show_message(f"{entry.path} was found in an app's model folder, not added with Add file…, "
                               "so it cannot be removed from this list. Delete or move it in that app.")
            return False
        self.refresh()
        return True

    def _show_message(self, text: str) -> None:
        log.warning("Models dialog: %s", text)
        if self.message_box is not None:
            self.message_box.close()
        box = QMessageBox(QMessageBox.Icon.Warning, "Models", text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "message_box", None))
        self.message_box = box
        box.open()

    def done(self, result: int) -> None:
        """Close the dialog after its scan ends, so the scan never emits to a deleted dialog."""
        # NOTE: this blocks the GUI thread while a scan of slow folders (network drives) finishes.
        self._generation += 1
        self._pool.waitForDone()
        super().done(result)
