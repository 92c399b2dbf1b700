"""Preference pairs and labelled branches from sibling groups: stars, prunes, ranks and edits."""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

from mindgarden.core.export.options import (
    SKIP_CAP,
    SKIP_CONTRADICTION,
    SKIP_DUPLICATE,
    SKIP_EMPTY,
    SKIP_IDENTICAL,
    SKIP_INCOMPLETE,
    SKIP_PERSONA_MISSING,
    SKIP_PERSONAS,
    SKIP_TIE,
    ExportOptions,
)
from mindgarden.core.export.scope import Scope
from mindgarden.core.personas import Persona
from mindgarden.core.tree import Node, ThoughtTree

SOURCE_STAR_PRUNE = "star-prune"
SOURCE_EDIT = "edit"
SOURCE_RANK = "rank"

# When a group has more pairs than the cap allows, explicit stars and prunes are kept
# first, then edits, then rank pairs with the widest rank gap.
SOURCE_PRIORITY = {SOURCE_STAR_PRUNE: 0, SOURCE_EDIT: 1, SOURCE_RANK: 2}


@dataclass
class Side:
    """One side of a pair: the node and which of its texts is used."""

    node: Node
    text: str
    text_source: str  # "text" (current, possibly edited) or "original_text" (the model's)


@dataclass
class Pair:
    """A chosen and a rejected continuation of the same prompt (the children of ``group_id``).

    ``persona`` is the persona whose priming the prompt carries, or None in neutral mode.
    ``margin`` is how strongly chosen beats rejected: the rank difference for rank pairs
    and 1.0 for stars versus prunes and for edits.
    """

    group_id: str
    chosen: Side
    rejected: Side
    sources: list[str]
    margin: float
    persona: Persona | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.persona.name if self.persona else "", self.chosen.text, self.rejected.text)


@dataclass
class Labelled:
    """One branch with a desirable (starred) or undesirable (pruned) label, for KTO."""

    group_id: str
    side: Side
    label: bool
    persona: Persona | None = None


def _is_candidate(node: Node) -> bool:
    return node.starred or node.pruned or node.rank is not None or node.edited


def _count_incomplete(children: list[Node], skipped: Counter) -> None:
    for child in children:
        if not child.complete and _is_candidate(child):
            skipped[SKIP_INCOMPLETE] += 1


def _priming_persona(
    node: Node, options: ExportOptions, personas: dict[str, Persona], skipped: Counter
) -> tuple[bool, Persona | None]:
    """Return (usable, persona) for the prompt of ``node``: None persona in neutral mode."""
    if options.prompt_mode == "neutral":
        return True, None
    persona = personas.get(node.persona)
    if persona is None:
        skipped[SKIP_PERSONA_MISSING] += 1
        return False, None
    return True, persona


def _rank_candidates(group_id: str, ranked: list[Node], options: ExportOptions, skipped: Counter) -> list[Pair]:
    pairs = []
    if options.pair_mode == "best-vs-rest" and ranked:
        best = min(node.rank for node in ranked)
        bests = [node for node in ranked if node.rank == best]
        rest = [node for node in ranked if node.rank != best]
        comparisons = [*itertools.combinations(bests, 2), *itertools.product(bests, rest)]
    else:
        comparisons = list(itertools.combinations(ranked, 2))
    for first, second in comparisons:
        if first.rank == second.rank:
            skipped[SKIP_TIE] += 1
            continue
        better, worse = (first, second) if first.rank < second.rank else (second, first)
        pairs.append(Pair(group_id, Side(better, better.text.strip(), "text"),
                          Side(worse, worse.text.strip(), "text"), [SOURCE_RANK],
                          float(worse.rank - better.rank)))
    return pairs


def _group_candidates(tree: ThoughtTree, group_id: str, options: ExportOptions, skipped: Counter) -> list[Pair]:
    children = tree.children(group_id)
    _count_incomplete(children, skipped)
    complete = [child for child in children if child.complete]
    candidates = []

    starred = [child for child in complete if child.starred]
    pruned = [child for child in complete if child.pruned]
    for chosen, rejected in itertools.product(starred, pruned):
        candidates.append(Pair(group_id, Side(chosen, chosen.text.strip(), "text"),
                               Side(rejected, rejected.text.strip(), "text"), [SOURCE_STAR_PRUNE], 1.0))

    for child in complete:
        if child.edited:
            candidates.append(Pair(group_id, Side(child, child.text.strip(), "text"),
                                   Side(child, (child.original_text or "").strip(), "original_text"),
                                   [SOURCE_EDIT], 1.0))

    ranked = [child for child in complete if child.rank is not None]
    candidates.extend(_rank_candidates(group_id, ranked, options, skipped))
    return candidates


def _filter_texts(candidates: list[Pair], options: ExportOptions, personas: dict[str, Persona],
                  skipped: Counter) -> list[Pair]:
    kept = []
    for pair in candidates:
        if not pair.chosen.text or not pair.rejected.text:
            skipped[SKIP_EMPTY] += 1
            continue
        if pair.chosen.text == pair.rejected.text:
            skipped[SKIP_IDENTICAL] += 1
            continue
        if options.prompt_mode == "as-generated" and pair.chosen.node.persona != pair.rejected.node.persona:
            # The system text must be byte-identical on both sides of a pair.
            skipped[SKIP_PERSONAS] += 1
            continue
        usable, persona = _priming_persona(pair.chosen.node, options, personas, skipped)
        if not usable:
            continue
        pair.persona = persona
        kept.append(pair)
    return kept


def _drop_contradictions(pairs: list[Pair], skipped: Counter) -> list[Pair]:
    """Remove pairs whose reverse also occurs (for example a starred branch ranked below a pruned one)."""
    keys = {pair.key for pair in pairs}
    kept = []
    for pair in pairs:
        persona_name, chosen, rejected = pair.key
        if (persona_name, rejected, chosen) in keys:
            skipped[SKIP_CONTRADICTION] += 1
            continue
        kept.append(pair)
    return kept


def _merge_duplicates(pairs: list[Pair], skipped: Counter) -> list[Pair]:
    merged: dict[tuple[str, str, str], Pair] = {}
    for pair in pairs:
        existing = merged.get(pair.key)
        if existing is None:
            merged[pair.key] = pair
            continue
        skipped[SKIP_DUPLICATE] += 1
        for source in pair.sources:
            if source not in existing.sources:
                existing.sources.append(source)
        existing.margin = max(existing.margin, pair.margin)
    return list(merged.values())


def _apply_cap(pairs: list[Pair], cap: int | None, skipped: Counter) -> list[Pair]:
    if cap is None or len(pairs) <= cap:
        return pairs
    ordered = sorted(pairs, key=lambda pair: (min(SOURCE_PRIORITY[source] for source in pair.sources),
                                              -pair.margin))
    skipped[SKIP_CAP] += len(pairs) - cap
    kept = set(map(id, ordered[:cap]))
    return [pair for pair in pairs if id(pair) in kept]


def build_pairs(tree: ThoughtTree, scope: Scope, options: ExportOptions,
                personas: dict[str, Persona], skipped: Counter) -> list[Pair]:
    """Build the preference pairs of every group in ``scope``; each skipped pair is counted by reason.

    Pairs come from starred versus pruned siblings, from ranks (all pairs or best versus
    rest) and from edits (edited text chosen over the model's original). Ties, identical
    or empty texts, contradicting marks and duplicates never become rows. Only complete
    branches are used.
    """
    pairs: list[Pair] = []
    for group_id in scope.group_ids:
        candidates = _group_candidates(tree, group_id, options, skipped)
        candidates = _filter_texts(candidates, options, personas, skipped)
        candidates = _drop_contradictions(candidates, skipped)
        candidates = _merge_duplicates(candidates, skipped)
        pairs.extend(_apply_cap(candidates, options.max_pairs_per_group, skipped))
    return pairs


def build_labels(tree: ThoughtTree, scope: Scope, options: ExportOptions,
                 personas: dict[str, Persona], skipped: Counter) -> list[Labelled]:
    """Build KTO rows: starred branches labelled desirable, pruned ones undesirable."""
    labelled: list[Labelled] = []
    for group_id in scope.group_ids:
        children = tree.children(group_id)
        for child in children:
            if not child.complete and (child.starred or child.pruned):
                skipped[SKIP_INCOMPLETE] += 1

        group: list[Labelled] = []
        for child in children:
            if not child.complete or not (child.starred or child.pruned):
                continue
            text = child.text.strip()
            if not text:
                skipped[SKIP_EMPTY] += 1
                continue
            usable, persona = _priming_persona(child, options, personas, skipped)
            if not usable:
                continue
            group.append(Labelled(group_id, Side(child, text, "text"), child.starred, persona))

        seen: dict[tuple[str, str], set[bool]] = {}
        for item in group:
            seen.setdefault((item.persona.name if item.persona else "", item.side.text), set()).add(item.label)
        emitted: set[tuple[str, str]] = set()
        for item in group:
            key = (item.persona.name if item.persona else "", item.side.text)
            if len(seen[key]) > 1:
                skipped[SKIP_CONTRADICTION] += 1
                continue
            if key in emitted:
                skipped[SKIP_DUPLICATE] += 1
                continue
            emitted.add(key)
            labelled.append(item)
    return labelled
