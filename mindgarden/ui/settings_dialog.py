"""The Settings dialog: expansion defaults, base sampler values, model file, remote server and colour theme."""

from __future__ import annotations

import dataclasses
import logging

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.sampling import MAX_BRANCHES, MAX_TEMPERATURE, SamplerSettings
from mindgarden.core.settings import MAX_NEW_TOKENS, THEMES, Settings
from mindgarden.engine.remote_http import DEFAULT_BASE_URL
from mindgarden.ui.checklist import checked_names, fill_checklist

log = logging.getLogger(__name__)

# Base sampler fields shown in the dialog: (field, label, minimum, maximum, decimals; 0 means a whole number).
SAMPLER_FIELDS = (
    ("min_p", "Min-p", 0.0, 1.0, 3),
    ("top_p", "Top-p", 0.001, 1.0, 3),
    ("top_k", "Top-k (0 is off)", 0, 1000, 0),
    ("xtc_probability", "XTC probability", 0.0, 1.0, 2),
    ("xtc_threshold", "XTC threshold", 0.0, 0.5, 2),
    ("top_n_sigma", "Top-n-sigma (0 is off)", 0.0, 10.0, 2),
    ("dry_multiplier", "DRY multiplier (0 is off)", 0.0, 5.0, 2),
    ("dry_base", "DRY base", 1.0, 4.0, 2),
    ("dry_allowed_length", "DRY allowed length", 1, 64, 0),
    ("repeat_penalty", "Repeat penalty (1 is off)", 0.01, 3.0, 2),
    ("mirostat_tau", "Mirostat tau (0 is off)", 0.0, 20.0, 2),
)


class SettingsDialog(QDialog):
    """Dialog that edits a copy of the settings; ``settings()`` returns the edited copy."""

    def __init__(self, settings: Settings, persona_names: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings

        self.branches = QSpinBox()
        self.branches.setRange(1, MAX_BRANCHES)
        self.branches.setValue(settings.branches)
        self.low_temperature = self._double_box(0.0, MAX_TEMPERATURE, 2, settings.low_temperature)
        self.high_temperature = self._double_box(0.0, MAX_TEMPERATURE, 2, settings.high_temperature)
        self.max_new_tokens = QSpinBox()
        self.max_new_tokens.setRange(1, MAX_NEW_TOKENS)
        self.max_new_tokens.setSuffix(" tokens")
        self.max_new_tokens.setValue(settings.max_new_tokens)

        self.personas = QListWidget()
        self.personas.setToolTip("Persona states checked in the expansion panel at start")
        fill_checklist(self.personas, dict.fromkeys([*persona_names, *settings.personas]), settings.personas)

        self.sampler_boxes: dict[str, QSpinBox | QDoubleSpinBox] = {}
        sampler_form = QFormLayout()
        for name, label, minimum, maximum, decimals in SAMPLER_FIELDS:
            value = getattr(settings.sampler, name)
            if decimals == 0:
                box = QSpinBox()
                box.setRange(int(minimum), int(maximum))
                box.setValue(int(value))
            else:
                box = self._double_box(minimum, maximum, decimals, value)
            self.sampler_boxes[name] = box
            sampler_form.addRow(label, box)
        sampler_group = QGroupBox("Base sampler (every branch; temperature comes from the range)")
        sampler_group.setLayout(sampler_form)

        self.model_path = QLineEdit(settings.model_path or "")
        self.model_path.setPlaceholderText("Bundled default model")
        self.model_path.setToolTip("GGUF file loaded at start or by Load model; empty means the bundled model")
        self.browse_button = QPushButton("Choose…")
        self.browse_button.clicked.connect(self._choose_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_path, 1)
        model_row.addWidget(self.browse_button)

        self.theme = QComboBox()
        for theme in THEMES:
            self.theme.addItem({"system": "Follow the system", "light": "Light", "dark": "Dark"}[theme], theme)
        self.theme.setCurrentIndex(THEMES.index(settings.theme))

        expansion_form = QFormLayout()
        expansion_form.addRow("Branches", self.branches)
        expansion_form.addRow("Temperature from", self.low_temperature)
        expansion_form.addRow("to", self.high_temperature)
        expansion_form.addRow("Max new tokens", self.max_new_tokens)
        expansion_form.addRow("Persona states", self.personas)
        expansion_group = QGroupBox("Expansion defaults")
        expansion_group.setLayout(expansion_form)

        self.gpu_layers = QSpinBox()
        self.gpu_layers.setRange(-1, 999)
        self.gpu_layers.setSpecialValueText("Automatic (free GPU memory)")
        self.gpu_layers.setToolTip("Layers to offload to the GPU; 0 runs on the CPU only. Applies on the next load.")
        self.gpu_layers.setValue(-1 if settings.gpu_layers is None else settings.gpu_layers)

        general_form = QFormLayout()
        general_form.addRow("Model file", model_row)
        general_form.addRow("GPU layers", self.gpu_layers)
        general_form.addRow("Theme", self.theme)
        remote_group = self._build_remote_group(settings)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        columns = QHBoxLayout()
        columns.addWidget(expansion_group)
        columns.addWidget(sampler_group)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addLayout(general_form)
        layout.addWidget(remote_group)
        layout.addWidget(self.buttons)

    def _build_remote_group(self, settings: Settings) -> QGroupBox:
        self.use_remote = QCheckBox("Use remote server instead of the model file")
        self.use_remote.setToolTip("Load model connects to this OpenAI-compatible server instead of loading a file")
        self.use_remote.setChecked(settings.use_remote)
        self.remote_url = QLineEdit(settings.remote_base_url or "")
        self.remote_url.setPlaceholderText(DEFAULT_BASE_URL)
        self.remote_url.setToolTip("Address of the server's OpenAI API; /v1 is added when missing")
        self.remote_model = QLineEdit(settings.remote_model or "")
        self.remote_model.setToolTip("Model name as the server lists it at /v1/models")
        self.api_key_edit = QLineEdit()
        self.api_key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key_edit.setPlaceholderText("Leave empty to keep the stored key")
        self.api_key_edit.setToolTip("Sent as a bearer token; kept in the system keyring, never in settings.json")
        form = QFormLayout()
        form.addRow(self.use_remote)
        form.addRow("Server address", self.remote_url)
        form.addRow("Model name", self.remote_model)
        form.addRow("API key", self.api_key_edit)
        group = QGroupBox("Remote server")
        group.setLayout(form)
        return group

    def remote_base_url(self) -> str:
        return self.remote_url.text().strip() or DEFAULT_BASE_URL

    def api_key(self) -> str:
        """Return the API key typed in the dialog, or "" to keep the stored one."""
        return self.api_key_edit.text().strip()

    @staticmethod
    def _double_box(minimum: float, maximum: float, decimals: int, value: float) -> QDoubleSpinBox:
        box = QDoubleSpinBox()
        box.setRange(minimum, maximum)
        box.setDecimals(decimals)
        box.setSingleStep(0.01 if decimals >= 3 else 0.05)
        box.setValue(value)
        return box

    def _choose_model(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Choose a GGUF model", self.model_path.text(),
                                                    "GGUF models (*.gguf);;All files (*)")
        if path:
            self.model_path.setText(path)

    def chosen_personas(self) -> tuple[str, ...]:
        return checked_names(self.personas)

    def settings(self) -> Settings:
        """Return the settings the controls show. Unchecking every persona keeps the previous ones."""
        sampler_values = {name: box.value() for name, box in self.sampler_boxes.items()}
        sampler = dataclasses.replace(self._original.sampler or SamplerSettings(), **sampler_values)
        return Settings(
            branches=self.branches.value(),
            low_temperature=self.low_temperature.value(),
            high_temperature=self.high_temperature.value(),
            max_new_tokens=self.max_new_tokens.value(),
            personas=self.chosen_personas() or self._original.personas,
            sampler=sampler,
            model_path=self.model_path.text().strip() or None,
            gpu_layers=None if self.gpu_layers.value() < 0 else self.gpu_layers.value(),
            theme=self.theme.currentData(),
            use_remote=self.use_remote.isChecked(),
            remote_base_url=self.remote_url.text().strip() or None,
            remote_model=self.remote_model.text().strip() or None,
        )
