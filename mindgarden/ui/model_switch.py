"""Model switching in the main window: checks on the GUI thread, load on the worker, fallback to the previous model."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox

from mindgarden.core.errors import MindGardenError
from mindgarden.engine.library import DiscoveryRoots
from mindgarden.engine.memory import memory_warning
from mindgarden.engine.types import Engine
from mindgarden.ui.model_source import LocalModel, ModelSource, RemoteModel, SwitchOutcome, check_model_file
from mindgarden.ui.models_dialog import ModelsDialog

log = logging.getLogger(__name__)

GGUF_FILTER = "GGUF models (*.gguf);;All files (*)"


def dropped_model_path(mime: QMimeData) -> Path | None:
    """Return the path of the one local .gguf file in ``mime``, else None."""
    urls = mime.urls() if mime.hasUrls() else []
    if len(urls) != 1 or not urls[0].isLocalFile():
        return None
    path = Path(urls[0].toLocalFile())
    return path if path.suffix.lower() == ".gguf" else None


class ModelSwitchMixin:
    """Open model file, Models dialog, drag and drop, and the switch itself, for MainWindow."""

    def _init_model_switch(self) -> None:
        self.model_source: ModelSource | None = None
        # API keys entered in Settings while no system keyring works, by server address; never saved.
        self.session_api_keys: dict[str, str] = {}
        self.memory_box: QMessageBox | None = None
        self.model_file_dialog: QFileDialog | None = None
        self.models_dialog: ModelsDialog | None = None
        # An engine passed to the window while a switch runs: it comes back if the switch fails.
        self._borrowed_engine: Engine | None = None
        self.setAcceptDrops(True)
        self.runner.model_switched.connect(self._on_model_switched)
        self.runner.load_progress.connect(self.status.show_load_progress)
        self.runner.restoring.connect(self.status.show_restoring)
        self.status.cancel_button.clicked.connect(self.cancel_model_load)

    def _build_model_actions(self, file_menu: QMenu, before: QAction | None) -> None:
        self.open_model_action = QAction("Open &model file…", self)
        self.open_model_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.open_model_action.setStatusTip("Load a GGUF model file, replacing the loaded model")
        self.open_model_action.triggered.connect(self.show_model_file_dialog)
        self.models_action = QAction("&Models…", self)
        self.models_action.setStatusTip("List the GGUF models found on this computer, then load, add or remove one")
        self.models_action.triggered.connect(self.show_models_dialog)
        for action in (self.open_model_action, self.models_action):
            self.addAction(action)
            file_menu.insertAction(before, action)

    def _update_model_actions(self, busy: bool) -> None:
        self.open_model_action.setEnabled(not busy and not self.runner.loading)

    # -- switching ------------------------------------------------------------------

    def switch_model(self, path: str | Path) -> bool:
        """Check a GGUF file here, then load it on the worker in place of the current model.

        An invalid file shows a message naming it and leaves the current model loaded. When
        the model probably does not fit in free memory, the user is asked first. Returns
        whether the load started or waits for the user's choice.
        """
        path = Path(path).expanduser()
        if not self._can_switch():
            return False
        try:
            info = check_model_file(path)
        except MindGardenError as error:
            self._report(error)
            return False

        # Imported here because llama_engine loads llama.cpp's shared libraries.
        from mindgarden.engine.llama_engine import DEFAULT_MAX_CONTEXT

        context = min(info.context_length or DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT)
        try:
            warning = memory_warning(path, context)
        except MindGardenError as error:
            self._report(error)
            return False
        if warning is None:
            self._start_switch(LocalModel(path, self.settings.gpu_layers))
            return True
        log.warning("Memory warning before loading %s: %s", path, warning)
        self._ask_memory(warning, LocalModel(path, self.settings.gpu_layers))
        return True

    def switch_to_remote(self, base_url: str, model: str) -> bool:
        """Use the model ``model`` on the server at ``base_url`` in place of the current model.

        An invalid address or an empty model name shows a message and keeps the current
        model. Returns whether the switch started.
        """
        from mindgarden.engine.remote_http import parse_base_url

        if not self._can_switch():
            return False
        try:
            address = parse_base_url(base_url)
        except MindGardenError as error:
            self._report(error)
            return False
        if not model.strip():
            self.show_message(f"No model name is set for the server at {address.base_url}. "
                              "Enter the name the server serves in Settings → Remote server.")
            return False
        api_key = self.session_api_keys.get(address.base_url)
        self._start_switch(RemoteModel(address.base_url, model.strip(), api_key))
        return True

    def _can_switch(self) -> bool:
        if self.runner.busy:
            self.show_message("An expansion is running. Stop it (Esc) or let it finish, then load the model again.")
            return False
        if self.runner.loading:
            self.statusBar().showMessage("A model is already loading; wait for it or press Cancel.", 5000)
            return False
        return True

    def _ask_memory(self, warning: str, source: ModelSource) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Not enough free memory", f"{warning}\n\nLoad it anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Yes).setText("Load anyway")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda result: self._on_memory_answer(box, result, source))
        self.memory_box = box
        box.open()

    def _on_memory_answer(self, box: QMessageBox, result: int, source: ModelSource) -> None:
        if self.memory_box is box:
            self.memory_box = None
        if result == QMessageBox.StandardButton.Yes and self._can_switch():
            self._start_switch(source)
        else:
            log.info("Not loading %s after the memory warning", source.name)

    def _start_switch(self, source: ModelSource) -> None:
        # A borrowed engine (passed to the window) is never closed, so it stays usable as the fallback.
        previous_engine = self.engine if self._owns_engine else None
        previous_source = self.model_source if self._owns_engine else None
        self._borrowed_engine = None if self._owns_engine else self.engine
        self.engine = None
        self.grower = None
        self._owns_engine = False
        log.info("Switching to model %s", source.name)
        self.status.show_loading(source.name)
        self.runner.switch_model(source, previous_engine, previous_source)
        self._update_actions()

    def cancel_model_load(self) -> None:
        """Stop the running model load; the previous model is loaded again."""
        if self.runner.loading:
            self.statusBar().showMessage("Cancelling the model load…", 5000)
            self.runner.cancel_load()

    def _on_model_switched(self, outcome: SwitchOutcome) -> None:
        engine, owned = outcome.engine, True
        if engine is None and self._borrowed_engine is not None:
            engine, owned = self._borrowed_engine, False
        self._borrowed_engine = None

        lines = self._switch_messages(outcome, engine)
        if engine is None:
            self.model_source = None
            self.status.show_no_model()
            self._expand_when_loaded = None
            self._update_actions()
        else:
            self.model_source = outcome.source if owned else None
            self._adopt_engine(engine, owned)
        if lines:
            failed = outcome.failure is not None
            icon = QMessageBox.Icon.Warning if failed else QMessageBox.Icon.Information
            self.show_message("\n\n".join(lines), title="Model not loaded" if failed else "Model loaded", icon=icon)

    @staticmethod
    def _switch_messages(outcome: SwitchOutcome, engine: Engine | None) -> list[str]:
        from mindgarden.engine.llama_engine import LoadCancelled

        lines: list[str] = []
        failure = outcome.failure
        if failure is not None:
            requested = failure
            if isinstance(failure, LoadCancelled):
                requested = "Loading the model was cancelled."
            if outcome.restored:
                lines.append(f"{requested} The previous model, {engine.info.name}, is loaded again.")
            elif engine is not None:
                lines.append(f"{requested} The previous model, {engine.info.name}, stays in use.")
            else:
                lines.append(str(requested))
        if outcome.restore_error is not None:
            lines.append(f"Loading the previous model again failed too: {outcome.restore_error} "
                         "Choose a model with File → Open model file… or File → Models….")
        notices = list(getattr(outcome.engine, "notices", []) or [])
        for notice in notices:
            log.warning("Model notice for %s: %s", outcome.source.name, notice)
        return lines + notices

    # -- choosing a file ------------------------------------------------------------

    def show_model_file_dialog(self) -> QFileDialog:
        """Show a window-modal file dialog for a GGUF file; choosing one calls switch_model."""
        folder = str(Path(self.model_source.path).parent) if isinstance(self.model_source, LocalModel) else ""
        dialog = QFileDialog(self, "Open a GGUF model", folder, GGUF_FILTER)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.switch_model)
        dialog.finished.connect(lambda _result: setattr(self, "model_file_dialog", None))
        self.model_file_dialog = dialog
        dialog.open()
        return dialog

    def show_models_dialog(self, roots: DiscoveryRoots | None = None) -> ModelsDialog:
        """Show the Models dialog; ``roots`` None scans the default folders of each app."""
        if self.models_dialog is not None:
            self.models_dialog.close()
        dialog = ModelsDialog(roots, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.load_requested.connect(self.switch_model)
        dialog.finished.connect(lambda _result, shown=dialog: self._forget_models_dialog(shown))
        self.models_dialog = dialog
        dialog.open()
        return dialog

    def _forget_models_dialog(self, dialog: ModelsDialog) -> None:
        if self.models_dialog is dialog:
            self.models_dialog = None

    # -- drag and drop --------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_model_path(event.mimeData()) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_model_path(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        log.info("Model file %s dropped on the window", path)
        self.switch_model(path)
