"""The expansion panel: branch count, temperature range, persona states and token limit."""

from __future__ import annotations

import logging
import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.personas import Persona
from mindgarden.core.sampling import (
    MAX_BRANCHES,
    MAX_TEMPERATURE,
    ExpansionPlan,
    SamplerSettings,
    temperature_range,
)
from mindgarden.core.settings import DEFAULT_PERSONAS, MAX_NEW_TOKENS, Settings
from mindgarden.ui.checklist import add_checkable, checked_names, set_checked_names

log = logging.getLogger(__name__)

DEFAULT_BRANCHES = Settings().branches
DEFAULT_LOW_TEMPERATURE = Settings().low_temperature
DEFAULT_HIGH_TEMPERATURE = Settings().high_temperature
DEFAULT_MAX_NEW_TOKENS = Settings().max_new_tokens


def spread_temperatures(low: float, high: float, branches: int, persona_count: int) -> tuple[float, ...]:
    """Return the temperatures for ``branches`` branches over ``persona_count`` personas.

    When each persona can take at least two steps of the range and every pair fits, the
    range has ``ceil(branches / personas)`` steps and ExpansionPlan crosses them with the
    personas. Otherwise every branch gets its own step.
    """
    low, high = min(low, high), max(low, high)
    persona_count = max(persona_count, 1)
    grid_steps = max(1, math.ceil(branches / persona_count))
    if grid_steps >= 2 and persona_count * grid_steps <= branches:
        return temperature_range(low, high, grid_steps)
    return temperature_range(low, high, branches)


class ExpansionPanel(QGroupBox):
    """Controls for the next expansion, which ``plan()`` turns into an ExpansionPlan."""

    expand_requested = Signal()
    stop_requested = Signal()

    def __init__(self, personas: dict[str, Persona], parent: QWidget | None = None) -> None:
        super().__init__("Expand the selected thought", parent)
        self.branches = QSpinBox()
        self.branches.setRange(1, MAX_BRANCHES)
        self.branches.setValue(DEFAULT_BRANCHES)
        self.low_temperature = self._temperature_box(DEFAULT_LOW_TEMPERATURE)
        self.high_temperature = self._temperature_box(DEFAULT_HIGH_TEMPERATURE)
        self.max_new_tokens = QSpinBox()
        self.max_new_tokens.setRange(1, MAX_NEW_TOKENS)
        self.max_new_tokens.setValue(DEFAULT_MAX_NEW_TOKENS)
        self.max_new_tokens.setSuffix(" tokens")

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.base_sampler = SamplerSettings()
        self.personas = QListWidget()
        self.personas.setToolTip("Persona states that prime the branches; hover one for its description")
        self.set_personas(personas, DEFAULT_PERSONAS)

        self.expand_button = QPushButton("Expand")
        self.expand_button.setToolTip("Grow branches from the selected thought (Enter or Ctrl+Return)")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the running expansion and keep its partial text (Esc)")
        self.stop_button.setEnabled(False)
        self.expand_button.clicked.connect(self.expand_requested)
        self.stop_button.clicked.connect(self.stop_requested)

        form = QFormLayout()
        form.addRow("Branches", self.branches)
        form.addRow("Temperature from", self.low_temperature)
        form.addRow("to", self.high_temperature)
        form.addRow("Max new tokens", self.max_new_tokens)
        buttons = QHBoxLayout()
        buttons.addWidget(self.expand_button)
        buttons.addWidget(self.stop_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Persona states"))
        layout.addWidget(self.personas, 1)
        layout.addWidget(self.summary)
        layout.addLayout(buttons)

        for box in (self.branches, self.low_temperature, self.high_temperature):
            box.valueChanged.connect(self._update_summary)
        self.personas.itemChanged.connect(self._update_summary)
        self._update_summary()

    @staticmethod
    def _temperature_box(value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(0.0, MAX_TEMPERATURE)
        box.setDecimals(2)
        box.setSingleStep(0.1)
        box.setValue(value)
        return box

    def chosen_personas(self) -> tuple[str, ...]:
        """Return the checked persona names in list order."""
        return checked_names(self.personas)

    def set_chosen_personas(self, names: tuple[str, ...] | list[str]) -> None:
        """Check exactly the personas in ``names``."""
        set_checked_names(self.personas, names)

    def set_personas(self, personas: dict[str, Persona], checked: tuple[str, ...] | None = None) -> None:
        """List ``personas``, checking ``checked`` (default: the names checked now)."""
        checked = self.chosen_personas() if checked is None else checked
        self.personas.blockSignals(True)
        self.personas.clear()
        for persona in personas.values():
            add_checkable(self.personas, persona.name, persona.name in checked, persona.description)
        self.personas.blockSignals(False)
        self._update_summary()

    def apply_settings(self, settings: Settings) -> None:
        """Set the controls and the base sampler from the user's settings."""
        self.branches.setValue(settings.branches)
        self.low_temperature.setValue(settings.low_temperature)
        self.high_temperature.setValue(settings.high_temperature)
        self.max_new_tokens.setValue(settings.max_new_tokens)
        self.base_sampler = settings.sampler
        self.set_chosen_personas(settings.personas)

    def plan(self) -> ExpansionPlan:
        """Build the plan the controls describe. Raises InvalidInputError if it is invalid."""
        personas = self.chosen_personas()
        if not personas:
            raise InvalidInputError("No persona state is checked: check at least one, for example neutral.")
        branches = self.branches.value()
        temperatures = spread_temperatures(self.low_temperature.value(), self.high_temperature.value(),
                                           branches, len(personas))
        plan = ExpansionPlan(branches=branches, temperatures=temperatures, personas=personas,
                             max_new_tokens=self.max_new_tokens.value(), base_sampler=self.base_sampler)
        plan.validate()
        return plan

    def set_running(self, running: bool) -> None:
        """Switch the buttons between an idle panel and a running expansion."""
        self.expand_button.setEnabled(not running)
        self.stop_button.setEnabled(running)

    def _update_summary(self) -> None:
        personas = self.chosen_personas()
        if not personas:
            self.summary.setText("Check at least one persona state.")
            return
        branches = self.branches.value()
        temperatures = spread_temperatures(self.low_temperature.value(), self.high_temperature.value(),
                                           branches, len(personas))
        values = ", ".join(f"{value:g}" for value in temperatures)
        noun = "temperature" if len(temperatures) == 1 else "temperatures"
        self.summary.setText(f"{branches} branches over {len(personas)} persona states × {noun} {values}")
