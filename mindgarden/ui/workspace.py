"""Main-window tools around the tree: settings, theme, persona editor, sessions list and find."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from mindgarden.core.errors import MindGardenError
from mindgarden.core.personas import Persona, load_personas
from mindgarden.core.settings import Settings, load_settings, save_settings
from mindgarden.ui.find import FindDialog
from mindgarden.ui.persona_editor import PersonaEditor
from mindgarden.ui.sessions_dialog import SessionsDialog
from mindgarden.ui.settings_dialog import SettingsDialog
from mindgarden.ui.theme import DARK, apply_theme

log = logging.getLogger(__name__)

LIGHT_CANVAS = QColor("#f1efe8")
DARK_CANVAS = QColor("#26272b")


class WorkspaceMixin:
    """Settings, theme, persona, session and find actions of MainWindow."""

    def _init_workspace(self, settings: Settings | None) -> None:
        self.settings_problems: list[str] = []
        if settings is None:
            settings, self.settings_problems = load_settings()
        self.settings = settings
        self.settings_dialog: SettingsDialog | None = None
        self.persona_editor: PersonaEditor | None = None
        self.sessions_dialog: SessionsDialog | None = None
        self.find_dialog: FindDialog | None = None
        self.panel.apply_settings(settings)

    def _build_workspace_actions(self, file_menu: QMenu, edit_menu: QMenu) -> None:
        def action(text: str, keys: list, slot, tip: str) -> QAction:
            created = QAction(text, self)
            created.setShortcuts([QKeySequence(key) for key in keys])
            created.setStatusTip(tip)
            created.triggered.connect(slot)
            self.addAction(created)
            return created

        self.sessions_action = action("&Sessions…", ["Ctrl+Shift+O"], self.show_sessions_dialog,
                                      "List saved sessions to open, rename, duplicate or delete them")
        self.load_model_action = action("&Load model", [], self.load_model_from_settings,
                                        "Load the model file or remote server chosen in Settings, "
                                        "replacing the loaded one")
        self.settings_action = action("Se&ttings…", [QKeySequence.StandardKey.Preferences, "Ctrl+,"],
                                      self.show_settings_dialog,
                                      "Expansion defaults, sampler settings, model file and theme")
        self.persona_action = action("&Persona states…", [], self.show_persona_editor,
                                     "Create, edit and duplicate persona states")
        self.find_action = action("&Find…", [QKeySequence.StandardKey.Find], self.show_find,
                                  "Find thoughts by text, persona state, starred or pruned")
        before = file_menu.actions()[2] if len(file_menu.actions()) > 2 else None
        file_menu.insertAction(before, self.sessions_action)
        file_menu.insertAction(before, self.load_model_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.find_action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.persona_action)
        edit_menu.addAction(self.settings_action)

    def _update_workspace_actions(self, busy: bool) -> None:
        self.sessions_action.setEnabled(not busy)
        self.load_model_action.setEnabled(not busy and not self.runner.loading)

    # -- settings and theme ---------------------------------------------------------

    def show_settings_dialog(self) -> SettingsDialog:
        dialog = SettingsDialog(self.settings, list(self.personas), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._accept_settings_dialog(dialog))
        dialog.finished.connect(lambda _result: setattr(self, "settings_dialog", None))
        self.settings_dialog = dialog
        dialog.open()
        return dialog

    def _accept_settings_dialog(self, dialog: SettingsDialog) -> None:
        if self.apply_settings(dialog.settings()):
            self.store_remote_api_key(dialog.remote_base_url(), dialog.api_key())

    def store_remote_api_key(self, base_url: str, api_key: str) -> None:
        """Keep a model server's API key in the system keyring; never in settings.json.

        An empty ``api_key`` keeps the stored key. Without a usable keyring the key is kept
        in memory until MindGarden closes, and the user is told so.
        """
        if not api_key:
            return
        from mindgarden.engine.remote import store_api_key
        from mindgarden.engine.remote_http import parse_base_url

        try:
            base_url = parse_base_url(base_url).base_url
        except MindGardenError as error:
            self._report(error)
            return
        self.session_api_keys[base_url] = api_key
        if not store_api_key(base_url, api_key):
            self.show_message(f"No system keyring is available, so the API key for {base_url} is kept only "
                              "until MindGarden closes. Install the keyring package (pip install keyring) "
                              "to remember it.", icon=QMessageBox.Icon.Information)

    def apply_settings(self, settings: Settings) -> bool:
        """Save ``settings``, then apply them to the panel and the theme. Returns whether they were saved."""
        previous = self.settings
        try:
            save_settings(settings)
        except MindGardenError as error:
            self._report(error)
            return False
        self.settings = settings
        self.panel.apply_settings(settings)
        if settings.theme != previous.theme:
            self.apply_theme_setting()
        model_fields = ("model_path", "use_remote", "remote_base_url", "remote_model")
        if any(getattr(settings, name) != getattr(previous, name) for name in model_fields):
            self.statusBar().showMessage(
                "The model choice changed: File → Load model loads it now, otherwise it loads on next start.", 10_000)
        return True

    def apply_theme_setting(self) -> str:
        """Apply the theme setting to the application and the canvas. Returns "light" or "dark"."""
        resolved = apply_theme(self.settings.theme)
        background = DARK_CANVAS if resolved == DARK else LIGHT_CANVAS
        self.canvas.setBackgroundBrush(background)
        self.canvas.minimap.setBackgroundBrush(QColor(background.red(), background.green(), background.blue(), 230))
        return resolved

    def follow_system_theme(self) -> None:
        """Re-apply the theme when the system colour scheme changes and the setting is "system"."""
        hints = QGuiApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):
            hints.colorSchemeChanged.connect(self._on_system_scheme_changed)

    def _on_system_scheme_changed(self, _scheme: object) -> None:
        if self.settings.theme == "system":
            self.apply_theme_setting()

    def load_model_from_settings(self) -> bool:
        """Load the model chosen in Settings: the remote server's model, the model file or the bundled one.

        The switch keeps the loaded model when the new one is invalid, fails or is cancelled.
        Returns whether loading started or waits for the user to confirm a memory warning.
        """
        if self.settings.use_remote:
            log.info("Loading remote model %s at %s from the settings", self.settings.remote_model,
                     self.settings.remote_base_url)
            from mindgarden.engine.remote_http import DEFAULT_BASE_URL

            return self.switch_to_remote(self.settings.remote_base_url or DEFAULT_BASE_URL,
                                         self.settings.remote_model or "")
        # Imported here because the CLI imports the engine.
        from mindgarden.cli import resolve_model_path

        try:
            path: Path = resolve_model_path(self.settings.model_path)
        except MindGardenError as error:
            self._report(error)
            return False
        log.info("Loading model %s from the settings", path)
        return self.switch_model(path)

    # -- personas -------------------------------------------------------------------

    def show_persona_editor(self) -> PersonaEditor:
        editor = PersonaEditor(parent=self)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.saved.connect(self.refresh_personas)
        editor.finished.connect(lambda _result: setattr(self, "persona_editor", None))
        self.persona_editor = editor
        editor.open()
        return editor

    def refresh_personas(self, _saved: Persona | None = None) -> None:
        """Reload persona states from disk into the panel and the grower, keeping the checked ones."""
        # Updated in place, because the Grower refers to the same dict.
        self.personas.clear()
        self.personas.update(load_personas())
        self.panel.set_personas(self.personas)
        if self.find_dialog is not None:
            self.find_dialog.set_tree(self.session.tree if self.session else None, list(self.personas))

    # -- sessions -------------------------------------------------------------------

    def show_sessions_dialog(self) -> SessionsDialog:
        dialog = SessionsDialog(self.store, self.session.id if self.session else None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open_requested.connect(self.open_session)
        dialog.renamed.connect(self._on_session_renamed)
        dialog.finished.connect(lambda _result: setattr(self, "sessions_dialog", None))
        self.sessions_dialog = dialog
        dialog.open()
        return dialog

    def _on_session_renamed(self, session_id: str, name: str) -> None:
        if self.session is not None and self.session.id == session_id:
            self.session.info = dataclasses.replace(self.session.info, name=name)
            self.setWindowTitle(f"MindGarden: {name}")

    def update_saved_indicator(self) -> None:
        """Show whether the session has streamed text not yet written to the database."""
        if self.session is None:
            return
        unsaved = len(self.session.dirty)
        if unsaved:
            self.status.show_unsaved(unsaved)
        elif self.runner.busy:
            self.status.show_saved(True)

    # -- find -----------------------------------------------------------------------

    def show_find(self) -> FindDialog:
        """Show the find dialog over the current session, with the text field focused."""
        if self.find_dialog is None:
            self.find_dialog = FindDialog(self)
            self.find_dialog.jump_requested.connect(self.jump_to_node)
        self.find_dialog.set_tree(self.session.tree if self.session else None, list(self.personas))
        self.find_dialog.show()
        self.find_dialog.activateWindow()
        self.find_dialog.text.setFocus()
        self.find_dialog.text.selectAll()
        return self.find_dialog

    def jump_to_node(self, node_id: str) -> None:
        """Select ``node_id`` in the list and on the canvas, revealing it if an ancestor is collapsed."""
        if self.session is None or node_id not in self.session.tree:
            return
        self.select_node(node_id)
        self.canvas.set_current(node_id, notify=False)
