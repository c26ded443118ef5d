"""OpenFGA's name grammar (mcp_grpc.authz.names): one set of rules for the engine, the files, the model and the policy."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_grpc.authz import names


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("doc:1", ("doc", "1")),
        ("tool:billing/refund", ("tool", "billing/refund")),
        ("a*:b*c", ("a*", "b*c")),  # OpenFGA's API allows '*' in a wire type and inside an id
        ("t:" + "x" * 254, ("t", "x" * 254)),
    ],
)
def test_split_object_accepts(text, parts):
    assert names.split_object(text) == parts
    assert names.object_problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("doc", "must be 'type:id'"),
        (":1", "empty type"),
        ("doc:", "empty id"),
        ("doc:1#r", "must not contain '#'"),
        ("doc:1:2", "exactly one ':'"),
        ("doc:a b", "whitespace"),
        ("doc:1\n", "whitespace"),
        ("d@c:1", "'@' in its type"),
        ("doc:*", "not the wildcard"),
        ("t" * 255 + ":1", "longer than 254"),
        ("t:" + "x" * 255, "longer than 256"),
    ],
)
def test_split_object_refuses_with_a_reason(text, reason):
    assert names.split_object(text) is None
    assert reason in names.object_problem(text)


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("user:anne", ("user", "anne", None)),
        ("user:*", ("user", "*", None)),
        ("team:eng#member", ("team", "eng", "member")),
        ("agent:example.org/ns/prod/sa/billing", ("agent", "example.org/ns/prod/sa/billing", None)),
    ],
)
def test_split_user_accepts(text, parts):
    assert names.split_user(text) == parts
    assert names.user_problem(text) is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("anne", "must be 'type:id'"),
        ("team:eng#", "empty relation after '#'"),
        ("team:eng#a#b", "malformed relation"),
        ("team:eng#mem ber", "malformed relation"),
        ("team:eng#m@", "malformed relation"),
        ("team:eng#" + "r" * 51, "malformed relation"),
        ("user:*#member", "wildcard with '#relation'"),
        ("user:anne\n", "whitespace"),
        ("user:" + "é" * 300, "longer than 512 bytes"),
    ],
)
def test_split_user_refuses_with_a_reason(text, reason):
    assert names.split_user(text) is None
    assert reason in names.user_problem(text)


def test_relation_problem():
    assert names.relation_problem("viewer") is None
    assert "empty" in names.relation_problem("")
    assert "must not contain" in names.relation_problem("view er")
    assert "must not contain" in names.relation_problem("viewer\n")
    assert "at most 50" in names.relation_problem("r" * 51)


_PIECES = st.text(alphabet="ab*:#@ \n/é", max_size=8)


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=4).map("".join))
def test_problems_accept_exactly_what_the_parsers_accept(text):
    assert (names.object_problem(text) is None) == (names.split_object(text) is not None)
    assert (names.user_problem(text) is None) == (names.split_user(text) is not None)
    assert (names.relation_problem(text) is None) == names.is_wire_relation(text)


@pytest.mark.parametrize("name", ["doc", "a-b_c.d/e", "x" * 254])
def test_type_names(name):
    assert names.is_valid_type_name(name)


@pytest.mark.parametrize("name", ["", "self", "this", "a:b", "a#b", "a@b", "a*b", "a b", "doc\n", "x" * 255, 3])
def test_invalid_type_names(name):
    assert not names.is_valid_type_name(name)


def test_relation_names_and_the_server_rule_without_limits():
    assert names.is_valid_relation_name("can_call")
    assert not names.is_valid_relation_name("r" * 51)
    assert not names.is_valid_relation_name("viewer\n")
    assert names.matches_relation_rule("r" * 51, limited=False)
    assert names.matches_type_rule("self")  # reserved names are the validator's own error
    assert not names.is_valid_relation_name("this")


def test_object_id_rule_refuses_a_trailing_newline():
    assert names.is_valid_object_id("pipe|underscore_@domain.com")
    assert not names.is_valid_object_id("x\n")
    with pytest.raises(ValueError):
        names.validate_object_id("x\n")


def test_condition_names():
    assert names.is_condition_name("under_limit")
    assert names.is_condition_name("_x-1")
    assert not names.is_condition_name("1x")
    assert not names.is_condition_name("a b")
    assert not names.is_condition_name("x\n")


def test_portable_ids():
    assert names.is_portable_id("reports")
    assert names.is_portable_id("a+2F/b|c@d.e-f_g")
    assert not names.is_portable_id("")
    assert not names.is_portable_id("reports\n")
    assert not names.is_portable_id("a*b")
    assert not names.is_portable_id("é")


def test_spiffe_id_to_user_and_back():
    spiffe_id = "spiffe://example.org/ns/prod/sa/billing"
    user = names.spiffe_id_to_user(spiffe_id)
    assert user == "agent:example.org/ns/prod/sa/billing"
    assert names.user_to_spiffe_id(user) == spiffe_id
    assert names.spiffe_id_to_user(spiffe_id, "workload") == "workload:example.org/ns/prod/sa/billing"
    assert names.user_to_spiffe_id("workload:example.org/x", "workload") == "spiffe://example.org/x"
    assert names.user_to_spiffe_id("agent:example.org/x") == "spiffe://example.org/x"


@pytest.mark.parametrize(
    "user", ["spiffe://example.org/x", "agent:*", "agent:example.org/x#member", "team:example.org/x", "agent:", "agent"]
)
def test_user_to_spiffe_id_refuses_other_users(user):
    with pytest.raises(ValueError):
        names.user_to_spiffe_id(user)


def test_a_json_model_type_with_a_trailing_newline_is_refused():
    from mcp_grpc.authz.model import ModelValidationError, validate_model

    model = {"schema_version": "1.1", "type_definitions": [{"type": "user\n"}]}
    with pytest.raises(ModelValidationError, match="does not match naming rule"):
        validate_model(model)
    with pytest.raises(ModelValidationError, match="does not match naming rule"):
        validate_model(model, rules="server")
