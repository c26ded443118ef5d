"""Tool log messages through the bridge (notifications/message, honouring logging/setLevel) and from a mounted SDK
server's ``ctx.log`` to a gRPC caller; all over real servers on loopback."""

from __future__ import annotations

import asyncio
import warnings
from typing import AsyncIterator

import mcp
import mcp_types as types
import pytest
from mcp.server.mcpserver import Context as SdkContext
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, mount_official, serve_http
from mcp_grpc.client import AsyncClient, LogEntry
from mcp_grpc.server import Context, McpApp
from tests.support.servers import running


def _app() -> McpApp:
    app = McpApp("logging-bridge")

    @app.tool()
    async def chatty(ctx: Context) -> str:
        """Logs at three levels."""
        await ctx.log("debug", "details")
        await asyncio.sleep(0.01)
        await ctx.log("info", {"step": 1}, logger="worker")
        await ctx.log("error", "failed once")
        return "done"

    return app


@pytest.fixture
async def url() -> AsyncIterator[str]:
    async with running(_app()) as server:
        backend = GrpcBackend.insecure_local(server.address, timeout=10)
        try:
            async with serve_http(build_bridge_server(backend), port=0) as endpoint:
                yield endpoint.url
        finally:
            await backend.close()


def _collector() -> tuple[list[types.LoggingMessageNotificationParams], object]:
    seen: list[types.LoggingMessageNotificationParams] = []

    async def on_log(params: types.LoggingMessageNotificationParams) -> None:
        seen.append(params)

    return seen, on_log


async def test_session_era_client_gets_every_log_message_in_order(url):
    seen, on_log = _collector()
    async with mcp.Client(url, mode="legacy", logging_callback=on_log) as client:
        result = await client.call_tool("chatty", {})
    assert result.content[0].text == "done"
    assert [(p.level, p.data, p.logger) for p in seen] == [
        ("debug", "details", None), ("info", {"step": 1}, "worker"), ("error", "failed once", None),
    ]


async def test_set_level_filters_what_the_session_gets(url):
    seen, on_log = _collector()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        async with mcp.Client(url, mode="legacy", logging_callback=on_log) as client:
            await client.set_logging_level("warning")
            await client.call_tool("chatty", {})
            await client.set_logging_level("debug")
            await client.call_tool("chatty", {})
    assert [p.level for p in seen] == ["error", "debug", "info", "error"]


async def test_modern_client_gets_logs_only_when_its_request_opts_in(url):
    quiet, on_quiet = _collector()
    async with mcp.Client(url, logging_callback=on_quiet) as client:
        assert (await client.call_tool("chatty", {})).content[0].text == "done"
    loud, on_loud = _collector()
    async with mcp.Client(url, logging_callback=on_loud, log_level="info") as client:
        await client.call_tool("chatty", {})
    assert quiet == []
    assert [p.level for p in loud] == ["info", "error"]


async def test_mounted_sdk_servers_ctx_log_reaches_the_grpc_caller():
    sdk = MCPServer("sdk-logging")

    @sdk.tool()
    async def sdk_chatty(ctx: SdkContext) -> str:
        """Logs through the SDK's Context."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            await ctx.info("from the SDK")
            await ctx.log("warning", {"n": 2}, logger_name="sdk")
            await ctx.info({1, 2})  # not JSON: logged locally, the tool still succeeds
        return "ok"

    app = McpApp("mounted-logging")
    mount_official(app, sdk)
    entries: list[LogEntry] = []
    async with running(app) as server, AsyncClient(server.address) as client:
        result = await client.call_tool("sdk_chatty", on_log=entries.append)
    assert not result.is_error and "ok" in result.text
    assert entries == [LogEntry("info", "from the SDK", None), LogEntry("warning", {"n": 2}, "sdk")]
