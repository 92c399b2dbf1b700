"""The compare view: siblings side by side for blind rating, ranked by dragging cards into tiers."""

from __future__ import annotations

import logging
import string

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag, QDragEnterEvent, QDropEvent, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from mindgarden.core.tree import Node, ThoughtTree
from mindgarden.ui.card import persona_color
from mindgarden.ui.tree_model import STAR

log = logging.getLogger(__name__)

NODE_MIME = "application/x-mindgarden-node-id"
CARD_MIN_WIDTH = 240
UNRANKED = 0


def sibling_letter(index: int) -> str:
    """Return the blind label of the sibling at ``index``: A, B, …, Z, then AA, AB, …."""
    letters = string.ascii_uppercase
    if index < len(letters):
        return letters[index]
    return letters[index // len(letters) - 1] + letters[index % len(letters)]


class SiblingCard(QFrame):
    """One sibling: its text, star and prune buttons, and persona and temperature when revealed."""

    picked = Signal(str)

    def __init__(self, node: Node, letter: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.node_id = node.id
        self.letter = letter
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(CARD_MIN_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.title = QLabel()
        self.identity = QLabel()
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.star_button = QPushButton("Star")
        self.prune_button = QPushButton("Prune")
        self.star_button.setCheckable(True)
        self.prune_button.setCheckable(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.star_button)
        buttons.addWidget(self.prune_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.identity)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self._drag_start = None
        self.show_node(node, revealed=False, current=False)

    def show_node(self, node: Node, revealed: bool, current: bool) -> None:
        marks = [f"<b>{self.letter}</b>"]
        if node.starred:
            marks.append(STAR)
        if node.rank is not None:
            marks.append(f"rank {node.rank}")
        if node.pruned:
            marks.append("pruned")
        self.title.setText(" · ".join(marks))
        temperature = "" if node.temperature is None else f" · temperature {node.temperature:.2f}"
        self.identity.setText(f"{node.persona}{temperature}")
        self.identity.setStyleSheet(f"color: {persona_color(node.persona).darker(130).name()};")
        self.identity.setVisible(revealed)
        self.text.setText(node.text.strip())
        self.text.setEnabled(not node.pruned)
        self.star_button.setChecked(node.starred)
        self.prune_button.setChecked(node.pruned)
        border = "#1f6feb" if current else "#c8c4b8"
        self.setStyleSheet(f"SiblingCard {{ border: {3 if current else 1}px solid {border}; "
                           "border-radius: 6px; background: #fbfaf6; }")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_start = event.position().toPoint()
            self.picked.emit(self.node_id)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_start is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        if (event.position().toPoint() - self._drag_start).manhattanLength() < 8:
            return
        self._drag_start = None
        mime = QMimeData()
        mime.setData(NODE_MIME, self.node_id.encode("ascii"))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.setPixmap(self.grab().scaledToWidth(160))
        drag.exec(Qt.DropAction.MoveAction)


class RankTier(QFrame):
    """Drop target for one rank; every card dropped here gets that rank, so ties are allowed."""

    dropped = Signal(str, int)

    def __init__(self, rank: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rank = rank
        self.setAcceptDrops(True)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(70)
        self.heading = QLabel(f"Rank {rank}" if rank != UNRANKED else "Unranked")
        self.members = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.members)

    def set_members(self, letters: list[str]) -> None:
        self.members.setText(" ".join(letters) or "–")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(NODE_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if not event.mimeData().hasFormat(NODE_MIME):
            return
        node_id = bytes(event.mimeData().data(NODE_MIME)).decode("ascii")
        event.acceptProposedAction()
        self.dropped.emit(node_id, self.rank)


class CompareView(QWidget):
    """All children of one parent as cards side by side, persona and temperature hidden by default.

    It only shows the tree: ranks, stars and prunes go out as signals. Keys 1 to 9 pick
    a sibling.
    """

    picked = Signal(str)
    rank_requested = Signal(str, object)
    star_requested = Signal(str, bool)
    prune_requested = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tree: ThoughtTree | None = None
        self.parent_id: str | None = None
        self.current_id: str | None = None
        self.cards: list[SiblingCard] = []
        self.tiers: list[RankTier] = []
        self.heading = QLabel("Select a thought to compare it with its siblings.")
        self.heading.setWordWrap(True)
        self.reveal = QCheckBox("Reveal persona and temperature")
        self.reveal.setToolTip("Blind rating hides who wrote each sibling until you reveal it")
        self.reveal.toggled.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.reveal)

        self._card_row = QHBoxLayout()
        cards_widget = QWidget()
        cards_widget.setLayout(self._card_row)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(cards_widget)
        self._tier_row = QHBoxLayout()
        hint = QLabel("Drag a card into a rank; cards in the same rank are ties. Keys 1–9 pick a sibling.")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addLayout(self._tier_row)
        layout.addWidget(hint)

    def show_siblings(self, tree: ThoughtTree | None, node_id: str | None) -> None:
        """Show ``node_id`` and its siblings, ``node_id`` picked; None shows nothing."""
        self.tree = tree
        parent_id = None
        if tree is not None and node_id is not None and node_id in tree:
            parent_id = tree.node(node_id).parent_id
        if parent_id != self.parent_id:
            self.parent_id = parent_id
            self._rebuild()
        self.current_id = node_id if parent_id is not None else None
        self.refresh()

    def _rebuild(self) -> None:
        for widget in [*self.cards, *self.tiers]:
            widget.setParent(None)
            widget.deleteLater()
        self.cards = []
        self.tiers = []
        if self.tree is None or self.parent_id is None:
            return
        siblings = self.tree.children(self.parent_id)
        for index, node in enumerate(siblings):
            card = SiblingCard(node, sibling_letter(index))
            card.picked.connect(self.pick)
            card.star_button.clicked.connect(lambda checked, node_id=node.id: self.star_requested.emit(node_id, checked))
            card.prune_button.clicked.connect(lambda checked, node_id=node.id: self.prune_requested.emit(node_id, checked))
            self._card_row.addWidget(card)
            card.show()
            self.cards.append(card)
        for rank in [*range(1, len(siblings) + 1), UNRANKED]:
            tier = RankTier(rank)
            tier.dropped.connect(self._on_dropped)
            self._tier_row.addWidget(tier)
            tier.show()
            self.tiers.append(tier)

    def refresh(self) -> None:
        """Show the current state of the siblings, rebuilding if siblings were added or removed."""
        if self.tree is None or self.parent_id is None or self.parent_id not in self.tree:
            self.heading.setText("Select a thought below the idea to compare it with its siblings.")
            if self.cards:
                self.parent_id = None
                self._rebuild()
            return
        if [card.node_id for card in self.cards] != self.tree.children_ids(self.parent_id):
            self._rebuild()
        revealed = self.reveal.isChecked()
        members: dict[int, list[str]] = {tier.rank: [] for tier in self.tiers}
        for card in self.cards:
            node = self.tree.node(card.node_id)
            card.show_node(node, revealed, card.node_id == self.current_id)
            members.setdefault(node.rank or UNRANKED, []).append(card.letter)
        for tier in self.tiers:
            tier.set_members(members.get(tier.rank, []))
        parent_line = self.tree.node(self.parent_id).first_line(90)
        self.heading.setText(f"{len(self.cards)} siblings grown from: {parent_line}")

    def pick(self, node_id: str) -> None:
        if node_id != self.current_id:
            self.current_id = node_id
            self.refresh()
            self.picked.emit(node_id)

    def pick_index(self, index: int) -> bool:
        """Pick the sibling at ``index`` (0 is A). Returns whether it exists."""
        if 0 <= index < len(self.cards):
            self.pick(self.cards[index].node_id)
            return True
        return False

    def _on_dropped(self, node_id: str, rank: int) -> None:
        if self.tree is None or node_id not in [card.node_id for card in self.cards]:
            log.warning("Ignored a drop of node %s, which is not among the compared siblings", node_id)
            return
        self.rank_requested.emit(node_id, rank if rank != UNRANKED else None)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if event.modifiers() == Qt.KeyboardModifier.NoModifier and text in "123456789" and text:
            if self.pick_index(int(text) - 1):
                event.accept()
                return
        super().keyPressEvent(event)
