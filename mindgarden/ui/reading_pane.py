"""The reading pane: the whole path from the root idea to the selected thought."""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import QModelIndex, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QTextBrowser, QWidget

from mindgarden.core.errors import NodeNotFoundError
from mindgarden.core.tree import ROOT, Node, ThoughtTree
from mindgarden.ui.tree_model import STAR, STREAMING_MARK, ThoughtTreeModel

log = logging.getLogger(__name__)

EMPTY_TEXT = "Type an idea above and press Grow, or open a session with Ctrl+O."


def node_heading(node: Node) -> str:
    """Return the label of one thought on the path: its persona and temperature."""
    if node.kind == ROOT:
        return "Idea"
    temperature = node.temperature
    label = node.persona if temperature is None else f"{node.persona} · temperature {temperature:.2f}"
    if node.starred:
        label = f"{STAR} {label}"
    if node.pruned:
        label += " · pruned"
    return label


def node_details(node: Node) -> str:
    """Return one line of facts about a thought: tokens, how it finished, uncertainty."""
    if node.kind == ROOT:
        return ""
    if not node.complete:
        return f"growing {STREAMING_MARK}"
    facts = [f"{node.token_count} tokens", f"finished: {node.finish_reason}"]
    if node.uncertainty is not None:
        facts.append(f"mean entropy {node.uncertainty:.2f} nats")
    if node.edited:
        facts.append("edited (the model's original is kept)")
    return " · ".join(facts)


REASONING_LINK = "reasoning:toggle"


def reasoning_html(node: Node, expanded: bool) -> str:
    """Return the collapsed (a link) or expanded reasoning of a reasoning model's thought."""
    if not node.reasoning:
        return ""
    if not expanded:
        return (f"<p><small><a href='{REASONING_LINK}'>▸ Show reasoning ({len(node.reasoning)} characters)</a>"
                "</small></p>")
    text = html.escape(node.reasoning).replace("\n", "<br>")
    return (f"<p><small><a href='{REASONING_LINK}'>▾ Hide reasoning</a></small></p>"
            f"<blockquote><small>{text}</small></blockquote>")


def path_html(tree: ThoughtTree, node_id: str, ancestor_color: str = "#666666",
              show_reasoning: bool = False) -> str:
    """Render the path from the root to ``node_id`` as HTML, the selected thought last.

    Ancestors are drawn in ``ancestor_color`` (a CSS color) so the selected thought is easy to find.
    """
    blocks = []
    path = tree.path(node_id)
    for depth, node in enumerate(path):
        selected = depth == len(path) - 1
        text = html.escape(node.text.strip() or STREAMING_MARK).replace("\n", "<br>")
        style = "" if selected else f" style='color: {ancestor_color};'"
        block = f"<h4>{html.escape(node_heading(node))}</h4><p{style}>{text}</p>"
        details = node_details(node)
        if selected and details:
            block += f"<p><small><i>{html.escape(details)}</i></small></p>"
        if selected:
            block += reasoning_html(node, show_reasoning)
        blocks.append(block)
    return "<hr>".join(blocks)


class ReadingPane(QTextBrowser):
    """Read-only view of the selected node's path that follows the item model's changes."""

    def __init__(self, model: ThoughtTreeModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setPlaceholderText(EMPTY_TEXT)
        self._model = model
        self._node_id: str | None = None
        self.reasoning_expanded = False
        self.anchorClicked.connect(self._on_anchor_clicked)
        # Several item changes arrive per flush, so a zero-delay timer renders them once.
        self._render_timer = QTimer(self)
        self._render_timer.setSingleShot(True)
        self._render_timer.setInterval(0)
        self._render_timer.timeout.connect(self.render)
        model.dataChanged.connect(self._on_data_changed)
        model.modelReset.connect(self.render)

    @property
    def node_id(self) -> str | None:
        return self._node_id

    def show_node(self, node_id: str | None) -> None:
        """Show the path to ``node_id``, or the empty text for None."""
        if node_id != self._node_id:
            self.reasoning_expanded = False
        self._node_id = node_id
        self.render()

    def render(self) -> None:
        """Render the path to the shown node again from the tree."""
        self._render_timer.stop()
        tree = self._model.tree
        if tree is None or self._node_id is None or self._node_id not in tree:
            self.clear()
            return
        try:
            ancestor_color = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
            markup = path_html(tree, self._node_id, ancestor_color, self.reasoning_expanded)
        except NodeNotFoundError as error:
            log.warning("Reading pane cannot show node %s: %s", self._node_id, error)
            self.clear()
            return
        scrollbar = self.verticalScrollBar()
        at_end = scrollbar.value() >= scrollbar.maximum() - 4
        self.setHtml(markup)
        if at_end:
            scrollbar.setValue(scrollbar.maximum())

    def _on_anchor_clicked(self, url) -> None:
        if url.toString() == REASONING_LINK:
            self.reasoning_expanded = not self.reasoning_expanded
            self.render()

    def _on_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles=()) -> None:
        tree = self._model.tree
        changed = self._model.node_id(top_left)
        if tree is None or self._node_id is None or changed is None or self._node_id not in tree:
            return
        # Only the shown path matters: an edit to an ancestor changes what is shown too.
        if any(node.id == changed for node in tree.path(self._node_id)):
            self._render_timer.start()
