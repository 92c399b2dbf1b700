"""Permanent status bar fields: the loaded model, generation speed and whether changes are saved."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLabel, QStatusBar

from mindgarden.engine.types import ModelInfo

log = logging.getLogger(__name__)


class StatusIndicators:
    """The three permanent labels on the right of the main window's status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.model = QLabel("No model loaded")
        self.speed = QLabel("")
        self.saved = QLabel("")
        for label in (self.model, self.speed, self.saved):
            bar.addPermanentWidget(label)

    def show_loading(self) -> None:
        self.model.setText("Loading model…")
        self.model.setToolTip("")

    def show_no_model(self) -> None:
        self.model.setText("No model loaded")
        self.model.setToolTip("")

    def show_model(self, info: ModelInfo) -> None:
        """Show the model's name, device and context size."""
        self.model.setText(f"{info.name} · {info.device} · context {info.context_length} tokens")
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
