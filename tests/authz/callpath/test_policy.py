"""The call policy: default checks per kind, argument templates with strict substitution, condition context."""

from __future__ import annotations

import datetime

import pytest

from mcp_grpc.authz.policy import (
    CallPolicy,
    CheckArgumentError,
    PlannedCheck,
    PolicyConfigError,
    decode_object_id,
    encode_object_id,
    parse_peer_ip,
)
from mcp_grpc.contract import Check
from mcp_grpc.contract import TargetKind
from tests.support.calls import principal, tool_target

NOW = datetime.datetime(2026, 11, 27, 15, 30, 45, 678000, tzinfo=datetime.timezone.utc).timestamp()


def policy(**kw):
    return CallPolicy(clock=lambda: NOW, **kw)


def test_principal_becomes_agent_user_without_scheme():
    plan = policy().plan(principal("ns/prod/sa/billing"), tool_target("refund"))
    assert plan.user == "agent:example.org/ns/prod/sa/billing"


def test_user_type_is_configurable():
    plan = policy(user_type="workload").plan(principal(), tool_target("refund"))
    assert plan.user == "workload:example.org/ns/prod/sa/billing"


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        (TargetKind.TOOL, "refund", PlannedCheck("can_call", "tool:payments/refund")),
        (TargetKind.PROMPT, "summarize", PlannedCheck("can_get", "prompt:payments/summarize")),
        (TargetKind.RESOURCE, "files://docs/a b.txt", PlannedCheck("can_read", "resource:files+3A//docs/a+20b.txt")),
        (TargetKind.RESOURCE_TEMPLATE, "files://{path}", PlannedCheck("can_read", "resource_template:files+3A//+7Bpath+7D")),
    ],
)
def test_default_check_per_kind(kind, name, expected):
    plan = policy().plan(principal(), tool_target(name, kind=kind))
    assert plan.checks == (expected,)


def test_per_server_default_and_per_tool_override():
    p = policy(
        server_defaults={"payments": {TargetKind.TOOL: Check("use", "service_tool:{server}/{tool}")}},
        overrides={("payments", TargetKind.TOOL, "admin"): [Check("admin", "server:{server}")]},
    )
    assert p.plan(principal(), tool_target("refund")).checks == (PlannedCheck("use", "service_tool:payments/refund"),)
    assert p.plan(principal(), tool_target("admin")).checks == (PlannedCheck("admin", "server:payments"),)
    other = tool_target("refund", server_name="billing")
    assert p.plan(principal(), other).checks == (PlannedCheck("can_call", "tool:billing/refund"),)


def test_declared_argument_checks_follow_the_default_one():
    target = tool_target("read_object", {"bucket": "reports", "key": "2026/q3.csv"}, [
        Check("can_read", "bucket:{bucket}"),
        Check("can_read", "object:{bucket}/{key}"),
    ])
    assert policy().plan(principal(), target).checks == (
        PlannedCheck("can_call", "tool:payments/read_object"),
        PlannedCheck("can_read", "bucket:reports"),
        PlannedCheck("can_read", "object:reports/2026/q3.csv"),
    )


def test_integer_argument_and_duplicate_checks_collapse():
    target = tool_target("t", {"n": 42}, [Check("r", "shard:{n}"), Check("r", "shard:{n}")])
    assert policy().plan(principal(), target).checks[1:] == (PlannedCheck("r", "shard:42"),)


def test_builtins_shadow_arguments_so_callers_cannot_pick_the_object():
    target = tool_target("refund", {"server": "evil", "tool": "other"}, [Check("can_call", "tool:{server}/{tool}")])
    assert set(policy().plan(principal(), target).checks) == {PlannedCheck("can_call", "tool:payments/refund")}


def test_missing_argument_is_a_precise_error():
    target = tool_target("read_object", {}, [Check("can_read", "bucket:{bucket}")])
    with pytest.raises(CheckArgumentError) as info:
        policy().plan(principal(), target)
    assert info.value.argument == "bucket"
    assert "needs argument 'bucket', which is missing" in str(info.value)
    assert "can_read on bucket:{bucket}" in str(info.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("a:b", "not a valid object id"),
        ("a#member", "not a valid object id"),
        ("a b", "not a valid object id"),
        ("", "not a valid object id"),
        ("*", "not a valid object id"),
        ("x/../y", "not a valid object id"),  # '/' only in the last placeholder
        (True, "must be a string or an integer"),
        (1.5, "must be a string or an integer"),
        (["a"], "must be a string or an integer"),
        ({"a": 1}, "must be a string or an integer"),
        (None, "missing"),
    ],
)
def test_bad_argument_values_are_refused(value, why):
    target = tool_target("copy", {"bucket": value, "key": "k"}, [Check("can_write", "object:{bucket}/{key}")])
    with pytest.raises(CheckArgumentError, match=why):
        policy().plan(principal(), target)


def test_slash_allowed_in_last_placeholder_only():
    ok = tool_target("copy", {"bucket": "b", "key": "a/b/c"}, [Check("w", "object:{bucket}/{key}")])
    assert policy().plan(principal(), ok).checks[1] == PlannedCheck("w", "object:b/a/b/c")


@pytest.mark.parametrize("value", ["reports\n", "a/b\n"])
def test_an_argument_with_a_trailing_newline_is_refused(value):
    target = tool_target("copy", {"bucket": "b", "key": value}, [Check("can_write", "object:{bucket}/{key}")])
    with pytest.raises(CheckArgumentError, match="not a valid object id"):
        policy().plan(principal(), target)


def test_object_longer_than_openfga_limit_is_refused():
    target = tool_target("t", {"bucket": "b" * 300}, [Check("r", "bucket:{bucket}")])
    with pytest.raises(CheckArgumentError, match="over OpenFGA's limit of 256"):
        policy().plan(principal(), target)


@pytest.mark.parametrize(
    "template",
    ["bucket", "bucket:", ":x", "buc ket:{b}", "bucket:{b!r}", "bucket:{b:>3}", "bucket:{b.c}", "bucket:{b[0]}",
     "bucket:{}", "bucket:{b", "bucket:a#b", "bucket:a:{b}", "{t}:x", "bucket:a b"],
)
def test_malformed_templates_are_configuration_errors(template):
    with pytest.raises(PolicyConfigError):
        policy().validate_declared([Check("can_read", template)])


@pytest.mark.parametrize("template", ["self:{b}", "this:x", "bucket\n:{b}", "bucket:a\n{b}"])
def test_reserved_types_and_trailing_newlines_in_templates_are_configuration_errors(template):
    with pytest.raises(PolicyConfigError):
        policy().validate_declared([Check("can_read", template)])


@pytest.mark.parametrize("relation", ["", "a b", "a#b", "a:b", "can_read\n", "self", "this", "r" * 51])
def test_malformed_relation_is_a_configuration_error(relation):
    with pytest.raises(PolicyConfigError):
        policy().validate_declared([Check(relation, "bucket:{b}")])


@pytest.mark.parametrize("user_type", ["agent\n", "self", "a:b", ""])
def test_malformed_user_type_is_a_configuration_error(user_type):
    with pytest.raises(PolicyConfigError):
        policy(user_type=user_type)


def test_context_carries_arguments_time_and_peer_and_builtins_win():
    target = tool_target("refund", {"amount": 50, "current_time": "forged", "peer_ip": "6.6.6.6", "obj": object()},
                         peer="ipv4:10.1.2.3:5555")
    context = policy().plan(principal(), target).context
    assert context == {"amount": 50, "current_time": "2026-11-27T15:30:45Z", "peer_ip": "10.1.2.3"}


def test_unix_peer_has_no_peer_ip_even_if_an_argument_claims_one():
    target = tool_target("refund", {"peer_ip": "6.6.6.6"}, peer="unix:/tmp/sock")
    assert "peer_ip" not in policy().plan(principal(), target).context


def test_time_resolution_zero_keeps_microseconds():
    context = policy(time_resolution=0).context({}, "")
    assert context["current_time"] == "2026-11-27T15:30:45.678000Z"


@pytest.mark.parametrize(
    ("peer", "ip"),
    [("ipv4:127.0.0.1:5", "127.0.0.1"), ("ipv6:[::1]:5", "::1"), ("ipv6:%5B::1%5D:5", "::1"),
     ("ipv6:[fe80::1%25eth0]:5", "fe80::1"), ("unix:/x", None), ("ipv4:nonsense:5", None), ("", None)],
)
def test_parse_peer_ip(peer, ip):
    assert parse_peer_ip(peer) == ip


@pytest.mark.parametrize("text", ["files://docs/a.txt", "x+y", "ünï cødé#1", "a*b", "%41", "plain_name-1.2"])
def test_object_id_encoding_round_trips_and_uses_only_safe_characters(text):
    encoded = encode_object_id(text)
    assert decode_object_id(encoded) == text
    assert all(c.isalnum() and c.isascii() or c in "_|@./-+" for c in encoded)


def test_decode_rejects_malformed_escape():
    with pytest.raises(ValueError):
        decode_object_id("a+4")
    with pytest.raises(ValueError):
        decode_object_id("a+ZZ")


def test_default_check_for_listing_skips_argument_checks():
    p = policy(overrides={("payments", TargetKind.TOOL, "copy"): [Check("w", "bucket:{bucket}")]})
    assert p.default_check("payments", TargetKind.TOOL, "copy") == ()
    assert p.default_check("payments", TargetKind.TOOL, "x") == (PlannedCheck("can_call", "tool:payments/x"),)


# -- properties: whatever the input, an id is valid for OpenFGA or the call is refused ---------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

# OpenFGA's language validators (the strictest of OpenFGA's checks; see the object-id validation cases).
_LANGUAGE_ID = __import__("re").compile(r"^[A-Za-z0-9_|@.+/\-][A-Za-z0-9_|*@.+/\-]*$")


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_any_name_encodes_to_a_valid_reversible_id(name):
    encoded = encode_object_id(name)
    assert _LANGUAGE_ID.match(encoded)
    assert decode_object_id(encoded) == name


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["bucket", "key"]),
                       st.one_of(st.text(max_size=40), st.integers(), st.booleans(), st.none(), st.floats()),
                       max_size=2))
def test_any_arguments_give_a_valid_object_or_a_precise_refusal(arguments):
    target = tool_target("copy", arguments, [Check("can_write", "object:{bucket}/{key}")])
    try:
        plan = policy().plan(principal(), target)
    except CheckArgumentError as exc:
        assert exc.argument in ("bucket", "key")
        return
    obj = plan.checks[1].object
    assert obj == f"object:{arguments['bucket']}/{arguments['key']}"
    type_name, _, object_id = obj.partition(":")
    assert _LANGUAGE_ID.match(object_id) and len(obj) <= 256
    assert "/" not in str(arguments["bucket"])  # the first placeholder can never shift the second
