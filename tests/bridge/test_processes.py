"""``mcp-grpc bridge`` as a real process (``python -m mcp_grpc bridge ...``) driven by the official SDK client."""

from __future__ import annotations

import sys

import mcp
from mcp import StdioServerParameters

from mcp_grpc.server import Server
from mcp_grpc.server.pipeline import INSECURE_LOCAL_PRINCIPAL
from tests.bridge.bridge_support import DENIED_TOOL


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


async def test_http_bridge_command_serves_until_sigterm(grpc_server: Server):
    """``mcp-grpc bridge ADDRESS --insecure-local --http 0`` prints its URL, serves, and exits 0 on SIGTERM."""
    import asyncio
    import re
    import signal

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_grpc", "bridge", grpc_server.address, "--insecure-local", "--http", "0",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = None
        async with asyncio.timeout(30):
            while url is None:
                line = (await process.stderr.readline()).decode()
                assert line, "the bridge exited before serving"
                found = re.search(r" at (http://127\.0\.0\.1:\d+/mcp) as insecure-local$", line.strip())
                url = found.group(1) if found else None
        async with mcp.Client(url, mode="2026-07-28") as client:
            denied = await client.call_tool(DENIED_TOOL, {})
        assert denied.is_error and denied.content[0].text.startswith("PERMISSION_DENIED: ")
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_http_bridge_command_on_another_loopback_address_refuses_dns_rebinding(grpc_server: Server):
    """Issue 12: ``--host 127.0.0.2`` had no Host/Origin checks; a rebinding page ran tools/call as the bridge."""
    import asyncio
    import re
    import signal

    import aiohttp

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "mcp_grpc", "bridge", grpc_server.address, "--insecure-local", "--http", "0",
        "--host", "127.0.0.2", "--allowed-host", "tools.internal:*",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": DENIED_TOOL, "arguments": {}}}
    try:
        url = None
        async with asyncio.timeout(30):
            while url is None:
                line = (await process.stderr.readline()).decode()
                assert line, "the bridge exited before serving"
                found = re.search(r" at (http://127\.0\.0\.2:(\d+)/mcp) as insecure-local$", line.strip())
                url, port = (found.group(1), found.group(2)) if found else (None, None)
        statuses = []
        async with aiohttp.ClientSession() as session:
            for headers in ({"Host": f"evil.example:{port}", "Origin": "http://evil.example"},
                            {"Host": f"tools.internal:{port}", "Origin": "http://evil.example"}):
                async with session.post(url, json=call, headers={
                        "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                        **headers}) as response:
                    statuses.append(response.status)
        async with mcp.Client(url, mode="2026-07-28") as client:  # the bridge's own address still works
            denied = await client.call_tool(DENIED_TOOL, {})
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(15):
            assert await process.wait() == 0
        logged = (await process.stderr.read()).decode()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert statuses == [421, 403]
    assert denied.is_error and denied.content[0].text.startswith("PERMISSION_DENIED: ")
    assert f"refused an HTTP request with Host 'evil.example:{port}'" in logged
    assert "refused an HTTP request with Origin 'http://evil.example'" in logged
