"""``ShadowAuthorizer`` on the embedded engine over authz/: what it returns at once (the enforced decision), what its
verdict says when the shadow cannot decide, and what it leaves to the enforced authorizer (lists, declared checks).
Over the wire: tests/e2e/test_shadow.py."""

from __future__ import annotations

import pytest

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.policy import CallPolicy
from mcp_grpc.authz.shadow import ShadowAuthorizer, quiet_telemetry
from mcp_grpc.contract import Check, DecisionStatus, ShadowVerdict, TargetKind
from tests.support.calls import SERVER, principal, tool_target
from tests.support.paths import AUTHZ_DIR

SUPPORT = principal("ns/mcp-tools/sa/support-agent")

def demo(**kwargs) -> FgaAuthorizer:
    return FgaAuthorizer.from_authz_dir(AUTHZ_DIR, telemetry=quiet_telemetry(), **kwargs)

async def test_the_enforced_decision_comes_back_with_the_shadow_verdict_pending_beside_it():
    needs_bucket = CallPolicy(
        overrides={(SERVER, TargetKind.TOOL, "lookup_invoice"): [Check("can_read", "bucket:{bucket}")]}
    )
    authorizer = ShadowAuthorizer(demo(), demo(policy=needs_bucket))
    decision = await authorizer.authorize(SUPPORT, tool_target("lookup_invoice", {"invoice_id": "INV-1"}))
    assert decision.status is DecisionStatus.ALLOW
    verdict = await decision.shadow
    # the shadow's policy needs an argument the call does not have: recorded, never raised to the call
    assert verdict.shadow is None and verdict.enforced == "allow"
    assert verdict.reason.startswith("invalid argument: ") and "bucket" in verdict.reason
    await authorizer.close()

async def test_past_max_pending_the_shadow_is_skipped_not_queued():
    authorizer = ShadowAuthorizer(demo(), demo(), max_pending=0)
    decision = await authorizer.authorize(SUPPORT, tool_target("refund", {"amount": 1}))
    assert decision.status is DecisionStatus.DENY
    assert decision.shadow.done()
    assert decision.shadow.result() == ShadowVerdict("deny", None, "skipped: too many shadow decisions pending")
    await authorizer.close()

def test_a_disagreement_is_named_from_to_and_agreement_or_no_answer_is_none():
    assert ShadowVerdict("allow", "deny").disagreement == "allow→deny"
    assert ShadowVerdict("deny", "deny").disagreement is None
    assert ShadowVerdict("deny", None, "timed out after 1s").disagreement is None

async def test_lists_and_declared_checks_are_the_enforced_models_alone():
    authorizer = ShadowAuthorizer(demo(), demo(policy=CallPolicy(user_type="robot")))
    names = ["refund", "read_report", "lookup_invoice"]
    assert await authorizer.visible(SUPPORT, SERVER, TargetKind.TOOL, names) == {"lookup_invoice"}
    authorizer.validate_declared([Check("can_read", "bucket:{bucket}")])
    with pytest.raises(ValueError):
        authorizer.validate_declared([Check("can_read", "bucket:{bu cket}")])
    assert authorizer.policy is authorizer.enforced.policy  # what the server reads of its authorizer
    await authorizer.close()
