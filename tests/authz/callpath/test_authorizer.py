"""FgaAuthorizer: one batch per call, all checks must allow, denials name relation and object, fail closed."""

from __future__ import annotations

import asyncio

import pytest

from mcp_grpc.authz.authorizer import AuthorizationUnavailable, FgaAuthorizer
from mcp_grpc.authz.backend import CheckResult, Outcome, TupleKey
from mcp_grpc.authz.cache import DecisionCache
from mcp_grpc.authz.policy import CallPolicy, CheckArgumentError
from mcp_grpc.contract import Check
from mcp_grpc.contract import DecisionStatus, TargetKind
from tests.authz.callpath.callpath_support import Condition, TupleBackend
from tests.support.calls import principal, tool_target

BILLING = "agent:example.org/ns/prod/sa/billing"
SUPPORT = "agent:example.org/ns/prod/sa/support"

TUPLES = [
    TupleKey(BILLING, "can_call", "tool:payments/refund"),
    TupleKey(BILLING, "can_call", "tool:payments/read_object"),
    TupleKey(BILLING, "can_read", "bucket:reports"),
    TupleKey(BILLING, "can_refund", "ledger:payments", "amount_within_limit", {"limit": 100.0}),
    TupleKey(SUPPORT, "can_call", "tool:payments/lookup"),
]
LIMIT = Condition(("amount", "limit"), lambda c: float(c["amount"]) <= float(c["limit"]))


@pytest.fixture
def backend():
    return TupleBackend(TUPLES, {"amount_within_limit": LIMIT})


@pytest.fixture
def authorizer(backend):
    return FgaAuthorizer(backend, CallPolicy(), timeout=0.5)


async def test_allowed_call_makes_one_batch(authorizer, backend):
    decision = await authorizer.authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.ALLOW
    assert [(c.relation, c.object, c.result) for c in decision.checks] == [("can_call", "tool:payments/refund", "allowed")]
    assert len(backend.batch_calls) == 1


async def test_other_agent_is_denied_with_relation_and_object(authorizer):
    decision = await authorizer.authorize(principal("ns/prod/sa/support"), tool_target("refund"))
    assert decision.status is DecisionStatus.DENY
    assert decision.reason == "permission denied: requires can_call on tool:payments/refund"
    assert "model" not in decision.reason


async def test_all_checks_go_in_one_batch_and_the_failing_one_is_named(authorizer, backend):
    target = tool_target("read_object", {"bucket": "restricted"}, [Check("can_read", "bucket:{bucket}")])
    decision = await authorizer.authorize(principal(), target)
    assert decision.status is DecisionStatus.DENY
    assert decision.reason == "permission denied: requires can_read on bucket:restricted"
    assert [c.result for c in decision.checks] == ["allowed", "denied"]
    assert len(backend.batch_calls) == 1 and len(backend.batch_calls[0]) == 2
    allowed = await authorizer.authorize(principal(), tool_target("read_object", {"bucket": "reports"},
                                                                  [Check("can_read", "bucket:{bucket}")]))
    assert allowed.allowed


@pytest.mark.parametrize(("amount", "status"), [(50, DecisionStatus.ALLOW), (500, DecisionStatus.DENY)])
async def test_conditional_limit(authorizer, amount, status):
    target = tool_target("refund", {"amount": amount}, [Check("can_refund", "ledger:payments")])
    decision = await authorizer.authorize(principal(), target)
    assert decision.status is status
    if status is DecisionStatus.DENY:
        assert decision.reason == "permission denied: requires can_refund on ledger:payments"


async def test_condition_missing_parameter_is_unavailable_not_allowed(authorizer):
    target = tool_target("refund", {}, [Check("can_refund", "ledger:payments")])
    decision = await authorizer.authorize(principal(), target)
    assert decision.status is DecisionStatus.UNAVAILABLE
    assert "can_refund on ledger:payments could not be evaluated" in decision.reason
    assert "amount_within_limit" not in decision.reason  # the model's condition name does not leak


async def test_denial_wins_over_an_error_in_the_same_batch(authorizer):
    target = tool_target("refund", {}, [Check("can_refund", "ledger:payments")])
    decision = await authorizer.authorize(principal("ns/prod/sa/support"), target)
    assert decision.status is DecisionStatus.DENY


async def test_backend_exception_is_unavailable(authorizer, backend):
    backend.fail_with = ConnectionError("refused")
    decision = await authorizer.authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.UNAVAILABLE
    assert decision.reason == "authorization unavailable: backend error (ConnectionError)"
    assert [(c.object, c.result) for c in decision.checks] == [("tool:payments/refund", "error")]


async def test_backend_timeout_is_unavailable(backend):
    backend.stall = 5.0
    authorizer = FgaAuthorizer(backend, timeout=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    decision = await authorizer.authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.UNAVAILABLE
    assert "timed out after 0.05s" in decision.reason
    assert loop.time() - started < 2.0


async def test_backend_error_result_is_unavailable(authorizer, backend):
    async def erroring(requests, *, consistency=None):
        return [CheckResult(Outcome.ERROR, "resolution too complex", 2002) for _ in requests]

    backend.batch_check = erroring
    decision = await authorizer.authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.UNAVAILABLE


@pytest.mark.parametrize("answer", [[], None, ["allowed"], [CheckResult(Outcome.ALLOWED)] * 2])
async def test_malformed_backend_answer_is_unavailable(authorizer, backend, answer):
    async def malformed(requests, *, consistency=None):
        return answer

    backend.batch_check = malformed
    decision = await authorizer.authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.UNAVAILABLE


async def test_policy_crash_is_unavailable(backend):
    class Broken(CallPolicy):
        def plan(self, principal, target):
            raise RuntimeError("boom")

    decision = await FgaAuthorizer(backend, Broken()).authorize(principal(), tool_target("refund"))
    assert decision.status is DecisionStatus.UNAVAILABLE


async def test_bad_argument_raises_check_argument_error_and_backend_is_not_asked(authorizer, backend):
    target = tool_target("read_object", {"bucket": "a:b"}, [Check("can_read", "bucket:{bucket}")])
    with pytest.raises(CheckArgumentError, match="argument 'bucket'"):
        await authorizer.authorize(principal(), target)
    assert backend.batch_calls == []


async def test_no_rule_at_all_is_denied(backend):
    policy = CallPolicy(overrides={("payments", TargetKind.TOOL, "open"): []})
    decision = await FgaAuthorizer(backend, policy).authorize(principal(), tool_target("open"))
    assert decision.status is DecisionStatus.DENY
    assert backend.batch_calls == []


async def test_visible_filters_names_in_one_batch(authorizer, backend):
    names = ["refund", "read_object", "lookup", "delete_everything"]
    assert await authorizer.visible(principal(), "payments", TargetKind.TOOL, names) == {"refund", "read_object"}
    assert await authorizer.visible(principal("ns/prod/sa/support"), "payments", TargetKind.TOOL, names) == {"lookup"}
    assert len(backend.batch_calls) == 2


async def test_visible_with_list_objects_gives_the_same_answer(backend):
    authorizer = FgaAuthorizer(backend, list_strategy="list_objects")
    names = ["refund", "read_object", "lookup"]
    assert await authorizer.visible(principal(), "payments", TargetKind.TOOL, names) == {"refund", "read_object"}
    assert backend.list_calls == [(BILLING, "can_call", "tool")]


@pytest.mark.parametrize("strategy", ["batch", "list_objects"])
async def test_visible_fails_closed_when_backend_fails(backend, strategy):
    backend.fail_with = OSError("down")
    authorizer = FgaAuthorizer(backend, list_strategy=strategy)
    with pytest.raises(AuthorizationUnavailable):
        await authorizer.visible(principal(), "payments", TargetKind.TOOL, ["refund"])


async def test_higher_consistency_is_passed_to_backend_and_bypasses_cache(backend):
    cache = DecisionCache(ttl=60)
    authorizer = FgaAuthorizer(backend, cache=cache)
    await authorizer.authorize(principal(), tool_target("refund"))
    await authorizer.authorize(principal(), tool_target("refund"))
    assert len(backend.batch_calls) == 1  # second answered by the cache
    await authorizer.authorize(principal(), tool_target("refund", consistency="HIGHER_CONSISTENCY"))
    assert len(backend.batch_calls) == 2
    assert backend.consistencies[-1] == "HIGHER_CONSISTENCY"


async def test_errors_are_not_cached(backend):
    cache = DecisionCache(ttl=60)
    authorizer = FgaAuthorizer(backend, cache=cache)
    backend.fail_with = OSError("down")
    assert (await authorizer.authorize(principal(), tool_target("refund"))).status is DecisionStatus.UNAVAILABLE
    backend.fail_with = None
    assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed


async def test_auto_strategy_uses_list_objects_for_long_lists_only(backend):
    authorizer = FgaAuthorizer(backend)  # "auto"
    few = ["refund", "lookup"]
    many = ["refund"] + [f"t{i}" for i in range(150)]
    assert await authorizer.visible(principal(), "payments", TargetKind.TOOL, few) == {"refund"}
    assert backend.list_calls == [] and len(backend.batch_calls) == 1
    assert await authorizer.visible(principal(), "payments", TargetKind.TOOL, many) == {"refund"}
    assert backend.list_calls == [(BILLING, "can_call", "tool")] and len(backend.batch_calls) == 1


async def test_a_remembered_plan_never_answers_for_another_target_or_other_arguments(authorizer):
    """Plans without arguments in their objects are remembered per target; argument checks are planned per call."""
    first = await authorizer.authorize(principal(), tool_target("refund"))
    again = await authorizer.authorize(principal(), tool_target("refund"))
    other = await authorizer.authorize(principal(), tool_target("lookup"))
    assert (first.status, again.status, other.status) == (DecisionStatus.ALLOW, DecisionStatus.ALLOW, DecisionStatus.DENY)
    assert other.reason == "permission denied: requires can_call on tool:payments/lookup"
    declared = [Check("can_read", "bucket:{bucket}")]
    allowed = await authorizer.authorize(principal(), tool_target("read_object", {"bucket": "reports"}, declared))
    denied = await authorizer.authorize(principal(), tool_target("read_object", {"bucket": "restricted"}, declared))
    assert (allowed.status, denied.status) == (DecisionStatus.ALLOW, DecisionStatus.DENY)
    assert denied.reason == "permission denied: requires can_read on bucket:restricted"


async def test_a_reused_allow_decision_never_outlives_the_answer_that_allowed_it(authorizer, backend):
    """An allowed target's Decision is reused only while every check is answered allowed again (each call still asks)."""
    first = await authorizer.authorize(principal(), tool_target("refund"))
    again = await authorizer.authorize(principal(), tool_target("refund"))
    assert again == first and again.allowed
    assert [(c.relation, c.object, c.result) for c in again.checks] == [("can_call", "tool:payments/refund", "allowed")]
    assert len(backend.batch_calls) == 2  # no cache configured: the backend decided both calls
    backend.tuples = [t for t in backend.tuples if t.object != "tool:payments/refund"]  # the grant is revoked
    revoked = await authorizer.authorize(principal(), tool_target("refund"))
    assert revoked.status is DecisionStatus.DENY
    assert revoked.reason == "permission denied: requires can_call on tool:payments/refund"
    assert [c.result for c in revoked.checks] == ["denied"]
    backend.fail_with = OSError("down")
    assert (await authorizer.authorize(principal(), tool_target("refund"))).status is DecisionStatus.UNAVAILABLE
