"""Find thoughts in the shown session by text, persona state, starred or pruned."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.tree import Node, ThoughtTree

log = logging.getLogger(__name__)

NODE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
ANY_PERSONA = ""


@dataclass(frozen=True)
class FindQuery:
    """Filters that a node must all pass; empty text and persona match every node."""

    text: str = ""
    persona: str = ANY_PERSONA
    starred_only: bool = False
    pruned_only: bool = False

    def matches(self, node: Node) -> bool:
        if self.text and self.text.casefold() not in node.text.casefold():
            return False
        if self.persona and node.persona != self.persona:
            return False
        if self.starred_only and not node.starred:
            return False
        return not (self.pruned_only and not node.pruned)

    @property
    def empty(self) -> bool:
        return self == FindQuery()


def find_nodes(tree: ThoughtTree | None, query: FindQuery) -> list[Node]:
    """Return the nodes that match ``query`` in creation order; an empty query matches nothing."""
    if tree is None or query.empty:
        return []
    return sorted((node for node in tree.nodes() if query.matches(node)), key=lambda node: node.created_at)


class _ResultList(QListWidget):
    """Result list where Enter activates the current row like a double-click."""

    def event(self, event: QEvent) -> bool:
        # Claim Enter before the main window's Enter shortcut (Expand) can take it.
        if event.type() == QEvent.Type.ShortcutOverride and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self.itemActivated.emit(self.currentItem())
            return
        super().keyPressEvent(event)


class FindDialog(QDialog):
    """Non-modal search over one tree. ``jump_requested`` carries the id of the chosen node."""

    jump_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find thoughts")
        self.resize(460, 420)
        self.tree: ThoughtTree | None = None

        self.text = QLineEdit()
        self.text.setPlaceholderText("Text to find (case-insensitive)")
        self.text.setClearButtonEnabled(True)
        self.persona = QComboBox()
        self.starred = QCheckBox("Starred only")
        self.pruned = QCheckBox("Pruned only")
        self.results = _ResultList()
        self.results.itemActivated.connect(self._jump)
        self.count = QLabel()

        self.text.textChanged.connect(self.search)
        self.text.returnPressed.connect(self._jump_to_first)
        self.persona.currentIndexChanged.connect(self.search)
        self.starred.toggled.connect(self.search)
        self.pruned.toggled.connect(self.search)

        form = QFormLayout()
        form.addRow("Text", self.text)
        form.addRow("Persona state", self.persona)
        form.addRow(self.starred)
        form.addRow(self.pruned)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.count)

    def set_tree(self, tree: ThoughtTree | None, persona_names: list[str]) -> None:
        """Search ``tree`` from now on; the persona choice lists ``persona_names`` and those in the tree."""
        self.tree = tree
        chosen = self.persona.currentData()
        in_tree = {node.persona for node in tree.nodes()} if tree is not None else set()
        self.persona.blockSignals(True)
        self.persona.clear()
        self.persona.addItem("Any", ANY_PERSONA)
        for name in sorted(set(persona_names) | in_tree):
            self.persona.addItem(name, name)
        index = self.persona.findData(chosen)
        self.persona.setCurrentIndex(max(index, 0))
        self.persona.blockSignals(False)
        self.search()

    def query(self) -> FindQuery:
        return FindQuery(self.text.text().strip(), self.persona.currentData() or ANY_PERSONA,
                         self.starred.isChecked(), self.pruned.isChecked())

    def search(self) -> list[Node]:
        """Fill the result list for the current query and return the matching nodes."""
        found = find_nodes(self.tree, self.query())
        self.results.clear()
        for node in found:
            label = node.first_line(70) or "(empty)"
            marks = ""
            if node.starred:
                marks += "★ "
            if node.pruned:
                marks += "✗ "
            item = QListWidgetItem(f"{marks}{label}  · {node.persona}")
            item.setData(NODE_ID_ROLE, node.id)
            item.setToolTip(node.text[:500])
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)
        self.count.setText("" if self.query().empty else f"{len(found)} found")
        return found

    def _jump(self, item: QListWidgetItem) -> None:
        self.jump_requested.emit(item.data(NODE_ID_ROLE))

    def _jump_to_first(self) -> None:
        item = self.results.currentItem()
        if item is not None:
            self._jump(item)
