"""Context.log: log frames on CallToolStream, interleaved with progress in the order sent; a no-op on CallTool."""

from __future__ import annotations

import grpc
import pytest

from mcp_grpc.client import AsyncClient, LogEntry
from mcp_grpc.server import Context, McpApp
from mcp_grpc.server.context import LOG_LEVELS, MAX_LOG_BYTES
from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc
from tests.support.servers import running


def _app() -> McpApp:
    app = McpApp("logging-server")

    @app.tool()
    async def chatty(ctx: Context) -> str:
        """Logs, reports progress, logs again."""
        await ctx.log("info", "started")
        ctx.report_progress(1, 2)
        ctx.log("warning", {"step": 1, "items": [1, "two", None]}, logger="worker")
        await ctx.report_progress(2, 2)
        await ctx.log("debug", 42)
        return "done"

    @app.tool()
    def sync_chatty(ctx: Context) -> str:
        """Logs from the thread pool."""
        for level in LOG_LEVELS:
            ctx.log(level, f"at {level}")
        return "done"

    @app.tool()
    def bad_log(kind: str, ctx: Context) -> str:
        """Logs something the protocol cannot carry; reports the ValueError's message."""
        data = {"level": ("loud", "x"), "data": ("info", {1, 2}), "big": ("info", "x" * (MAX_LOG_BYTES + 1)),
                "nan": ("info", float("nan")), "logger": ("info", "x")}[kind]
        try:
            ctx.log(*data, logger=7 if kind == "logger" else None)  # type: ignore[arg-type]
        except ValueError as error:
            return f"ValueError: {error}"
        return "logged"

    return app


@pytest.fixture
async def server():
    async with running(_app()) as started:
        yield started


async def test_log_frames_interleave_with_progress_in_order(server):
    request = streaming_pb2.CallToolStreamRequest()
    request.request.name = "chatty"
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = streaming_pb2_grpc.McpStreamingStub(channel)
        frames = [frame async for frame in stub.CallToolStream(request, timeout=10)]
    assert [frame.WhichOneof("frame") for frame in frames] == ["log", "progress", "log", "progress", "log", "result"]
    first, second = frames[0].log, frames[2].log
    assert first.level == streaming_pb2.LOGGING_LEVEL_INFO and first.data.string_value == "started" and not first.logger
    assert second.level == streaming_pb2.LOGGING_LEVEL_WARNING and second.logger == "worker"
    assert not frames[-1].result.is_error and frames[1].progress.progress == 1


async def test_client_on_log_gets_entries_and_selects_the_stream(server):
    logs: list[LogEntry] = []
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("chatty", on_log=logs.append)
        unary = await client.call_tool("chatty")  # no callback: CallTool, where log is a no-op
    assert result.text == "done" and unary.text == "done"
    assert logs == [
        LogEntry("info", "started", None),
        LogEntry("warning", {"step": 1, "items": [1, "two", None]}, "worker"),
        LogEntry("debug", 42, None),
    ]


async def test_every_level_from_a_sync_handler(server):
    seen: list[LogEntry] = []

    async def on_log(entry: LogEntry) -> None:  # an async callback is awaited
        seen.append(entry)

    async with AsyncClient(server.address) as client:
        await client.call_tool("sync_chatty", on_log=on_log)
    assert [(e.level, e.data) for e in seen] == [(level, f"at {level}") for level in LOG_LEVELS]


async def test_progress_only_callers_do_not_see_logs(server):
    updates = []
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("chatty", progress=updates.append)
    assert [u.progress for u in updates] == [1, 2] and result.text == "done"


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("level", "log level must be one of debug, info"),
        ("data", "log data must be a JSON value"),
        ("nan", "log data must be a JSON value"),
        ("big", f"at most {MAX_LOG_BYTES}"),
        ("logger", "logger must be a string"),
    ],
)
async def test_bad_log_calls_are_value_errors(server, kind, message):
    logs: list[LogEntry] = []
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("bad_log", {"kind": kind}, on_log=logs.append)
    assert result.text.startswith("ValueError: ") and message in result.text
    assert logs == []
