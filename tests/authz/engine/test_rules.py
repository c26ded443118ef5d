"""One test per evaluation rule and per error of the embedded engine (the conformance suite covers the combinations)."""

from __future__ import annotations

import datetime

import pytest

from mcp_grpc.authz.backend import CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.engine import Engine, FgaError, MAX_RESOLUTION_DEPTH
from mcp_grpc.authz.engine.conditions import ConditionError, ParamType, compile_condition, parse_go_duration
from mcp_grpc.authz.engine.resolver import CYCLE, Failure, combine_exclusion, combine_intersection, combine_union
from tests.authz.engine.engine_conformance import dsl_to_model


def make(dsl: str, tuples=()) -> Engine:
    engine = Engine()
    engine.write_model(dsl_to_model(dsl))
    if tuples:
        engine.write(list(tuples))
    return engine


def outcome(engine: Engine, user: str, relation: str, obj: str, **kw) -> str:
    res = engine.check(user, relation, obj, **kw)
    return res.outcome.value if res.outcome is not Outcome.ERROR else f"error {res.error_code}"


DOCS = """
model
  schema 1.1
type user
type group
  relations
    define member: [user, user:*, group#member]
type folder
  relations
    define viewer: [user, group#member]
type document
  relations
    define parent: [folder]
    define owner: [user]
    define editor: [user] or owner
    define viewer: [user, user:*, group#member] or editor or viewer from parent
    define blocked: [user]
    define can_view: viewer but not blocked
    define approver: [user]
    define can_approve: editor and approver
"""


@pytest.fixture(scope="module")
def docs() -> Engine:
    return make(DOCS, [
        ("user:anne", "owner", "document:1"),
        ("group:eng#member", "viewer", "document:1"),
        ("user:bob", "member", "group:eng"),
        ("group:core#member", "member", "group:eng"),
        ("user:cara", "member", "group:core"),
        ("folder:f", "parent", "document:2"),
        ("user:dan", "viewer", "folder:f"),
        ("user:*", "viewer", "document:3"),
        ("user:bob", "blocked", "document:1"),
        ("user:anne", "approver", "document:1"),
    ])


# --- the three reducers --------------------------------------------------------------------------------------------

ERR = Failure(2000, "x")


@pytest.mark.parametrize("operands, expected", [
    ([False, True, ERR], True),           # any true wins, even over an error
    ([False, ERR], ERR),                  # else an error
    ([False, CYCLE], CYCLE),              # a cycle is a denial that remembers it was a cycle
    ([ERR, CYCLE], ERR),
    ([False, False], False),
    ([], False),
])
def test_union(operands, expected):
    assert combine_union(operands) is expected


@pytest.mark.parametrize("operands, expected", [
    ([True, ERR, False], False),          # any false wins, even over an error
    ([True, ERR], ERR),
    ([True, CYCLE], CYCLE),
    ([True, True], True),
])
def test_intersection(operands, expected):
    assert combine_intersection(operands) is expected


@pytest.mark.parametrize("base, subtract, expected", [
    (True, False, True),
    (True, True, False),
    (False, ERR, False),                  # a false base decides, the subtracted error does not matter
    (ERR, True, False),                   # a true subtract decides, the base error does not matter
    (True, ERR, ERR),
    (ERR, False, ERR),
    (CYCLE, False, CYCLE),
    (True, CYCLE, CYCLE),                 # a cycle on the subtracted side denies (OpenFGA exclusion)
])
def test_exclusion(base, subtract, expected):
    assert combine_exclusion(base, lambda: subtract) is expected


def test_exclusion_does_not_evaluate_subtract_when_base_is_false():
    def boom():
        raise AssertionError("subtract evaluated")
    assert combine_exclusion(False, boom) is False


# --- direct relationships, rewrites ---------------------------------------------------------------------------------

@pytest.mark.parametrize("user, relation, obj, expected", [
    ("user:anne", "owner", "document:1", "allowed"),          # exact tuple
    ("user:anne", "editor", "document:1", "allowed"),         # computed userset
    ("user:anne", "viewer", "document:1", "allowed"),         # union through editor
    ("user:bob", "viewer", "document:1", "allowed"),          # userset group:eng#member
    ("user:cara", "viewer", "document:1", "allowed"),         # nested userset, two hops
    ("user:dan", "viewer", "document:2", "allowed"),          # tuple to userset
    ("user:zoe", "viewer", "document:3", "allowed"),          # public wildcard
    ("user:*", "viewer", "document:3", "allowed"),            # the wildcard itself
    ("user:zoe", "viewer", "document:1", "denied"),
    ("user:bob", "can_view", "document:1", "denied"),         # exclusion
    ("user:cara", "can_view", "document:1", "allowed"),
    ("user:anne", "can_approve", "document:1", "allowed"),    # intersection
    ("user:bob", "can_approve", "document:1", "denied"),
    ("group:core#member", "viewer", "document:1", "allowed"),  # a userset as the user
    ("group:eng#member", "member", "group:eng", "allowed"),   # self-reference obj#rel against itself
])
def test_rewrites(docs, user, relation, obj, expected):
    assert outcome(docs, user, relation, obj) == expected


def test_depth_limit_is_error_2002():
    # A chain of usersets one hop longer than the limit.
    tuples = [(f"group:g{i + 1}#member", "member", f"group:g{i}") for i in range(MAX_RESOLUTION_DEPTH + 1)]
    tuples.append(("user:end", "member", f"group:g{MAX_RESOLUTION_DEPTH + 1}"))
    engine = make(DOCS, tuples)
    assert outcome(engine, "user:end", "member", "group:g0") == "error 2002"
    assert outcome(engine, "user:end", "member", "group:g2") == "allowed"   # 24 hops: within the limit


def test_computed_usersets_do_not_count_towards_depth():
    chain = "\n".join(f"    define r{i}: r{i + 1}" for i in range(40))
    engine = make(f"model\n  schema 1.1\ntype user\ntype doc\n  relations\n{chain}\n    define r40: [user]\n",
                  [("user:a", "r40", "doc:1")])
    assert outcome(engine, "user:a", "r0", "doc:1") == "allowed"


def test_cycle_counts_as_false():
    engine = make(DOCS, [("group:a#member", "member", "group:b"), ("group:b#member", "member", "group:a")])
    assert outcome(engine, "user:x", "member", "group:a") == "denied"


def test_type_pruning_avoids_an_error_on_an_unrelated_branch():
    engine = make("""
model
  schema 1.1
type user
type employee
type doc
  relations
    define viewer: [user with c, employee]
condition c(x: int) {
  x > 1
}
""", [TupleKey("user:a", "viewer", "doc:1", "c")])
    assert outcome(engine, "user:a", "viewer", "doc:1") == "error 2000"      # missing x
    assert outcome(engine, "employee:e", "viewer", "doc:1") == "denied"     # no tuple for employees is read


def test_stored_tuples_invalid_under_a_new_model_are_ignored():
    engine = make(DOCS, [("user:anne", "approver", "document:1")])
    assert outcome(engine, "user:anne", "approver", "document:1") == "allowed"
    engine.write_model(dsl_to_model(DOCS.replace("define approver: [user]", "define approver: [group#member]")))
    assert outcome(engine, "user:anne", "approver", "document:1") == "denied"
    assert len(engine.read(object="document:1")) == 1                       # still stored


# --- conditions --------------------------------------------------------------------------------------------------------

COND = """
model
  schema 1.1
type user
type doc
  relations
    define viewer: [user with c]
condition c(x: int, limit: int) {
  x < limit
}
"""


def test_condition_request_and_tuple_context_merge_tuple_wins():
    engine = make(COND, [TupleKey("user:a", "viewer", "doc:1", "c", {"limit": 10})])
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": 5}) == "allowed"
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": 50}) == "denied"
    # The request cannot override a value the tuple fixes.
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": 50, "limit": 100}) == "denied"


def test_missing_parameter_is_an_error_even_when_not_needed():
    engine = make(COND.replace("x < limit", "true || x < limit"), [TupleKey("user:a", "viewer", "doc:1", "c")])
    res = engine.check("user:a", "viewer", "doc:1", context={"limit": 1})
    assert res.outcome is Outcome.ERROR and res.error_code == 2000 and "x" in res.error


def test_a_condition_whose_result_is_not_bool_is_refused_on_write():
    # As an OpenFGA server: "expected a bool condition expression output, but got 'int'" (fga model validate).
    with pytest.raises(FgaError) as refused:
        make(COND.replace("x < limit", "x + limit"), [TupleKey("user:a", "viewer", "doc:1", "c")])
    assert refused.value.code == 2000
    assert "expected a bool condition expression output, but got 'int'" in str(refused.value)


def test_ill_typed_parameter_is_an_error():
    engine = make(COND, [TupleKey("user:a", "viewer", "doc:1", "c")])
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": "seven", "limit": 2}) == "error 2000"
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": 1.5, "limit": 2}) == "error 2000"
    assert outcome(engine, "user:a", "viewer", "doc:1", context={"x": float("inf"), "limit": 2}) == "error 2000"


@pytest.mark.parametrize("spec, value, expected", [
    ({"type_name": "TYPE_NAME_INT"}, "42", 42),
    ({"type_name": "TYPE_NAME_INT"}, 3.0, 3),
    ({"type_name": "TYPE_NAME_UINT"}, 7, 7),
    ({"type_name": "TYPE_NAME_DOUBLE"}, "2.5", 2.5),
    ({"type_name": "TYPE_NAME_BOOL"}, True, True),
    ({"type_name": "TYPE_NAME_STRING"}, "s", "s"),
    ({"type_name": "TYPE_NAME_BYTES"}, "ab", b"ab"),
    ({"type_name": "TYPE_NAME_DURATION"}, "1h30m", datetime.timedelta(hours=1, minutes=30)),
    ({"type_name": "TYPE_NAME_TIMESTAMP"}, "2023-10-11T10:00:00.123456789Z",
     datetime.datetime(2023, 10, 11, 10, 0, 0, 123456, tzinfo=datetime.timezone.utc)),
    ({"type_name": "TYPE_NAME_IPADDRESS"}, "10.0.0.1", "10.0.0.1"),
    ({"type_name": "TYPE_NAME_ANY"}, {"k": [1]}, {"k": [1]}),
    ({"type_name": "TYPE_NAME_LIST", "generic_types": [{"type_name": "TYPE_NAME_INT"}]}, [1, "2"], [1, 2]),
    ({"type_name": "TYPE_NAME_MAP", "generic_types": [{"type_name": "TYPE_NAME_STRING"}]}, {"a": "b"}, {"a": "b"}),
])
def test_parameter_conversion(spec, value, expected):
    assert ParamType.from_json(spec).convert(value) == expected


@pytest.mark.parametrize("spec, value", [
    ({"type_name": "TYPE_NAME_INT"}, True),
    ({"type_name": "TYPE_NAME_INT"}, 2**63),
    ({"type_name": "TYPE_NAME_UINT"}, -1),
    ({"type_name": "TYPE_NAME_DOUBLE"}, "1e400"),
    ({"type_name": "TYPE_NAME_BOOL"}, "true"),
    ({"type_name": "TYPE_NAME_STRING"}, 1),
    ({"type_name": "TYPE_NAME_DURATION"}, "5 minutes"),
    ({"type_name": "TYPE_NAME_TIMESTAMP"}, "yesterday"),
    ({"type_name": "TYPE_NAME_IPADDRESS"}, "10.0.0.300"),
    ({"type_name": "TYPE_NAME_LIST", "generic_types": [{"type_name": "TYPE_NAME_INT"}]}, "1,2"),
    ({"type_name": "TYPE_NAME_MAP", "generic_types": [{"type_name": "TYPE_NAME_INT"}]}, {"a": "x"}),
])
def test_parameter_conversion_rejects(spec, value):
    with pytest.raises(ConditionError):
        ParamType.from_json(spec).convert(value)


def test_go_durations():
    assert parse_go_duration("-1.5s") == datetime.timedelta(seconds=-1.5)
    assert parse_go_duration("300ms") == datetime.timedelta(milliseconds=300)
    assert parse_go_duration("0") == datetime.timedelta(0)


def test_cel_extensions_and_time_types():
    cond = compile_condition("c", {
        "expression": 'ip.in_cidr(cidr) && ts < grant + ttl && "admin" in roles && limits["max"] > 1u',
        "parameters": {
            "ip": {"type_name": "TYPE_NAME_IPADDRESS"}, "cidr": {"type_name": "TYPE_NAME_STRING"},
            "ts": {"type_name": "TYPE_NAME_TIMESTAMP"}, "grant": {"type_name": "TYPE_NAME_TIMESTAMP"},
            "ttl": {"type_name": "TYPE_NAME_DURATION"},
            "roles": {"type_name": "TYPE_NAME_LIST", "generic_types": [{"type_name": "TYPE_NAME_STRING"}]},
            "limits": {"type_name": "TYPE_NAME_MAP", "generic_types": [{"type_name": "TYPE_NAME_UINT"}]},
        }})
    ctx = {"ip": "192.168.0.7", "cidr": "192.168.0.0/24", "ts": "2024-01-01T00:30:00Z",
           "grant": "2024-01-01T00:00:00Z", "ttl": "1h", "roles": ["admin"], "limits": {"max": 2}}
    assert cond.evaluate(ctx, None) is True
    assert cond.evaluate({**ctx, "ip": "10.0.0.1"}, None) is False
    assert cond.evaluate({**ctx, "ts": "2024-01-01T02:00:00Z"}, None) is False


def test_bad_cel_expression_rejects_the_model():
    with pytest.raises(FgaError) as err:
        make(COND.replace("x < limit", "x <"))
    assert err.value.code == 2000


# --- validation errors ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user, relation, obj, code", [
    ("user:anne", "nope", "document:1", 2000),      # relation not in the model
    ("robot:r", "viewer", "document:1", 2000),      # user type not in the model
    ("group:eng#nope", "viewer", "document:1", 2000),
    ("a:b:c", "viewer", "document:1", 2000),        # malformed user
    ("user:anne", "viewer", "document", 2000),      # malformed object
    ("user:anne", "viewer", "planet:1", 2000),      # object type not in the model
    ("user:anne", "viewer", "document:" + "x" * 248, 2000),  # over OpenFGA's 256-character object
    ("user:" + "a" * 508, "viewer", "document:1", 2000),      # over OpenFGA's 512-byte user
    ("user:anne\n", "viewer", "document:1", 2000),
])
def test_check_validation_errors(docs, user, relation, obj, code):
    res = docs.check(user, relation, obj)
    assert res.outcome is Outcome.ERROR and res.error_code == code, res


def test_contextual_tuples_are_validated_and_limited(docs):
    bad = docs.check("user:zoe", "viewer", "document:1", contextual_tuples=[("user:zoe", "viewer", "folder:x#no")])
    assert bad.error_code == 2027
    wildcard_in_tupleset = docs.check("user:zoe", "viewer", "document:9",
                                      contextual_tuples=[("folder:*", "parent", "document:9")])
    assert wildcard_in_tupleset.error_code == 2027
    many = [(f"user:u{i}", "viewer", "document:9") for i in range(101)]
    assert docs.check("user:u1", "viewer", "document:9", contextual_tuples=many).error_code == 2000
    assert docs.check("user:u1", "viewer", "document:9", contextual_tuples=many[:100]).allowed


def test_contextual_tuples_apply_to_one_request_only(docs):
    assert docs.check("user:zoe", "owner", "document:1", contextual_tuples=[("user:zoe", "owner", "document:1")]).allowed
    assert not docs.check("user:zoe", "owner", "document:1").allowed


def test_list_validation_codes(docs):
    assert docs.list_objects("user:anne", "viewer", "planet").error_code == 2021
    assert docs.list_objects("user:anne", "nope", "document").error_code == 2022
    assert docs.list_objects("robot:r", "viewer", "document").error_code == 2000
    assert docs.list_users("planet:1", "viewer", ["user"]).error_code == 2021
    assert docs.list_users("document:1", "nope", ["user"]).error_code == 2022
    assert docs.list_users("document:1", "viewer", ["robot"]).error_code == 2021
    assert docs.list_users("document:1", "viewer", ["group#nope"]).error_code == 2022


def test_request_context_must_be_finite_json(docs):
    assert docs.check("user:anne", "owner", "document:1", context={"x": float("nan")}).error_code == 2000
    assert docs.check("user:anne", "owner", "document:1", context={"x": {"y": [float("inf")]}}).error_code == 2000


# --- lists, batch -------------------------------------------------------------------------------------------------------------

def test_list_objects(docs):
    assert docs.list_objects("user:cara", "viewer", "document").items == ("document:1", "document:3")
    assert docs.list_objects("user:bob", "can_view", "document").items == ("document:3",)


def test_list_users_wildcards_and_usersets(docs):
    assert docs.list_users("document:1", "viewer", ["user"]).items == ("user:anne", "user:bob", "user:cara")
    assert docs.list_users("document:3", "viewer", ["user"]).items == ("user:*",)
    assert docs.list_users("document:1", "viewer", ["group#member"]).items == ("group:core#member",
                                                                                  "group:eng#member")


def test_batch_check_keeps_order_and_deduplicates():
    calls = []

    class Counting(Engine):
        def check(self, *args, **kwargs):
            calls.append(args)
            return super().check(*args, **kwargs)

    engine = Counting()
    engine.write_model(dsl_to_model(DOCS))
    engine.write([("user:anne", "owner", "document:1")])
    reqs = [CheckRequest("user:anne", "owner", "document:1", correlation_id="a"),
            CheckRequest("user:bob", "owner", "document:1", correlation_id="b"),
            CheckRequest("user:anne", "owner", "document:1", correlation_id="c")]
    results = engine.batch_check(reqs)
    assert [r.allowed for r in results] == [True, False, True]
    assert len(calls) == 2
    assert engine.batch_check_by_id(reqs)["b"].outcome is Outcome.DENIED
    dup = engine.batch_check([reqs[0], reqs[0]])
    assert all(r.error_code == 2000 and "correlation" in r.error for r in dup)


# --- explain ------------------------------------------------------------------------------------------------------------------

def test_explain_shows_tuples_rewrites_and_condition_values():
    engine = make(COND.replace("define viewer: [user with c]", "define viewer: [user with c] or owner\n    define owner: [user]"),
                  [TupleKey("user:a", "viewer", "doc:1", "c", {"limit": 10})])
    ex = engine.explain("user:a", "viewer", "doc:1", context={"x": 3})
    assert ex.allowed
    text = ex.render()
    assert "doc:1#viewer@user:a" in text and "union" in text
    assert "x < limit" in text and '"limit": 10' in text and '"x": 3' in text
    tree = ex.to_dict()["path"]
    leaf = tree["children"][0]["children"][0]["children"][0]
    assert leaf["kind"] == "tuple" and leaf["condition"]["values"] == {"x": 3, "limit": 10}
    denied = engine.explain("user:b", "viewer", "doc:1", context={"x": 3})
    assert denied.outcome == "denied" and "DENIED" in denied.render()
    err = engine.explain("user:a", "viewer", "doc:1")
    assert err.outcome == "error" and err.error_code == 2000 and "missing" in err.render()


# --- behaviours found by the differential test against the fga CLI (tests/authz/differential/reproducers) --------------

def test_cycle_through_a_recursive_tuple_to_userset_is_plain_false():
    engine = make("""
model
  schema 1.1
type user
type folder
  relations
    define parent: [folder]
    define viewer: [user] or viewer from parent
    define can_view: [user, user:*] but not viewer from parent
""", [("user:*", "can_view", "folder:c"), ("folder:c", "parent", "folder:c")])
    # folder:c is its own parent: the subtracted side only meets itself, which OpenFGA treats as false, not a cycle.
    assert outcome(engine, "user:anne", "can_view", "folder:c") == "allowed"


def test_cycle_through_a_userset_in_the_subtracted_side_denies():
    engine = make("""
model
  schema 1.1
type user
type document
  relations
    define restricted: [user, document#viewer]
    define viewer: [user] but not restricted
""", [("user:jon", "viewer", "document:1"), ("document:1#viewer", "restricted", "document:1")])
    assert outcome(engine, "user:jon", "viewer", "document:1") == "denied"


def test_a_tuple_condition_context_must_convert_to_the_parameter_type():
    engine = Engine()
    engine.write_model(dsl_to_model(COND))
    with pytest.raises(FgaError) as err:
        engine.write([TupleKey("user:a", "viewer", "doc:1", "c", {"limit": "ten"})])
    assert err.value.code == 2027
    res = engine.check("user:a", "viewer", "doc:1",
                       contextual_tuples=[TupleKey("user:a", "viewer", "doc:1", "c", {"limit": "ten"})])
    assert res.error_code == 2027


def test_list_objects_reports_a_condition_error_even_when_a_wildcard_grants():
    engine = make(COND.replace("define viewer: [user with c]", "define viewer: [user:*, user with c]"),
                  [("user:*", "viewer", "doc:1"), TupleKey("user:a", "viewer", "doc:1", "c", {"limit": 1})])
    assert engine.check("user:a", "viewer", "doc:1").allowed          # Check: the wildcard wins the union
    assert engine.list_objects("user:a", "viewer", "doc").error_code == 2000
    assert engine.list_objects("user:b", "viewer", "doc").items == ("doc:1",)   # b's path meets no condition


def test_list_users_expands_computed_operands_but_prunes_dispatches():
    engine = make("""
model
  schema 1.1
type user
type t1
  relations
    define p: [t1]
    define r0: [user, user with c] or r0 from p
    define r1: r0 from p and r0
condition c(x: int, limit: int) {
  x < limit
}
""", [TupleKey("user:u", "r0", "t1:a", "c", {"limit": 7})])
    # r0 on the same object is an operand of r1: its conditional tuple is evaluated even for a t1#r1 filter.
    assert engine.list_users("t1:a", "r1", ["t1#r1"]).error_code == 2000
    assert engine.list_users("t1:a", "r1", ["t1#r1"], context={"x": 1}).items == ("t1:a#r1",)


def test_list_users_reads_nothing_when_no_candidate_edge_leads_from_the_filter():
    # OpenFGA's ListUsers first asks for candidate edges from the filter to the request (doesHavePossibleEdges,
    # pkg/server/commands/listusers/list_users_rpc.go): an intersection offers only its first operand, here the
    # direct [user] part, so t2#r0 has none and the answer is empty before the conditional tuple is read
    # (reproducer listusers-error-direct-tuple-outside-filter, differential seed 100119).
    engine = make("""
model
  schema 1.1
type user
type t2
  relations
    define r0: [user:*, user with lt]
    define r1: [user, user with before] and r0
condition before(now: timestamp, deadline: timestamp) {
  now < deadline
}
condition lt(x: int, limit: int) {
  x < limit
}
""", [TupleKey("user:u2", "r1", "t2:a", "before", {"deadline": "2030-01-01T00:00:00Z"})])
    empty = engine.list_users("t2:a", "r1", ["t2#r0"], context={"x": 5})
    assert (empty.items, empty.error) == ((), None)
    # a filter the first operand does offer reads the tuple, and its missing parameter fails the list
    assert engine.list_users("t2:a", "r1", ["user"], context={"x": 5}).error_code == 2000
    # the request that is the filter itself is expanded too (it lists itself)
    assert engine.list_users("t2:a", "r0", ["t2#r0"], context={"x": 5}).items == ("t2:a#r0",)


@pytest.mark.parametrize("user, relation, obj", [
    (["user:anne"], "owner", "document:1"),
    ("user:anne", None, "document:1"),
    ("user:anne", "owner", 1),
])
def test_non_string_request_fields_are_validation_errors(docs, user, relation, obj):
    assert docs.check(user, relation, obj).error_code == 2000
    assert docs.explain(user, relation, obj).error_code == 2000


def test_malformed_list_requests_are_validation_errors(docs):
    assert docs.list_objects({"u": 1}, "viewer", "document").error_code == 2000
    assert docs.list_users("document:1", "viewer", [None]).error_code == 2000
    assert docs.list_users("document:1", "viewer", []).error_code == 2000
    assert docs.check("user:anne", "owner", "document:1", context="not a map").error_code == 2000
    assert docs.check("user:anne", "owner", "document:1", contextual_tuples=["nope"]).error_code == 2000
