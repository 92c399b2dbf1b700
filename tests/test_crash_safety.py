"""A killed process loses no finished branch; paths and texts survive any characters."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

from mindgarden.core import paths
from mindgarden.core.store import SessionStore


def _node_rows(database):
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("SELECT parent_id, text, finish_reason FROM nodes").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()


def test_sigkill_keeps_finished_and_partial(model_path, home):
    command = [sys.executable, "-m", "mindgarden", "--model", str(model_path), "grow",
               "How could a city cool itself in a heat wave?", "--branches", "2", "--depth", "2",
               "--max-tokens", "400", "--session", "killed", "--seed", "3"]
    process = subprocess.Popen(command, env={**os.environ, paths.HOME_ENV: str(home)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    database = home / "sessions.sqlite3"
    deadline = time.monotonic() + 300
    try:
        # Wait until level two streams: its rows exist and one already contains partial text.
        while time.monotonic() < deadline:
            rows = _node_rows(database) if database.exists() else []
            unfinished = [row for row in rows if row[2] is None and row[0] is not None]
            finished = [row for row in rows if row[2] is not None]
            if len(finished) >= 2 and any(row[1] for row in unfinished):
                break
            assert process.poll() is None, "grow ended before it could be killed"
            time.sleep(0.2)
        else:
            raise AssertionError("the second level never started streaming")
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)

    db = sqlite3.connect(database)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    tree = SessionStore().open_session("killed").tree
    level_one = tree.children(tree.root_id)
    assert len(level_one) == 2
    assert all(node.finish_reason in ("stop", "length") and node.text for node in level_one)
    level_two = [child for node in level_one for child in tree.children(node.id)]
    incomplete = [node for node in level_two if not node.complete]
    assert incomplete
    assert any(node.text for node in incomplete)


def test_model_path_with_spaces_and_accents(model_path, tmp_path):
    from mindgarden.engine.llama_engine import LlamaEngine

    folder = tmp_path / "modèles à tester" / "日本"
    folder.mkdir(parents=True)
    copy = folder / "petit modèle ü.gguf"
    shutil.copyfile(model_path, copy)
    engine = LlamaEngine(copy)
    try:
        assert engine.info.name == "petit modèle ü.gguf"
        assert engine.info.sha256 == paths.DEFAULT_MODEL_SHA256
    finally:
        engine.close()
