"""Export scopes: which sibling groups (parents) and nodes of a tree an export covers."""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.tree import ThoughtTree

SCOPE_HELP = "session, subtree:NODE (an id or unique prefix) or starred-path"


@dataclass(frozen=True)
class Scope:
    """A resolved scope.

    ``group_ids`` are the parents whose children are compared with each other, in the
    tree's depth-first order. ``node_ids`` are the nodes an outline of the scope shows.
    """

    kind: str
    group_ids: tuple[str, ...]
    node_ids: frozenset[str]
    top_id: str


def resolve_node_id(tree: ThoughtTree, prefix: str) -> str:
    """Return the id of the one node whose id starts with ``prefix``."""
    if prefix in tree:
        return prefix
    matches = [node.id for node in tree.nodes() if node.id.startswith(prefix)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise InvalidInputError(
            f"Node {prefix!r} not found in this session: `mindgarden show SESSION` lists node ids."
        )
    raise InvalidInputError(
        f"Node {prefix!r} is ambiguous ({len(matches)} nodes match): give a longer prefix of a node id."
    )


def resolve_scope(tree: ThoughtTree, scope: str) -> Scope:
    """Parse ``session``, ``subtree:NODE`` or ``starred-path`` against ``tree``."""
    if tree.root_id is None:
        raise InvalidInputError("This session has no root idea yet: there is nothing to export.")
    order = [node.id for node in tree.nodes()]

    if scope == "session":
        return Scope("session", tuple(order), frozenset(order), tree.root_id)

    if scope.startswith("subtree:"):
        top_id = resolve_node_id(tree, scope.removeprefix("subtree:").strip())
        inside = {top_id, *nx.descendants(tree.graph, top_id)}
        groups = tuple(node_id for node_id in order if node_id in inside)
        return Scope("subtree", groups, frozenset(inside), top_id)

    if scope == "starred-path":
        # The chain starts at the root and follows starred children; a node with several
        # starred children continues along each of them.
        chain = []
        pending = [tree.root_id]
        while pending:
            node_id = pending.pop()
            chain.append(node_id)
            pending.extend(child.id for child in tree.children(node_id) if child.starred)
        members = set(chain)
        groups = tuple(node_id for node_id in order if node_id in members)
        return Scope("starred-path", groups, frozenset(members), tree.root_id)

    raise InvalidInputError(f"Scope {scope!r} is invalid: use {SCOPE_HELP}.")
