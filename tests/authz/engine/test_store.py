"""The tuple store: OpenFGA's write rules, model versions, snapshots, listeners, atomic reloads; and the async backend."""

from __future__ import annotations

import re
import threading
import time

import pytest

from mcp_grpc.authz.backend import AuthorizationBackend, CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.engine import EmbeddedBackend, Engine, FgaError, TupleStore, new_ulid
from tests.authz.engine.engine_conformance import dsl_to_model

MODEL = dsl_to_model("""
model
  schema 1.1
type user
type doc
  relations
    define viewer: [user, user:* with c]
    define editor: [user]
condition c(x: int) {
  x > 0
}
""")


@pytest.fixture()
def engine() -> Engine:
    e = Engine()
    e.write_model(MODEL)
    return e


def test_ulids_are_sortable_and_well_formed():
    ids = [new_ulid() for _ in range(200)]
    assert all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", i) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_writing_an_existing_tuple_is_an_error(engine):
    engine.write([("user:a", "viewer", "doc:1")])
    with pytest.raises(FgaError) as err:
        engine.write([("user:a", "viewer", "doc:1")])
    assert err.value.code == 2017


def test_deleting_a_missing_tuple_is_an_error(engine):
    with pytest.raises(FgaError) as err:
        engine.delete([("user:a", "viewer", "doc:1")])
    assert err.value.code == 2017


def test_a_write_call_is_all_or_nothing(engine):
    engine.write([("user:a", "viewer", "doc:1")])
    with pytest.raises(FgaError):
        engine.write([("user:b", "viewer", "doc:1"), ("user:c", "nope", "doc:1")], [("user:a", "viewer", "doc:1")])
    assert [t.user for t in engine.read(object="doc:1")] == ["user:a"]
    assert not engine.check("user:b", "viewer", "doc:1").allowed


def test_the_same_tuple_twice_in_one_call_is_an_error(engine):
    with pytest.raises(FgaError) as err:
        engine.write([("user:a", "viewer", "doc:1")], [("user:a", "viewer", "doc:1")])
    assert err.value.code == 2004


@pytest.mark.parametrize("bad", [
    ("user:a", "nope", "doc:1"),                            # relation not in the model
    ("robot:r", "viewer", "doc:1"),                         # user type not allowed
    ("user:*", "viewer", "doc:1"),                          # the wildcard needs its condition
    ("user:*", "editor", "doc:1"),                          # no wildcard on editor
    ("user:a", "viewer", "doc"),                            # malformed object
    (":a", "viewer", "doc:1"),                              # malformed user
    TupleKey("user:a", "viewer", "doc:1", "c"),             # condition not allowed on a plain user
    TupleKey("user:*", "viewer", "doc:1", "nope"),          # unknown condition
    TupleKey("user:*", "viewer", "doc:1", "c", {"y": 1}),   # unknown condition parameter
])
def test_invalid_tuples_are_rejected_with_2027(engine, bad):
    with pytest.raises(FgaError) as err:
        engine.write([bad])
    assert err.value.code == 2027


def test_write_limit_is_optional(engine):
    many = [(f"user:u{i}", "viewer", "doc:1") for i in range(101)]
    with pytest.raises(FgaError) as err:
        engine.write(many, max_tuples=100)
    assert err.value.code == 2003
    engine.write(many)
    assert len(engine.store) == 101


def test_model_versions_latest_by_default_older_by_id(engine):
    first = engine.latest_model_id
    engine.write([("user:a", "editor", "doc:1")])
    second = engine.write_model(dsl_to_model("model\n  schema 1.1\ntype user\ntype doc\n  relations\n"
                                             "    define editor: [user]\n    define viewer: editor\n"))
    assert second != first and engine.latest_model_id == second
    assert engine.check("user:a", "viewer", "doc:1").allowed                     # latest: viewer from editor
    assert not engine.check("user:a", "viewer", "doc:1", model_id=first).allowed  # first model: direct only
    missing = engine.check("user:a", "viewer", "doc:1", model_id="01NOPE")
    assert missing.outcome is Outcome.ERROR and missing.error_code == 2001


def test_check_without_a_model_is_an_error():
    res = Engine().check("user:a", "viewer", "doc:1")
    assert res.outcome is Outcome.ERROR and res.error_code == 2020


def test_a_snapshot_never_changes(engine):
    engine.write([("user:a", "editor", "doc:1")])
    before = engine.store.snapshot()
    engine.write([("user:b", "editor", "doc:1")], [("user:a", "editor", "doc:1")])
    assert set(before.index().by_key[("doc:1", "editor")]) == {"user:a"}
    assert set(engine.store.snapshot().index().by_key[("doc:1", "editor")]) == {"user:b"}


def test_listeners_hear_committed_changes_only(engine):
    events = []
    remove = engine.store.add_listener(events.append)
    engine.write([("user:a", "editor", "doc:1")])
    with pytest.raises(FgaError):
        engine.write([("user:a", "editor", "doc:1")])
    engine.delete([("user:a", "editor", "doc:1")])
    engine.write_model(MODEL)
    assert [(e.kind, len(e.writes), len(e.deletes)) for e in events] == [("write", 1, 0), ("write", 0, 1),
                                                                           ("model", 0, 0)]
    assert events[0].writes[0].to_key() == TupleKey("user:a", "editor", "doc:1")
    remove()
    engine.write([("user:b", "editor", "doc:1")])
    assert len(events) == 3


def test_a_failing_listener_does_not_undo_the_write(engine):
    engine.store.add_listener(lambda event: 1 / 0)
    engine.write([("user:a", "editor", "doc:1")])
    assert engine.check("user:a", "editor", "doc:1").allowed


def test_read_filters(engine):
    engine.write([("user:a", "editor", "doc:1"), ("user:a", "viewer", "doc:2"), ("user:b", "editor", "doc:2")])
    assert len(engine.read(user="user:a")) == 2
    assert len(engine.read(object="doc:", relation="editor")) == 2
    assert len(engine.read(object="doc:2", user="user:b")) == 1


def test_reload_is_atomic_for_concurrent_checks():
    """Swap between two complete states while checks run: every answer matches one state, never a mix."""
    store = TupleStore()
    engine = Engine(store)
    engine.write_model(MODEL)
    state_a = [(f"user:u{i}", "editor", "doc:a") for i in range(300)]
    state_b = [(f"user:u{i}", "editor", "doc:b") for i in range(300)]
    store.load(state_a)
    stop = threading.Event()
    mixed = []

    def checker():
        while not stop.is_set():
            snap = store.snapshot()
            index = snap.index()
            a = len(index.by_key.get(("doc:a", "editor"), {}))
            b = len(index.by_key.get(("doc:b", "editor"), {}))
            if (a, b) not in ((300, 0), (0, 300)):
                mixed.append((a, b))
            res = engine.check("user:u299", "editor", "doc:a")
            if res.outcome is Outcome.ERROR:
                mixed.append(res)

    threads = [threading.Thread(target=checker) for _ in range(2)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 1.0
    swaps = 0
    while time.monotonic() < deadline and swaps < 200:
        store.load(state_b if swaps % 2 == 0 else state_a)
        swaps += 1
    stop.set()
    for t in threads:
        t.join(timeout=5)
    assert swaps > 0 and not mixed


async def test_embedded_backend_is_an_authorization_backend(engine):
    engine.write([("user:a", "editor", "doc:1"), TupleKey("user:*", "viewer", "doc:2", "c")])
    backend = EmbeddedBackend(engine)
    assert isinstance(backend, AuthorizationBackend)
    assert (await backend.check(CheckRequest("user:a", "editor", "doc:1"))).allowed
    assert (await backend.check(CheckRequest("user:z", "viewer", "doc:2", context={"x": 1}))).allowed
    err = await backend.check(CheckRequest("user:z", "viewer", "doc:2"))
    assert err.outcome is Outcome.ERROR and err.error_code == 2000
    batch = await backend.batch_check([CheckRequest("user:a", "editor", "doc:1", correlation_id="1"),
                                       CheckRequest("user:b", "editor", "doc:1", correlation_id="2")])
    assert [r.outcome for r in batch] == [Outcome.ALLOWED, Outcome.DENIED]
    assert (await backend.list_objects("user:a", "editor", "doc")).items == ("doc:1",)
    assert (await backend.list_users("doc:1", "editor", ["user"])).items == ("user:a",)
    bad = await backend.list_objects("user:a", "editor", "planet")
    assert bad.error_code == 2021
    offloaded = EmbeddedBackend(engine, offload=True)
    assert (await offloaded.check(CheckRequest("user:a", "editor", "doc:1"))).allowed
    await backend.close()


def test_write_model_accepts_dsl_text():
    e = Engine()
    e.write_model("model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user]\n")
    e.write([("user:a", "viewer", "doc:1")])
    assert e.check("user:a", "viewer", "doc:1").allowed


def test_a_persistence_layer_can_save_and_restore_everything(engine):
    """What a SQLite layer does: read models and tuples out, load them into a fresh store with the same ids."""
    engine.write([("user:a", "editor", "doc:1"), TupleKey("user:*", "viewer", "doc:1", "c", {"x": 2})])
    saved_models = [(v.id, v.model) for v in engine.store.models()]
    saved_tuples = [t.to_key() for t in engine.store]
    restored = TupleStore()
    restored.load(saved_tuples, models=saved_models)
    again = Engine(restored)
    assert again.latest_model_id == engine.latest_model_id
    assert again.check("user:a", "editor", "doc:1").allowed
    assert again.check("user:q", "viewer", "doc:1").allowed          # the tuple's own context satisfies x > 0
