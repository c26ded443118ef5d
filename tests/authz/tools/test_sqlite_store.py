"""SQLite persistence of the tuple store: writes survive a restart (models with their ids, tuples with conditions)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from mcp_grpc.authz.sqlite_store import SqlitePersistence

store_module = pytest.importorskip("mcp_grpc.authz.engine.store", reason="the engine's TupleStore is not available")
TupleStore = store_module.TupleStore

MODEL_V1 = {
    "schema_version": "1.1",
    "type_definitions": [
        {"type": "user"},
        {
            "type": "doc",
            "relations": {"viewer": {"this": {}}},
            "metadata": {
                "relations": {
                    "viewer": {"directly_related_user_types": [{"type": "user"}, {"type": "user", "condition": "small"}]}
                }
            },
        },
    ],
    "conditions": {
        "small": {
            "name": "small",
            "expression": "amount < limit",
            "parameters": {"amount": {"type_name": "TYPE_NAME_INT"}, "limit": {"type_name": "TYPE_NAME_INT"}},
        }
    },
}
MODEL_V2 = {
    **MODEL_V1,
    "type_definitions": MODEL_V1["type_definitions"]
    + [{"type": "folder", "relations": {"owner": {"this": {}}}, "metadata": {"relations": {"owner": {"directly_related_user_types": [{"type": "user"}]}}}}],
}


def state(store) -> tuple[list[str], dict, set]:
    snapshot = store.snapshot()
    models = list(snapshot.model_order)
    bodies = {mid: snapshot.models[mid].model for mid in models}
    tuples = {
        (t.object, t.relation, t.user, t.condition_name, tuple(sorted((t.condition_context or {}).items())))
        for t in snapshot.tuples.values()
    }
    return models, bodies, tuples


def test_writes_survive_a_restart(tmp_path):
    path = tmp_path / "authz.db"
    store = TupleStore()
    persistence = SqlitePersistence.open(path, store)
    first = store.write_model(MODEL_V1)
    store.write(
        [
            {"user": "user:anne", "relation": "viewer", "object": "doc:1"},
            {"user": "user:bob", "relation": "viewer", "object": "doc:2",
             "condition": {"name": "small", "context": {"limit": 100}}},
            {"user": "user:carl", "relation": "viewer", "object": "doc:3"},
        ]
    )
    second = store.write_model(MODEL_V2)
    store.write([{"user": "user:dora", "relation": "owner", "object": "folder:f"}],
                [{"user": "user:carl", "relation": "viewer", "object": "doc:3"}])
    before = state(store)
    persistence.close()

    reopened = TupleStore()
    persistence = SqlitePersistence.open(path, reopened)
    after = state(reopened)
    assert after == before
    assert after[0] == [first, second]  # ids and order kept: the latest is still the latest
    assert reopened.snapshot().latest_model_id == second
    assert ("doc:2", "viewer", "user:bob", "small", (("limit", 100),)) in after[2]
    assert not any(t[0] == "doc:3" for t in after[2])  # the delete was persisted too
    # and the restored store keeps OpenFGA's write rules: the tuple is there, so writing it again fails
    with pytest.raises(Exception, match="already exists"):
        reopened.write([{"user": "user:anne", "relation": "viewer", "object": "doc:1"}])
    persistence.close()


def test_an_empty_file_is_seeded_from_the_store(tmp_path):
    store = TupleStore()
    model_id = store.write_model(MODEL_V1)
    store.write([{"user": "user:anne", "relation": "viewer", "object": "doc:1"}])
    SqlitePersistence.open(tmp_path / "a.db", store).close()

    reopened = TupleStore()
    with SqlitePersistence.open(tmp_path / "a.db", reopened) as persistence:
        assert persistence.model_ids() == [model_id]
        assert persistence.tuple_count() == 1
        assert state(reopened) == state(store)


def test_the_file_wins_over_a_store_loaded_first(tmp_path):
    path = tmp_path / "a.db"
    store = TupleStore()
    with SqlitePersistence.open(path, store):
        store.write_model(MODEL_V1)
        store.write([{"user": "user:anne", "relation": "viewer", "object": "doc:1"}])
    other = TupleStore()
    other.write_model(MODEL_V2)
    with SqlitePersistence.open(path, other):
        assert state(other) == state(store)


def test_a_bulk_load_replaces_the_file(tmp_path):
    path = tmp_path / "a.db"
    store = TupleStore()
    with SqlitePersistence.open(path, store) as persistence:
        store.write_model(MODEL_V1)
        store.write([{"user": "user:anne", "relation": "viewer", "object": "doc:1"}])
        store.load([{"user": "user:zed", "relation": "viewer", "object": "doc:9"}], models=[("M2", MODEL_V2)])
        assert persistence.model_ids() == ["M2"]
        assert persistence.tuple_count() == 1
    reopened = TupleStore()
    with SqlitePersistence.open(path, reopened):
        assert state(reopened) == state(store)


def test_the_journal_is_wal(tmp_path):
    path = tmp_path / "a.db"
    SqlitePersistence.open(path, TupleStore()).close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writers_end_in_the_same_state(tmp_path):
    path = tmp_path / "a.db"
    store = TupleStore()
    persistence = SqlitePersistence.open(path, store)
    store.write_model(MODEL_V1)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(40):
                key = {"user": f"user:{name}", "relation": "viewer", "object": f"doc:{i}"}
                store.write([key])
                if i % 3 == 0:
                    store.write((), [key])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert persistence.healthy
    persistence.close()
    reopened = TupleStore()
    with SqlitePersistence.open(path, reopened):
        assert state(reopened) == state(store)
        assert len(state(reopened)[2]) == 3 * (40 - 14)


def test_a_failure_to_persist_is_reported_not_hidden(tmp_path):
    store = TupleStore()
    persistence = SqlitePersistence.open(tmp_path / "a.db", store)
    store.write_model(MODEL_V1)
    persistence._connection.close()  # simulate the file becoming unusable
    store.write([{"user": "user:anne", "relation": "viewer", "object": "doc:1"}])
    assert not persistence.healthy
    assert persistence.failures == 1
    assert "write" in persistence.last_error
    persistence.close()


def test_an_unknown_schema_version_is_refused(tmp_path):
    path = tmp_path / "a.db"
    SqlitePersistence.open(path, TupleStore()).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ValueError, match="schema version 99"):
        SqlitePersistence.open(path, TupleStore())


def test_attach_twice_is_refused(tmp_path):
    with SqlitePersistence.open(tmp_path / "a.db", TupleStore()) as persistence:
        with pytest.raises(RuntimeError):
            persistence.attach(TupleStore())


def test_an_engine_over_sqlite_answers_the_same_after_a_restart(tmp_path):
    from mcp_grpc.authz.backend import TupleKey
    from mcp_grpc.authz.sqlite_store import open_persistent_engine

    path = tmp_path / "engine.db"
    engine, persistence = open_persistent_engine(path)
    engine.write_model(MODEL_V1)
    engine.write([
        TupleKey("user:anne", "viewer", "doc:1"),
        TupleKey("user:bob", "viewer", "doc:2", "small", {"limit": 100}),
    ])
    engine.delete([TupleKey("user:anne", "viewer", "doc:1")])
    engine.write([TupleKey("user:carl", "viewer", "doc:1")])
    persistence.close()

    engine, persistence = open_persistent_engine(path)
    try:
        assert not engine.check("user:anne", "viewer", "doc:1").allowed
        assert engine.check("user:carl", "viewer", "doc:1").allowed
        assert engine.check("user:bob", "viewer", "doc:2", context={"amount": 50}).allowed
        assert not engine.check("user:bob", "viewer", "doc:2", context={"amount": 500}).allowed
        assert engine.list_objects("user:carl", "viewer", "doc").items == ("doc:1",)
    finally:
        persistence.close()
