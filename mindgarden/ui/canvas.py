"""The garden canvas: a zoomable, pannable view of the thought tree with a minimap and keyboard flow."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPen, QWheelEvent
from PySide6.QtWidgets import QFrame, QGraphicsView, QWidget

from mindgarden.ui.canvas_scene import TreeScene
from mindgarden.ui.card import NodeCard

log = logging.getLogger(__name__)

ZOOM_STEP = 1.2
MIN_ZOOM = 0.05
MAX_ZOOM = 3.0
MINIMAP_SIZE = (200, 130)
MINIMAP_MARGIN = 10
DIGIT_KEYS = {getattr(Qt.Key, f"Key_{digit}"): digit for digit in range(10)}


class Minimap(QGraphicsView):
    """Overview of the whole scene with the main view's visible area drawn as a rectangle.

    Clicking or dragging in it centres the main view on that point.
    """

    def __init__(self, canvas: GardenCanvas) -> None:
        super().__init__(canvas.scene(), canvas)
        self._canvas = canvas
        self.setFixedSize(*MINIMAP_SIZE)
        self.setInteractive(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.Box)
        self.setBackgroundBrush(QColor(250, 249, 245, 230))
        self.setToolTip("Minimap: click or drag to move the view")

    def fit(self) -> None:
        self.fitInView(self.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        visible = self._canvas.visible_scene_rect()
        painter.setPen(QPen(QColor("#1f6feb"), 0))
        painter.setBrush(QColor(31, 111, 235, 40))
        painter.drawRect(visible)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._canvas.centerOn(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._canvas.centerOn(self.mapToScene(event.position().toPoint()))


class GardenCanvas(QGraphicsView):
    """The main view of a thought tree. It changes only what it shows, never the tree.

    Keys: arrows move to the parent (Up), first child (Down) and siblings (Left, Right);
    Space collapses or expands the current subtree; H hides or shows pruned thoughts;
    F fits the tree in view; Ctrl+wheel, Ctrl+= and Ctrl+- zoom. In rank mode (R) the
    digits 1 to 9 rank the current thought among its siblings and move on to the next
    one, 0 clears its rank, and R or Esc leaves the mode. Equal digits make ties.
    """

    current_changed = Signal(object)
    """Emitted with the id of the new current node, or None."""
    rank_requested = Signal(str, object)
    """Emitted with a node id and the rank (int, or None to clear) the user chose in rank mode."""
    rank_mode_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree_scene = TreeScene(self)
        self.setScene(self.tree_scene)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setBackgroundBrush(QColor("#f1efe8"))
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.rank_mode = False
        self.minimap = Minimap(self)
        self.tree_scene.layout_changed.connect(self._on_layout_changed)
        self.horizontalScrollBar().valueChanged.connect(self.minimap.viewport().update)
        self.verticalScrollBar().valueChanged.connect(self.minimap.viewport().update)

    # -- state --------------------------------------------------------------------

    @property
    def current_id(self) -> str | None:
        return self.tree_scene.current_id

    def set_current(self, node_id: str | None, notify: bool = True) -> None:
        """Make ``node_id`` current: highlight its path, reveal it and scroll it into view."""
        if node_id is not None:
            self.tree_scene.reveal(node_id)
        changed = node_id != self.tree_scene.current_id
        self.tree_scene.set_current(node_id)
        card = self.tree_scene.cards.get(node_id) if node_id is not None else None
        if card is not None and card.isVisible():
            self.ensureVisible(card, 40, 40)
        if changed and notify:
            self.current_changed.emit(node_id)

    def zoom(self) -> float:
        return self.transform().m11()

    def visible_scene_rect(self) -> QRectF:
        return self.mapToScene(self.viewport().rect()).boundingRect()

    # -- zoom and fit -------------------------------------------------------------

    def zoom_by(self, factor: float) -> None:
        target = max(MIN_ZOOM, min(MAX_ZOOM, self.zoom() * factor))
        self.scale(target / self.zoom(), target / self.zoom())
        self.minimap.viewport().update()

    def fit_to_view(self) -> None:
        self.fitInView(self.tree_scene.itemsBoundingRect(), Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom() > 1.0:
            self.resetTransform()
            self.centerOn(self.tree_scene.itemsBoundingRect().center())
        self.minimap.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.zoom_by(ZOOM_STEP ** steps)
            event.accept()
            return
        super().wheelEvent(event)

    # -- mouse --------------------------------------------------------------------

    def _card_at(self, event: QMouseEvent) -> NodeCard | None:
        for item in self.items(event.position().toPoint()):
            if isinstance(item, NodeCard):
                return item
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        card = self._card_at(event)
        if card is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_current(card.node_id)
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        card = self._card_at(event)
        if card is not None:
            self.toggle_collapsed(card.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def toggle_collapsed(self, node_id: str | None = None) -> None:
        node_id = node_id or self.current_id
        if node_id is None or self.tree_scene.tree is None:
            return
        if not self.tree_scene.tree.children_ids(node_id):
            return
        self.tree_scene.set_collapsed(node_id, node_id not in self.tree_scene.collapsed)

    # -- keyboard -----------------------------------------------------------------

    def set_rank_mode(self, enabled: bool) -> None:
        if enabled != self.rank_mode:
            self.rank_mode = enabled
            self.rank_mode_changed.emit(enabled)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._handle_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers & Qt.KeyboardModifier.ControlModifier:
            if key in (Qt.Key.Key_Equal, Qt.Key.Key_Plus) or event.matches(QKeySequence.StandardKey.ZoomIn):
                self.zoom_by(ZOOM_STEP)
                return True
            if key == Qt.Key.Key_Minus or event.matches(QKeySequence.StandardKey.ZoomOut):
                self.zoom_by(1 / ZOOM_STEP)
                return True
            return False
        if modifiers not in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier):
            return False

        if self.rank_mode and self._handle_rank_key(key):
            return True
        moves = {
            Qt.Key.Key_Up: self._parent_of,
            Qt.Key.Key_Down: self._first_child_of,
            Qt.Key.Key_Left: lambda node_id: self._sibling_of(node_id, -1),
            Qt.Key.Key_Right: lambda node_id: self._sibling_of(node_id, 1),
        }
        if key in moves:
            self._move(moves[key])
            return True
        if key == Qt.Key.Key_F:
            self.fit_to_view()
            return True
        if key == Qt.Key.Key_Space:
            self.toggle_collapsed()
            return True
        if key == Qt.Key.Key_H:
            self.tree_scene.set_hide_pruned(not self.tree_scene.hide_pruned)
            return True
        if key == Qt.Key.Key_R:
            self.set_rank_mode(True)
            return True
        return False

    def _handle_rank_key(self, key: int) -> bool:
        if key in (Qt.Key.Key_R, Qt.Key.Key_Escape):
            self.set_rank_mode(False)
            return True
        if key not in DIGIT_KEYS or self.current_id is None:
            return False
        digit = DIGIT_KEYS[key]
        node_id = self.current_id
        if self.tree_scene.tree.node(node_id).parent_id is None:
            return True
        self.rank_requested.emit(node_id, digit or None)
        self._move(lambda current: self._sibling_of(current, 1))
        return True

    def _move(self, step) -> None:
        if self.tree_scene.tree is None or self.tree_scene.tree.root_id is None:
            return
        current = self.current_id
        if current is None or current not in self.tree_scene.tree:
            target = self.tree_scene.tree.root_id
        else:
            target = step(current)
        if target is not None:
            self.set_current(target)

    def _parent_of(self, node_id: str) -> str | None:
        return self.tree_scene.tree.node(node_id).parent_id

    def _first_child_of(self, node_id: str) -> str | None:
        if node_id in self.tree_scene.collapsed:
            self.tree_scene.set_collapsed(node_id, False)
        children = self.tree_scene.visible_children(node_id)
        return children[0] if children else None

    def _sibling_of(self, node_id: str, offset: int) -> str | None:
        siblings = self.tree_scene.visible_siblings(node_id)
        if node_id not in siblings:
            return None
        index = siblings.index(node_id) + offset
        return siblings[index] if 0 <= index < len(siblings) else None

    # -- geometry -----------------------------------------------------------------

    def _on_layout_changed(self) -> None:
        self.minimap.fit()
        self.minimap.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_minimap()

    def _place_minimap(self) -> None:
        viewport = self.viewport().geometry()
        width, height = MINIMAP_SIZE
        self.minimap.move(viewport.right() - width - MINIMAP_MARGIN, viewport.bottom() - height - MINIMAP_MARGIN)
        self.minimap.fit()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._place_minimap()

    def centre_on_point(self, point: QPointF) -> None:
        self.centerOn(point)
