"""Check, ListObjects and ListUsers agree with each other on random stores (property-based, bounded).

For every (user, relation, object) of a random store over a model with every rewrite kind:
- ListObjects lists the object exactly when Check allows;
- ListUsers lists the user only when Check allows, and when Check allows it lists the user or the public wildcard.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_grpc.authz.engine import Engine
from tests.authz.engine.engine_conformance import dsl_to_model

MODEL = dsl_to_model("""
model
  schema 1.1
type user
type group
  relations
    define member: [user, user:*, group#member]
type folder
  relations
    define parent: [folder]
    define owner: [user, group#member]
    define viewer: [user, group#member] or owner or viewer from parent
type doc
  relations
    define parent: [folder]
    define owner: [user]
    define banned: [user, group#member]
    define editor: [user, group#member] or owner
    define viewer: [user, user:*] or editor or viewer from parent
    define can_view: viewer but not banned
    define can_edit: editor and viewer
""")

USERS = [f"user:u{i}" for i in range(4)]
GROUPS = [f"group:g{i}" for i in range(3)]
FOLDERS = [f"folder:f{i}" for i in range(3)]
DOCS = [f"doc:d{i}" for i in range(3)]

TUPLE = st.one_of(
    st.tuples(st.sampled_from(USERS + ["user:*"] + [g + "#member" for g in GROUPS]), st.just("member"),
              st.sampled_from(GROUPS)),
    st.tuples(st.sampled_from(FOLDERS), st.just("parent"), st.sampled_from(FOLDERS + DOCS)),
    st.tuples(st.sampled_from(USERS + [g + "#member" for g in GROUPS]), st.sampled_from(["owner", "viewer"]),
              st.sampled_from(FOLDERS)),
    st.tuples(st.sampled_from(USERS), st.sampled_from(["owner", "banned", "editor", "viewer"]),
              st.sampled_from(DOCS)),
    st.tuples(st.sampled_from([g + "#member" for g in GROUPS]), st.sampled_from(["banned", "editor"]),
              st.sampled_from(DOCS)),
    st.tuples(st.just("user:*"), st.just("viewer"), st.sampled_from(DOCS)),
)


def _store(raw: list) -> Engine:
    engine = Engine()
    engine.write_model(MODEL)
    tuples = list(dict.fromkeys(raw))  # a store holds each tuple once
    if tuples:
        engine.write(tuples)
    return engine


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TUPLE, max_size=25))
def test_check_and_lists_agree(raw):
    engine = _store(raw)
    for relation in ("viewer", "editor", "can_view", "can_edit", "owner"):
        for user in USERS:
            listed = set(engine.list_objects(user, relation, "doc").items)
            for obj in DOCS:
                allowed = engine.check(user, relation, obj)
                assert allowed.error is None, allowed
                assert (obj in listed) == allowed.allowed, (user, relation, obj, listed)
        for obj in DOCS:
            users = set(engine.list_users(obj, relation, ["user"]).items)
            for user in USERS:
                allowed = engine.check(user, relation, obj).allowed
                if user in users:
                    assert allowed, (user, relation, obj, users)
                if allowed:
                    assert user in users or "user:*" in users, (user, relation, obj, users)
