"""The scene adapter of the garden canvas: tree events become card updates, edges and a tidy layout."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QPointF, QRectF, QTimer, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from mindgarden.core.layout import TreeLayout, layout_thought_tree
from mindgarden.core.tree import ThoughtTree
from mindgarden.ui.card import CARD_HEIGHT, CARD_WIDTH, CURRENT_COLOR, PATH_COLOR, NodeCard

log = logging.getLogger(__name__)

# Cards repaint at most this often while text streams, about 30 frames per second.
FRAME_INTERVAL_MS = 33
SCENE_MARGIN = 60.0
EDGE_COLOR = QColor("#b9b4a6")
# Changes to these fields can move, show or hide cards, so they need a new layout.
LAYOUT_FIELDS = frozenset({"pruned", "position"})


class TreeScene(QGraphicsScene):
    """Scene that mirrors one ThoughtTree as cards and edges, laid out as a tidy tree.

    It only reads the tree. Text changes are batched and applied once per frame, to the
    changed cards only. Added or removed nodes, collapsing and hiding pruned nodes lay
    the tree out again, also at most once per frame.
    """

    layout_changed = Signal()
    """Emitted after cards moved, appeared or disappeared."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tree: ThoughtTree | None = None
        self.cards: dict[str, NodeCard] = {}
        self.edges: dict[str, QGraphicsPathItem] = {}
        self.collapsed: set[str] = set()
        self.hide_pruned = False
        self.current_id: str | None = None
        self.layout: TreeLayout = TreeLayout()
        self.frame_count = 0
        self._dirty: set[str] = set()
        self._needs_layout = False
        self._path_ids: set[str] = set()
        self._frame_timer = QTimer(self)
        self._frame_timer.setSingleShot(True)
        self._frame_timer.setInterval(FRAME_INTERVAL_MS)
        self._frame_timer.timeout.connect(self.flush)

    # -- tree ---------------------------------------------------------------------

    def set_tree(self, tree: ThoughtTree | None) -> None:
        """Show ``tree`` in place of the current one, rebuilding every card."""
        if self.tree is not None:
            self.tree.unsubscribe(self._on_tree_event)
        self._frame_timer.stop()
        self.clear()
        self.cards.clear()
        self.edges.clear()
        self.collapsed.clear()
        self._dirty.clear()
        self._path_ids = set()
        self.current_id = None
        self.layout = TreeLayout()
        self.tree = tree
        if tree is None:
            return
        for node in tree.nodes():
            self._add_card(node.id)
        tree.subscribe(self._on_tree_event)
        self.relayout()

    def _add_card(self, node_id: str) -> None:
        node = self.tree.node(node_id)
        card = NodeCard(node)
        card.setZValue(1)
        self.addItem(card)
        self.cards[node_id] = card
        if node.parent_id is not None:
            edge = QGraphicsPathItem()
            edge.setPen(QPen(EDGE_COLOR, 1.5))
            edge.setZValue(0)
            self.addItem(edge)
            self.edges[node_id] = edge

    def _on_tree_event(self, event: str, node_id: str, fields: tuple[str, ...]) -> None:
        if event == "added":
            self._add_card(node_id)
            self._schedule(layout=True)
        elif event == "removed":
            self._remove_card(node_id)
            self._schedule(layout=True)
        elif event == "changed":
            if fields == ("text",):
                # Streamed text: batched so a card repaints at most once per frame.
                self._dirty.add(node_id)
                self._schedule(layout=False)
                return
            self._refresh_card(node_id)
            if self.hide_pruned and LAYOUT_FIELDS.intersection(fields):
                self._schedule(layout=True)
            elif "position" in fields:
                self._schedule(layout=True)

    def _remove_card(self, node_id: str) -> None:
        self._dirty.discard(node_id)
        self.collapsed.discard(node_id)
        card = self.cards.pop(node_id, None)
        if card is not None:
            self.removeItem(card)
        edge = self.edges.pop(node_id, None)
        if edge is not None:
            self.removeItem(edge)
        if node_id == self.current_id:
            self.current_id = None

    def _refresh_card(self, node_id: str) -> None:
        card = self.cards.get(node_id)
        if card is not None and self.tree is not None and node_id in self.tree:
            card.refresh(self.tree.node(node_id))

    def _schedule(self, layout: bool) -> None:
        self._needs_layout = self._needs_layout or layout
        # A running timer is left alone, so a steady stream of tokens still gets a frame every interval.
        if not self._frame_timer.isActive():
            self._frame_timer.start()

    def flush(self) -> None:
        """Apply the batched text changes and a pending layout now."""
        self._frame_timer.stop()
        self.frame_count += 1
        dirty, self._dirty = self._dirty, set()
        for node_id in dirty:
            self._refresh_card(node_id)
        if self._needs_layout:
            self.relayout()

    @property
    def pending(self) -> bool:
        """Whether batched changes wait for the next frame."""
        return self._frame_timer.isActive()

    # -- layout -------------------------------------------------------------------

    def relayout(self) -> None:
        """Lay out the visible nodes and move cards and edges to their places."""
        self._needs_layout = False
        if self.tree is None or self.tree.root_id is None:
            return
        self.layout = layout_thought_tree(self.tree, self._card_size, self.collapsed, self.hide_pruned)
        for node_id, card in self.cards.items():
            shown = node_id in self.layout
            card.setVisible(shown)
            if shown:
                left, top, _width, _height = self.layout.rect(node_id)
                card.setPos(left, top)
                card.set_collapsed_count(self._hidden_below(node_id) if node_id in self.collapsed else 0)
        for node_id, edge in self.edges.items():
            parent_id = self.tree.node(node_id).parent_id
            shown = node_id in self.layout and parent_id in self.layout
            edge.setVisible(shown)
            if shown:
                edge.setPath(self._edge_path(parent_id, node_id))
        if self.current_id is not None and self.current_id not in self.layout:
            self.current_id = self._nearest_visible(self.current_id)
        self._update_highlight()
        self.setSceneRect(QRectF(-SCENE_MARGIN, -SCENE_MARGIN, self.layout.width + 2 * SCENE_MARGIN,
                                 self.layout.height + 2 * SCENE_MARGIN))
        self.layout_changed.emit()

    @staticmethod
    def _card_size(_node_id: str) -> tuple[float, float]:
        return CARD_WIDTH, CARD_HEIGHT

    def _edge_path(self, parent_id: str, child_id: str) -> QPainterPath:
        parent_x, parent_top = self.layout.positions[parent_id]
        child_x, child_top = self.layout.positions[child_id]
        start = QPointF(parent_x, parent_top + CARD_HEIGHT)
        end = QPointF(child_x, child_top)
        middle = (start.y() + end.y()) / 2
        path = QPainterPath(start)
        path.cubicTo(QPointF(start.x(), middle), QPointF(end.x(), middle), end)
        return path

    def _hidden_below(self, node_id: str) -> int:
        count = 0
        stack = list(self.tree.children_ids(node_id))
        while stack:
            child = stack.pop()
            count += 1
            stack.extend(self.tree.children_ids(child))
        return count

    def _nearest_visible(self, node_id: str) -> str | None:
        for node in reversed(self.tree.path(node_id)):
            if node.id in self.layout:
                return node.id
        return None

    # -- collapsing and hiding ----------------------------------------------------

    def set_collapsed(self, node_id: str, collapsed: bool) -> None:
        if collapsed == (node_id in self.collapsed) or node_id not in self.cards:
            return
        if collapsed:
            self.collapsed.add(node_id)
        else:
            self.collapsed.discard(node_id)
        self.relayout()

    def set_hide_pruned(self, hide: bool) -> None:
        if hide != self.hide_pruned:
            self.hide_pruned = hide
            self.relayout()

    def reveal(self, node_id: str) -> None:
        """Expand collapsed ancestors of ``node_id`` so its card is shown."""
        if self.tree is None or node_id not in self.tree:
            return
        ancestors = {node.id for node in self.tree.path(node_id)[:-1]}
        if ancestors & self.collapsed:
            self.collapsed -= ancestors
            self.relayout()

    # -- current path -------------------------------------------------------------

    def set_current(self, node_id: str | None) -> None:
        if node_id == self.current_id:
            return
        self.current_id = node_id
        self._update_highlight()

    def _update_highlight(self) -> None:
        if self.tree is None:
            return
        path_ids = set()
        if self.current_id is not None and self.current_id in self.tree:
            path_ids = {node.id for node in self.tree.path(self.current_id)}
        for node_id in self._path_ids | path_ids:
            card = self.cards.get(node_id)
            if card is not None:
                card.set_highlight(node_id == self.current_id, node_id in path_ids)
            edge = self.edges.get(node_id)
            if edge is not None:
                color = CURRENT_COLOR if node_id == self.current_id else PATH_COLOR
                edge.setPen(QPen(color, 3) if node_id in path_ids else QPen(EDGE_COLOR, 1.5))
        self._path_ids = path_ids

    def visible_children(self, node_id: str) -> list[str]:
        return [child for child in self.tree.children_ids(node_id) if child in self.layout]

    def visible_siblings(self, node_id: str) -> list[str]:
        parent_id = self.tree.node(node_id).parent_id
        return self.visible_children(parent_id) if parent_id is not None else [node_id]
