"""Issue 17, second done-when: an agent framework built on the SDK's ``ClientSession`` lists and calls the demo's tools
through ``mcp_grpc.sdk``, as each agent with its own SVID, with no model.

PydanticAI (``pydantic-ai-slim[mcp]``, the test extra) is the framework: its ``MCPToolset`` runs on FastMCP's
``Client``, whose transports hand it a ``ClientSession``; ``SdkGrpcTransport`` below is that transport, a dozen lines
over ``mcp_grpc.sdk.connect``. (langchain-mcp-adapters 0.3.2 pins ``mcp<2``, which the SDK 2.3 this package needs
excludes.)
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator

import pytest

pytest.importorskip("pydantic_ai.mcp")

from fastmcp.client.transports.base import ClientTransport, TransportOptions  # noqa: E402
from mcp import ClientSession  # noqa: E402
from pydantic_ai import RunContext  # noqa: E402
from pydantic_ai.exceptions import ModelRetry  # noqa: E402
from pydantic_ai.mcp import MCPToolset  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402
from pydantic_ai.usage import RunUsage  # noqa: E402

import mcp_grpc.sdk  # noqa: E402
from mcp_grpc.client import ClientIdentity  # noqa: E402
from tests.support.e2e import BILLING_ID, SERVER_DNS, SUPPORT_ID, TRUST_DOMAIN  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="package")


class SdkGrpcTransport(ClientTransport):
    """FastMCP's transport seam: a ``ClientSession`` of the class FastMCP asks for, over mcp-grpc."""

    def __init__(self, target: str, identity: ClientIdentity) -> None:
        self.target = target
        self.identity = identity

    @contextlib.asynccontextmanager
    async def connect_session(
        self, *, transport_options: TransportOptions | None = None, **session_kwargs: Any
    ) -> AsyncIterator[ClientSession]:
        options = transport_options or TransportOptions()
        async with mcp_grpc.sdk.connect(self.target, identity=self.identity, negotiate="none",
                                        session_class=options.session_class, **session_kwargs) as session:
            yield session  # FastMCP negotiates itself (server/discover, answered by the transport)


async def toolset_as(workload_api: Any, workload: str, address: str) -> tuple[MCPToolset[Any], ClientIdentity]:
    identity = await asyncio.to_thread(
        ClientIdentity.from_workload_api, workload_api.socket(workload), server_dns_name=SERVER_DNS,
        server_trust_domain=TRUST_DOMAIN,
    )
    return MCPToolset(SdkGrpcTransport(address, identity), tool_error_behavior="retry"), identity


def run_context() -> RunContext[None]:
    return RunContext(deps=None, model=TestModel(), usage=RunUsage())


async def test_pydantic_ai_lists_and_calls_the_demo_tools_as_each_agent(workload_api, payments):
    mark = payments.audit_mark()
    seen: dict[str, Any] = {}
    for workload in ("billing-agent", "support-agent"):
        toolset, identity = await toolset_as(workload_api, workload, payments.address)
        try:
            async with toolset:
                ctx = run_context()
                tools = await toolset.get_tools(ctx)
                looked_up = await toolset.call_tool("lookup_invoice", {"invoice_id": "INV-1002"}, ctx,
                                                    tools["lookup_invoice"])
                try:
                    refund: Any = await toolset.direct_call_tool("refund", {"invoice_id": "INV-1002", "amount": 20})
                except ModelRetry as retry:  # PydanticAI's answer to a protocol error: tell the model why
                    refund = ("retry", str(retry))
                seen[workload] = (sorted(tools), looked_up, refund)
        finally:
            await identity.aclose()

    billing_tools, billing_lookup, billing_refund = seen["billing-agent"]
    assert billing_tools == ["lookup_invoice", "read_report", "refund"]
    assert billing_lookup == {"invoice_id": "INV-1002", "customer": "Globex", "amount": 75.5, "status": "open"}
    assert billing_refund == {"invoice_id": "INV-1002", "refunded": 20.0}
    support_tools, support_lookup, support_refund = seen["support-agent"]
    assert support_tools == ["lookup_invoice"] and support_lookup == billing_lookup
    assert support_refund[0] == "retry" and "PERMISSION_DENIED" in support_refund[1]

    records = payments.audit_since(mark, expect=6)
    # FastMCP sends a progress token with every call, so the calls run on CallToolStream
    calls = [(r["principal"], r["method"], r["target"], r["decision"]) for r in records if r["method"] != "ListTools"]
    assert calls == [
        (BILLING_ID, "CallToolStream", "lookup_invoice", "allow"),
        (BILLING_ID, "CallToolStream", "refund", "allow"),
        (SUPPORT_ID, "CallToolStream", "lookup_invoice", "allow"),
        (SUPPORT_ID, "CallToolStream", "refund", "deny"),
    ]
