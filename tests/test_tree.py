"""Thought tree: structure, marks, edits and change events."""

from __future__ import annotations

import pytest

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.tree import ThoughtTree


def grown_tree() -> ThoughtTree:
    tree = ThoughtTree()
    root = tree.set_root("  How might towns cool down in summer?  ")
    for index in range(3):
        tree.add_child(root.id, text=f"thought {index}", persona="neutral", finish_reason="stop")
    return tree


def test_root_strips_idea():
    tree = grown_tree()
    assert tree.root.text == "How might towns cool down in summer?"


@pytest.mark.parametrize("idea", ["", "   ", "\n\t"])
def test_empty_idea_rejected(idea):
    tree = ThoughtTree()
    with pytest.raises(InvalidInputError, match="empty"):
        tree.set_root(idea)
    assert len(tree) == 0


def test_children_keep_positions():
    tree = grown_tree()
    assert [child.text for child in tree.children(tree.root_id)] == ["thought 0", "thought 1", "thought 2"]
    assert [child.position for child in tree.children(tree.root_id)] == [0, 1, 2]


def test_path_runs_root_to_node():
    tree = grown_tree()
    child = tree.children(tree.root_id)[1]
    grandchild = tree.add_child(child.id, text="deeper")
    assert [node.id for node in tree.path(grandchild.id)] == [tree.root_id, child.id, grandchild.id]
    assert tree.depth(grandchild.id) == 2


def test_star_clears_prune():
    tree = grown_tree()
    node = tree.children(tree.root_id)[0]
    tree.set_pruned(node.id, True)
    tree.set_starred(node.id, True)
    assert node.starred
    assert not node.pruned


def test_edit_keeps_original():
    tree = grown_tree()
    node = tree.children(tree.root_id)[0]
    tree.edit_text(node.id, "better thought")
    tree.edit_text(node.id, "best thought")
    assert node.text == "best thought"
    assert node.original_text == "thought 0"
    tree.edit_text(node.id, "thought 0")
    assert node.original_text is None


def test_events_reach_listener():
    tree = grown_tree()
    seen = []
    tree.subscribe(lambda event, node_id, fields: seen.append((event, fields)))
    node = tree.children(tree.root_id)[0]
    tree.set_starred(node.id, True)
    tree.append_text(node.id, "!")
    tree.remove_subtree(node.id)
    assert seen == [("changed", ("starred",)), ("changed", ("text",)), ("removed", ())]


def test_remove_subtree_returns_descendants():
    tree = grown_tree()
    child = tree.children(tree.root_id)[0]
    tree.add_child(child.id, text="below")
    removed = tree.remove_subtree(child.id)
    assert len(removed) == 2
    assert len(tree) == 3
