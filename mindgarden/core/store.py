"""Sessions in one SQLite database: schema migrations, loading and write-through saving."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mindgarden.core import paths
from mindgarden.core.errors import InvalidInputError, SessionNotFoundError, StorageError
from mindgarden.core.tree import Node, ThoughtTree

log = logging.getLogger(__name__)

NODE_COLUMNS = (
    "id", "parent_id", "position", "kind", "text", "original_text", "persona", "sampler", "seed",
    "model_name", "model_sha256", "token_count", "uncertainty", "max_entropy", "mean_logprob",
    "finish_reason", "seconds", "created_at", "updated_at", "starred", "pruned", "rank", "reasoning",
)


def _migrate_initial(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE nodes (
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            id TEXT NOT NULL,
            parent_id TEXT,
            position INTEGER NOT NULL DEFAULT 0,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            original_text TEXT,
            persona TEXT NOT NULL DEFAULT 'neutral',
            sampler TEXT NOT NULL DEFAULT '{}',
            seed INTEGER,
            model_name TEXT NOT NULL DEFAULT '',
            model_sha256 TEXT NOT NULL DEFAULT '',
            token_count INTEGER NOT NULL DEFAULT 0,
            uncertainty REAL,
            max_entropy REAL,
            mean_logprob REAL,
            finish_reason TEXT,
            seconds REAL NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            starred INTEGER NOT NULL DEFAULT 0,
            pruned INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, id)
        )"""
    )
    db.execute("CREATE INDEX nodes_parent ON nodes(session_id, parent_id)")


def _migrate_sibling_rank(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE nodes ADD COLUMN rank INTEGER")


def _migrate_reasoning(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE nodes ADD COLUMN reasoning TEXT")


# Append-only: each entry upgrades the schema by one version. Never edit a released step.
MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("initial", _migrate_initial),
    ("sibling rank", _migrate_sibling_rank),
    ("reasoning text", _migrate_reasoning),
]


@dataclass(frozen=True)
class SessionInfo:
    id: str
    name: str
    created_at: float
    updated_at: float
    node_count: int


def migrate(db: sqlite3.Connection) -> int:
    """Apply the migrations this database lacks; returns the schema version afterwards."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise StorageError(
            f"The session database has schema version {version}, newer than this MindGarden "
            f"understands ({len(MIGRATIONS)}). Update MindGarden to open it."
        )
    for index in range(version, len(MIGRATIONS)):
        name, step = MIGRATIONS[index]
        log.info("Migrating session database to version %d (%s)", index + 1, name)
        with db:
            step(db)
            db.execute(f"PRAGMA user_version = {index + 1}")
    return len(MIGRATIONS)


def _connect(path: Path) -> sqlite3.Connection:
    """Open, check and migrate a database; raises sqlite3.DatabaseError when it is damaged."""
    db = sqlite3.connect(path, timeout=10.0)
    try:
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA foreign_keys = ON")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"quick_check reported: {check}")
        migrate(db)
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


class SessionStore:
    """The session database. Use it from one thread: the GUI thread or the CLI.

    A damaged database file is moved aside (``recovered_from`` names the copy) and a new,
    empty one takes its place, so the app still starts.
    """

    def __init__(self, path: Path | None = None, recover: bool = True) -> None:
        self.path = Path(path) if path else paths.database_path()
        self.recovered_from: Path | None = None
        self.salvaged: list[str] = []
        try:
            self.db = _connect(self.path)
        except StorageError:
            raise
        except sqlite3.DatabaseError as error:
            if not recover:
                raise StorageError(
                    f"The session database {self.path} is damaged ({error}). Move it aside and restart."
                ) from error
            self.recovered_from = self._move_aside(error)
            try:
                self.db = _connect(self.path)
            except sqlite3.DatabaseError as second:
                raise StorageError(
                    f"A new session database at {self.path} cannot be created: {second}. "
                    "Check the folder's permissions and free space."
                ) from second
            self.salvaged = self._salvage(self.recovered_from)
        log.info("Opened session database %s", self.path)

    def _salvage(self, damaged: Path) -> list[str]:
        """Copy every session that still reads completely from a damaged file; returns their names.

        A session is copied whole or not at all, so a partly readable one never comes back
        with missing branches.
        """
        names: list[str] = []
        try:
            source = sqlite3.connect(f"file:{damaged}?mode=ro", uri=True)
            source.row_factory = sqlite3.Row
            sessions = source.execute("SELECT id, name, created_at, updated_at FROM sessions").fetchall()
        except sqlite3.DatabaseError as error:
            log.warning("No session can be read from the damaged file %s: %s", damaged, error)
            return names
        columns = ", ".join(NODE_COLUMNS)
        for session in sessions:
            try:
                rows = source.execute(f"SELECT session_id, {columns} FROM nodes WHERE session_id = ?",
                                      (session["id"],)).fetchall()
                with self.db:
                    self.db.execute("INSERT INTO sessions (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                                    tuple(session))
                    self.db.executemany(
                        f"INSERT INTO nodes (session_id, {columns}) VALUES ({', '.join(['?'] * (len(NODE_COLUMNS) + 1))})",
                        [tuple(row) for row in rows])
            except sqlite3.DatabaseError as error:
                log.warning("Session %s in the damaged file %s cannot be read: %s", session["name"], damaged, error)
                continue
            names.append(session["name"])
        source.close()
        log.info("Salvaged %d of %d sessions from %s", len(names), len(sessions), damaged)
        return names

    def _move_aside(self, error: Exception) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                source.replace(Path(str(target) + suffix))
        log.error("Session database %s is damaged (%s); moved it to %s and started a new one",
                  self.path, error, target)
        return target

    def close(self) -> None:
        self.db.close()

    # -- sessions -----------------------------------------------------------------

    def list_sessions(self) -> list[SessionInfo]:
        rows = self.db.execute(
            """SELECT s.id, s.name, s.created_at, s.updated_at, COUNT(n.id) AS node_count
               FROM sessions s LEFT JOIN nodes n ON n.session_id = s.id
               GROUP BY s.id ORDER BY s.updated_at DESC"""
        ).fetchall()
        return [SessionInfo(row["id"], row["name"], row["created_at"], row["updated_at"], row["node_count"])
                for row in rows]

    def find_session(self, name_or_id: str) -> SessionInfo:
        for info in self.list_sessions():
            if name_or_id in (info.name, info.id):
                return info
        raise SessionNotFoundError(
            f"Session {name_or_id!r} not found. List sessions with `mindgarden sessions`."
        )

    def unique_name(self, base: str) -> str:
        taken = {info.name for info in self.list_sessions()}
        if base not in taken:
            return base
        index = 2
        while f"{base} ({index})" in taken:
            index += 1
        return f"{base} ({index})"

    def create_session(self, name: str) -> Session:
        name = name.strip()
        if not name:
            raise InvalidInputError("The session name is empty: give it a name.")
        now = time.time()
        session_id = uuid.uuid4().hex[:12]
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO sessions (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    (session_id, name, now, now),
                )
        except sqlite3.IntegrityError:
            raise InvalidInputError(f"A session named {name!r} already exists: choose another name.") from None
        log.info("Created session %s (%s)", name, session_id)
        return Session(self, SessionInfo(session_id, name, now, now, 0), ThoughtTree())

    def open_session(self, name_or_id: str) -> Session:
        info = self.find_session(name_or_id)
        rows = self.db.execute(
            f"SELECT {', '.join(NODE_COLUMNS)} FROM nodes WHERE session_id = ?", (info.id,)
        ).fetchall()
        tree = ThoughtTree()
        by_parent: dict[str | None, list[Node]] = {}
        for row in rows:
            data = dict(row)
            data["sampler"] = json.loads(data["sampler"])
            data["starred"] = bool(data["starred"])
            data["pruned"] = bool(data["pruned"])
            node = Node.from_dict(data)
            by_parent.setdefault(node.parent_id, []).append(node)
        pending = list(by_parent.get(None, []))
        while pending:
            node = pending.pop()
            tree.insert(node)
            pending.extend(by_parent.get(node.id, []))
        if len(tree) != len(rows):
            log.warning("Session %s: %d of %d nodes are orphans and were skipped",
                        info.id, len(rows) - len(tree), len(rows))
        log.info("Opened session %s with %d nodes", info.name, len(tree))
        return Session(self, info, tree)

    def rename_session(self, session_id: str, name: str) -> None:
        try:
            with self.db:
                self.db.execute("UPDATE sessions SET name = ? WHERE id = ?", (name.strip(), session_id))
        except sqlite3.IntegrityError:
            raise InvalidInputError(f"A session named {name!r} already exists: choose another name.") from None

    def duplicate_session(self, session_id: str, new_name: str) -> SessionInfo:
        """Copy a session and all its nodes under ``new_name``; node ids stay the same.

        Raises SessionNotFoundError for an unknown id and InvalidInputError for an empty or taken name.
        """
        name = new_name.strip()
        if not name:
            raise InvalidInputError("The session name is empty: give it a name.")
        source = self.db.execute("SELECT id FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if source is None:
            raise SessionNotFoundError(f"Session {session_id!r} not found, so it cannot be duplicated.")
        now = time.time()
        copy_id = uuid.uuid4().hex[:12]
        columns = ", ".join(NODE_COLUMNS)
        try:
            with self.db:
                self.db.execute(
                    "INSERT INTO sessions (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
                    (copy_id, name, now, now),
                )
                self.db.execute(
                    f"INSERT INTO nodes (session_id, {columns}) SELECT ?, {columns} FROM nodes WHERE session_id = ?",
                    (copy_id, session_id),
                )
        except sqlite3.IntegrityError:
            raise InvalidInputError(f"A session named {name!r} already exists: choose another name.") from None
        except sqlite3.OperationalError as error:
            raise StorageError(f"Duplicating a session in {self.path} failed: {error}. "
                               "Free disk space and try again.") from error
        log.info("Duplicated session %s as %s (%s)", session_id, name, copy_id)
        return self.find_session(copy_id)

    def delete_session(self, session_id: str) -> None:
        with self.db:
            self.db.execute("DELETE FROM nodes WHERE session_id = ?", (session_id,))
            self.db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    # -- nodes --------------------------------------------------------------------

    def save_nodes(self, session_id: str, nodes: list[Node]) -> None:
        """Write nodes in one transaction; an interrupted write leaves the previous state."""
        if not nodes:
            return
        placeholders = ", ".join("?" for _ in NODE_COLUMNS)
        rows = []
        for node in nodes:
            data = node.to_dict()
            data["sampler"] = json.dumps(data["sampler"], sort_keys=True)
            data["starred"] = int(data["starred"])
            data["pruned"] = int(data["pruned"])
            rows.append((session_id, *(data[column] for column in NODE_COLUMNS)))
        try:
            with self.db:
                self.db.executemany(
                    f"INSERT OR REPLACE INTO nodes (session_id, {', '.join(NODE_COLUMNS)}) VALUES (?, {placeholders})",
                    rows,
                )
                self.db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (time.time(), session_id))
        except sqlite3.OperationalError as error:
            raise StorageError(f"Saving to {self.path} failed: {error}. Free disk space and try again.") from error

    def delete_nodes(self, session_id: str, node_ids: list[str]) -> None:
        with self.db:
            self.db.executemany("DELETE FROM nodes WHERE session_id = ? AND id = ?",
                                [(session_id, node_id) for node_id in node_ids])


class Session:
    """A thought tree bound to its database row: every change to the tree is saved.

    Structural changes, stars, prunes and edits are written at once. Streamed text of a
    branch still growing is only marked dirty, and written by ``flush`` or when the
    branch finishes, so a finished branch is committed when it finishes.
    """

    def __init__(self, store: SessionStore, info: SessionInfo, tree: ThoughtTree) -> None:
        self.store = store
        self.info = info
        self.tree = tree
        self._dirty: set[str] = set()
        tree.subscribe(self._on_tree_event)

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def dirty(self) -> frozenset[str]:
        """Ids of streaming nodes whose latest text is not yet written."""
        return frozenset(self._dirty)

    def _on_tree_event(self, event: str, node_id: str, fields: tuple[str, ...]) -> None:
        if event == "removed":
            self._dirty.discard(node_id)
            self.store.delete_nodes(self.id, [node_id])
            return
        node = self.tree.node(node_id)
        if event == "changed" and fields == ("text",) and not node.complete:
            self._dirty.add(node_id)
            return
        self._dirty.discard(node_id)
        self.store.save_nodes(self.id, [node])

    def flush(self) -> None:
        """Write the partial text of branches still streaming."""
        nodes = [self.tree.node(node_id) for node_id in self._dirty if node_id in self.tree]
        self._dirty.clear()
        self.store.save_nodes(self.id, nodes)

    def close(self) -> None:
        self.flush()
        self.tree.unsubscribe(self._on_tree_event)
