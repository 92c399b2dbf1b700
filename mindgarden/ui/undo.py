"""Undo commands for every tree edit of the window: star, prune, rank, edit text and delete."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from mindgarden.core.tree import Node, ThoughtTree

log = logging.getLogger(__name__)


class NodeFieldsCommand(QUndoCommand):
    """A change to some fields of one node, undone by writing their earlier values back.

    Call ``apply`` before pushing the command: it runs the change, which may raise
    MindGardenError, and records the fields before and after. The push then does nothing
    more, and later redos write the recorded values.
    """

    def __init__(self, tree: ThoughtTree, node_id: str, text: str, change: Callable[[], object],
                 fields: tuple[str, ...]) -> None:
        super().__init__(text)
        self.tree = tree
        self.node_id = node_id
        self._change = change
        self._fields = fields
        self._before: dict[str, object] = {}
        self._after: dict[str, object] = {}
        self._applied = False

    def _snapshot(self) -> dict[str, object]:
        node = self.tree.node(self.node_id)
        return {name: getattr(node, name) for name in self._fields}

    def apply(self) -> None:
        self._before = self._snapshot()
        self._change()
        self._after = self._snapshot()
        self._applied = True

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.tree.update(self.node_id, **self._after)

    def undo(self) -> None:
        self.tree.update(self.node_id, **self._before)


class DeleteSubtreeCommand(QUndoCommand):
    """Deletion of a node with its subtree; undo inserts the same nodes again, parents first."""

    def __init__(self, tree: ThoughtTree, node_id: str, text: str) -> None:
        super().__init__(text)
        self.tree = tree
        self.node_id = node_id
        self.removed: list[Node] = []
        self._applied = False

    def apply(self) -> None:
        self.removed = self.tree.remove_subtree(self.node_id)
        self._applied = True
        log.info("Deleted node %s and %d descendants", self.node_id, len(self.removed) - 1)

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self.removed = self.tree.remove_subtree(self.node_id)

    def undo(self) -> None:
        for node in self.removed:
            self.tree.insert(node)


def star_command(tree: ThoughtTree, node_id: str, starred: bool) -> NodeFieldsCommand:
    return NodeFieldsCommand(tree, node_id, "Star" if starred else "Unstar",
                             lambda: tree.set_starred(node_id, starred), ("starred", "pruned"))


def prune_command(tree: ThoughtTree, node_id: str, pruned: bool) -> NodeFieldsCommand:
    return NodeFieldsCommand(tree, node_id, "Prune" if pruned else "Restore",
                             lambda: tree.set_pruned(node_id, pruned), ("starred", "pruned"))


def rank_command(tree: ThoughtTree, node_id: str, rank: int | None) -> NodeFieldsCommand:
    text = f"Rank {rank}" if rank is not None else "Clear rank"
    return NodeFieldsCommand(tree, node_id, text, lambda: tree.set_rank(node_id, rank), ("rank",))


def edit_command(tree: ThoughtTree, node_id: str, text: str) -> NodeFieldsCommand:
    return NodeFieldsCommand(tree, node_id, "Edit", lambda: tree.edit_text(node_id, text),
                             ("text", "original_text"))
