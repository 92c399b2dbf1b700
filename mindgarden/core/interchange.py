"""MindGarden JSON: the whole tree with every node field, and its validated import into a new session."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import time
from pathlib import Path
from typing import Any

from mindgarden.core.errors import InvalidInputError, StorageError
from mindgarden.core.store import Session, SessionStore
from mindgarden.core.tree import MAX_IDEA_CHARS, ROOT, THOUGHT, Node, ThoughtTree

log = logging.getLogger(__name__)

FORMAT_NAME = "mindgarden-session"
FORMAT_VERSION = 1

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 16  # the layout needs 4: document, node list, node, sampler
MAX_NODES = 100_000
MAX_TREE_DEPTH = 1_000
MAX_TEXT_CHARS = 200_000
MAX_SHORT_CHARS = 256
MAX_SAMPLER_KEYS = 64
MAX_SESSION_NAME_CHARS = 200

DOCUMENT_FIELDS = {"format", "version", "session_name", "exported_at", "nodes"}
REQUIRED_DOCUMENT_FIELDS = {"format", "version", "nodes"}
NODE_FIELDS = tuple(field.name for field in dataclasses.fields(Node))
# Node fields added after version 1 of the format; files written before them may lack them.
LATER_NODE_FIELDS = {"reasoning"}

# A JSON string with its escapes, written as an unrolled loop so long strings match in linear time.
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
JSON_BRACKET = re.compile(r"[\[\]{}]")


# -- writing ---------------------------------------------------------------------------


def _finite(value: Any, node_id: str, name: str) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # NOTE: JSON has no NaN or infinity, so such a metric comes back as None on import.
        log.warning("Node %s: %s is %r, written as null", node_id, name, value)
        return None
    return value


def session_document(tree: ThoughtTree, session_name: str) -> dict[str, Any]:
    """Build the MindGarden JSON document: format name, version, and every node, parents first."""
    nodes = []
    for node in tree.nodes():
        data = node.to_dict()
        nodes.append({name: _finite(value, node.id, name) for name, value in data.items()})
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "session_name": session_name,
        "exported_at": time.time(),
        "nodes": nodes,
    }


def dumps_session(tree: ThoughtTree, session_name: str) -> str:
    """Return the MindGarden JSON text of ``tree``."""
    return json.dumps(session_document(tree, session_name), ensure_ascii=False, allow_nan=False, indent=1) + "\n"


# -- reading and validation ------------------------------------------------------------


def check_nesting(text: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Raise InvalidInputError if JSON ``text`` nests arrays and objects deeper than ``limit``.

    The scan is iterative and runs before ``json.loads``, whose recursive parser would
    otherwise hit the recursion limit on a deeply nested file.
    """
    skeleton = JSON_STRING.sub('""', text)
    depth = 0
    for match in JSON_BRACKET.finditer(skeleton):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                raise InvalidInputError(
                    f"The file nests JSON arrays or objects more than {limit} levels deep: "
                    "it is not a MindGarden JSON export."
                )
        else:
            depth -= 1


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInputError(f"The key {key!r} occurs twice in one JSON object: remove one of them.")
        result[key] = value
    return result


def _reject_constant(name: str) -> None:
    raise InvalidInputError(f"The file contains {name}, which JSON does not allow: replace it with null.")


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _where(index: int, data: dict[str, Any]) -> str:
    node_id = data.get("id")
    return f"node {index}" + (f" ({node_id!r})" if isinstance(node_id, str) else "")


def _check_string(value: Any, where: str, name: str, limit: int, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str):
        expected = "a string or null" if optional else "a string"
        raise InvalidInputError(f"{where}: {name} is {_type_name(value)}, expected {expected}.")
    if len(value) > limit:
        raise InvalidInputError(f"{where}: {name} is {len(value)} characters long, more than the {limit} allowed.")


def _check_int(value: Any, where: str, name: str, minimum: int | None = None, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        expected = "a whole number or null" if optional else "a whole number"
        raise InvalidInputError(f"{where}: {name} is {_type_name(value)} {value!r}, expected {expected}.")
    if minimum is not None and value < minimum:
        raise InvalidInputError(f"{where}: {name} is {value}, expected at least {minimum}.")


def _check_number(value: Any, where: str, name: str, optional: bool = False) -> None:
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        expected = "a number or null" if optional else "a number"
        raise InvalidInputError(f"{where}: {name} is {_type_name(value)} {value!r}, expected {expected}.")


def _check_bool(value: Any, where: str, name: str) -> None:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{where}: {name} is {_type_name(value)} {value!r}, expected true or false.")


def _check_sampler(value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: sampler is {_type_name(value)}, expected an object of settings.")
    if len(value) > MAX_SAMPLER_KEYS:
        raise InvalidInputError(f"{where}: sampler has {len(value)} settings, more than the {MAX_SAMPLER_KEYS} allowed.")
    for key, setting in value.items():
        _check_string(key, where, "a sampler setting name", MAX_SHORT_CHARS)
        if isinstance(setting, str):
            _check_string(setting, where, f"sampler setting {key!r}", MAX_SHORT_CHARS)
        elif setting is not None and not isinstance(setting, (bool, int, float)):
            raise InvalidInputError(
                f"{where}: sampler setting {key!r} is {_type_name(setting)}, expected a number, string, "
                "true, false or null."
            )


def _check_node_fields(index: int, data: Any) -> None:
    if not isinstance(data, dict):
        raise InvalidInputError(f"Node {index} is {_type_name(data)}, expected an object of node fields.")
    where = _where(index, data)
    unknown = sorted(set(data) - set(NODE_FIELDS))
    if unknown:
        raise InvalidInputError(
            f"{where} has unknown field {unknown[0]!r}: this MindGarden knows {', '.join(NODE_FIELDS)}."
        )
    missing = [name for name in NODE_FIELDS if name not in data and name not in LATER_NODE_FIELDS]
    if missing:
        raise InvalidInputError(f"{where} lacks field {missing[0]!r}: a MindGarden JSON export has every field.")

    _check_string(data["id"], where, "id", MAX_SHORT_CHARS)
    if not data["id"]:
        raise InvalidInputError(f"{where}: id is empty.")
    _check_string(data["parent_id"], where, "parent_id", MAX_SHORT_CHARS, optional=True)
    if data["kind"] not in (ROOT, THOUGHT):
        raise InvalidInputError(f"{where}: kind is {data['kind']!r}, expected {ROOT!r} or {THOUGHT!r}.")
    _check_string(data["text"], where, "text", MAX_TEXT_CHARS)
    _check_string(data.get("reasoning"), where, "reasoning", MAX_TEXT_CHARS, optional=True)
    _check_string(data["original_text"], where, "original_text", MAX_TEXT_CHARS, optional=True)
    for name in ("persona", "model_name", "model_sha256"):
        _check_string(data[name], where, name, MAX_SHORT_CHARS)
    _check_string(data["finish_reason"], where, "finish_reason", MAX_SHORT_CHARS, optional=True)
    _check_sampler(data["sampler"], where)
    _check_int(data["seed"], where, "seed", optional=True)
    _check_int(data["token_count"], where, "token_count", minimum=0)
    _check_int(data["position"], where, "position", minimum=0)
    _check_int(data["rank"], where, "rank", minimum=1, optional=True)
    for name in ("uncertainty", "max_entropy", "mean_logprob"):
        _check_number(data[name], where, name, optional=True)
    for name in ("seconds", "created_at", "updated_at"):
        _check_number(data[name], where, name)
    _check_bool(data["starred"], where, "starred")
    _check_bool(data["pruned"], where, "pruned")


def _check_structure(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the nodes parents first; raises on duplicate ids, roots, missing parents, cycles and depth."""
    by_id: dict[str, dict[str, Any]] = {}
    for data in nodes:
        if data["id"] in by_id:
            raise InvalidInputError(f"Node id {data['id']!r} occurs twice: every node needs its own id.")
        by_id[data["id"]] = data

    roots = [data for data in nodes if data["parent_id"] is None]
    if not roots:
        raise InvalidInputError("The tree has no root: exactly one node needs parent_id null.")
    if len(roots) > 1:
        raise InvalidInputError(
            f"The tree has a second root {roots[1]['id']!r} besides {roots[0]['id']!r}: "
            "exactly one node may have parent_id null."
        )
    root = roots[0]
    if root["kind"] != ROOT:
        raise InvalidInputError(f"The root node {root['id']!r} has kind {root['kind']!r}, expected {ROOT!r}.")
    if not root["text"].strip() or len(root["text"]) > MAX_IDEA_CHARS:
        raise InvalidInputError(
            f"The root idea of node {root['id']!r} is empty or longer than {MAX_IDEA_CHARS} characters."
        )

    children: dict[str, list[str]] = {}
    for data in nodes:
        if data is root:
            continue
        if data["kind"] != THOUGHT:
            raise InvalidInputError(f"Node {data['id']!r} has kind {data['kind']!r} but a parent: expected {THOUGHT!r}.")
        if data["parent_id"] not in by_id:
            raise InvalidInputError(f"Node {data['id']!r} has parent {data['parent_id']!r}, which is not in the file.")
        children.setdefault(data["parent_id"], []).append(data["id"])

    ordered = []
    pending = [(root["id"], 0)]
    while pending:
        node_id, depth = pending.pop()
        if depth > MAX_TREE_DEPTH:
            raise InvalidInputError(
                f"Node {node_id!r} is {depth} levels below the root, deeper than the {MAX_TREE_DEPTH} allowed."
            )
        ordered.append(by_id[node_id])
        pending.extend((child, depth + 1) for child in children.get(node_id, ()))

    if len(ordered) != len(nodes):
        reached = {data["id"] for data in ordered}
        stranded = next(data["id"] for data in nodes if data["id"] not in reached)
        raise InvalidInputError(
            f"Node {stranded!r} is not reachable from the root because its parents form a cycle."
        )
    return ordered


def parse_document(text: str) -> tuple[str | None, ThoughtTree]:
    """Validate MindGarden JSON text completely and return (session name, tree).

    Raises InvalidInputError naming the first problem: invalid JSON, nesting too deep,
    unknown format, version or field, a wrong type, an oversized string, duplicate ids,
    no root or a second root, a missing parent, a cycle, or a tree too deep.
    """
    check_nesting(text)
    try:
        document = json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InvalidInputError(f"The file is not valid JSON: {error}.") from error

    if not isinstance(document, dict):
        raise InvalidInputError(f"The file contains a JSON {_type_name(document)}, expected a MindGarden JSON object.")
    unknown = sorted(set(document) - DOCUMENT_FIELDS)
    if unknown:
        raise InvalidInputError(f"The file has unknown top-level field {unknown[0]!r}: remove it.")
    missing = sorted(REQUIRED_DOCUMENT_FIELDS - set(document))
    if missing:
        raise InvalidInputError(f"The file lacks the top-level field {missing[0]!r}: it is not a MindGarden JSON export.")
    if document["format"] != FORMAT_NAME:
        raise InvalidInputError(f"The file's format is {document['format']!r}, expected {FORMAT_NAME!r}.")
    version = document["version"]
    if isinstance(version, bool) or not isinstance(version, int) or version != FORMAT_VERSION:
        raise InvalidInputError(
            f"Format version {version!r} is unknown: this MindGarden reads version {FORMAT_VERSION}. "
            "Update MindGarden to import newer files."
        )
    name = document.get("session_name")
    _check_string(name, "The file", "session_name", MAX_SESSION_NAME_CHARS, optional=True)
    _check_number(document.get("exported_at"), "The file", "exported_at", optional=True)

    nodes = document["nodes"]
    if not isinstance(nodes, list):
        raise InvalidInputError(f"The file's nodes is {_type_name(nodes)}, expected a list of nodes.")
    if not nodes:
        raise InvalidInputError("The file has no nodes: there is no root idea to import.")
    if len(nodes) > MAX_NODES:
        raise InvalidInputError(f"The file has {len(nodes)} nodes, more than the {MAX_NODES} allowed.")
    for index, data in enumerate(nodes):
        _check_node_fields(index, data)

    tree = ThoughtTree()
    for data in _check_structure(nodes):
        values = dict(data)
        for field_name in ("uncertainty", "max_entropy", "mean_logprob", "seconds", "created_at", "updated_at"):
            if values[field_name] is not None:
                values[field_name] = float(values[field_name])
        values["sampler"] = dict(values["sampler"])
        tree.insert(Node(**values))
    return name, tree


def read_document(path: Path) -> tuple[str | None, ThoughtTree]:
    """Read and validate a MindGarden JSON file; raises InvalidInputError naming the problem."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InvalidInputError(
                f"{path} is {size} bytes, larger than the {MAX_FILE_BYTES} bytes a MindGarden JSON import allows."
            )
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise InvalidInputError(f"{path} not found: check the file name.") from None
    except UnicodeDecodeError as error:
        raise InvalidInputError(f"{path} is not UTF-8 text ({error}): it is not a MindGarden JSON export.") from error
    except OSError as error:
        raise InvalidInputError(f"{path} cannot be read: {error}.") from error
    return parse_document(text)


def import_session(path: Path, store: SessionStore, name: str | None = None) -> Session:
    """Import a MindGarden JSON file into a new session and return it.

    The whole file is validated before anything is written. Without ``name`` the session
    takes the exported name (or the file name), made unique. The nodes are saved in one
    transaction; if that fails, the new session is deleted again.
    """
    exported_name, tree = read_document(path)
    if name is None:
        name = store.unique_name((exported_name or "").strip() or Path(path).stem)
    session = store.create_session(name)
    nodes = list(tree.nodes())
    try:
        store.save_nodes(session.id, nodes)
    except StorageError:
        store.delete_session(session.id)
        raise
    log.info("Imported %d nodes from %s into session %s (%s)", len(nodes), path, session.name, session.id)
    return store.open_session(session.id)
