"""Issue 5, done when: the shipped demo app over real mTLS with SVIDs from the development Workload API, authorized
by the embedded engine over authz/. Each agent proves itself with its own X.509-SVID; nothing is mocked."""

from __future__ import annotations

import pytest

from tests.support.e2e import outcome

pytestmark = pytest.mark.asyncio(loop_scope="package")

MODEL_WORDS = ("define ", "type ", "condition ", "schema", "amount_within_limit", "team:", "#member")


def assert_names_check_not_model(detail: str, relation: str, obj: str) -> None:
    assert detail == f"permission denied: requires {relation} on {obj}"
    assert not any(word in detail for word in MODEL_WORDS), detail


async def test_allowed_agent_calls_a_tool(billing):
    result = await outcome(billing.call_tool("lookup_invoice", {"invoice_id": "INV-1001"}))
    assert result.status == "OK"
    assert result.value.structured == {"invoice_id": "INV-1001", "customer": "ACME", "amount": 420, "status": "paid"}


async def test_other_agent_is_denied_the_same_tool_and_does_not_see_it(billing, support):
    assert (await outcome(billing.call_tool("refund", {"invoice_id": "INV-1002", "amount": 10}))).status == "OK"
    denied = await outcome(support.call_tool("refund", {"invoice_id": "INV-1002", "amount": 10}))
    assert denied.status == "PERMISSION_DENIED"
    assert_names_check_not_model(denied.detail, "can_call", "tool:payments/refund")
    assert [t.name for t in await support.list_tools()] == ["lookup_invoice"]
    assert sorted(t.name for t in await billing.list_tools()) == ["lookup_invoice", "read_report", "refund"]


async def test_tool_allowed_but_restricted_bucket_argument_denied(billing):
    allowed = await outcome(billing.call_tool("read_report", {"bucket": "reports", "name": "q3.txt"}))
    assert (allowed.status, allowed.detail) == ("OK", "Q3 revenue: 1.2M")
    denied = await outcome(billing.call_tool("read_report", {"bucket": "restricted", "name": "salaries.txt"}))
    assert denied.status == "PERMISSION_DENIED"
    assert_names_check_not_model(denied.detail, "can_read", "bucket:restricted")
    assert "confidential" not in denied.detail


@pytest.mark.parametrize(
    ("amount", "status"),
    [(50, "OK"), (100, "OK"), (100.01, "PERMISSION_DENIED"), (500, "PERMISSION_DENIED")],
)
async def test_conditional_refund_limit(billing, amount, status):
    result = await outcome(billing.call_tool("refund", {"invoice_id": "INV-1002", "amount": amount}))
    assert result.status == status
    if status == "OK":
        assert result.value.structured == {"invoice_id": "INV-1002", "refunded": amount}
    else:
        assert_names_check_not_model(result.detail, "can_refund", "ledger:payments")


async def test_resource_filtered_and_checked(billing, support):
    uri = "docs://policies/refunds.md"
    assert [r.uri for r in await billing.list_resources()] == [uri]
    assert (await billing.read_resource(uri))[0].text.startswith("# Refunds")
    assert await support.list_resources() == []
    denied = await outcome(support.read_resource(uri))
    assert denied.status == "PERMISSION_DENIED"
    assert_names_check_not_model(denied.detail, "can_read", "resource:docs+3A//policies/refunds.md")


async def test_prompt_granted_to_every_agent(billing, support):
    for client in (billing, support):
        assert [p.name for p in await client.list_prompts()] == ["summarize_invoice"]
        result = await client.get_prompt("summarize_invoice", {"invoice_id": "INV-1001"})
        assert result.messages == [("user", "Summarize invoice INV-1001 in one paragraph for a support ticket.")]


async def test_bad_bucket_argument_is_invalid_argument_not_a_denial(billing):
    # ':' cannot appear in an OpenFGA object id: the caller's argument is wrong, the backend is fine.
    result = await outcome(billing.call_tool("read_report", {"bucket": "reports:all", "name": "q3.txt"}))
    assert result.status == "INVALID_ARGUMENT"
    assert "bucket" in result.detail and "not a valid object id" in result.detail


async def test_unknown_tool_is_denied_to_callers_not_granted_it(billing, support):
    # Nobody holds can_call on tool:payments/drop_tables, so nobody learns whether it exists.
    for client in (billing, support):
        result = await outcome(client.call_tool("drop_tables", {}))
        assert result.status == "PERMISSION_DENIED", result
        assert "tool:payments/drop_tables" in result.detail
