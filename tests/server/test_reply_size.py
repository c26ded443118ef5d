"""Issue 12, item 15: a reply over the server's max send message size is refused by the server before grpc would fail
it, and the audit record says what the caller saw (RESOURCE_EXHAUSTED, ``error``), not ``allow``."""

from __future__ import annotations

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import McpApp
from tests.server.server_support import ListAuditSink
from tests.support.servers import running

LIMIT = 1024 * 1024


def big_app() -> McpApp:
    app = McpApp("big")

    @app.tool()
    def blob(size: int) -> str:
        """Return ``size`` characters."""
        return "x" * size

    return app


@pytest.fixture
async def served():
    audit = ListAuditSink()
    async with running(big_app(), audit_sink=audit, max_message_bytes=LIMIT) as server:
        async with AsyncClient(server.address, retry=None, timeout=20) as client:
            yield client, audit


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_reply_over_the_limit_is_resource_exhausted_and_audited_as_such(served, streamed):
    client, audit = served
    with pytest.raises(McpCallError) as caught:
        await client.call_tool("blob", {"size": 5 * LIMIT}, progress=(lambda update: None) if streamed else None)
    assert caught.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert f"over this server's limit of {LIMIT} bytes per message" in caught.value.message
    [event] = audit.events
    assert (event.target, event.decision) == ("blob", "error")
    assert event.reason == caught.value.message


async def test_a_reply_under_the_limit_is_sent_and_allowed(served):
    client, audit = served
    result = await client.call_tool("blob", {"size": LIMIT // 2})
    assert len(result.text) == LIMIT // 2
    assert [event.decision for event in audit.events] == ["allow"]
