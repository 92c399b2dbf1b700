"""The tidy tree layout: no overlaps, centred parents, mirror symmetry and large trees."""

from __future__ import annotations

import random
import sys
from collections import defaultdict

import pytest

from mindgarden.core.layout import layout_thought_tree, tidy_layout
from mindgarden.core.tree import ThoughtTree

GAP = 10.0


def random_tree(count: int, seed: int, max_children: int = 5) -> dict[str, list[str]]:
    """Build a random tree of ``count`` nodes named n0 (the root) to n{count-1}."""
    rng = random.Random(seed)
    children: dict[str, list[str]] = defaultdict(list)
    open_nodes = ["n0"]
    for index in range(1, count):
        parent = rng.choice(open_nodes)
        children[parent].append(f"n{index}")
        if len(children[parent]) >= max_children:
            open_nodes.remove(parent)
        open_nodes.append(f"n{index}")
    return dict(children)


def random_sizes(children: dict[str, list[str]], seed: int) -> dict[str, tuple[float, float]]:
    rng = random.Random(seed)
    names = {"n0", *(child for kids in children.values() for child in kids)}
    return {name: (rng.uniform(20, 200), rng.uniform(20, 60)) for name in sorted(names)}


def rows(layout) -> dict[float, list[str]]:
    by_top: dict[float, list[str]] = defaultdict(list)
    for node_id, (_x, top) in layout.positions.items():
        by_top[top].append(node_id)
    return by_top


def assert_no_overlap(layout, gap: float) -> None:
    for top, node_ids in rows(layout).items():
        boxes = sorted(layout.rect(node_id) for node_id in node_ids)
        for (left_a, _, width_a, _), (left_b, _, _, _) in zip(boxes, boxes[1:]):
            assert left_a + width_a + gap <= left_b + 1e-6, f"nodes overlap on the row at y={top}"


@pytest.mark.parametrize("seed", range(8))
def test_random_trees_have_no_overlaps(seed):
    children = random_tree(300, seed)
    layout = tidy_layout(children, "n0", random_sizes(children, seed), sibling_gap=GAP)

    assert len(layout) == 300
    assert_no_overlap(layout, GAP)


@pytest.mark.parametrize("seed", range(4))
def test_parents_centred_over_children(seed):
    children = random_tree(200, seed)
    layout = tidy_layout(children, "n0", random_sizes(children, seed), sibling_gap=GAP)

    for parent, kids in children.items():
        first_x = layout.positions[kids[0]][0]
        last_x = layout.positions[kids[-1]][0]
        assert layout.positions[parent][0] == pytest.approx((first_x + last_x) / 2)


def test_children_below_parents():
    children = random_tree(100, 1)
    layout = tidy_layout(children, "n0", random_sizes(children, 1))

    for parent, kids in children.items():
        parent_x, parent_top = layout.positions[parent]
        bottom = parent_top + layout.sizes[parent][1]
        for child in kids:
            assert layout.positions[child][1] > bottom


@pytest.mark.parametrize("seed", range(6))
def test_mirrored_tree_mirrors_layout(seed):
    children = random_tree(150, seed)
    sizes = random_sizes(children, seed)
    mirrored = {parent: list(reversed(kids)) for parent, kids in children.items()}

    layout = tidy_layout(children, "n0", sizes, sibling_gap=GAP)
    mirror = tidy_layout(mirrored, "n0", sizes, sibling_gap=GAP)

    assert mirror.width == pytest.approx(layout.width)
    for node_id, (x, top) in layout.positions.items():
        mirror_x, mirror_top = mirror.positions[node_id]
        assert mirror_top == top
        assert mirror_x == pytest.approx(layout.width - x, abs=1e-6)


def test_small_subtrees_between_large_ones_spread_evenly():
    # Two deep wide subtrees with three leaves between: the leaves share the space equally.
    children = {
        "root": ["a", "l1", "l2", "l3", "b"],
        "a": ["a1", "a2"], "a1": ["a11", "a12", "a13", "a14"],
        "b": ["b1", "b2"], "b2": ["b21", "b22", "b23", "b24"],
    }
    layout = tidy_layout(children, "root", lambda _node: (10.0, 10.0), sibling_gap=GAP)

    xs = [layout.positions[name][0] for name in ("a", "l1", "l2", "l3", "b")]
    steps = [right - left for left, right in zip(xs, xs[1:])]
    assert steps[0] == pytest.approx(steps[1])
    assert steps[1] == pytest.approx(steps[2])
    assert steps[2] == pytest.approx(steps[3])
    assert_no_overlap(layout, GAP)


def test_collapsed_and_hidden_nodes_left_out():
    children = {"r": ["a", "b", "c"], "a": ["a1", "a2"], "b": ["b1"], "c": ["c1"]}
    layout = tidy_layout(children, "r", lambda _node: (40.0, 20.0), collapsed={"a"}, hidden={"b"})

    assert set(layout.positions) == {"r", "a", "c", "c1"}
    assert layout.positions["r"][0] == pytest.approx((layout.positions["a"][0] + layout.positions["c"][0]) / 2)


def test_hidden_root_gives_empty_layout():
    layout = tidy_layout({"r": ["a"]}, "r", lambda _node: (1.0, 1.0), hidden={"r"})

    assert len(layout) == 0


def test_five_thousand_nodes():
    children = random_tree(5000, 42, max_children=8)
    layout = tidy_layout(children, "n0", random_sizes(children, 42), sibling_gap=GAP)

    assert len(layout) == 5000
    assert_no_overlap(layout, GAP)


def test_deep_chain_within_recursion_limit():
    depth = max(3000, sys.getrecursionlimit() + 500)
    children = {f"n{index}": [f"n{index + 1}"] for index in range(depth - 1)}
    layout = tidy_layout(children, "n0", lambda _node: (50.0, 20.0))

    assert len(layout) == depth
    assert {x for x, _top in layout.positions.values()} == {25.0}
    assert layout.positions[f"n{depth - 1}"][1] > layout.positions["n0"][1]


def test_thought_tree_hides_pruned():
    tree = ThoughtTree()
    root = tree.set_root("An idea")
    kept = tree.add_child(root.id, text="kept")
    pruned = tree.add_child(root.id, text="pruned")
    below = tree.add_child(pruned.id, text="below the pruned one")
    tree.set_pruned(pruned.id, True)

    shown = layout_thought_tree(tree, lambda _node: (80.0, 30.0))
    hidden = layout_thought_tree(tree, lambda _node: (80.0, 30.0), hide_pruned=True)

    assert set(shown.positions) == {root.id, kept.id, pruned.id, below.id}
    assert set(hidden.positions) == {root.id, kept.id}
    assert hidden.positions[root.id][0] == hidden.positions[kept.id][0]
