"""Preference export rules: pair sources, skips by reason, prompt modes, scopes and files."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.export import build_export, dpo_pairs, export, export_dpo, preview
from mindgarden.core.export.options import (
    SKIP_CAP,
    SKIP_CONTRADICTION,
    SKIP_DUPLICATE,
    SKIP_EMPTY,
    SKIP_IDENTICAL,
    SKIP_INCOMPLETE,
    SKIP_PERSONAS,
    SKIP_TIE,
    ExportOptions,
)
from mindgarden.core.personas import load_personas
from mindgarden.core.store import SessionStore
from mindgarden.core.tree import ThoughtTree


@dataclass
class Curated:
    """A curated session and the ids of its nodes by role."""

    tree: ThoughtTree
    ids: dict[str, str]
    name: str


def curated_session(store: SessionStore | None = None) -> Curated:
    """Build a session with every case the exporter must handle.

    Root group: two starred branches (a1, a2), a pruned twin of a2 (a3), a whitespace-only
    and an empty pruned branch (a4, a5), a pruned branch (a6) and an incomplete starred one
    (a7). Under a1: ranks 1, 2, 2 (a tie), 3, with b1 also starred and b4 pruned (the same
    preference as the ranks) and b4 edited. Under a2: a star-only group. Under a6: one
    starred and one pruned branch, outside the starred path.
    """
    if store is None:
        tree = ThoughtTree()
        name = "curated"
    else:
        session = store.create_session("curated")
        tree, name = session.tree, session.name
    root = tree.set_root("How can libraries stay relevant?", node_id="root0000")
    ids = {"root": root.id}

    def child(key: str, parent: str, text: str, persona: str = "neutral", complete: bool = True) -> None:
        node = tree.add_child(ids[parent], id=f"{key}-node", text=text, persona=persona,
                              finish_reason="stop" if complete else None,
                              sampler={"temperature": 0.8, "min_p": 0.05}, seed=len(ids),
                              model_name="SmolLM2-135M-Instruct.Q4_1.gguf", model_sha256="ab" * 32,
                              token_count=len(text.split()))
        ids[key] = node.id

    child("a1", "root", "Host repair cafés.", "unhurried")
    child("a2", "root", "Lend tools.")
    child("a3", "root", "Lend tools.")
    child("a4", "root", "   ")
    child("a5", "root", "")
    child("a6", "root", "Open at night.", "unhurried")
    child("a7", "root", "Partial tho", complete=False)
    for key in ("a1", "a2"):
        tree.set_starred(ids[key], True)
    for key in ("a3", "a4", "a5", "a6"):
        tree.set_pruned(ids[key], True)
    tree.set_starred(ids["a7"], True)

    child("b1", "a1", "Run seed libraries.")
    child("b2", "a1", "Teach coding.")
    child("b3", "a1", "Host chess clubs.")
    child("b4", "a1", "Lend telescopes")
    for key, rank in (("b1", 1), ("b2", 2), ("b3", 2), ("b4", 3)):
        tree.set_rank(ids[key], rank)
    tree.set_starred(ids["b1"], True)
    tree.set_pruned(ids["b4"], True)
    tree.edit_text(ids["b4"], "Lend telescopes and star charts.")

    child("c1", "a2", "Offer museum passes.")
    child("c2", "a2", "Stay open late.")
    tree.set_starred(ids["c1"], True)

    child("d1", "a6", "Host late-night study halls.")
    child("d2", "a6", "Close earlier.")
    tree.set_starred(ids["d1"], True)
    tree.set_pruned(ids["d2"], True)
    return Curated(tree, ids, name)


def build(curated: Curated, **options):
    result, _text = build_export(curated.tree, load_personas(), ExportOptions(**options))
    return result


def contents(row: dict) -> tuple[str, str]:
    return row["chosen"][0]["content"], row["rejected"][0]["content"]


# -- pair construction -------------------------------------------------------------------


def test_dpo_skips_counted_by_reason():
    result = build(curated_session())
    assert result.skipped == {SKIP_INCOMPLETE: 1, SKIP_EMPTY: 4, SKIP_IDENTICAL: 1, SKIP_TIE: 1,
                              SKIP_DUPLICATE: 1}


def test_dpo_rows_from_every_source():
    result = build(curated_session())
    pairs = {contents(row) for row in result.rows}
    assert len(result.rows) == 10
    assert ("Host repair cafés.", "Lend tools.") in pairs
    assert ("Host repair cafés.", "Open at night.") in pairs
    assert ("Lend tools.", "Open at night.") in pairs
    assert ("Run seed libraries.", "Teach coding.") in pairs
    assert ("Teach coding.", "Lend telescopes and star charts.") in pairs
    assert ("Lend telescopes and star charts.", "Lend telescopes") in pairs
    assert ("Host late-night study halls.", "Close earlier.") in pairs


def test_ties_never_become_pairs():
    result = build(curated_session())
    pairs = {contents(row) for row in result.rows}
    assert ("Teach coding.", "Host chess clubs.") not in pairs
    assert ("Host chess clubs.", "Teach coding.") not in pairs


def test_duplicate_across_sources_emitted_once():
    result = build(curated_session())
    matching = [index for index, row in enumerate(result.rows)
                if contents(row) == ("Run seed libraries.", "Lend telescopes and star charts.")]
    assert len(matching) == 1
    metadata = result.metadata[matching[0]]
    assert sorted(metadata["pair_source"]) == ["rank", "star-prune"]
    assert metadata["margin"] == 2.0


def test_edit_pair_chooses_edited_text():
    curated = curated_session()
    result = build(curated)
    index = next(index for index, row in enumerate(result.rows)
                 if contents(row) == ("Lend telescopes and star charts.", "Lend telescopes"))
    metadata = result.metadata[index]
    assert metadata["pair_source"] == ["edit"]
    assert metadata["chosen"]["node_id"] == curated.ids["b4"]
    assert metadata["chosen"]["text_source"] == "text"
    assert metadata["rejected"]["text_source"] == "original_text"


def test_no_row_has_empty_or_identical_sides():
    for row in build(curated_session()).rows:
        chosen, rejected = contents(row)
        assert chosen.strip()
        assert rejected.strip()
        assert chosen != rejected


def test_star_only_group_gives_no_pairs():
    curated = curated_session()
    result = build(curated)
    groups = {metadata["group_id"] for metadata in result.metadata}
    assert curated.ids["a2"] not in groups


def test_best_vs_rest_pairs():
    result = build(curated_session(), pair_mode="best-vs-rest")
    pairs = {contents(row) for row in result.rows}
    assert len(result.rows) == 8
    assert ("Teach coding.", "Lend telescopes and star charts.") not in pairs
    assert ("Run seed libraries.", "Host chess clubs.") in pairs
    assert SKIP_TIE not in result.skipped


def test_cap_per_group_counted():
    curated = curated_session()
    result = build(curated, max_pairs_per_group=2)
    by_group: dict[str, int] = {}
    for metadata in result.metadata:
        by_group[metadata["group_id"]] = by_group.get(metadata["group_id"], 0) + 1
    assert max(by_group.values()) == 2
    assert result.skipped[SKIP_CAP] == 1 + 4
    kept_sources = [metadata["pair_source"] for metadata in result.metadata
                    if metadata["group_id"] == curated.ids["a1"]]
    assert sorted(map(sorted, kept_sources)) == [["edit"], ["rank", "star-prune"]]


def test_contradicting_marks_skipped():
    curated = curated_session()
    curated.tree.set_rank(curated.ids["d1"], 2)
    curated.tree.set_rank(curated.ids["d2"], 1)
    result = build(curated)
    pairs = {contents(row) for row in result.rows}
    assert ("Host late-night study halls.", "Close earlier.") not in pairs
    assert result.skipped[SKIP_CONTRADICTION] == 2


# -- prompt modes -------------------------------------------------------------------------


def test_neutral_prompt_has_no_system_message():
    for row in build(curated_session()).rows:
        assert row["prompt"][0]["role"] == "user"
        assert all(message["role"] != "system" for message in row["prompt"])


def test_as_generated_prompt_has_priming():
    personas = load_personas()
    result = build(curated_session(), prompt_mode="as-generated")
    primed = [row for row in result.rows if row["prompt"][0]["role"] == "system"]
    assert len(primed) == 1
    assert primed[0]["prompt"][0]["content"] == personas["unhurried"].priming
    assert contents(primed[0]) == ("Host repair cafés.", "Open at night.")


def test_as_generated_skips_mixed_personas():
    result = build(curated_session(), prompt_mode="as-generated")
    assert result.skipped[SKIP_PERSONAS] == 2
    assert len(result.rows) == 8


def test_prompt_is_expansion_request_of_group():
    curated = curated_session()
    result = build(curated)
    index = next(index for index, metadata in enumerate(result.metadata)
                 if metadata["group_id"] == curated.ids["a1"])
    prompt = result.rows[index]["prompt"]
    assert "How can libraries stay relevant?" in prompt[0]["content"]
    assert prompt[1] == {"role": "assistant", "content": "Host repair cafés."}
    assert prompt[-1]["role"] == "user"


# -- scopes -------------------------------------------------------------------------------


def test_subtree_scope_by_prefix():
    curated = curated_session()
    result = build(curated, scope="subtree:a1-n")
    assert {metadata["group_id"] for metadata in result.metadata} == {curated.ids["a1"]}
    assert len(result.rows) == 6


def test_starred_path_scope_leaves_out_pruned_branch():
    curated = curated_session()
    result = build(curated, scope="starred-path")
    groups = {metadata["group_id"] for metadata in result.metadata}
    assert curated.ids["a6"] not in groups
    assert groups == {curated.ids["root"], curated.ids["a1"]}
    assert len(result.rows) == 9


def test_ambiguous_prefix_rejected():
    with pytest.raises(InvalidInputError, match="ambiguous"):
        build(curated_session(), scope="subtree:a")


def test_unknown_scope_rejected():
    with pytest.raises(InvalidInputError, match="Scope 'branch'"):
        build(curated_session(), scope="branch")


# -- KTO ----------------------------------------------------------------------------------


def test_kto_labels_from_stars_and_prunes():
    result = build(curated_session(), format="trl-kto")
    labelled = {(row["completion"][0]["content"], row["label"]) for row in result.rows}
    assert labelled == {("Host repair cafés.", True), ("Open at night.", False),
                        ("Run seed libraries.", True), ("Lend telescopes and star charts.", False),
                        ("Offer museum passes.", True), ("Host late-night study halls.", True),
                        ("Close earlier.", False)}
    assert result.skipped == {SKIP_INCOMPLETE: 1, SKIP_EMPTY: 2, SKIP_CONTRADICTION: 2}
    assert result.warnings == []


def test_kto_single_label_warns():
    curated = curated_session()
    result = build(curated, format="trl-kto", scope=f"subtree:{curated.ids['a2']}")
    assert [row["label"] for row in result.rows] == [True]
    assert len(result.warnings) == 1
    assert "All 1 KTO rows have label true" in result.warnings[0]


# -- options and files ---------------------------------------------------------------------


def test_unknown_prompt_mode_rejected():
    with pytest.raises(InvalidInputError, match="Prompt mode 'creative'"):
        dpo_pairs(curated_session().tree, load_personas(), "creative")


def test_margin_outside_reward_rejected():
    with pytest.raises(InvalidInputError, match="margin"):
        build(curated_session(), format="trl-dpo", margin=True)


def test_oasst_as_generated_rejected():
    with pytest.raises(InvalidInputError, match="oasst"):
        build(curated_session(), format="oasst", prompt_mode="as-generated")


def test_file_and_sidecar_written(tmp_path):
    out = tmp_path / "pairs ü.jsonl"
    result = export_dpo(curated_session().tree, load_personas(), out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(result.rows)
    meta = [json.loads(line) for line in (tmp_path / "pairs ü.meta.jsonl").read_text("utf-8").splitlines()]
    assert len(meta) == len(lines)
    assert [entry["row"] for entry in meta] == list(range(len(lines)))
    first = meta[0]
    assert {"group_id", "pair_source", "prompt_mode", "prompt_persona", "chosen", "rejected"} <= set(first)
    assert {"node_id", "persona", "temperature", "sampler", "seed", "model_name",
            "model_sha256"} <= set(first["chosen"])
    assert first["chosen"]["model_sha256"] == "ab" * 32


def test_metadata_stays_out_of_trainer_file(tmp_path):
    out = tmp_path / "pairs.jsonl"
    export(curated_session().tree, load_personas(), out)
    for line in out.read_text(encoding="utf-8").splitlines():
        assert set(json.loads(line)) == {"prompt", "chosen", "rejected"}


def test_missing_folder_named(tmp_path):
    with pytest.raises(InvalidInputError, match="does not exist"):
        export_dpo(curated_session().tree, load_personas(), tmp_path / "absent" / "pairs.jsonl")


def test_preview_writes_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    shown = preview(curated_session().tree, load_personas(), limit=2)
    assert len(shown.rows) == 2
    assert shown.total == 10
    assert shown.skipped_total == 8
    assert list(folder.iterdir()) == []


def test_preview_of_outline_has_text():
    shown = preview(curated_session().tree, load_personas(), format="markdown")
    assert shown.rows == []
    assert shown.text.startswith("- How can libraries stay relevant?")
    assert shown.total == 16
