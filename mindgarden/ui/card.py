"""The node card of the garden canvas: first line, persona colour, temperature, star, prune and uncertainty."""

from __future__ import annotations

import hashlib
import logging

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from mindgarden.core.tree import ROOT, Node
from mindgarden.engine.types import FINISH_CANCELLED, FINISH_ERROR
from mindgarden.ui.tree_model import STAR, STREAMING_MARK

log = logging.getLogger(__name__)

CARD_WIDTH = 220.0
CARD_HEIGHT = 66.0
RADIUS = 8.0
STRIPE_WIDTH = 6.0
PADDING = 8.0
PRUNED_OPACITY = 0.35
# Mean entropy at which the uncertainty tint reaches full strength; SmolLM2-sized models
# rarely average more than about 3 nats per token.
FULL_TINT_NATS = 3.0

ROOT_COLOR = QColor("#4a6fa5")
CARD_COLOR = QColor("#fbfaf6")
UNCERTAIN_COLOR = QColor("#f3c98b")
CURRENT_COLOR = QColor("#1f6feb")
PATH_COLOR = QColor("#7aa7e0")
STAR_COLOR = QColor("#d49b00")
TEXT_COLOR = QColor("#1d1d1d")
MUTED_COLOR = QColor("#6b6b6b")

# Fixed colours for the bundled persona states; other names get a colour from a hash of the name.
PERSONA_COLORS = {
    "neutral": "#8c8c8c",
    "rested-morning": "#f0b429",
    "tired-night": "#3d4e81",
    "curious-child": "#2bb673",
    "sceptical-expert": "#c0392b",
    "deadline": "#e4572e",
    "unhurried": "#17a2b8",
    "after-a-walk": "#6a994e",
    "summer-date": "#f28482",
    "winter-date": "#90a4ae",
}


def persona_color(persona: str) -> QColor:
    """Return the stripe colour of a persona state, stable across runs for unknown names."""
    known = PERSONA_COLORS.get(persona)
    if known is not None:
        return QColor(known)
    hue = int(hashlib.sha256(persona.encode("utf-8")).hexdigest()[:4], 16) % 360
    return QColor.fromHsv(hue, 150, 200)


def uncertainty_fill(uncertainty: float | None) -> QColor:
    """Return the card background, blended toward amber as mean entropy (nats) rises."""
    if uncertainty is None:
        return QColor(CARD_COLOR)
    strength = max(0.0, min(1.0, uncertainty / FULL_TINT_NATS))
    blended = QColor()
    blended.setRgbF(
        CARD_COLOR.redF() + (UNCERTAIN_COLOR.redF() - CARD_COLOR.redF()) * strength,
        CARD_COLOR.greenF() + (UNCERTAIN_COLOR.greenF() - CARD_COLOR.greenF()) * strength,
        CARD_COLOR.blueF() + (UNCERTAIN_COLOR.blueF() - CARD_COLOR.blueF()) * strength,
    )
    return blended


def card_status(node: Node) -> str:
    """Return the small text under a card's first line: finish state, rank and edits."""
    parts = []
    if not node.complete:
        parts.append(f"growing {STREAMING_MARK}")
    elif node.finish_reason == FINISH_CANCELLED:
        parts.append("stopped")
    elif node.finish_reason == FINISH_ERROR:
        parts.append("failed")
    if node.rank is not None:
        parts.append(f"rank {node.rank}")
    if node.edited:
        parts.append("edited")
    if node.pruned:
        parts.append("pruned")
    return " · ".join(parts)


class NodeCard(QGraphicsItem):
    """A card for one node. ``refresh`` copies the node's state and repaints only this card.

    ``refresh_count`` counts those repaint requests so tests and benchmarks can check that
    streaming touches only the cards whose text changed.
    """

    def __init__(self, node: Node) -> None:
        super().__init__()
        self.node_id = node.id
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable, False)
        self.setAcceptHoverEvents(False)
        self.current = False
        self.on_path = False
        self.collapsed_count = 0
        self.refresh_count = 0
        self._copy(node)

    def _copy(self, node: Node) -> None:
        self.is_root = node.kind == ROOT
        self.line = node.first_line(120) or (STREAMING_MARK if not node.complete else "")
        self.persona = node.persona
        self.temperature = node.temperature
        self.starred = node.starred
        self.pruned = node.pruned
        self.uncertainty = node.uncertainty
        self.status = card_status(node)
        self.setToolTip(node.text.strip()[:600])
        self.setOpacity(PRUNED_OPACITY if node.pruned else 1.0)

    def refresh(self, node: Node) -> None:
        self._copy(node)
        self.refresh_count += 1
        self.update()

    def set_highlight(self, current: bool, on_path: bool) -> None:
        if (current, on_path) != (self.current, self.on_path):
            self.current, self.on_path = current, on_path
            self.update()

    def set_collapsed_count(self, count: int) -> None:
        if count != self.collapsed_count:
            self.collapsed_count = count
            self.update()

    # -- painting -----------------------------------------------------------------

    def boundingRect(self) -> QRectF:
        return QRectF(-2, -2, CARD_WIDTH + 4, CARD_HEIGHT + 4)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = QRectF(0, 0, CARD_WIDTH, CARD_HEIGHT)
        outline = QPainterPath()
        outline.addRoundedRect(box, RADIUS, RADIUS)

        if self.current:
            pen = QPen(CURRENT_COLOR, 3)
        elif self.on_path:
            pen = QPen(PATH_COLOR, 2)
        else:
            pen = QPen(QColor("#c8c4b8"), 1)
        painter.setPen(pen)
        painter.setBrush(QBrush(uncertainty_fill(self.uncertainty)))
        painter.drawPath(outline)

        # The persona stripe, clipped to the card's rounded left edge.
        painter.save()
        painter.setClipPath(outline)
        painter.fillRect(QRectF(0, 0, STRIPE_WIDTH, CARD_HEIGHT),
                         ROOT_COLOR if self.is_root else persona_color(self.persona))
        painter.restore()

        # Level of detail: a zoomed-out card is a coloured box, text would be unreadable anyway.
        scale = option.levelOfDetailFromTransform(painter.worldTransform())
        if scale < 0.35:
            return
        self._paint_text(painter)

    def _paint_text(self, painter: QPainter) -> None:
        left = STRIPE_WIDTH + PADDING
        right = CARD_WIDTH - PADDING
        font = QFont(painter.font())
        font.setPointSizeF(9.5)
        font.setBold(self.is_root)
        font.setStrikeOut(self.pruned)
        painter.setFont(font)
        metrics = QFontMetricsF(font)

        badge_width = 0.0
        if self.temperature is not None:
            badge_text = f"T {self.temperature:.2f}"
            badge_width = metrics.horizontalAdvance(badge_text) + 10
            badge = QRectF(right - badge_width, PADDING, badge_width, metrics.height() + 2)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#e8e4d8"))
            painter.drawRoundedRect(badge, 4, 4)
            painter.setPen(MUTED_COLOR)
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, badge_text)

        title_left = left
        if self.starred:
            painter.setPen(STAR_COLOR)
            painter.drawText(QRectF(left, PADDING, 16, metrics.height() + 2), Qt.AlignmentFlag.AlignVCenter, STAR)
            title_left += 16
        text_box = QRectF(title_left, PADDING, right - title_left - badge_width - 4, CARD_HEIGHT - 2 * PADDING - 16)
        painter.setPen(TEXT_COLOR)
        flags = Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        elided = metrics.elidedText(self.line, Qt.TextElideMode.ElideRight, text_box.width() * 2 - 8)
        painter.drawText(text_box, int(flags), elided)

        small = QFont(font)
        small.setPointSizeF(8.0)
        small.setBold(False)
        small.setStrikeOut(False)
        painter.setFont(small)
        painter.setPen(MUTED_COLOR)
        footer = QRectF(left, CARD_HEIGHT - PADDING - 14, right - left, 14)
        persona = "" if self.is_root else self.persona
        painter.drawText(footer, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, persona)
        status = self.status
        if self.collapsed_count:
            status = f"+{self.collapsed_count} hidden" + (f" · {status}" if status else "")
        painter.drawText(footer, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, status)
