"""Trainer file layouts: exact columns and JSON types per format, loaded with Hugging Face datasets."""

from __future__ import annotations

import json

import pytest
from test_export import curated_session

from mindgarden.core.export import TRAINER_FORMATS, export
from mindgarden.core.personas import load_personas


@pytest.fixture
def load_jsonl(tmp_path, monkeypatch):
    """Return a loader that reads a JSONL file with datasets, offline and with a private cache."""
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(cache))
    monkeypatch.setenv("HF_DATASETS_CACHE", str(cache / "datasets"))
    import datasets

    monkeypatch.setattr(datasets.config, "HF_DATASETS_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True, raising=False)

    def load(path):
        return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(cache))

    return load


def read_rows(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def is_message(value, roles=("system", "user", "assistant")) -> bool:
    return (isinstance(value, dict) and set(value) == {"role", "content"}
            and value["role"] in roles and isinstance(value["content"], str))


def is_message_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(is_message(message) for message in value)


def check_trl_dpo(row, prompt_mode):
    assert set(row) == {"prompt", "chosen", "rejected"}
    assert is_message_list(row["prompt"])
    assert row["prompt"][-1]["role"] == "user"
    if prompt_mode == "neutral":
        assert all(message["role"] != "system" for message in row["prompt"])
    for side in ("chosen", "rejected"):
        assert len(row[side]) == 1
        assert is_message(row[side][0], roles=("assistant",))


def check_trl_dpo_standard(row, prompt_mode):
    assert set(row) == {"prompt", "chosen", "rejected"}
    assert isinstance(row["prompt"], str)
    assert row["prompt"].rstrip().endswith(":")
    assert isinstance(row["chosen"], str)
    assert isinstance(row["rejected"], str)


def check_trl_kto(row, prompt_mode):
    assert set(row) == {"prompt", "completion", "label"}
    assert is_message_list(row["prompt"])
    assert len(row["completion"]) == 1
    assert is_message(row["completion"][0], roles=("assistant",))
    assert isinstance(row["label"], bool)


def check_trl_reward(row, prompt_mode):
    assert set(row) <= {"chosen", "rejected", "margin"}
    assert {"chosen", "rejected"} <= set(row)
    for side in ("chosen", "rejected"):
        assert is_message_list(row[side])
        assert row[side][-1]["role"] == "assistant"
    assert row["chosen"][:-1] == row["rejected"][:-1]
    if "margin" in row:
        assert isinstance(row["margin"], float)


def check_oasst(row, prompt_mode):
    assert set(row) == {"message_tree_id", "tree_state", "prompt"}
    pending = [(row["prompt"], "prompter")]
    while pending:
        message, role = pending.pop()
        assert message["role"] == role
        assert isinstance(message["text"], str)
        assert isinstance(message["message_id"], str)
        if role == "assistant":
            assert message["rank"] is None or isinstance(message["rank"], int)
        following = "assistant" if role == "prompter" else "prompter"
        pending.extend((reply, following) for reply in message["replies"])


def check_axolotl_dpo(row, prompt_mode):
    assert set(row) == {"messages", "chosen", "rejected"}
    assert is_message_list(row["messages"])
    assert is_message(row["chosen"], roles=("assistant",))
    assert is_message(row["rejected"], roles=("assistant",))


def check_llamafactory(row, prompt_mode):
    expected = {"conversations", "chosen", "rejected"} | ({"system"} if prompt_mode == "as-generated" else set())
    assert set(row) == expected
    turns = row["conversations"]
    assert [turn["from"] for turn in turns] == ["human" if index % 2 == 0 else "gpt" for index in range(len(turns))]
    assert turns[-1]["from"] == "human"
    for side in ("chosen", "rejected"):
        assert set(row[side]) == {"from", "value"}
        assert row[side]["from"] == "gpt"
        assert isinstance(row[side]["value"], str)
    if "system" in row:
        assert isinstance(row["system"], str)


CHECKS = {
    "trl-dpo": check_trl_dpo,
    "trl-dpo-standard": check_trl_dpo_standard,
    "trl-kto": check_trl_kto,
    "trl-reward": check_trl_reward,
    "oasst": check_oasst,
    "axolotl-dpo": check_axolotl_dpo,
    "llamafactory": check_llamafactory,
}

CASES = [(name, mode) for name in TRAINER_FORMATS for mode in ("neutral", "as-generated")
         if not (name == "oasst" and mode == "as-generated")]


def test_every_trainer_format_checked():
    assert set(CHECKS) == set(TRAINER_FORMATS)


@pytest.mark.parametrize(("format_name", "prompt_mode"), CASES)
def test_format_columns_and_types(tmp_path, load_jsonl, format_name, prompt_mode):
    out = tmp_path / f"{format_name}.jsonl"
    result = export(curated_session().tree, load_personas(), out, format=format_name, prompt_mode=prompt_mode)
    rows = read_rows(out)
    assert rows
    assert len(rows) == len(result.rows)
    assert len(read_rows(tmp_path / f"{format_name}.meta.jsonl")) == len(rows)
    for row in rows:
        CHECKS[format_name](row, prompt_mode)

    dataset = load_jsonl(out)
    assert dataset.num_rows == len(rows)
    assert set(dataset.column_names) == set(rows[0])


def test_reward_margin_column(tmp_path, load_jsonl):
    out = tmp_path / "reward.jsonl"
    export(curated_session().tree, load_personas(), out, format="trl-reward", margin=True)
    rows = read_rows(out)
    assert all(set(row) == {"chosen", "rejected", "margin"} for row in rows)
    assert all(isinstance(row["margin"], float) and row["margin"] > 0 for row in rows)
    dataset = load_jsonl(out)
    assert dataset.features["margin"].dtype == "float64"


def test_kto_label_is_boolean_feature(tmp_path, load_jsonl):
    out = tmp_path / "kto.jsonl"
    export(curated_session().tree, load_personas(), out, format="trl-kto")
    dataset = load_jsonl(out)
    assert dataset.features["label"].dtype == "bool"


def test_llamafactory_dataset_info_merged(tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"alpaca_en_demo": {"file_name": "alpaca_en_demo.json"}}), encoding="utf-8")
    export(curated_session().tree, load_personas(), tmp_path / "garden.jsonl", format="llamafactory")
    entries = json.loads(info.read_text(encoding="utf-8"))
    assert entries["alpaca_en_demo"] == {"file_name": "alpaca_en_demo.json"}
    assert entries["garden"] == {
        "file_name": "garden.jsonl",
        "formatting": "sharegpt",
        "ranking": True,
        "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected"},
    }


def test_llamafactory_system_column_registered(tmp_path):
    export(curated_session().tree, load_personas(), tmp_path / "garden.jsonl", format="llamafactory",
           prompt_mode="as-generated")
    entry = json.loads((tmp_path / "dataset_info.json").read_text(encoding="utf-8"))["garden"]
    assert entry["columns"]["system"] == "system"


def test_llamafactory_broken_info_kept(tmp_path):
    from mindgarden.core.errors import InvalidInputError

    info = tmp_path / "dataset_info.json"
    info.write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="dataset_info.json cannot be read"):
        export(curated_session().tree, load_personas(), tmp_path / "garden.jsonl", format="llamafactory")
    assert info.read_text(encoding="utf-8") == "{not json"


def test_oasst_ranks_and_synthetic_turns(tmp_path):
    curated = curated_session()
    out = tmp_path / "oasst.jsonl"
    result = export(curated.tree, load_personas(), out, format="oasst")
    (tree,) = read_rows(out)
    replies = {reply["message_id"]: reply for reply in tree["prompt"]["replies"]}
    assert set(replies) == {curated.ids[key] for key in ("a1", "a2", "a3", "a6")}
    assert replies[curated.ids["a1"]]["rank"] == 0
    assert replies[curated.ids["a3"]]["rank"] == 2

    (turn,) = replies[curated.ids["a1"]]["replies"]
    assert turn["role"] == "prompter"
    ranks = {reply["text"]: reply["rank"] for reply in turn["replies"]}
    assert ranks == {"Run seed libraries.": 0, "Teach coding.": 1, "Host chess clubs.": 1,
                     "Lend telescopes and star charts.": 3}
    assert replies[curated.ids["a3"]]["replies"] == []
    assert result.skipped == {"empty text": 2, "incomplete branch": 1}
