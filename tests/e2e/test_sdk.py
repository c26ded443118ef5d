"""Issue 17, done when: an agent written against the official MCP SDK's API alone (``sdk_agent`` below: apart from
``connect`` it imports only ``mcp``) runs unchanged against the demo server as billing-agent and as support-agent,
each with its own SVID: allowed and denied calls, progress, a resource, a prompt, and the audit log names each agent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from mcp import ClientSession
from mcp.shared.exceptions import MCPError

import mcp_grpc.sdk
from mcp_grpc.client import ClientIdentity
from tests.support.e2e import BILLING_ID, SERVER_DNS, SUPPORT_ID, TRUST_DOMAIN
from tests.support.ports import free_port

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def sdk_agent(session: ClientSession) -> dict[str, Any]:
    """An agent's code against the SDK's ClientSession, nothing of mcp-grpc in it."""
    report: dict[str, Any] = {}
    listed = await session.list_tools()
    report["tools"] = sorted(tool.name for tool in listed.tools)
    looked_up = await session.call_tool("lookup_invoice", {"invoice_id": "INV-1001"})
    report["lookup"] = looked_up.structured_content
    updates: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        updates.append((progress, total, message))

    try:
        refunded = await session.call_tool(
            "refund", {"invoice_id": "INV-1002", "amount": 50}, progress_callback=on_progress
        )
        report["refund"] = refunded.structured_content
    except MCPError as error:
        report["refund"] = ("error", error.error.code, error.error.data)
    report["progress"] = updates
    try:
        read = await session.read_resource("docs://policies/refunds.md")
        report["policy"] = read.contents[0].text.splitlines()[0]  # type: ignore[union-attr]
    except MCPError as error:
        report["policy"] = ("error", error.error.code, error.error.data)
    prompt = await session.get_prompt("summarize_invoice", {"invoice_id": "INV-1001"})
    report["prompt"] = prompt.messages[0].content.text  # type: ignore[union-attr]
    return report


async def identity_of(workload_api: Any, workload: str) -> ClientIdentity:
    return await asyncio.to_thread(
        ClientIdentity.from_workload_api, workload_api.socket(workload), server_dns_name=SERVER_DNS,
        server_trust_domain=TRUST_DOMAIN,
    )


async def run_as(workload_api: Any, workload: str, address: str, **options: Any) -> dict[str, Any]:
    identity = await identity_of(workload_api, workload)
    try:
        async with mcp_grpc.sdk.connect(address, identity=identity, **options) as session:
            return await sdk_agent(session)
    finally:
        await identity.aclose()


DENIED = {"grpcStatus": "PERMISSION_DENIED"}
PERMISSION_DENIED_CODE = -32003  # mcp_grpc.wire.errors.PERMISSION_DENIED: a denial has its own code


async def test_the_same_sdk_agent_runs_as_each_agent_with_its_own_svid(workload_api, payments):
    mark = payments.audit_mark()
    billing = await run_as(workload_api, "billing-agent", payments.address)
    support = await run_as(workload_api, "support-agent", payments.address)

    assert billing == {
        "tools": ["lookup_invoice", "read_report", "refund"],
        "lookup": {"invoice_id": "INV-1001", "customer": "ACME", "amount": 420.0, "status": "paid"},
        "refund": {"invoice_id": "INV-1002", "refunded": 50.0},
        "progress": [(1.0, 2.0, "invoice checked"), (2.0, 2.0, "refund recorded")],
        "policy": "# Refunds",
        "prompt": "Summarize invoice INV-1001 in one paragraph for a support ticket.",
    }
    assert support == {
        "tools": ["lookup_invoice"],
        "lookup": billing["lookup"],
        "refund": ("error", PERMISSION_DENIED_CODE, DENIED),
        "progress": [],
        "policy": ("error", PERMISSION_DENIED_CODE, DENIED),
        "prompt": billing["prompt"],
    }
    records = payments.audit_since(mark, expect=10)
    summary = [(r["principal"], r["method"], r["target"], r["decision"]) for r in records]
    assert summary == [
        (BILLING_ID, "ListTools", None, "allow"),
        (BILLING_ID, "CallTool", "lookup_invoice", "allow"),
        (BILLING_ID, "CallToolStream", "refund", "allow"),
        (BILLING_ID, "ReadResource", "docs://policies/refunds.md", "allow"),
        (BILLING_ID, "GetPrompt", "summarize_invoice", "allow"),
        (SUPPORT_ID, "ListTools", None, "allow"),
        (SUPPORT_ID, "CallTool", "lookup_invoice", "allow"),
        (SUPPORT_ID, "CallToolStream", "refund", "deny"),
        (SUPPORT_ID, "ReadResource", "docs://policies/refunds.md", "deny"),
        (SUPPORT_ID, "GetPrompt", "summarize_invoice", "allow"),
    ]
    assert all(r["proven_by"] == "x509" for r in records)


async def test_discover_is_answered_locally_and_initialize_works_too(workload_api, payments):
    identity = await identity_of(workload_api, "billing-agent")
    try:
        async with mcp_grpc.sdk.connect(payments.address, identity=identity) as session:
            assert session.protocol_version == "2026-07-28"
            assert session.server_capabilities is not None and session.server_capabilities.tools is not None
            assert (await session.send_ping()) is not None
        info = mcp_grpc.sdk.ServerInfo("payments", "1.0", "Invoices.")
        async with mcp_grpc.sdk.connect(payments.address, identity=identity, negotiate="initialize",
                                        server_info=info) as session:
            assert session.protocol_version == "2025-11-25"
            assert session.server_info is not None and session.server_info.name == "payments"
            assert session.instructions == "Invoices."
            assert (await session.call_tool("lookup_invoice", {"invoice_id": "INV-1002"})).structured_content
    finally:
        await identity.aclose()


async def test_a_denial_is_told_apart_from_a_failure_and_a_tool_error(workload_api, payments):
    identity = await identity_of(workload_api, "support-agent")
    try:
        async with mcp_grpc.sdk.connect(payments.address, identity=identity) as session:
            with pytest.raises(MCPError) as denied:
                await session.call_tool("refund", {"invoice_id": "INV-1002", "amount": 5})
            assert mcp_grpc.sdk.is_denial(denied.value)
            assert denied.value.error.message.startswith("PERMISSION_DENIED: ")
            with pytest.raises(MCPError) as invalid:
                await session.get_prompt("summarize_invoice", {})
            assert (invalid.value.error.code, invalid.value.error.data) == (-32602, {"grpcStatus": "INVALID_ARGUMENT"})
            assert not mcp_grpc.sdk.is_denial(invalid.value)
            for arguments in ({}, {"invoice_id": "INV-9"}):  # invalid arguments, a failing tool: results, as in MCP
                failed = await session.call_tool("lookup_invoice", arguments)
                assert failed.is_error and failed.content[0].type == "text"
        async with mcp_grpc.sdk.connect(f"127.0.0.1:{free_port()}", identity=identity, timeout=3) as session:
            with pytest.raises(MCPError) as down:
                await session.list_tools()
            assert down.value.error.data == {"grpcStatus": "UNAVAILABLE"} and not mcp_grpc.sdk.is_denial(down.value)
    finally:
        await identity.aclose()


async def test_sampling_elicitation_and_roots_callbacks_are_refused_for_the_2025_handshake(workload_api, payments):
    """A 2025-11-25 session would wait for server-to-client requests that never come; 2026-07-28 gets MRTR."""
    async def callback(*args: Any) -> Any:
        raise AssertionError("never called")

    for name in mcp_grpc.sdk.UNSUPPORTED_CALLBACKS:
        with pytest.raises(ValueError, match="negotiate='discover'"):
            async with mcp_grpc.sdk.connect(payments.address, negotiate="initialize", **{name: callback}):
                pass
