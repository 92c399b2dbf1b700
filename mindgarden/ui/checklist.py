"""A QListWidget used as a list of checkable names, as the persona choosers are."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem


def add_checkable(widget: QListWidget, name: str, checked: bool, tooltip: str = "") -> QListWidgetItem:
    """Append a checkable item called ``name`` to ``widget``."""
    item = QListWidgetItem(name)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    if tooltip:
        item.setToolTip(tooltip)
    widget.addItem(item)
    return item


def fill_checklist(widget: QListWidget, names: Iterable[str], checked: Collection[str]) -> None:
    """Replace the items of ``widget`` with ``names``, checking those in ``checked``."""
    widget.clear()
    for name in names:
        add_checkable(widget, name, name in checked)


def checked_names(widget: QListWidget) -> tuple[str, ...]:
    """Return the texts of the checked items, in list order."""
    names = []
    for row in range(widget.count()):
        item = widget.item(row)
        if item.checkState() == Qt.CheckState.Checked:
            names.append(item.text())
    return tuple(names)


def set_checked_names(widget: QListWidget, names: Collection[str]) -> None:
    """Check exactly the items whose text is in ``names``."""
    for row in range(widget.count()):
        item = widget.item(row)
        item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)
