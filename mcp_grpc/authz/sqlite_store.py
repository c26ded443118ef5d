"""Optional SQLite persistence for the embedded engine's tuple store, so that writes survive a restart.

``SqlitePersistence`` mirrors one ``TupleStore`` (``mcp_grpc.authz.engine.store``) into a SQLite file (stdlib
``sqlite3``, WAL journal): every model version (with its id and order) and every tuple (with its condition). On
``open`` it restores the file into the store; afterwards it hears every committed change through the store's
listener hook and applies it in one SQLite transaction.

- The file wins at start-up: when it holds anything, the store is replaced by it (``TupleStore.load``); when it is
  new or empty, the store's current content is written to it (so files loaded first are kept).
- Changes are applied in revision order even when concurrent writers notify out of order, and idempotently (a
  tuple write is an upsert, a delete of a missing row is a no-op), so a replay converges to the store's state.
- A failure to persist cannot undo the in-memory change (the store has committed it): it is logged, counted in
  ``failures`` and kept in ``last_error``; ``healthy`` turns False so a health check can report it.

Usage::

    engine, persistence = open_persistent_engine("authz.db")   # an Engine whose writes survive a restart
    engine.write_model(model); engine.write([...])
    persistence.close()

    store = TupleStore()                                        # or mirror any TupleStore
    persistence = SqlitePersistence.open("authz.db", store)
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from typing import Any, Iterable, Mapping

__all__ = ["SqlitePersistence", "SCHEMA_VERSION", "open_persistent_engine"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS models (
    id         TEXT PRIMARY KEY,
    position   INTEGER NOT NULL UNIQUE,   -- oldest first; the highest is the latest model
    model_json TEXT NOT NULL,
    written_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS tuples (
    object            TEXT NOT NULL,
    relation          TEXT NOT NULL,
    user              TEXT NOT NULL,
    condition_name    TEXT,
    condition_context TEXT,                -- JSON object, or NULL
    written_at        REAL NOT NULL,
    PRIMARY KEY (object, relation, user)
);
"""


class SqlitePersistence:
    """Mirrors a ``TupleStore`` into a SQLite file. Build it with ``open``; ``close`` stops mirroring."""

    def __init__(self, path: str | os.PathLike[str], *, synchronous: str = "NORMAL") -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, not {synchronous!r}")
        self.path = os.fspath(path)
        # One connection used from whichever thread writes to the store, serialised by self._lock.
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        self._store: Any = None
        self._remove_listener: Any = None
        self._next_revision = 0
        self._pending: dict[int, Any] = {}
        self.failures = 0
        self.last_error: str | None = None
        try:
            mode = self._connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal" and self.path != ":memory:":
                log.warning("SQLite at %s did not switch to WAL (journal_mode=%s)", self.path, mode)
            # NORMAL in WAL mode: a committed write survives a process crash; FULL also survives power loss.
            self._connection.execute(f"PRAGMA synchronous={synchronous.upper()}")
            self._connection.executescript(_SCHEMA)
            self._check_schema_version()
        except Exception:
            self._connection.close()
            raise

    # --- life cycle ----------------------------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], store: Any, *, synchronous: str = "NORMAL") -> SqlitePersistence:
        """Restore ``path`` into ``store`` (or seed ``path`` from ``store`` when the file is empty), then mirror it."""
        persistence = cls(path, synchronous=synchronous)
        try:
            persistence.attach(store)
        except Exception:
            persistence.close()
            raise
        return persistence

    def attach(self, store: Any) -> None:
        """Restore or seed (see the module docstring), then listen for changes. Call once, before serving."""
        if self._store is not None:
            raise RuntimeError("this persistence is already attached to a store")
        with self._lock:
            models, tuples = self._read_all()
            if models or tuples:
                store.load(tuples, models=models if models else None)
            else:
                self._replace_all(store.snapshot())
            self._store = store
            self._next_revision = store.snapshot().revision + 1
            self._remove_listener = store.add_listener(self._on_change)

    def close(self) -> None:
        """Stop mirroring and close the file (idempotent)."""
        remove, self._remove_listener = self._remove_listener, None
        if remove is not None:
            remove()
        with self._lock:
            try:
                self._connection.close()
            except sqlite3.Error:  # already closed
                pass

    def __enter__(self) -> SqlitePersistence:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    @property
    def healthy(self) -> bool:
        """False once a change could not be persisted (the in-memory store is then ahead of the file)."""
        return self.failures == 0

    # --- reading -------------------------------------------------------------------------------------------------

    def model_ids(self) -> list[str]:
        """The persisted model ids, oldest first."""
        with self._lock:
            return [row[0] for row in self._connection.execute("SELECT id FROM models ORDER BY position")]

    def tuple_count(self) -> int:
        with self._lock:
            return int(self._connection.execute("SELECT COUNT(*) FROM tuples").fetchone()[0])

    def _read_all(self) -> tuple[list[tuple[str, Mapping[str, Any]]], list[dict[str, Any]]]:
        models = [
            (model_id, json.loads(model_json))
            for model_id, model_json in self._connection.execute("SELECT id, model_json FROM models ORDER BY position")
        ]
        tuples = []
        for obj, relation, user, condition_name, condition_context in self._connection.execute(
            "SELECT object, relation, user, condition_name, condition_context FROM tuples ORDER BY rowid"
        ):
            entry: dict[str, Any] = {"user": user, "relation": relation, "object": obj}
            if condition_name:
                condition: dict[str, Any] = {"name": condition_name}
                if condition_context:
                    condition["context"] = json.loads(condition_context)
                entry["condition"] = condition
            tuples.append(entry)
        return models, tuples

    # --- mirroring -----------------------------------------------------------------------------------------------

    def _on_change(self, event: Any) -> None:
        """The store's listener: apply changes strictly in revision order (notifications may arrive out of order)."""
        with self._lock:
            if event.revision < self._next_revision:
                return  # already covered (a load replaced everything after it)
            self._pending[event.revision] = event
            while self._next_revision in self._pending:
                current = self._pending.pop(self._next_revision)
                self._next_revision += 1
                try:
                    self._apply(current)
                except Exception as exc:  # noqa: BLE001 - the store has committed; record the divergence loudly
                    self.failures += 1
                    self.last_error = f"revision {current.revision} ({current.kind}): {exc}"
                    log.error("could not persist authorization change to %s: %s", self.path, self.last_error)

    def _apply(self, event: Any) -> None:
        kind = event.kind
        if kind == "write":
            self._transaction(lambda cursor: self._apply_tuples(cursor, event.writes, event.deletes))
        elif kind == "model":
            snapshot = self._store.snapshot()
            version = snapshot.models.get(event.model_id)
            if version is None:
                return  # replaced by a later load, which is persisted in full
            self._transaction(lambda cursor: self._put_model(cursor, version.id, version.model))
        elif kind == "load":
            self._replace_all(self._store.snapshot())
        else:
            raise ValueError(f"unknown change kind {kind!r}")

    def _transaction(self, body: Any) -> None:
        cursor = self._connection.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            body(cursor)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    def _replace_all(self, snapshot: Any) -> None:
        """Make the file hold exactly ``snapshot``'s models and tuples (start-up seeding, or a bulk reload)."""

        def body(cursor: sqlite3.Cursor) -> None:
            cursor.execute("DELETE FROM models")
            cursor.execute("DELETE FROM tuples")
            for model_id in snapshot.model_order:
                self._put_model(cursor, model_id, snapshot.models[model_id].model)
            self._apply_tuples(cursor, snapshot.tuples.values(), ())

        self._transaction(body)

    @staticmethod
    def _put_model(cursor: sqlite3.Cursor, model_id: str, model: Mapping[str, Any]) -> None:
        # Re-writing a known id moves it to the end, as the store does.
        position = cursor.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM models").fetchone()[0]
        cursor.execute(
            "INSERT INTO models (id, position, model_json, written_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET position = excluded.position, model_json = excluded.model_json",
            (model_id, position, json.dumps(model, sort_keys=True), time.time()),
        )

    @staticmethod
    def _apply_tuples(cursor: sqlite3.Cursor, writes: Iterable[Any], deletes: Iterable[Any]) -> None:
        now = time.time()
        cursor.executemany(
            "DELETE FROM tuples WHERE object = ? AND relation = ? AND user = ?",
            [(t.object, t.relation, t.user) for t in deletes],
        )
        cursor.executemany(
            "INSERT INTO tuples (object, relation, user, condition_name, condition_context, written_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(object, relation, user) DO UPDATE SET "
            "condition_name = excluded.condition_name, condition_context = excluded.condition_context",
            [
                (
                    t.object,
                    t.relation,
                    t.user,
                    t.condition_name or None,
                    json.dumps(dict(t.condition_context), sort_keys=True) if t.condition_context else None,
                    now,
                )
                for t in writes
            ],
        )

    def _check_schema_version(self) -> None:
        row = self._connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._connection.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
            )
        elif row[0] != str(SCHEMA_VERSION):
            raise ValueError(
                f"{self.path}: authorization database schema version {row[0]} is not supported "
                f"(this build reads version {SCHEMA_VERSION})"
            )


def open_persistent_engine(
    path: str | os.PathLike[str], *, synchronous: str = "NORMAL"
) -> tuple[Any, SqlitePersistence]:
    """An embedded ``Engine`` restored from ``path`` whose every later write is persisted there; close the
    returned persistence when done."""
    from mcp_grpc.authz.engine import Engine, TupleStore

    store = TupleStore()
    persistence = SqlitePersistence.open(path, store, synchronous=synchronous)
    return Engine(store), persistence
