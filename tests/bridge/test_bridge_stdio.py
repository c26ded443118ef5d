"""``python -m mcp_grpc bridge ADDRESS --insecure-local --stdio`` as a subprocess, driven by the official SDK client."""

from __future__ import annotations

import sys

import mcp
from mcp import StdioServerParameters

from bridge_support import DENIED_TOOL
from mcp_grpc.server import Server
from mcp_grpc.server.chain import INSECURE_LOCAL_PRINCIPAL


def _bridge(address: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_grpc", "bridge", address, "--insecure-local", "--stdio", "--timeout", "10"],
    )


async def test_sdk_client_over_stdio_lists_calls_and_sees_the_denial(grpc_server: Server):
    async with mcp.Client(_bridge(grpc_server.address), read_timeout_seconds=30) as client:
        tools = await client.list_tools()
        assert "echo" in {tool.name for tool in tools.tools}
        result = await client.call_tool("add", {"a": 1, "b": 2})
        assert not result.is_error and result.structured_content == {"total": 3}
        denied = await client.call_tool(DENIED_TOOL, {})
    assert denied.is_error is True
    assert denied.content[0].text == (
        f"PERMISSION_DENIED: {INSECURE_LOCAL_PRINCIPAL.spiffe_id} lacks can_call on tool:{DENIED_TOOL}"
    )
