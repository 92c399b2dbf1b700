"""Sessions in SQLite: migrations, write-through saving and exact reopening."""

from __future__ import annotations

import sqlite3

import pytest

from mindgarden.core.errors import InvalidInputError, SessionNotFoundError, StorageError
from mindgarden.core.store import MIGRATIONS, SessionStore


def test_blank_database_migrates(home):
    store = SessionStore()
    version = store.db.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_rejected(tmp_path):
    path = tmp_path / "future.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    db.close()
    with pytest.raises(StorageError, match="newer"):
        SessionStore(path)


def test_session_reopens_exactly(home):
    store = SessionStore()
    session = store.create_session("reopen")
    tree = session.tree
    root = tree.set_root("An idea with emoji 🌱 and 中文")
    first = tree.add_child(root.id, text="", persona="unhurried", sampler={"temperature": 1.2, "min_p": 0.05},
                           seed=42, model_name="m.gguf", model_sha256="ab" * 32)
    tree.append_text(first.id, "partial")
    tree.update(first.id, text="final text", finish_reason="stop", token_count=7, uncertainty=2.5)
    second = tree.add_child(root.id, text="other", finish_reason="length")
    tree.set_starred(first.id, True)
    tree.set_pruned(second.id, True)
    tree.edit_text(second.id, "other, edited")
    expected = {node.id: node.to_dict() for node in tree.nodes()}
    session.close()
    store.close()

    reopened = SessionStore().open_session("reopen")
    actual = {node.id: node.to_dict() for node in reopened.tree.nodes()}
    assert actual == expected
    assert reopened.tree.root_id == root.id


def test_streaming_text_saved_on_flush(home):
    store = SessionStore()
    session = store.create_session("partial")
    root = session.tree.set_root("idea")
    child = session.tree.add_child(root.id)
    session.tree.append_text(child.id, "half a thou")
    assert SessionStore().open_session("partial").tree.node(child.id).text == ""
    session.flush()
    assert SessionStore().open_session("partial").tree.node(child.id).text == "half a thou"


def test_duplicate_session_name_rejected(home):
    store = SessionStore()
    store.create_session("same")
    with pytest.raises(InvalidInputError, match="already exists"):
        store.create_session("same")
    assert store.unique_name("same") == "same (2)"


def test_missing_session_named(home):
    with pytest.raises(SessionNotFoundError, match="nope"):
        SessionStore().open_session("nope")


def test_sessions_listed_recent_first(home):
    store = SessionStore()
    older = store.create_session("older")
    store.create_session("newer")
    older.tree.set_root("touch the older one")
    assert [info.name for info in store.list_sessions()] == ["older", "newer"]


def test_oldest_schema_upgrades(tmp_path):
    path = tmp_path / "v1.sqlite3"
    db = sqlite3.connect(path)
    MIGRATIONS[0][1](db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO sessions VALUES ('s1', 'old', 0, 0)")
    db.execute("INSERT INTO nodes (session_id, id, parent_id, kind, text, created_at, updated_at) "
               "VALUES ('s1', 'r', NULL, 'root', 'an old idea', 0, 0)")
    db.commit()
    db.close()

    session = SessionStore(path).open_session("old")
    assert session.tree.root.text == "an old idea"
    assert session.tree.root.rank is None
    session.tree.set_rank(session.tree.root_id, 2)
    assert SessionStore(path).open_session("old").tree.root.rank == 2


@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_damaged_database_moved_aside(home, damage):
    import os

    store = SessionStore()
    session = store.create_session("precious")
    session.tree.set_root("an idea worth keeping")
    for index in range(200):
        session.tree.add_child(session.tree.root_id, text=f"thought {index} " * 20, finish_reason="stop")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = store.path
    data = path.read_bytes()
    if damage == "random":
        path.write_bytes(os.urandom(len(data)))
    else:
        path.write_bytes(data[: len(data) // 3])
    damaged = path.read_bytes()
    personas_file = home / "personas" / "mine.toml"
    personas_file.parent.mkdir(parents=True, exist_ok=True)
    personas_file.write_text('name = "mine"\\n')

    recovered = SessionStore()
    assert recovered.recovered_from is not None
    assert recovered.recovered_from.exists()
    assert recovered.recovered_from.read_bytes() == damaged
    assert recovered.list_sessions() == []
    recovered.create_session("fresh")
    assert [info.name for info in SessionStore().list_sessions()] == ["fresh"]
    assert personas_file.read_text() == 'name = "mine"\\n'


def test_text_round_trips_exactly(home):
    texts = ["emoji 🌱🎉", "中文思考", "עברית ימין לשמאל", "nul\\x00inside", "mixed é\\u200dü \\t tab"]
    store = SessionStore()
    session = store.create_session("Ünïcode séssion 思")
    root = session.tree.set_root(texts[0])
    ids = [session.tree.add_child(root.id, text=text, finish_reason="stop").id for text in texts]
    session.tree.edit_text(ids[3], "edited\\x00again 🌍")
    reopened = SessionStore().open_session("Ünïcode séssion 思").tree
    assert reopened.root.text == texts[0]
    assert [reopened.node(node_id).text for node_id in ids] == texts[:3] + ["edited\\x00again 🌍"] + texts[4:]
    assert reopened.node(ids[3]).original_text == texts[3]


def test_reasoning_saved_apart(home):
    session = SessionStore().create_session("thinking")
    root = session.tree.set_root("idea")
    child = session.tree.add_child(root.id)
    session.tree.update(child.id, text="The thought.", reasoning="First I consider…", finish_reason="stop")
    reopened = SessionStore().open_session("thinking").tree.node(child.id)
    assert reopened.text == "The thought."
    assert reopened.reasoning == "First I consider…"


def test_readable_sessions_salvaged(home):
    store = SessionStore()
    kept = store.create_session("kept")
    kept.tree.set_root("a small session that stays readable")
    for index in range(3):
        kept.tree.add_child(kept.tree.root_id, text=f"kept thought {index}", finish_reason="stop")
    big = store.create_session("big")
    big.tree.set_root("a large session")
    for index in range(400):
        big.tree.add_child(big.tree.root_id, text=f"big thought {index} " * 30, finish_reason="stop")
    store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    path = store.path
    data = bytearray(path.read_bytes())
    page_size = 4096
    # Damage pages near the end, where the large session's nodes live, and keep the header intact.
    for page in range(len(data) // page_size - 8, len(data) // page_size - 2):
        data[page * page_size: (page + 1) * page_size] = b"\xff" * page_size
    path.write_bytes(bytes(data))

    recovered = SessionStore()
    assert recovered.recovered_from is not None
    assert "kept" in recovered.salvaged
    tree = recovered.open_session("kept").tree
    assert sorted(node.text for node in tree.children(tree.root_id)) == [f"kept thought {index}" for index in range(3)]
    assert "big" not in recovered.salvaged
