"""Headless commands on the real model, and their messages for bad input."""

from __future__ import annotations

import json

import pytest

from mindgarden.cli import main
from mindgarden.core.store import SessionStore


def test_grow_show_mark_export(model_path, tmp_path, capsys):
    code = main(["--model", str(model_path), "grow", "How might a small town make its older residents less lonely?",
                 "--branches", "3", "--depth", "2", "--max-tokens", "24", "--personas", "neutral,unhurried",
                 "--temperatures", "0.8,1.2", "--session", "town", "--seed", "5"])
    assert code == 0
    tree = SessionStore().open_session("town").tree
    assert len(tree) == 1 + 3 + 9
    assert all(node.text.strip() for node in tree.nodes())
    children = tree.children(tree.root_id)
    assert len({child.text for child in children}) > 1
    assert {child.persona for child in children} == {"neutral", "unhurried"}
    assert all(child.finish_reason in ("stop", "length") for child in children)

    capsys.readouterr()
    assert main(["show", "town"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert len(shown) == 13
    assert "[neutral t=" in shown[1]

    assert main(["star", "town", children[0].id[:8]]) == 0
    assert main(["prune", "town", children[1].id[:8], children[2].id[:8]]) == 0
    out = tmp_path / "pairs.jsonl"
    assert main(["export", "town", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 2
    assert rows[0]["chosen"][0]["content"] == children[0].text.strip()


def test_empty_idea_message(model_path, capsys):
    assert main(["--model", str(model_path), "grow", "   "]) == 2
    assert "idea is empty" in capsys.readouterr().err
    assert SessionStore().list_sessions() == []


def test_missing_model_message(tmp_path, capsys):
    missing = tmp_path / "nowhere.gguf"
    assert main(["--model", str(missing), "grow", "an idea"]) == 2
    assert str(missing) in capsys.readouterr().err


def test_not_gguf_model_message(tmp_path, capsys):
    fake = tmp_path / "model.gguf"
    fake.write_text("hello")
    assert main(["--model", str(fake), "grow", "an idea"]) == 2
    err = capsys.readouterr().err
    assert "not a GGUF model file" in err
    assert str(fake) in err


@pytest.mark.parametrize("count", ["0", "17"])
def test_branch_count_message(count, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["grow", "an idea", "--branches", count])
    assert caught.value.code == 2
    assert "1 to 16" in capsys.readouterr().err


def test_unknown_persona_message(model_path, capsys):
    assert main(["--model", str(model_path), "grow", "an idea", "--personas", "dreamy"]) == 2
    assert "dreamy" in capsys.readouterr().err


def test_model_option_after_command(tmp_path, capsys):
    missing = tmp_path / "after.gguf"
    assert main(["grow", "an idea", "--model", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_show_full_prints_whole_text(capsys):
    store = SessionStore()
    session = store.create_session("long")
    root = session.tree.set_root("idea")
    session.tree.add_child(root.id, text="first line\nsecond line", finish_reason="stop")
    assert main(["show", "long", "--full"]) == 0
    out = capsys.readouterr().out
    assert "second line" in out


def test_models_add_list_remove(model_path, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path / "empty-home"))
    for variable in ("OLLAMA_MODELS", "HF_HUB_CACHE", "HF_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["models", "add", str(model_path)]) == 0
    assert main(["models"]) == 0
    listed = capsys.readouterr().out
    assert "Q4_1" in listed
    assert "apache-2.0" in listed
    assert main(["models", "remove", str(model_path)]) == 0
    assert model_path.exists()


def test_models_add_rejects_text_file(tmp_path, capsys):
    fake = tmp_path / "notes.gguf"
    fake.write_text("not a model")
    assert main(["models", "add", str(fake)]) == 2
    assert "not a GGUF model file" in capsys.readouterr().err
