"""One small payments store (model and tuples) that the OpenFGA backend tests ask of both the aiohttp stand-in and
the real server, so the two suites can be read side by side."""

from __future__ import annotations

from typing import Any

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.files import model_from_dsl_text
from mcp_grpc.contract import Check, DecisionStatus, TargetKind
from tests.support.calls import principal, tool_target

__all__ = ["BILLING", "MODEL", "MODEL_DSL", "TUPLES", "assert_allows_denies_and_limits"]

BILLING = "agent:example.org/ns/prod/sa/billing"
TUPLES = [
    TupleKey(BILLING, "can_call", "tool:payments/refund"),
    TupleKey(BILLING, "can_read", "bucket:reports"),
    TupleKey(BILLING, "can_refund", "ledger:payments", "amount_within_limit", {"limit": 100.0}),
    TupleKey("team:finance#member", "can_call", "tool:payments/refund"),
]
MODEL_DSL = """
model
  schema 1.1
type agent
type team
  relations
    define member: [agent]
type tool
  relations
    define can_call: [agent, team#member, agent with amount_within_limit]
type bucket
  relations
    define can_read: [agent]
type ledger
  relations
    define can_refund: [agent with amount_within_limit]
condition amount_within_limit(amount: double, limit: double) {
  amount <= limit
}
"""
MODEL = model_from_dsl_text(MODEL_DSL, "test model")


async def assert_allows_denies_and_limits(authorizer: Any) -> None:
    """What both suites ask of an FgaAuthorizer over this store: billing may call refund, support may not, and the
    amount condition allows 50 and denies 500, naming the check that denied."""
    assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed
    denied = await authorizer.authorize(principal("ns/prod/sa/support"), tool_target("refund"))
    assert denied.status is DecisionStatus.DENY
    limit = [Check("can_refund", "ledger:payments")]
    assert (await authorizer.authorize(principal(), tool_target("refund", {"amount": 50}, limit))).allowed
    over = await authorizer.authorize(principal(), tool_target("refund", {"amount": 500}, limit))
    assert over.status is DecisionStatus.DENY and over.reason.endswith("can_refund on ledger:payments")
    assert await authorizer.visible(principal(), "payments", TargetKind.TOOL, ["refund", "x"]) == {"refund"}
