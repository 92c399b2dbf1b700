"""SessionStore.duplicate_session: a full copy under a new name that changes independently."""

from __future__ import annotations

import pytest

from mindgarden.core.errors import InvalidInputError, SessionNotFoundError
from mindgarden.core.store import SessionStore


@pytest.fixture
def store():
    opened = SessionStore()
    yield opened
    opened.close()


def test_duplicate_copies_every_node(store):
    session = store.create_session("original")
    root = session.tree.set_root("an idea")
    session.tree.add_child(root.id, text="a thought", finish_reason="stop")
    session.close()

    copy = store.duplicate_session(session.id, "copy")

    assert copy.name == "copy"
    assert copy.id != session.id
    assert copy.node_count == 2
    reopened = store.open_session(copy.id)
    assert sorted(node.text for node in reopened.tree.nodes()) == ["a thought", "an idea"]
    reopened.close()


def test_duplicate_changes_independently(store):
    session = store.create_session("original")
    session.tree.set_root("an idea")
    session.close()
    copy = store.duplicate_session(session.id, "copy")

    store.delete_session(copy.id)

    assert store.find_session(session.id).node_count == 1


def test_duplicate_rejects_taken_name(store):
    session = store.create_session("original")
    with pytest.raises(InvalidInputError, match="original"):
        store.duplicate_session(session.id, "original")


def test_duplicate_unknown_session_raises(store):
    with pytest.raises(SessionNotFoundError):
        store.duplicate_session("missing", "copy")
