"""The persona editor: create, edit and duplicate persona states as files in the user folder."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError
from mindgarden.core.personas import NAME_PATTERN, Persona, load_personas, save_user_persona
from mindgarden.core.sampling import MAX_TEMPERATURE

log = logging.getLogger(__name__)


class PersonaEditor(QDialog):
    """Dialog that lists persona states and saves edited ones into the user folder.

    A bundled persona is never written in place: saving it writes a user copy of the same
    name, which overrides the bundled file. ``saved`` is emitted with each saved persona.
    """

    saved = Signal(object)

    def __init__(self, user_dir: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Persona states")
        self.resize(760, 460)
        self.user_dir = user_dir or paths.user_personas_dir()
        self.personas: dict[str, Persona] = {}

        self.list = QListWidget()
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.new_button = QPushButton("New")
        self.new_button.clicked.connect(self.new_persona)
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.clicked.connect(self.duplicate_persona)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.new_button)
        list_buttons.addWidget(self.duplicate_button)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(list_buttons)

        self.name = QLineEdit()
        self.name.setToolTip("Lower-case letters, digits and dashes, up to 48 characters")
        self.description = QLineEdit()
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, MAX_TEMPERATURE)
        self.temperature.setDecimals(2)
        self.temperature.setSingleStep(0.1)
        self.priming = QPlainTextEdit()
        self.priming.setPlaceholderText("Text that primes the writer's state before the thought")
        self.origin = QLabel()
        self.origin.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b")
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save_current)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Description", self.description)
        form.addRow("Temperature", self.temperature)
        form.addRow("Priming text", self.priming)
        right = QVBoxLayout()
        right.addLayout(form, 1)
        right.addWidget(self.origin)
        right.addWidget(self.error)
        right.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignRight)

        close_buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close_buttons.rejected.connect(self.reject)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(columns, 1)
        layout.addWidget(close_buttons)
        self.reload()

    def reload(self, select: str | None = None) -> None:
        """Reload the bundled and user personas and select ``select`` (default: the first)."""
        self.personas = load_personas(self.user_dir)
        self.list.clear()
        for persona in self.personas.values():
            item = QListWidgetItem(persona.name)
            item.setToolTip(persona.description)
            self.list.addItem(item)
        names = list(self.personas)
        if names:
            self.list.setCurrentRow(names.index(select) if select in names else 0)

    def is_user_persona(self, persona: Persona) -> bool:
        return persona.source is not None and persona.source.parent == self.user_dir

    def _on_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        self.show_persona(self.personas[current.text()])

    def show_persona(self, persona: Persona) -> None:
        self.name.setText(persona.name)
        self.description.setText(persona.description)
        self.temperature.setValue(persona.temperature)
        self.priming.setPlainText(persona.priming)
        self.error.clear()
        if persona.source is None:
            self.origin.setText("Built in. Saving writes a copy into your persona folder.")
        elif self.is_user_persona(persona):
            self.origin.setText(f"Your persona, saved in {persona.source}.")
        else:
            self.origin.setText("Bundled with MindGarden. Saving writes a copy of the same name into "
                                f"{self.user_dir}, which overrides the bundled one.")

    def new_persona(self) -> None:
        """Clear the form for a new persona state."""
        self.list.clearSelection()
        self.show_persona(Persona("", "", "", 1.0, self.user_dir / "new.toml"))
        self.origin.setText(f"New persona, saved into {self.user_dir}.")
        self.name.setFocus()

    def duplicate_persona(self) -> None:
        """Fill the form with a copy of the selected persona under a free name."""
        item = self.list.currentItem()
        if item is None:
            return
        source = self.personas[item.text()]
        name = self._free_name(f"{source.name}-copy")
        self.show_persona(Persona(name, source.description, source.priming, source.temperature, None))
        self.origin.setText(f"Copy of {source.name}, saved into {self.user_dir}.")

    def _free_name(self, base: str) -> str:
        base = base[:44]
        if base not in self.personas:
            return base
        index = 2
        while f"{base}-{index}" in self.personas:
            index += 1
        return f"{base}-{index}"

    def save_current(self) -> Persona | None:
        """Validate the form and write it as a user persona. Returns it, or None when invalid."""
        name = self.name.text().strip()
        if not NAME_PATTERN.match(name):
            self.error.setText(f"The name {name!r} is invalid: use 1 to 48 lower-case letters, digits and "
                               "dashes, starting with a letter or digit, for example late-train.")
            self.name.setFocus()
            return None
        persona = Persona(name, self.description.text().strip(), self.priming.toPlainText().strip(),
                          self.temperature.value())
        try:
            path = save_user_persona(persona, self.user_dir)
        except (InvalidInputError, OSError) as error:
            log.error("Saving persona %s into %s failed: %s", name, self.user_dir, error)
            self.error.setText(f"Saving persona {name} failed: {error}")
            return None
        log.info("Saved persona %s to %s", name, path)
        self.reload(select=name)
        self.error.clear()
        saved = self.personas[name]
        self.saved.emit(saved)
        return saved
