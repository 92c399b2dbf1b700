"""MindGarden JSON: exact round trip through a new session, and rejection of malformed files."""

from __future__ import annotations

import json

import pytest
from test_export import curated_session

from mindgarden.core.errors import InvalidInputError
from mindgarden.core.export import export
from mindgarden.core.interchange import FORMAT_VERSION, import_session, parse_document
from mindgarden.core.personas import load_personas
from mindgarden.core.store import SessionStore


@pytest.fixture
def store(tmp_path):
    opened = SessionStore(tmp_path / "sessions.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def exported(tmp_path, store):
    """A curated session saved in the store and exported as MindGarden JSON."""
    curated = curated_session(store)
    out = tmp_path / "garden.json"
    export(curated.tree, load_personas(), out, format="json", session_name=curated.name)
    return curated, out


def document(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_round_trip_reproduces_every_node(exported, store):
    curated, out = exported
    original = store.open_session(curated.name)
    imported = import_session(out, store)
    reopened = store.open_session(imported.id)
    assert imported.name == "curated (2)"
    assert len(reopened.tree) == len(original.tree) == 16
    for node in original.tree.nodes():
        assert reopened.tree.node(node.id).to_dict() == node.to_dict()


def test_round_trip_keeps_sibling_order(exported, store):
    curated, out = exported
    imported = import_session(out, store, name="copy")
    original_order = [node.id for node in store.open_session(curated.name).tree.nodes()]
    assert [node.id for node in store.open_session("copy").tree.nodes()] == original_order
    assert imported.name == "copy"


def test_document_has_format_version(exported):
    _curated, out = exported
    data = document(out)
    assert data["format"] == "mindgarden-session"
    assert data["version"] == FORMAT_VERSION
    assert data["session_name"] == "curated"


# -- malformed files ----------------------------------------------------------------------


def mutate(out, tmp_path, change) -> object:
    data = document(out)
    change(data)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    return bad


def set_field(index, name, value):
    def change(data):
        data["nodes"][index][name] = value
    return change


def make_cycle(data):
    nodes = {node["id"]: node for node in data["nodes"]}
    nodes["a1-node"]["parent_id"] = "b1-node"


def second_root(data):
    data["nodes"][3]["parent_id"] = None
    data["nodes"][3]["kind"] = "root"


MALFORMED = {
    "wrong type": (set_field(1, "starred", "yes"), "starred is str 'yes', expected true or false"),
    "wrong rank type": (set_field(1, "rank", 1.5), "rank is float 1.5, expected a whole number"),
    "huge string": (set_field(2, "text", "x" * 10_000_000), "10000000 characters long"),
    "unknown node field": (set_field(1, "colour", "red"), "unknown field 'colour'"),
    "unknown top field": (lambda data: data.update(extra=1), "unknown top-level field 'extra'"),
    "duplicate id": (set_field(2, "id", "a1-node"), "Node id 'a1-node' occurs twice"),
    "cycle": (make_cycle, "cycle"),
    "missing root": (set_field(0, "parent_id", "a1-node"), "no root"),
    "second root": (second_root, "second root"),
    "unknown version": (lambda data: data.update(version=99), "Format version 99 is unknown"),
    "missing parent": (set_field(1, "parent_id", "nowhere"), "parent 'nowhere', which is not in the file"),
    "missing field": (lambda data: data["nodes"][1].pop("seed"), "lacks field 'seed'"),
    "sampler list": (set_field(1, "sampler", [0.8]), "sampler is list"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_rejected_nothing_written(exported, store, tmp_path, case):
    _curated, out = exported
    change, message = MALFORMED[case]
    bad = mutate(out, tmp_path, change)
    sessions_before = store.list_sessions()
    with pytest.raises(InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        import_session(bad, store)
    assert store.list_sessions() == sessions_before


def test_deep_nesting_rejected_without_recursion(exported, store, tmp_path):
    bad = tmp_path / "deep.json"
    bad.write_text('{"format": "mindgarden-session", "version": 1, "nodes": ' + "[" * 10_000 + "]" * 10_000 + "}",
                   encoding="utf-8")
    sessions_before = store.list_sessions()
    with pytest.raises(InvalidInputError, match="more than 16 levels deep"):
        import_session(bad, store)
    assert store.list_sessions() == sessions_before


def test_brackets_inside_strings_not_counted():
    text = json.dumps({"format": "other", "version": 1, "nodes": [], "session_name": "[" * 10_000})
    with pytest.raises(InvalidInputError, match="format is 'other'"):
        parse_document(text)


def test_deep_tree_rejected(exported, tmp_path, store):
    _curated, out = exported
    data = document(out)
    template = data["nodes"][1]
    parent = data["nodes"][0]["id"]
    chain = []
    for depth in range(10_000):
        node = dict(template, id=f"deep{depth}", parent_id=parent, position=0)
        chain.append(node)
        parent = node["id"]
    data["nodes"] = [data["nodes"][0], *chain]
    bad = tmp_path / "deep-tree.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InvalidInputError, match="deeper than the 1000 allowed"):
        import_session(bad, store)
    assert [info.name for info in store.list_sessions()] == ["curated"]


def test_duplicate_json_key_rejected():
    with pytest.raises(InvalidInputError, match="'version' occurs twice"):
        parse_document('{"format": "mindgarden-session", "version": 1, "version": 1, "nodes": []}')


def test_nan_rejected():
    with pytest.raises(InvalidInputError, match="NaN"):
        parse_document('{"format": "mindgarden-session", "version": NaN, "nodes": []}')


def test_invalid_json_rejected():
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        parse_document('{"format": ')


def test_missing_file_named(tmp_path, store):
    with pytest.raises(InvalidInputError, match="absent.json not found"):
        import_session(tmp_path / "absent.json", store)


def test_json_export_needs_session_scope(tmp_path):
    curated = curated_session()
    with pytest.raises(InvalidInputError, match="use scope session"):
        export(curated.tree, load_personas(), tmp_path / "part.json", format="json",
               scope=f"subtree:{curated.ids['a1']}")
