"""DPO export: pairs from starred versus pruned siblings, skips counted."""

from __future__ import annotations

import json

import pytest

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.export import dpo_pairs, export_dpo
from mindgarden.core.personas import load_personas
from mindgarden.core.tree import ThoughtTree


def marked_tree() -> ThoughtTree:
    tree = ThoughtTree()
    root = tree.set_root("How can libraries stay relevant?")
    texts = ["Host repair cafés.", "Lend tools.", "Lend tools.", "   ", "Open at night."]
    personas = ["unhurried", "neutral", "neutral", "neutral", "unhurried"]
    nodes = [tree.add_child(root.id, text=text, persona=persona, finish_reason="stop",
                            sampler={"temperature": 1.0}, seed=index)
             for index, (text, persona) in enumerate(zip(texts, personas))]
    tree.set_starred(nodes[0].id, True)
    tree.set_starred(nodes[1].id, True)
    tree.set_pruned(nodes[2].id, True)
    tree.set_pruned(nodes[3].id, True)
    tree.set_pruned(nodes[4].id, True)
    return tree


def test_pairs_in_conversational_layout():
    result = dpo_pairs(marked_tree(), load_personas())
    assert len(result.rows) == 3
    for row in result.rows:
        assert set(row) == {"prompt", "chosen", "rejected"}
        assert row["prompt"][0]["role"] == "user"
        assert all(message["role"] != "system" for message in row["prompt"])
        assert len(row["chosen"]) == 1
        assert row["chosen"][0]["role"] == "assistant"
        assert len(row["rejected"]) == 1
        assert row["rejected"][0]["role"] == "assistant"


def test_skips_counted_by_reason():
    result = dpo_pairs(marked_tree(), load_personas())
    assert result.skipped == {"identical texts": 1, "empty text": 2}


def test_as_generated_prompt_has_priming():
    personas = load_personas()
    result = dpo_pairs(marked_tree(), personas, "as-generated")
    with_system = [row for row in result.rows if row["prompt"][0]["role"] == "system"]
    assert with_system
    assert with_system[0]["prompt"][0]["content"] == personas["unhurried"].priming
    assert result.skipped["different persona primings"] >= 1


def test_file_and_sidecar_written(tmp_path):
    out = tmp_path / "pairs ü.jsonl"
    result = export_dpo(marked_tree(), load_personas(), out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(result.rows)
    assert json.loads(lines[0])["chosen"][0]["content"] in {"Host repair cafés.", "Lend tools."}
    meta = [json.loads(line) for line in (tmp_path / "pairs ü.meta.jsonl").read_text().splitlines()]
    assert len(meta) == len(lines)
    assert {"group_id", "chosen", "rejected", "prompt_mode"} <= set(meta[0])


def test_missing_folder_named(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        export_dpo(marked_tree(), load_personas(), tmp_path / "absent" / "pairs.jsonl")


def test_unknown_prompt_mode_rejected():
    with pytest.raises(InvalidInputError, match="Prompt mode"):
        dpo_pairs(marked_tree(), load_personas(), "creative")
