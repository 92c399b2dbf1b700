"""Tidy tree layout in linear time: Buchheim, Jünger and Leipert's version of Reingold–Tilford."""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from mindgarden.core.tree import ThoughtTree

log = logging.getLogger(__name__)

Size = tuple[float, float]
"""Width and height of a node, in the caller's units (pixels in the canvas)."""

DEFAULT_SIBLING_GAP = 24.0
DEFAULT_LEVEL_GAP = 56.0


@dataclass
class TreeLayout:
    """Positions of the laid-out nodes.

    ``positions`` maps a node id to the x of its centre and the y of its top edge. The
    leftmost node edge is at x = 0 and the root's top at y = 0. Nodes that are hidden, or
    below a collapsed node, have no entry.
    """

    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    sizes: dict[str, Size] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0

    def rect(self, node_id: str) -> tuple[float, float, float, float]:
        """Return the node's box as left, top, width, height."""
        x, y = self.positions[node_id]
        width, height = self.sizes[node_id]
        return x - width / 2, y, width, height

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.positions

    def __len__(self) -> int:
        return len(self.positions)


def children_mapping(tree: ThoughtTree) -> dict[str, list[str]]:
    """Return every node's child ids in sibling order."""
    return {node.id: tree.children_ids(node.id) for node in tree.nodes()}


def layout_thought_tree(tree: ThoughtTree, size_of: Callable[[str], Size] | Mapping[str, Size],
                        collapsed: Collection[str] = (), hide_pruned: bool = False,
                        sibling_gap: float = DEFAULT_SIBLING_GAP, level_gap: float = DEFAULT_LEVEL_GAP) -> TreeLayout:
    """Lay out a ThoughtTree; with ``hide_pruned`` a pruned node and its subtree get no position."""
    if tree.root_id is None:
        return TreeLayout()
    hidden = {node.id for node in tree.nodes() if node.pruned} if hide_pruned else set()
    return tidy_layout(children_mapping(tree), tree.root_id, size_of, collapsed, hidden, sibling_gap, level_gap)


def tidy_layout(children: Mapping[str, Sequence[str]], root: str,
                size_of: Callable[[str], Size] | Mapping[str, Size], collapsed: Collection[str] = (),
                hidden: Collection[str] = (), sibling_gap: float = DEFAULT_SIBLING_GAP,
                level_gap: float = DEFAULT_LEVEL_GAP) -> TreeLayout:
    """Lay out the tree below ``root`` as a tidy drawing, top down, in time linear in its size.

    Every level gets one row, as tall as its tallest node. Neighbouring nodes on a row are
    at least ``sibling_gap`` apart, a parent is centred over its first and last visible
    children, and a mirrored tree gets the mirrored drawing. The children of a collapsed
    node, and hidden nodes with their subtrees, are left out.

    Args:
        children: child ids of each node, in left-to-right order; a missing key means a leaf.
        root: the root's id; a hidden root gives an empty layout.
        size_of: width and height of each node, as a mapping or a function of the id.
    """
    if root in hidden:
        return TreeLayout()
    lookup = size_of.__getitem__ if isinstance(size_of, Mapping) else size_of
    walker = _Walker(children, root, lookup, set(collapsed), set(hidden), sibling_gap)
    walker.first_walk()
    return walker.second_walk(level_gap)


class _Walker:
    """Arrays of the algorithm's per-node fields, indexed by the node's pre-order number.

    Both walks use explicit stacks, so a deep chain does not reach Python's recursion limit.
    """

    def __init__(self, children: Mapping[str, Sequence[str]], root: str, size_of: Callable[[str], Size],
                 collapsed: set[str], hidden: set[str], sibling_gap: float) -> None:
        self.ids: list[str] = []
        self.kids: list[list[int]] = []
        self.parent: list[int] = []
        self.number: list[int] = []  # position among the visible siblings
        self.depth: list[int] = []
        self.widths: list[float] = []
        self.heights: list[float] = []
        self.gap = sibling_gap

        stack = [(root, -1, 0, 0)]
        while stack:
            node_id, parent, depth, number = stack.pop()
            index = len(self.ids)
            self.ids.append(node_id)
            self.kids.append([])
            self.parent.append(parent)
            self.number.append(number)
            self.depth.append(depth)
            width, height = size_of(node_id)
            self.widths.append(float(width))
            self.heights.append(float(height))
            if parent >= 0:
                self.kids[parent].append(index)
            if node_id in collapsed:
                continue
            visible = [child for child in children.get(node_id, ()) if child not in hidden]
            for number_among_siblings in range(len(visible) - 1, -1, -1):
                stack.append((visible[number_among_siblings], index, depth + 1, number_among_siblings))

        count = len(self.ids)
        self.prelim = [0.0] * count
        self.mod = [0.0] * count
        self.shift = [0.0] * count
        self.change = [0.0] * count
        self.thread = [-1] * count
        self.ancestor = list(range(count))
        self.midpoint = [0.0] * count

    # -- first walk ---------------------------------------------------------------

    def first_walk(self) -> None:
        """Compute preliminary x and modifiers bottom up, every node after its children."""
        # Pre-order numbers put each parent before its children, so the reverse is a valid post-order.
        for node in range(len(self.ids) - 1, -1, -1):
            kids = self.kids[node]
            if not kids:
                continue
            default_ancestor = kids[0]
            for position, child in enumerate(kids):
                self._place_among_siblings(child, kids[position - 1] if position else -1)
                default_ancestor = self._apportion(child, default_ancestor, kids[0])
            self._execute_shifts(node)
            self.midpoint[node] = (self.prelim[kids[0]] + self.prelim[kids[-1]]) / 2

        self.prelim[0] = self.midpoint[0]

    def _place_among_siblings(self, node: int, left_sibling: int) -> None:
        # The sibling-dependent half of FirstWalk in Buchheim, Jünger and Leipert (2002), run once the left sibling is final.
        if left_sibling < 0:
            self.prelim[node] = self.midpoint[node]
            return
        self.prelim[node] = self.prelim[left_sibling] + self._distance(left_sibling, node)
        if self.kids[node]:
            self.mod[node] = self.prelim[node] - self.midpoint[node]

    def _distance(self, left: int, right: int) -> float:
        return (self.widths[left] + self.widths[right]) / 2 + self.gap

    def _next_left(self, node: int) -> int:
        kids = self.kids[node]
        return kids[0] if kids else self.thread[node]

    def _next_right(self, node: int) -> int:
        kids = self.kids[node]
        return kids[-1] if kids else self.thread[node]

    def _apportion(self, node: int, default_ancestor: int, leftmost_sibling: int) -> int:
        """Push ``node``'s subtree right until it clears its left siblings' subtrees, level by level."""
        if node == leftmost_sibling:
            return default_ancestor
        inner_right = outer_right = node
        inner_left = self.kids[self.parent[node]][self.number[node] - 1]
        outer_left = leftmost_sibling
        sum_inner_right = self.mod[inner_right]
        sum_outer_right = self.mod[outer_right]
        sum_inner_left = self.mod[inner_left]
        sum_outer_left = self.mod[outer_left]

        while True:
            next_inner_left = self._next_right(inner_left)
            next_inner_right = self._next_left(inner_right)
            if next_inner_left < 0 or next_inner_right < 0:
                break
            inner_left, inner_right = next_inner_left, next_inner_right
            outer_left = self._next_left(outer_left)
            outer_right = self._next_right(outer_right)
            self.ancestor[outer_right] = node
            shift = ((self.prelim[inner_left] + sum_inner_left) - (self.prelim[inner_right] + sum_inner_right)
                     + self._distance(inner_left, inner_right))
            if shift > 0:
                self._move_subtree(self._ancestor_of(inner_left, node, default_ancestor), node, shift)
                sum_inner_right += shift
                sum_outer_right += shift
            sum_inner_left += self.mod[inner_left]
            sum_inner_right += self.mod[inner_right]
            sum_outer_left += self.mod[outer_left]
            sum_outer_right += self.mod[outer_right]

        # Thread the shorter side's contour to the deeper one, so later siblings can follow it.
        if self._next_right(inner_left) >= 0 and self._next_right(outer_right) < 0:
            self.thread[outer_right] = self._next_right(inner_left)
            self.mod[outer_right] += sum_inner_left - sum_outer_right
        if self._next_left(inner_right) >= 0 and self._next_left(outer_left) < 0:
            self.thread[outer_left] = self._next_left(inner_right)
            self.mod[outer_left] += sum_inner_right - sum_outer_left
            default_ancestor = node
        return default_ancestor

    def _ancestor_of(self, inner_left: int, node: int, default_ancestor: int) -> int:
        candidate = self.ancestor[inner_left]
        return candidate if self.parent[candidate] == self.parent[node] else default_ancestor

    def _move_subtree(self, left: int, right: int, shift: float) -> None:
        # Spread the shift over the siblings between left and right in O(1); execute_shifts applies it.
        subtrees = self.number[right] - self.number[left]
        self.change[right] -= shift / subtrees
        self.shift[right] += shift
        self.change[left] += shift / subtrees
        self.prelim[right] += shift
        self.mod[right] += shift

    def _execute_shifts(self, node: int) -> None:
        shift = 0.0
        change = 0.0
        for child in reversed(self.kids[node]):
            self.prelim[child] += shift
            self.mod[child] += shift
            change += self.change[child]
            shift += self.shift[child] + change

    # -- second walk --------------------------------------------------------------

    def second_walk(self, level_gap: float) -> TreeLayout:
        """Add up the modifiers top down and turn levels into y coordinates."""
        count = len(self.ids)
        xs = [0.0] * count
        stack = [(0, -self.prelim[0])]
        while stack:
            node, modifier_sum = stack.pop()
            xs[node] = self.prelim[node] + modifier_sum
            for child in self.kids[node]:
                stack.append((child, modifier_sum + self.mod[node]))

        level_count = max(self.depth) + 1
        level_heights = [0.0] * level_count
        for node in range(count):
            level_heights[self.depth[node]] = max(level_heights[self.depth[node]], self.heights[node])
        level_tops = [0.0] * level_count
        for level in range(1, level_count):
            level_tops[level] = level_tops[level - 1] + level_heights[level - 1] + level_gap

        left = min(xs[node] - self.widths[node] / 2 for node in range(count))
        right = max(xs[node] + self.widths[node] / 2 for node in range(count))
        result = TreeLayout(width=right - left, height=level_tops[-1] + level_heights[-1])
        for node, node_id in enumerate(self.ids):
            result.positions[node_id] = (xs[node] - left, level_tops[self.depth[node]])
            result.sizes[node_id] = (self.widths[node], self.heights[node])
        log.debug("Laid out %d nodes on %d levels", count, level_count)
        return result
