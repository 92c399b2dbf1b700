"""Export of a session grown by the real model: every candidate ends as a row or a counted skip."""

from __future__ import annotations

import itertools
import json

import pytest

from mindgarden.core.export import TRAINER_FORMATS, export
from mindgarden.core.personas import load_personas
from mindgarden.core.sampling import ExpansionPlan
from mindgarden.core.store import SessionStore
from mindgarden.engine.growth import Grower

PLAN = ExpansionPlan(branches=4, max_new_tokens=24, personas=("neutral", "unhurried"), temperatures=(0.8, 1.2))


def pair_candidates(tree) -> int:
    """Count the pairs the marks define, before any skip: stars x prunes, edits, rank combinations."""
    total = 0
    for parent in tree.nodes():
        children = tree.children(parent.id)
        starred = sum(1 for child in children if child.starred)
        pruned = sum(1 for child in children if child.pruned)
        ranked = sum(1 for child in children if child.rank is not None)
        total += starred * pruned + sum(1 for child in children if child.edited)
        total += len(list(itertools.combinations(range(ranked), 2)))
    return total


@pytest.mark.slow
def test_real_session_exports_with_every_skip_counted(engine, tmp_path):
    personas = load_personas()
    store = SessionStore(tmp_path / "sessions.sqlite3")
    session = store.create_session("real")
    session.tree.set_root("How could a small town library become a place people visit every week?")
    grower = Grower(session, engine, personas)
    first = grower.grow(session.tree.root_id, PLAN)
    second = grower.grow(first[0].id, PLAN)
    third = grower.grow(first[1].id, PLAN)
    tree = session.tree
    assert len(tree) >= 13
    assert all(node.complete for node in tree.nodes())

    tree.set_starred(first[0].id, True)
    tree.set_pruned(first[2].id, True)
    tree.set_pruned(first[3].id, True)
    for node, rank in zip(second, (1, 2, 2, 3)):
        tree.set_rank(node.id, rank)
    tree.set_starred(third[0].id, True)
    tree.set_pruned(third[1].id, True)
    tree.edit_text(third[2].id, third[2].text.strip() + " Start with one evening a month.")
    expected_pairs = pair_candidates(tree)
    marked = sum(1 for node in tree.nodes() if node.starred or node.pruned)

    for format_name in TRAINER_FORMATS:
        out = tmp_path / f"{format_name}.jsonl"
        result = export(tree, personas, out, format=format_name, session_name=session.name)
        lines = out.read_text(encoding="utf-8").splitlines()
        metadata = (tmp_path / f"{format_name}.meta.jsonl").read_text(encoding="utf-8").splitlines()
        assert len(lines) == len(result.rows), format_name
        assert len(metadata) == len(lines), format_name
        for entry in map(json.loads, metadata):
            sides = [entry[key] for key in ("chosen", "rejected", "node") if key in entry] or entry["nodes"]
            assert all(side["model_sha256"] == engine.info.sha256 for side in sides), format_name

        if format_name == "trl-kto":
            assert len(result.rows) + result.skipped_total == marked
        elif format_name == "oasst":
            messages = sum(len(entry["nodes"]) for entry in map(json.loads, metadata))
            assert messages + result.skipped_total == len(tree) - 1
        else:
            assert len(result.rows) + result.skipped_total == expected_pairs, (format_name, result.skipped)

    session.close()
    store.close()
