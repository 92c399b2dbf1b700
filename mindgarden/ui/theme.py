"""Light and dark colour themes on the Fusion style, following the system scheme by default."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

log = logging.getLogger(__name__)

LIGHT = "light"
DARK = "dark"
SYSTEM = "system"


def system_scheme() -> str:
    """Return "dark" or "light" from QStyleHints.colorScheme (Qt 6.5 and later); light when unknown."""
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    if scheme is None:
        return LIGHT
    return DARK if scheme() == Qt.ColorScheme.Dark else LIGHT


def resolve_theme(theme: str) -> str:
    """Return "light" or "dark" for a setting of "system", "light" or "dark"."""
    return system_scheme() if theme == SYSTEM else theme


def dark_palette() -> QPalette:
    palette = QPalette()
    colors = {
        QPalette.ColorRole.Window: QColor("#2b2b2e"),
        QPalette.ColorRole.WindowText: QColor("#e6e6e6"),
        QPalette.ColorRole.Base: QColor("#1f1f22"),
        QPalette.ColorRole.AlternateBase: QColor("#2a2a2e"),
        QPalette.ColorRole.ToolTipBase: QColor("#3a3a3f"),
        QPalette.ColorRole.ToolTipText: QColor("#e6e6e6"),
        QPalette.ColorRole.PlaceholderText: QColor("#8d8d93"),
        QPalette.ColorRole.Text: QColor("#e6e6e6"),
        QPalette.ColorRole.Button: QColor("#35353a"),
        QPalette.ColorRole.ButtonText: QColor("#e6e6e6"),
        QPalette.ColorRole.BrightText: QColor("#ff6b6b"),
        QPalette.ColorRole.Link: QColor("#6ea8fe"),
        QPalette.ColorRole.Highlight: QColor("#2f6fd0"),
        QPalette.ColorRole.HighlightedText: QColor("#ffffff"),
        QPalette.ColorRole.Light: QColor("#4a4a50"),
        QPalette.ColorRole.Midlight: QColor("#3f3f45"),
        QPalette.ColorRole.Mid: QColor("#303035"),
        QPalette.ColorRole.Dark: QColor("#1a1a1d"),
        QPalette.ColorRole.Shadow: QColor("#000000"),
    }
    for role, color in colors.items():
        palette.setColor(role, color)
    disabled = QColor("#7a7a80")
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def light_palette() -> QPalette:
    """Return the Fusion style's own light palette."""
    style = QStyleFactory.create("Fusion")
    palette = style.standardPalette()
    return palette


def apply_theme(theme: str, app: QApplication | None = None) -> str:
    """Set the Fusion style and the palette of ``theme`` on the application. Returns "light" or "dark"."""
    app = app or QApplication.instance()
    resolved = resolve_theme(theme)
    if app.style().name().lower() != "fusion":
        app.setStyle("Fusion")
    app.setPalette(dark_palette() if resolved == DARK else light_palette())
    log.info("Applied the %s theme (setting %r)", resolved, theme)
    return resolved


def is_dark(palette: QPalette) -> bool:
    """Return whether a palette draws light text on a dark window."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128
