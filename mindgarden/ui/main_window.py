"""The main window: idea entry, garden canvas, compare view, reading pane, expansion panel and status bar."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.errors import InvalidInputError, MindGardenError
from mindgarden.core.personas import Persona, load_personas
from mindgarden.core.sampling import ExpansionPlan
from mindgarden.core.settings import Settings
from mindgarden.core.store import Session, SessionStore
from mindgarden.core.tree import validate_idea
from mindgarden.engine.growth import Grower, PreparedExpansion
from mindgarden.engine.types import Engine
from mindgarden.ui.canvas import GardenCanvas
from mindgarden.ui.compare import CompareView
from mindgarden.ui.curation import CurationMixin
from mindgarden.ui.dialogs import EditThoughtDialog, OpenSessionDialog
from mindgarden.ui.expansion_panel import ExpansionPanel
from mindgarden.ui.idea_entry import IdeaEntry
from mindgarden.ui.inline_editor import InlineEditor
from mindgarden.ui.model_switch import ModelSwitchMixin
from mindgarden.ui.reading_pane import ReadingPane
from mindgarden.ui.runner import InferenceRunner
from mindgarden.ui.status import StatusIndicators
from mindgarden.ui.tree_model import ThoughtTreeModel
from mindgarden.ui.workspace import WorkspaceMixin

log = logging.getLogger(__name__)

SESSION_NAME_CHARS = 40
CLOSE_TIMEOUT_SECONDS = 5.0


class MainWindow(CurationMixin, WorkspaceMixin, ModelSwitchMixin, QMainWindow):
    """Grows and curates one session's thought tree.

    Args:
        engine: an already loaded engine, which the window uses but does not close. Pass
            None and call ``switch_model`` to load one on the worker thread instead.
        store: the session database; the default opens the one in the user data folder.
        personas: persona states by name; the default loads the bundled and user ones.
        settings: user settings; the default loads them from the data folder. An invalid
            value there falls back to its default, and ``settings_problems`` lists why.
    """

    def __init__(self, engine: Engine | None = None, store: SessionStore | None = None,
                 personas: dict[str, Persona] | None = None, parent: QWidget | None = None,
                 settings: Settings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("MindGarden")
        self.resize(1280, 780)
        self._owns_store = store is None
        self.store = store or SessionStore()
        self.personas = personas if personas is not None else load_personas()
        self.engine: Engine | None = engine
        self.session: Session | None = None
        self.grower: Grower | None = None
        # Expansions requested while one runs wait here: (node id, plan as it was requested).
        self.queued: list[tuple[str, ExpansionPlan]] = []
        self.message_box: QMessageBox | None = None
        self.edit_dialog: EditThoughtDialog | None = None
        self.open_dialog: OpenSessionDialog | None = None
        self.delete_box: QMessageBox | None = None
        self._owns_engine = False
        self._expand_when_loaded: str | None = None

        self.model = ThoughtTreeModel(self)
        self.runner = InferenceRunner(self)
        self.undo_stack = QUndoStack(self)
        self.status = StatusIndicators(self.statusBar())
        self._build_widgets()
        self._init_workspace(settings)
        self._build_actions()
        self._connect_runner()
        self._init_model_switch()
        if engine is not None:
            self.status.show_model(engine.info)
        self._update_actions()

    # -- layout -------------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.idea_entry = IdeaEntry()
        self.idea_entry.setPlaceholderText("Type an idea or an open question, then press Grow (Ctrl+Return)")
        self.idea_entry.setFixedHeight(self.idea_entry.fontMetrics().lineSpacing() * 3 + 14)
        self.idea_entry.submitted.connect(self.grow_idea)
        self.grow_button = QPushButton("Grow")
        self.grow_button.setToolTip("Start a new session from the idea and expand it")
        self.grow_button.clicked.connect(self.grow_idea)
        idea_row = QHBoxLayout()
        idea_row.addWidget(self.idea_entry, 1)
        idea_row.addWidget(self.grow_button, 0, Qt.AlignmentFlag.AlignTop)

        self.tree_view = QTreeView()
        self.tree_view.setModel(self.model)
        self.tree_view.setUniformRowHeights(True)
        self.tree_view.setAlternatingRowColors(True)
        header = self.tree_view.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree_view.selectionModel().currentChanged.connect(self._on_current_changed)
        self.model.rowsInserted.connect(self._on_rows_inserted)

        self.canvas = GardenCanvas()
        self.canvas.current_changed.connect(self._on_canvas_current_changed)
        self.canvas.rank_requested.connect(self.set_rank)
        self.canvas.rank_mode_changed.connect(self._on_rank_mode_changed)
        self.compare = CompareView()
        self.compare.picked.connect(self.select_node)
        self.compare.rank_requested.connect(self.set_rank)
        self.compare.star_requested.connect(self.set_starred)
        self.compare.prune_requested.connect(self.set_pruned)
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)
        self.views = QTabWidget()
        self.views.addTab(self.canvas, "Garden")
        self.views.addTab(self.compare, "Compare siblings")
        self.views.addTab(self.tree_view, "List")
        self.views.currentChanged.connect(self._on_view_tab_changed)

        self.reading_pane = ReadingPane(self.model)
        self.inline_editor = InlineEditor()
        self.inline_editor.save_requested.connect(self._save_edit)
        reading_column = QSplitter(Qt.Orientation.Vertical)
        reading_column.addWidget(self.reading_pane)
        reading_column.addWidget(self.inline_editor)
        reading_column.setStretchFactor(0, 3)
        reading_column.setStretchFactor(1, 1)
        self.panel = ExpansionPanel(self.personas)
        self.panel.setMinimumWidth(250)
        self.panel.expand_requested.connect(self.expand_selected)
        self.panel.stop_requested.connect(self.stop_expansion)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.views)
        splitter.addWidget(reading_column)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 0)
        splitter.setSizes([560, 440, 280])

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(idea_row)
        layout.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        def action(text: str, keys: list, slot: Callable[[], object], tip: str) -> QAction:
            created = QAction(text, self)
            created.setShortcuts([QKeySequence(key) for key in keys])
            created.setStatusTip(tip)
            created.triggered.connect(slot)
            self.addAction(created)
            return created

        self.new_action = action("&New idea", [QKeySequence.StandardKey.New], self.new_idea,
                                 "Type a new idea to start another session")
        self.open_action = action("&Open session…", [QKeySequence.StandardKey.Open], self.show_open_dialog,
                                  "Open a saved session")
        self.export_action = action("&Export preference pairs…", ["Ctrl+E"], self.show_export_dialog,
                                    "Write starred-versus-pruned siblings as DPO pairs to a JSONL file")
        self.quit_action = action("&Quit", [QKeySequence.StandardKey.Quit], self.close, "Quit MindGarden")
        self.expand_action = action("E&xpand", ["Ctrl+Return", "Return", "Enter"], self.expand_selected,
                                    "Grow branches from the selected thought")
        self.stop_action = action("&Stop", ["Esc"], self.stop_expansion,
                                  "Stop the running expansion and keep its partial text")
        self.star_action = action("S&tar", ["S"], self.toggle_star,
                                  "Star the selected thought: chosen in preference pairs")
        self.prune_action = action("&Prune", ["X"], self.toggle_prune,
                                   "Prune the selected thought: rejected in preference pairs")
        self.edit_action = action("&Edit…", ["E"], self.edit_selected,
                                  "Edit the selected thought; the model's original text is kept")
        self.delete_action = action("&Delete…", [QKeySequence.StandardKey.Delete], self.delete_selected,
                                    "Delete the selected thought and everything grown from it")
        self.rank_action = action("&Rank mode", ["R"], self.toggle_rank_mode,
                                  "Rank siblings with the keys 1 to 9 (equal numbers are ties), 0 clears")
        self.rank_action.setCheckable(True)
        self.compare_action = action("&Compare siblings", ["C"], self.show_compare,
                                     "Show the selected thought and its siblings side by side for blind rating")
        self.garden_action = action("&Garden", ["G"], self.show_garden, "Show the tree as a garden canvas")
        # Own actions rather than createUndoAction: undo and redo pause while branches stream,
        # because redoing a delete could remove a branch the worker is still writing.
        self.undo_action = QAction("&Undo", self)
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self._undo)
        self.redo_action = QAction("&Redo", self)
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.redo_action.triggered.connect(self._redo)
        self.undo_stack.undoTextChanged.connect(lambda text: self.undo_action.setText(f"&Undo {text}".strip()))
        self.undo_stack.redoTextChanged.connect(lambda text: self.redo_action.setText(f"&Redo {text}".strip()))
        self.undo_stack.canUndoChanged.connect(self._update_actions)
        self.undo_stack.canRedoChanged.connect(self._update_actions)
        self.addAction(self.undo_action)
        self.addAction(self.redo_action)

        file_menu = self.menuBar().addMenu("&File")
        for menu_action in (self.new_action, self.open_action, self.export_action):
            file_menu.addAction(menu_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addAction(self.undo_action)
        edit_menu.addAction(self.redo_action)
        self._build_workspace_actions(file_menu, edit_menu)
        self._build_model_actions(file_menu, self.export_action)
        thought_menu = self.menuBar().addMenu("&Thought")
        for menu_action in (self.expand_action, self.stop_action, self.star_action, self.prune_action,
                            self.rank_action, self.edit_action, self.delete_action):
            thought_menu.addAction(menu_action)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.garden_action)
        view_menu.addAction(self.compare_action)

    def _connect_runner(self) -> None:
        self.runner.model_loaded.connect(self._on_model_loaded)
        self.runner.model_failed.connect(self._on_model_failed)
        self.runner.expansion_progress.connect(self.status.show_speed)
        self.runner.expansion_progress.connect(lambda _speed: self.update_saved_indicator())
        self.runner.expansion_finished.connect(self._on_expansion_finished)
        self.runner.expansion_failed.connect(self._on_expansion_failed)

    # -- state --------------------------------------------------------------------

    def selected_node_id(self) -> str | None:
        return self.model.node_id(self.tree_view.currentIndex())

    def select_node(self, node_id: str) -> None:
        """Make ``node_id`` the current row, scrolled into view."""
        index = self.model.index_of(node_id)
        self.tree_view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.tree_view.scrollTo(index)

    def _update_actions(self) -> None:
        busy = self.runner.busy
        has_node = self.selected_node_id() is not None
        for session_action in (self.new_action, self.open_action):
            session_action.setEnabled(not busy)
        self.grow_button.setEnabled(not busy)
        self.expand_action.setEnabled(has_node and self.engine is not None)
        self.stop_action.setEnabled(busy)
        self.panel.set_running(busy)
        self.panel.expand_button.setEnabled(self.expand_action.isEnabled())
        for node_action in (self.star_action, self.prune_action, self.edit_action, self.rank_action,
                            self.compare_action):
            node_action.setEnabled(has_node)
        self.delete_action.setEnabled(has_node and not busy)
        self.undo_action.setEnabled(self.undo_stack.canUndo() and not busy)
        self.redo_action.setEnabled(self.undo_stack.canRedo() and not busy)
        self.export_action.setEnabled(self.session is not None)
        self._update_workspace_actions(busy)
        self._update_model_actions(busy)

    def _undo(self) -> None:
        if not self.runner.busy:
            self.undo_stack.undo()

    def _redo(self) -> None:
        if not self.runner.busy:
            self.undo_stack.redo()

    def show_message(self, text: str, title: str = "MindGarden",
                     icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> QMessageBox:
        """Show ``text`` in a window-modal message box that does not block the event loop."""
        if self.message_box is not None:
            self.message_box.close()
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result, shown=box: self._forget_message(shown))
        self.message_box = box
        box.open()
        self.statusBar().showMessage(text, 10_000)
        return box

    def _forget_message(self, box: QMessageBox) -> None:
        if self.message_box is box:
            self.message_box = None

    def _report(self, error: MindGardenError) -> None:
        log.warning("Reported to the user: %s", error)
        self.show_message(str(error))

    # -- model --------------------------------------------------------------------

    def load_model(self, loader: Callable[[], Engine]) -> None:
        """Load an engine with ``loader`` on the worker thread. The window then owns and closes it."""
        self.status.show_loading()
        self.runner.load_model(loader)

    def _on_model_loaded(self, engine: Engine) -> None:
        self.model_source = None
        self._adopt_engine(engine, owned=True)

    def _adopt_engine(self, engine: Engine, owned: bool) -> None:
        """Use ``engine`` for expansions and start an expansion that waited for a model."""
        self.engine = engine
        self._owns_engine = owned
        self.status.show_model(engine.info)
        if getattr(engine.info, "device", "") == "GPU":
            log.info("Model %s offloads %d layers to the GPU", engine.info.name, engine.info.gpu_layers)
        self.grower = Grower(self.session, engine, self.personas) if self.session is not None else None
        self._update_actions()
        pending, self._expand_when_loaded = self._expand_when_loaded, None
        if pending is not None and self.session is not None and pending in self.session.tree:
            self.select_node(pending)
            self.expand_selected()

    def _on_model_failed(self, error: BaseException) -> None:
        self.status.show_no_model()
        self._expand_when_loaded = None
        if isinstance(error, MindGardenError):
            self._report(error)
            return
        raise error

    # -- sessions -----------------------------------------------------------------

    def _set_session(self, session: Session) -> None:
        if self.session is not None:
            try:
                self.session.close()
            except MindGardenError as error:
                log.error("Saving session %s before switching failed: %s", self.session.id, error)
                self._report(error)
        self.session = session
        self.grower = Grower(session, self.engine, self.personas) if self.engine is not None else None
        self.undo_stack.clear()
        self.queued.clear()
        self.model.set_tree(session.tree)
        self.canvas.tree_scene.set_tree(session.tree)
        if self.find_dialog is not None:
            self.find_dialog.set_tree(session.tree, list(self.personas))
        self.tree_view.expandAll()
        self.setWindowTitle(f"MindGarden: {session.name}")
        self.status.show_saved(True)
        if session.tree.root_id is not None:
            self.select_node(session.tree.root_id)
        self.canvas.fit_to_view()
        self._update_actions()

    def new_idea(self) -> None:
        """Focus the idea entry for a new session."""
        self.idea_entry.selectAll()
        self.idea_entry.setFocus()

    def grow_idea(self) -> bool:
        """Start a new session from the idea entry and expand its root. Returns whether it started."""
        if self.runner.busy:
            return False
        try:
            idea = validate_idea(self.idea_entry.toPlainText())
        except InvalidInputError as error:
            self._report(error)
            return False

        first_line = idea.splitlines()[0][:SESSION_NAME_CHARS].strip()
        try:
            session = self.store.create_session(self.store.unique_name(first_line))
            session.tree.set_root(idea)
        except MindGardenError as error:
            self._report(error)
            return False
        log.info("Growing new session %s from the idea entry", session.id)
        self._set_session(session)
        if self.engine is None:
            self._expand_when_loaded = session.tree.root_id
            self.statusBar().showMessage("The idea is saved; it grows once the model has loaded.")
            return True
        return self.expand_selected()

    def open_session(self, name_or_id: str) -> bool:
        """Replace the shown session with a saved one. Returns whether it opened."""
        if self.runner.busy:
            return False
        try:
            session = self.store.open_session(name_or_id)
        except MindGardenError as error:
            self._report(error)
            return False
        self._set_session(session)
        return True

    def show_open_dialog(self) -> None:
        try:
            sessions = self.store.list_sessions()
        except MindGardenError as error:
            self._report(error)
            return
        dialog = OpenSessionDialog(sessions, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._open_from_dialog(dialog))
        self.open_dialog = dialog
        dialog.open()

    def _open_from_dialog(self, dialog: OpenSessionDialog) -> None:
        session_id = dialog.selected_session_id()
        self.open_dialog = None
        if session_id is not None:
            self.open_session(session_id)

    # -- expansions ---------------------------------------------------------------

    def expand_selected(self) -> bool:
        """Expand the selected node with the panel's plan, or queue it while another expansion runs.

        Returns whether the expansion started or was queued.
        """
        node_id = self.selected_node_id()
        if node_id is None:
            return False
        if self.grower is None:
            self.statusBar().showMessage("The model is not loaded yet.", 5000)
            return False
        try:
            plan = self.panel.plan()
        except MindGardenError as error:
            self._report(error)
            return False
        if self.runner.busy:
            self.queued.append((node_id, plan))
            log.info("Queued an expansion of node %s (%d waiting)", node_id, len(self.queued))
            self.statusBar().showMessage(
                f"Queued: this expansion starts when the current one ends ({len(self.queued)} waiting).", 5000)
            return True
        return self._start_expansion(node_id, plan)

    def _start_next_queued(self) -> None:
        while self.queued and not self.runner.busy:
            node_id, plan = self.queued.pop(0)
            if self.session is not None and node_id in self.session.tree:
                self._start_expansion(node_id, plan)

    def _start_expansion(self, node_id: str, plan: ExpansionPlan) -> bool:
        try:
            prepared = self.grower.prepare(node_id, plan)
        except MindGardenError as error:
            self._report(error)
            return False
        self.runner.start(self.grower, prepared)
        self.tree_view.expand(self.model.index_of(node_id))
        self.canvas.tree_scene.set_collapsed(node_id, False)
        self.status.show_saved(False)
        self._update_actions()
        return True

    def stop_expansion(self) -> None:
        """Stop the running expansion and drop queued ones; branches keep their partial text as cancelled."""
        self.queued.clear()
        if self.runner.busy:
            self.statusBar().showMessage("Stopping after the current token…", 5000)
        self.runner.stop()

    def _on_expansion_finished(self, prepared: PreparedExpansion) -> None:
        self._refresh_inline_editor()
        if prepared.stats is not None:
            self.status.show_speed(prepared.stats.tokens_per_second)
        self.compare.refresh()
        self._flush_session()
        self._update_actions()
        self._start_next_queued()

    def _on_expansion_failed(self, prepared: PreparedExpansion, error: BaseException) -> None:
        self._flush_session()
        self._update_actions()
        self._start_next_queued()
        if isinstance(error, MindGardenError):
            self._report(error)
            return
        raise error

    def _flush_session(self) -> None:
        if self.session is None:
            return
        try:
            self.session.flush()
        except MindGardenError as error:
            self.status.show_saved(False, str(error))
            self._report(error)
            return
        self.status.show_saved(True)

    # -- view events --------------------------------------------------------------

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        node_id = self.model.node_id(current)
        self.reading_pane.show_node(node_id)
        self._refresh_inline_editor()
        self.canvas.set_current(node_id, notify=False)
        if self.views.currentWidget() is self.compare:
            self.compare.show_siblings(self.session.tree if self.session else None, node_id)
        self._update_actions()

    def _on_canvas_current_changed(self, node_id: str | None) -> None:
        if node_id is not None and node_id != self.selected_node_id():
            self.select_node(node_id)

    def _on_view_tab_changed(self, _index: int) -> None:
        if self.views.currentWidget() is self.compare:
            self.compare.show_siblings(self.session.tree if self.session else None, self.selected_node_id())

    def _on_undo_index_changed(self, _index: int) -> None:
        self._refresh_inline_editor()
        if self.views.currentWidget() is self.compare:
            self.compare.refresh()

    def _refresh_inline_editor(self) -> None:
        node_id = self.selected_node_id()
        node = self.session.tree.node(node_id) if self.session is not None and node_id is not None else None
        self.inline_editor.show_node(node)

    def show_compare(self) -> None:
        """Show the selected thought's siblings side by side, persona and temperature hidden."""
        self.views.setCurrentWidget(self.compare)
        self.compare.setFocus()

    def show_garden(self) -> None:
        self.views.setCurrentWidget(self.canvas)
        self.canvas.setFocus()

    def toggle_rank_mode(self) -> None:
        """Enter or leave rank mode on the canvas, where 1 to 9 rank thoughts and 0 clears a rank."""
        enabled = not self.canvas.rank_mode
        if enabled and self.views.currentWidget() is not self.canvas:
            self.show_garden()
        self.canvas.set_rank_mode(enabled)

    def _on_rank_mode_changed(self, enabled: bool) -> None:
        self.rank_action.setChecked(enabled)
        if enabled:
            self.statusBar().showMessage("Rank mode: 1 to 9 rank the thought and move on, 0 clears, R leaves.")
        else:
            self.statusBar().clearMessage()

    def _on_rows_inserted(self, parent: QModelIndex, _first: int, _last: int) -> None:
        if parent.isValid():
            self.tree_view.expand(parent)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Cancel a running expansion, wait briefly for the worker, save and close."""
        log.info("Closing the main window")
        if self.models_dialog is not None:
            self.models_dialog.close()
        self.runner.shutdown(self.engine if self._owns_engine else None, timeout=CLOSE_TIMEOUT_SECONDS)
        if self.session is not None:
            try:
                self.session.close()
            except MindGardenError as error:
                log.error("Saving session %s on close failed: %s", self.session.id, error)
            self.session = None
        self.undo_stack.clear()
        self.queued.clear()
        if self.find_dialog is not None:
            self.find_dialog.set_tree(None, [])
        self.model.set_tree(None)
        self.canvas.tree_scene.set_tree(None)
        if self._owns_store:
            self.store.close()
        super().closeEvent(event)
