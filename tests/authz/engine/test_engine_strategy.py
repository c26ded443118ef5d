"""The check strategy OpenFGA takes per relation (engine/strategy.py, engine/weighted_graph.py), on small models
whose choice is stated in openfga pkg/typesystem/typesystem.go (TTUUseRecursiveResolver, UsersetUseRecursiveResolver,
TTUUseWeight2Resolver, UsersetUseWeight2Resolver) and checked against the fga CLI by the differential tests."""

from __future__ import annotations

import pytest

from mcp_grpc.authz.engine import Engine
from mcp_grpc.authz.engine.strategy import DEFAULT, RECURSIVE, WEIGHT2, Strategies
from mcp_grpc.authz.engine.engine import parse_model


def strategies(dsl: str) -> Strategies:
    return Strategies(parse_model(dsl))


HEAD = "model\n  schema 1.1\ntype user\n"


def test_recursive_ttu_with_weight_one_operands():
    s = strategies(HEAD + "type folder\n  relations\n    define parent: [folder]\n"
                   "    define viewer: [user, user:*] or viewer from parent\n")
    assert s.graph is not None
    assert s.for_ttu("folder", "viewer", "parent", "viewer", "user") == RECURSIVE


def test_recursive_ttu_refused_when_another_operand_is_recursive():
    s = strategies(HEAD + "type group\n  relations\n    define member: [user, group#member]\n"
                   "type folder\n  relations\n    define parent: [folder]\n"
                   "    define viewer: [user, group#member] or viewer from parent\n")
    assert s.for_ttu("folder", "viewer", "parent", "viewer", "user") == DEFAULT
    assert s.for_usersets("group", "member", "user") == RECURSIVE


def test_weight2_ttu_and_userset():
    s = strategies(HEAD + "type group\n  relations\n    define member: [user]\n"
                   "type doc\n  relations\n    define parent: [group]\n"
                   "    define viewer: [group#member] or member from parent\n")
    assert s.for_ttu("doc", "viewer", "parent", "member", "user") == WEIGHT2
    assert s.userset_weight2[("doc", "viewer", "user", "group", "member")]


def test_graph_fails_on_exclusion_in_a_tuple_cycle_and_no_fast_strategy_remains():
    s = strategies(HEAD + "type t1\n  relations\n    define p: [t1]\n"
                   "    define r0: [user] or r0 from p\n"
                   "    define r1: [user] but not r1 from p\n")
    assert s.graph is None
    assert s.for_ttu("t1", "r0", "p", "r0", "user") == DEFAULT


def test_graph_fails_on_deduplicated_exclusion_edges():
    s = strategies(HEAD + "type t1\n  relations\n    define p: [t1]\n    define r0: [user]\n"
                   "    define r1: r0 from p but not r0 from p\n"
                   "    define r2: [user] or r2 from p\n")
    assert s.graph is None


MODEL = HEAD + """type t1
  relations
    define p: [t1]
    define r0: [user] or r0 from p
    define r2: [user] but not r0 from p
"""


@pytest.mark.parametrize("extra, allowed", [
    # the graph builds: r0 from p takes the recursive strategy, whose cycle is a plain denial
    ("", True),
    # an intersection on a tuple cycle elsewhere breaks the graph: the cycle flag is kept and the exclusion
    # denies (checked with the fga CLI)
    ("type t2\n  relations\n    define p: [t2]\n    define r1: [user]\n"
     "    define r0: [user] or (r1 and r0 from p)\n", False),
])
def test_the_cycle_flag_is_dropped_only_under_the_recursive_strategy(extra, allowed):
    engine = Engine()
    engine.write_model(MODEL + extra)
    engine.write([("user:anne", "r2", "t1:a"), ("t1:a", "p", "t1:a")])
    assert engine.check("user:anne", "r2", "t1:a").allowed is allowed


def test_explain_names_the_strategy():
    engine = Engine()
    engine.write_model(HEAD + "type folder\n  relations\n    define parent: [folder]\n"
                       "    define viewer: [user] or viewer from parent\n")
    engine.write([("user:anne", "viewer", "folder:root"), ("folder:root", "parent", "folder:a")])
    text = engine.explain("user:anne", "viewer", "folder:a").render()
    assert "(recursive strategy)" in text
    assert "recursive strategy: viewer from parent on folder:a" in text
    assert engine.check("user:anne", "viewer", "folder:a").allowed


def test_weight2_reads_the_users_tuples_on_every_object():
    # OpenFGA's weight2 strategy evaluates the condition of the user's member tuple on group:other, off the
    # checked path, and fails for the missing parameter (reproducer userset-strategy-off-path-condition-error)
    engine = Engine()
    engine.write_model(HEAD + "type group\n  relations\n    define member: [user with flag]\n"
                       "type doc\n  relations\n    define viewer: [group#member]\n"
                       "condition flag(enabled: bool) {\n  enabled\n}\n")
    engine.write([("group:g#member", "viewer", "doc:1"),
                  {"user": "user:anne", "relation": "member", "object": "group:other",
                   "condition": {"name": "flag"}}])
    result = engine.check("user:anne", "viewer", "doc:1")
    assert result.error is not None
