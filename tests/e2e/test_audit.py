"""Issue 5, done when: every decision appears in the audit log (``json_audit_sink(path)``) with the fields of the
issue: time, principal, how proven, method, tool or resource, each check with its result, decision, reason, latency,
trace id; argument values only when configured. (UNAUTHENTICATED records: test_identity.py; UNAVAILABLE
records: test_backends.py.)"""

from __future__ import annotations

import datetime

import pytest

from tests.support.e2e import BILLING_ID, SUPPORT_ID, outcome

pytestmark = pytest.mark.asyncio(loop_scope="package")

FIELDS = {"time", "principal", "proven_by", "service", "method", "kind", "target", "checks", "decision", "reason",
          "latency_ms", "trace_id", "peer"}


def parse_time(text: str) -> datetime.datetime:
    assert text.endswith("Z") and "T" in text, text
    return datetime.datetime.fromisoformat(text)


async def test_every_decision_is_one_record_with_the_issue_fields(payments, billing, support):
    calls = [
        (billing, "call_tool", ("lookup_invoice", {"invoice_id": "INV-1001"})),
        (support, "call_tool", ("refund", {"invoice_id": "INV-1001", "amount": 10})),
        (billing, "call_tool", ("read_report", {"bucket": "restricted", "name": "salaries.txt"})),
        (billing, "call_tool", ("refund", {"invoice_id": "INV-1002", "amount": 50})),
        (billing, "call_tool", ("refund", {"invoice_id": "INV-1002", "amount": 500})),
        (support, "read_resource", ("docs://policies/refunds.md",)),
        (support, "list_tools", ()),
    ]
    before = datetime.datetime.now(datetime.timezone.utc)
    mark = payments.audit_mark()
    statuses = [(await outcome(getattr(client, method)(*args))).status for client, method, args in calls]
    records = payments.audit_since(mark, expect=len(calls))
    after = datetime.datetime.now(datetime.timezone.utc)

    assert statuses == ["OK", "PERMISSION_DENIED", "PERMISSION_DENIED", "OK", "PERMISSION_DENIED",
                        "PERMISSION_DENIED", "OK"]
    assert len(records) == len(calls)  # one record per decision, not one per layer
    for record in records:
        assert FIELDS <= set(record), FIELDS - set(record)
        assert "arguments" not in record  # values only when the sink is configured to include them
        stamp = parse_time(record["time"])
        assert before - datetime.timedelta(seconds=1) <= stamp <= after + datetime.timedelta(seconds=1)
        assert record["proven_by"] == "x509" and record["service"] == "model_context_protocol.Mcp"
        assert isinstance(record["latency_ms"], (int, float)) and 0 <= record["latency_ms"] < 10_000
        assert record["peer"].startswith("ipv4:127.0.0.1:")
        assert all(set(check) == {"relation", "object", "result"} for check in record["checks"])

    summary = [(r["principal"], r["method"], r["kind"], r["target"], r["decision"], r["reason"]) for r in records]
    assert summary == [
        (BILLING_ID, "CallTool", "tool", "lookup_invoice", "allow", ""),
        (SUPPORT_ID, "CallTool", "tool", "refund", "deny",
         "permission denied: requires can_call on tool:payments/refund"),
        (BILLING_ID, "CallTool", "tool", "read_report", "deny",
         "permission denied: requires can_read on bucket:restricted"),
        (BILLING_ID, "CallTool", "tool", "refund", "allow", ""),
        (BILLING_ID, "CallTool", "tool", "refund", "deny", "permission denied: requires can_refund on ledger:payments"),
        (SUPPORT_ID, "ReadResource", "resource", "docs://policies/refunds.md", "deny",
         "permission denied: requires can_read on resource:docs+3A//policies/refunds.md"),
        (SUPPORT_ID, "ListTools", None, None, "allow", ""),
    ]
    checks = [{(c["relation"], c["object"]): c["result"] for c in r["checks"]} for r in records]
    assert checks[0] == {("can_call", "tool:payments/lookup_invoice"): "allowed"}
    assert checks[1][("can_call", "tool:payments/refund")] == "denied"
    assert checks[2] == {("can_call", "tool:payments/read_report"): "allowed",
                         ("can_read", "bucket:restricted"): "denied"}
    assert checks[3] == {("can_call", "tool:payments/refund"): "allowed", ("can_refund", "ledger:payments"): "allowed"}
    assert checks[4] == {("can_call", "tool:payments/refund"): "allowed", ("can_refund", "ledger:payments"): "denied"}
    assert checks[5] == {("can_read", "resource:docs+3A//policies/refunds.md"): "denied"}
    assert [r["argument_names"] for r in records[:5]] == [
        ["invoice_id"], ["amount", "invoice_id"], ["bucket", "name"], ["amount", "invoice_id"],
        ["amount", "invoice_id"]]


async def test_audit_arguments_off_records_no_argument_names_either(payments, billing, server_identity,
                                                                    demo_authorizer, workload_api, tmp_path):
    """``ServerConfig(audit_arguments=False)`` (the default): not even the names of the arguments are recorded."""
    from tests.support.e2e import agent_client, fresh_config_fields, start_server
    from examples.demo.server import app

    server = await start_server(app, fresh_config_fields(server_identity), demo_authorizer, tmp_path / "a.jsonl")
    try:
        mark = server.audit_mark()
        async with agent_client(workload_api, "billing-agent", server.address) as client:
            result = await outcome(client.call_tool("refund", {"invoice_id": "INV-1002", "amount": 500}))
        [record] = [r for r in server.audit_since(mark, expect=1) if r["target"] == "refund"]
    finally:
        await server.stop()
    assert result.status == "PERMISSION_DENIED"
    assert "arguments" not in record and "argument_names" not in record
    shown = {k: v for k, v in record.items() if k not in ("latency_ms", "peer", "time")}  # numbers of their own
    assert "500" not in str(shown), shown
