"""The export and import subcommands registered by ``cli_export.register``."""

from __future__ import annotations

import argparse
import json

import pytest
from test_export import curated_session

from mindgarden.cli_export import register
from mindgarden.core.errors import InvalidInputError
from mindgarden.core.store import SessionStore


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="mindgarden")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


@pytest.fixture
def stored(home):
    store = SessionStore()
    curated = curated_session(store)
    store.close()
    return curated


def test_export_prints_rows_and_skips(stored, tmp_path, capsys):
    out = tmp_path / "pairs.jsonl"
    assert run(["export", "curated", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"Wrote 10 rows as trl-dpo to {out}" in printed
    assert "skipped 4: empty text" in printed
    assert "skipped 1: tied ranks" in printed
    assert "skipped 1: incomplete branch" in printed
    assert len(out.read_text(encoding="utf-8").splitlines()) == 10


def test_export_subtree_prefix_and_cap(stored, tmp_path, capsys):
    out = tmp_path / "reward.jsonl"
    code = run(["export", "curated", "--out", str(out), "--format", "trl-reward", "--scope", "subtree:a1",
                "--pairs", "best-vs-rest", "--max-pairs-per-group", "2", "--margin"])
    assert code == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2
    assert all("margin" in row for row in rows)
    assert "skipped 2: over the per-group cap" in capsys.readouterr().out


def test_export_outline_counts_nodes(stored, tmp_path, capsys):
    out = tmp_path / "garden.md"
    assert run(["export", "curated", "--out", str(out), "--format", "markdown"]) == 0
    assert "Wrote 16 nodes as markdown" in capsys.readouterr().out


def test_kto_warning_on_stderr(stored, tmp_path, capsys):
    out = tmp_path / "kto.jsonl"
    run(["export", "curated", "--out", str(out), "--format", "trl-kto", "--scope", "subtree:a2"])
    assert "warning: All 1 KTO rows have label true" in capsys.readouterr().err


def test_zero_cap_rejected_by_parser(stored, tmp_path):
    with pytest.raises(SystemExit):
        run(["export", "curated", "--out", str(tmp_path / "x.jsonl"), "--max-pairs-per-group", "0"])


def test_unknown_node_prefix_rejected(stored, tmp_path):
    with pytest.raises(InvalidInputError, match="'zz' not found"):
        run(["export", "curated", "--out", str(tmp_path / "x.jsonl"), "--scope", "subtree:zz"])


def test_json_export_then_import(stored, tmp_path, capsys):
    out = tmp_path / "garden.json"
    assert run(["export", "curated", "--out", str(out), "--format", "json"]) == 0
    assert run(["import", str(out)]) == 0
    assert "Imported 16 nodes into session 'curated (2)'" in capsys.readouterr().out
