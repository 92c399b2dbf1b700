"""OpenAssistant message trees: thoughts as assistant turns, sibling preference as ``rank``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.export.options import SKIP_EMPTY, SKIP_INCOMPLETE
from mindgarden.core.export.pairs import Side
from mindgarden.core.export.rows import node_metadata
from mindgarden.core.export.scope import Scope
from mindgarden.core.prompting import FIRST_REQUEST, NEXT_REQUEST
from mindgarden.core.tree import Node, ThoughtTree

SKIP_BELOW_SKIPPED = "below a skipped branch"

# Nested replies become nested JSON and Arrow structs; deeper trees are rejected rather
# than risking recursion limits in json.dumps and in readers.
MAX_OASST_DEPTH = 100

# BCP 47 "undetermined": MindGarden does not record the language of a session.
LANGUAGE_UNDETERMINED = "und"

_STAR_TIER, _UNMARKED_TIER, _PRUNE_TIER = 0, 1, 2


def sibling_ranks(siblings: list[Node]) -> dict[str, int | None]:
    """Return the OpenAssistant rank of each sibling: 0 is best, and tied siblings share a rank.

    Explicit ranks win; without any, starred siblings rank above unmarked ones and pruned
    ones rank last. A group with no marks gets None everywhere, as unranked replies do in
    OpenAssistant exports.
    """
    ranked = [node for node in siblings if node.rank is not None]
    if ranked:
        return {node.id: (sum(1 for other in ranked if other.rank < node.rank) if node.rank is not None else None)
                for node in siblings}

    if not any(node.starred or node.pruned for node in siblings):
        return {node.id: None for node in siblings}

    def tier(node: Node) -> int:
        if node.starred:
            return _STAR_TIER
        if node.pruned:
            return _PRUNE_TIER
        return _UNMARKED_TIER

    return {node.id: sum(1 for other in siblings if tier(other) < tier(node)) for node in siblings}


def _included_nodes(tree: ThoughtTree, scope: Scope) -> set[str]:
    if scope.kind == "session":
        return set(scope.node_ids)
    included: set[str] = set()
    for group_id in scope.group_ids:
        included.update(node.id for node in tree.path(group_id))
        included.update(tree.children_ids(group_id))
    return included


def _emitted_children(tree: ThoughtTree, parent_id: str, included: set[str], skipped: Counter) -> list[Node]:
    """Return the children of ``parent_id`` that become messages; count the others and their subtrees."""
    emitted = []
    for child in tree.children(parent_id):
        if child.id not in included:
            continue
        if not child.complete:
            reason = SKIP_INCOMPLETE
        elif not child.text.strip():
            reason = SKIP_EMPTY
        else:
            emitted.append(child)
            continue
        skipped[reason] += 1
        below = len(_descendants_in(tree, child.id, included))
        if below:
            skipped[SKIP_BELOW_SKIPPED] += below
    return emitted


def _descendants_in(tree: ThoughtTree, node_id: str, included: set[str]) -> list[str]:
    found = []
    pending = list(tree.children_ids(node_id))
    while pending:
        current = pending.pop()
        if current in included:
            found.append(current)
        pending.extend(tree.children_ids(current))
    return found


def build_oasst_tree(tree: ThoughtTree, scope: Scope, prompt_mode: str,
                     skipped: Counter) -> tuple[dict[str, Any], dict[str, Any]]:
    """Build one message tree row and its metadata row.

    The root idea becomes the prompter message with the same request the model saw. Below
    every thought that has replies, a synthetic prompter turn requests the next thought,
    so roles alternate prompter/assistant along every path, as OpenAssistant trees do.
    """
    root = tree.root
    included = _included_nodes(tree, scope)
    prompt: dict[str, Any] = {
        "message_id": root.id,
        "text": FIRST_REQUEST.format(idea=root.text),
        "role": "prompter",
        "lang": LANGUAGE_UNDETERMINED,
        "synthetic": False,
        "replies": [],
    }
    nodes_metadata: list[dict[str, Any]] = []

    # Iterative walk: (tree node whose children to attach, prompter message they reply to, depth).
    pending: list[tuple[str, dict[str, Any], int]] = [(root.id, prompt, 0)]
    while pending:
        parent_id, prompter, depth = pending.pop()
        children = _emitted_children(tree, parent_id, included, skipped)
        if not children:
            continue
        if depth >= MAX_OASST_DEPTH:
            raise InvalidInputError(
                f"The tree is deeper than {MAX_OASST_DEPTH} levels below the root, too deep for nested "
                "oasst message trees: export a subtree, or use the json format."
            )
        ranks = sibling_ranks(children)
        for child in children:
            reply: dict[str, Any] = {
                "message_id": child.id,
                "parent_id": prompter["message_id"],
                "text": child.text.strip(),
                "role": "assistant",
                "lang": LANGUAGE_UNDETERMINED,
                "rank": ranks[child.id],
                # OpenAssistant marks model-written messages as synthetic; an edit makes it human text.
                "synthetic": not child.edited,
                "model_name": child.model_name,
                "replies": [],
            }
            prompter["replies"].append(reply)
            nodes_metadata.append(node_metadata(Side(child, reply["text"], "text")))
            next_prompter = {
                "message_id": f"{child.id}-next",
                "parent_id": child.id,
                "text": NEXT_REQUEST,
                "role": "prompter",
                "lang": LANGUAGE_UNDETERMINED,
                "synthetic": False,
                "replies": [],
            }
            if any(grandchild in included for grandchild in tree.children_ids(child.id)):
                pending.append((child.id, next_prompter, depth + 1))
                reply["replies"].append(next_prompter)

    # A thought whose replies were all skipped keeps no empty synthetic prompter turn.
    _prune_empty_prompters(prompt)

    row = {"message_tree_id": root.id, "tree_state": "ready_for_export", "prompt": prompt}
    metadata = {
        "format": "oasst",
        "group_id": root.id,
        "message_tree_id": root.id,
        "pair_source": ["rank", "star-prune"],
        "prompt_mode": prompt_mode,
        "scope": scope.kind,
        "nodes": nodes_metadata,
    }
    return row, metadata


def _prune_empty_prompters(prompt: dict[str, Any]) -> None:
    pending = [prompt]
    while pending:
        message = pending.pop()
        if message["role"] == "assistant":
            message["replies"] = [reply for reply in message["replies"] if reply["replies"]]
        pending.extend(message["replies"])
