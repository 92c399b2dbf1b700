"""Permanent status bar fields: model load progress, the loaded model, generation speed and saved state."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QProgressBar, QPushButton, QStatusBar

from mindgarden.engine.types import ModelInfo

log = logging.getLogger(__name__)

# The progress bar counts in thousandths, because QProgressBar takes whole numbers.
PROGRESS_STEPS = 1000


class StatusIndicators:
    """The permanent fields on the right of the main window's status bar.

    A progress bar and a Cancel button appear there while a model loads.
    """

    def __init__(self, bar: QStatusBar) -> None:
        self.progress = QProgressBar()
        self.progress.setRange(0, PROGRESS_STEPS)
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop loading this model and keep the previous one")
        self.model = QLabel("No model loaded")
        self.speed = QLabel("")
        self.saved = QLabel("")
        for widget in (self.progress, self.cancel_button, self.model, self.speed, self.saved):
            bar.addPermanentWidget(widget)
        self.hide_progress()

    def show_loading(self, name: str = "") -> None:
        """Show the progress bar and Cancel for a load of the model called ``name``."""
        self.model.setText("Loading model…")
        self.model.setToolTip(name)
        self.progress.setValue(0)
        self.progress.setToolTip(f"Loading {name}" if name else "Loading the model")
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()

    def show_load_progress(self, fraction: float) -> None:
        self.progress.setValue(round(min(max(fraction, 0.0), 1.0) * PROGRESS_STEPS))

    def show_restoring(self, name: str) -> None:
        """Show that the previous model ``name`` is loading again; that load cannot be cancelled."""
        self.model.setText("Loading the previous model again…")
        self.model.setToolTip(name)
        self.progress.setValue(0)
        self.cancel_button.setEnabled(False)

    def hide_progress(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()

    def show_no_model(self) -> None:
        self.hide_progress()
        self.model.setText("No model loaded")
        self.model.setToolTip("")

    def show_model(self, info: ModelInfo) -> None:
        """Show the model's name, device, GPU layers offloaded and context size."""
        self.hide_progress()
        device = info.device
        if device == "GPU":
            device = f"GPU · {info.gpu_layers} layers offloaded"
        if info.context_length:
            self.model.setText(f"{info.name} · {device} · context {info.context_length} tokens")
        else:
            self.model.setText(f"{info.name} · {device}")
        self.model.setToolTip(info.path)

    def show_speed(self, tokens_per_second: float) -> None:
        """Show the generation speed of the running or the last expansion."""
        self.speed.setText(f"{tokens_per_second:.1f} tokens/s")

    def show_unsaved(self, count: int) -> None:
        """Show that ``count`` growing thoughts have streamed text not yet in the database."""
        noun = "thought" if count == 1 else "thoughts"
        self.saved.setText(f"Saving… ({count} {noun})")
        self.saved.setToolTip("Streamed text of growing thoughts is written about once a second "
                              "and when each branch finishes.")

    def show_saved(self, saved: bool, problem: str = "") -> None:
        """Show whether every change is in the database."""
        if saved:
            self.saved.setText("Saved")
            self.saved.setToolTip("Every change is in the session database.")
        elif problem:
            self.saved.setText("Not saved")
            self.saved.setToolTip(problem)
        else:
            self.saved.setText("Saving…")
            self.saved.setToolTip("Streamed text is written about once a second; finished branches at once.")
