"""The one Qt item model that mirrors a ThoughtTree, row for row, from its change events."""

from __future__ import annotations

import logging

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QFont, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QApplication

from mindgarden.core.tree import ROOT, Node, ThoughtTree
from mindgarden.engine.types import FINISH_CANCELLED, FINISH_ERROR

log = logging.getLogger(__name__)

NODE_ID_ROLE = Qt.ItemDataRole.UserRole + 1
COLUMNS = ("Thought", "Persona", "Temp.")
STAR = "★"
STREAMING_MARK = "…"


def thought_label(node: Node) -> str:
    """Return the text of a node's first column: star, first line and its state."""
    parts = []
    if node.starred:
        parts.append(STAR)
    # The whole first line: the view elides what does not fit, so "…" marks streaming only.
    stripped = node.text.strip()
    line = stripped.splitlines()[0] if stripped else ""
    if line:
        parts.append(line)
    if not node.complete:
        parts.append(STREAMING_MARK)
    elif node.finish_reason == FINISH_CANCELLED:
        parts.append("(stopped)")
    elif node.finish_reason == FINISH_ERROR:
        parts.append("(failed)")
    return " ".join(parts)


def thought_tooltip(node: Node) -> str:
    """Return the hover text of a row: the state a user cannot read from the label."""
    if node.kind == ROOT:
        return "The root idea"
    states = []
    if node.complete:
        states.append(f"{node.token_count} tokens, finished: {node.finish_reason}")
    else:
        states.append("still growing")
    if node.starred:
        states.append("starred: chosen in preference pairs")
    if node.pruned:
        states.append("pruned: rejected in preference pairs")
    if node.edited:
        states.append("edited, the model's original text is kept")
    return "\n".join(states)


class ThoughtTreeModel(QStandardItemModel):
    """Item model that mirrors one ThoughtTree, the only UI object subscribed to its events.

    Views read this model and never change the tree themselves. The main window sends
    changes to the tree, and the tree's events come back here as row inserts, updates
    and removals.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.tree: ThoughtTree | None = None
        self._items: dict[str, QStandardItem] = {}

    def set_tree(self, tree: ThoughtTree | None) -> None:
        """Show ``tree`` in place of the current one, rebuilding every row."""
        if self.tree is not None:
            self.tree.unsubscribe(self._on_tree_event)
        self.removeRows(0, self.rowCount())
        self._items.clear()
        self.tree = tree
        if tree is None:
            return
        for node in tree.nodes():
            self._insert(node)
        tree.subscribe(self._on_tree_event)
        log.debug("Tree model shows %d nodes", len(self._items))

    # -- lookups ------------------------------------------------------------------

    def index_of(self, node_id: str) -> QModelIndex:
        """Return the first-column index of a node, or an invalid index if it has no row."""
        item = self._items.get(node_id)
        return item.index() if item is not None else QModelIndex()

    def node_id(self, index: QModelIndex) -> str | None:
        """Return the id of the node shown in ``index``'s row, or None."""
        if not index.isValid():
            return None
        return self.itemFromIndex(index.siblingAtColumn(0)).data(NODE_ID_ROLE)

    # -- tree events --------------------------------------------------------------

    def _on_tree_event(self, event: str, node_id: str, fields: tuple[str, ...]) -> None:
        if event == "added":
            self._insert(self.tree.node(node_id))
        elif event == "changed":
            self._refresh(self.tree.node(node_id))
        elif event == "removed":
            self._remove(node_id)

    def _insert(self, node: Node) -> None:
        row = [QStandardItem() for _ in COLUMNS]
        for item in row:
            item.setEditable(False)
        row[0].setData(node.id, NODE_ID_ROLE)
        self._items[node.id] = row[0]
        self._fill(row, node)

        if node.parent_id is None:
            self.appendRow(row)
            return
        parent = self._items[node.parent_id]
        position = min(node.position, parent.rowCount())
        parent.insertRow(position, row)

    def _refresh(self, node: Node) -> None:
        first = self._items.get(node.id)
        if first is None:
            log.warning("Tree model has no row for changed node %s", node.id)
            return
        owner = first.parent() or self.invisibleRootItem()
        row = [owner.child(first.row(), column) for column in range(len(COLUMNS))]
        self._fill(row, node)

    def _remove(self, node_id: str) -> None:
        item = self._items.pop(node_id, None)
        if item is None:
            return
        owner = item.parent() or self.invisibleRootItem()
        owner.removeRow(item.row())

    def _fill(self, row: list[QStandardItem], node: Node) -> None:
        palette = QApplication.palette()
        temperature = node.temperature
        texts = (
            thought_label(node),
            "" if node.kind == ROOT else node.persona,
            "" if temperature is None else f"{temperature:.2f}",
        )
        font = QFont()
        font.setStrikeOut(node.pruned)
        font.setItalic(not node.complete)
        if node.kind == ROOT:
            font.setBold(True)
        if node.pruned:
            color = palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        else:
            color = palette.color(QPalette.ColorRole.Text)
        tooltip = thought_tooltip(node)

        for item, text in zip(row, texts):
            item.setText(text)
            item.setFont(font)
            item.setForeground(color)
            item.setToolTip(tooltip)
