"""The thought tree: nodes on a networkx DiGraph, with change events for one view adapter."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from mindgarden.core.errors import InvalidInputError, NodeNotFoundError

ROOT = "root"
THOUGHT = "thought"

MAX_IDEA_CHARS = 20_000


def new_node_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class Node:
    """One node: the root idea or a thought grown from its parent.

    ``finish_reason`` is None while the branch streams; a node whose process died then
    keeps None and counts as incomplete. ``original_text`` is set by the first edit and
    keeps what the model wrote. ``rank`` orders siblings, 1 being best; equal ranks are
    ties and None means unranked. ``reasoning`` is a reasoning model's ``<think>`` text,
    kept apart from the thought and never exported as part of it.
    """

    id: str
    parent_id: str | None
    kind: str
    text: str
    persona: str = "neutral"
    sampler: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    model_name: str = ""
    model_sha256: str = ""
    token_count: int = 0
    uncertainty: float | None = None
    max_entropy: float | None = None
    mean_logprob: float | None = None
    finish_reason: str | None = None
    seconds: float = 0.0
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    starred: bool = False
    pruned: bool = False
    original_text: str | None = None
    position: int = 0
    rank: int | None = None
    reasoning: str | None = None

    @property
    def temperature(self) -> float | None:
        return self.sampler.get("temperature")

    @property
    def edited(self) -> bool:
        return self.original_text is not None

    @property
    def complete(self) -> bool:
        return self.kind == ROOT or self.finish_reason is not None

    def first_line(self, limit: int = 80) -> str:
        stripped = self.text.strip()
        line = stripped.splitlines()[0] if stripped else ""
        return line if len(line) <= limit else line[: limit - 1] + "…"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


TreeListener = Callable[[str, str, tuple[str, ...]], None]
"""Called as ``listener(event, node_id, changed_fields)`` with event added, changed or removed."""


def validate_idea(text: str) -> str:
    """Return the idea stripped of surrounding whitespace; raises InvalidInputError if unusable."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError("The idea is empty: type an idea or an open question to grow.")
    if len(text) > MAX_IDEA_CHARS:
        raise InvalidInputError(
            f"The idea is {len(text)} characters long: shorten it to at most {MAX_IDEA_CHARS}."
        )
    return text.strip()


class ThoughtTree:
    """A rooted tree of thoughts. All changes go through its methods so listeners see them."""

    def __init__(self) -> None:
        self.graph = nx.DiGraph()
        self.root_id: str | None = None
        self._listeners: list[TreeListener] = []

    # -- events -------------------------------------------------------------------

    def subscribe(self, listener: TreeListener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: TreeListener) -> None:
        self._listeners.remove(listener)

    def _emit(self, event: str, node_id: str, fields: tuple[str, ...] = ()) -> None:
        for listener in list(self._listeners):
            listener(event, node_id, fields)

    # -- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.graph

    def node(self, node_id: str) -> Node:
        try:
            return self.graph.nodes[node_id]["node"]
        except KeyError:
            raise NodeNotFoundError(f"Node {node_id!r} not found in this session.") from None

    @property
    def root(self) -> Node:
        if self.root_id is None:
            raise NodeNotFoundError("This session has no root idea yet.")
        return self.node(self.root_id)

    def nodes(self) -> Iterator[Node]:
        """Yield every node in depth-first order from the root, siblings by position."""
        if self.root_id is None:
            return
        stack = [self.root_id]
        while stack:
            node_id = stack.pop()
            yield self.node(node_id)
            stack.extend(reversed(self.children_ids(node_id)))

    def children_ids(self, node_id: str) -> list[str]:
        children = list(self.graph.successors(node_id))
        children.sort(key=lambda child: (self.graph.nodes[child]["node"].position, child))
        return children

    def children(self, node_id: str) -> list[Node]:
        return [self.node(child) for child in self.children_ids(node_id)]

    def parent(self, node_id: str) -> Node | None:
        parent_id = self.node(node_id).parent_id
        return self.node(parent_id) if parent_id else None

    def siblings(self, node_id: str) -> list[Node]:
        """Return every child of this node's parent, this node included."""
        parent_id = self.node(node_id).parent_id
        return self.children(parent_id) if parent_id else [self.node(node_id)]

    def path(self, node_id: str) -> list[Node]:
        """Return the nodes from the root down to ``node_id``."""
        chain = []
        current: str | None = node_id
        while current is not None:
            node = self.node(current)
            chain.append(node)
            current = node.parent_id
        chain.reverse()
        return chain

    def depth(self, node_id: str) -> int:
        return len(self.path(node_id)) - 1

    def leaves(self, include_pruned: bool = False) -> list[Node]:
        return [
            node
            for node in self.nodes()
            if self.graph.out_degree(node.id) == 0 and (include_pruned or not node.pruned)
        ]

    # -- changing -----------------------------------------------------------------

    def set_root(self, idea: str, node_id: str | None = None) -> Node:
        if self.root_id is not None:
            raise InvalidInputError("This session already has a root idea; start a new session instead.")
        node = Node(id=node_id or new_node_id(), parent_id=None, kind=ROOT, text=validate_idea(idea))
        self.insert(node)
        return node

    def add_child(self, parent_id: str, **fields: Any) -> Node:
        parent = self.node(parent_id)
        position = len(self.graph.succ[parent.id])
        node = Node(id=fields.pop("id", None) or new_node_id(), parent_id=parent.id, kind=THOUGHT,
                    text=fields.pop("text", ""), position=position, **fields)
        self.insert(node)
        return node

    def insert(self, node: Node) -> None:
        """Insert a fully built node, as when a session loads; the parent must exist."""
        if node.id in self.graph:
            raise InvalidInputError(f"Node id {node.id!r} occurs twice.")
        if node.parent_id is None:
            if self.root_id is not None:
                raise InvalidInputError(f"Node {node.id!r} is a second root.")
            self.root_id = node.id
        elif node.parent_id not in self.graph:
            raise NodeNotFoundError(f"Parent {node.parent_id!r} of node {node.id!r} not found.")
        self.graph.add_node(node.id, node=node)
        if node.parent_id is not None:
            self.graph.add_edge(node.parent_id, node.id)
        self._emit("added", node.id)

    def update(self, node_id: str, **changes: Any) -> Node:
        """Change fields of a node and notify listeners with the names that changed."""
        node = self.node(node_id)
        changed = []
        for name, value in changes.items():
            if not hasattr(node, name) or name in {"id", "parent_id", "kind"}:
                raise AttributeError(f"Node field {name!r} cannot be changed.")
            if getattr(node, name) != value:
                setattr(node, name, value)
                changed.append(name)
        if changed:
            node.updated_at = time.time()
            self._emit("changed", node_id, tuple(changed))
        return node

    def append_text(self, node_id: str, delta: str) -> None:
        """Append streamed text; cheaper than ``update`` for every token."""
        node = self.node(node_id)
        node.text += delta
        self._emit("changed", node_id, ("text",))

    def edit_text(self, node_id: str, text: str) -> Node:
        """Replace a node's text, keeping the model's original the first time it is edited."""
        node = self.node(node_id)
        if node.kind == ROOT:
            text = validate_idea(text)
        if text == node.text:
            return node
        original = node.original_text if node.original_text is not None else node.text
        if text == original:
            return self.update(node_id, text=text, original_text=None)
        return self.update(node_id, text=text, original_text=original)

    def set_starred(self, node_id: str, starred: bool) -> Node:
        changes: dict[str, Any] = {"starred": starred}
        if starred:
            changes["pruned"] = False
        return self.update(node_id, **changes)

    def set_pruned(self, node_id: str, pruned: bool) -> Node:
        changes: dict[str, Any] = {"pruned": pruned}
        if pruned:
            changes["starred"] = False
        return self.update(node_id, **changes)

    def set_rank(self, node_id: str, rank: int | None) -> Node:
        if rank is not None and (not isinstance(rank, int) or rank < 1):
            raise InvalidInputError(f"Rank {rank!r} is invalid: use 1 for the best, 2 for the next, and so on.")
        return self.update(node_id, rank=rank)

    def remove_subtree(self, node_id: str) -> list[Node]:
        """Delete a node and its descendants; returns them, parents first, for undo."""
        if node_id == self.root_id:
            raise InvalidInputError("The root idea cannot be deleted; delete the session instead.")
        removed_ids = [node_id, *nx.descendants(self.graph, node_id)]
        removed = [self.node(each) for each in removed_ids]
        removed.sort(key=lambda node: self.depth(node.id))
        for node in reversed(removed):
            self.graph.remove_node(node.id)
            self._emit("removed", node.id)
        return removed
