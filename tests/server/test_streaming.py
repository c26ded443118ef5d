"""McpStreaming: progress frames before exactly one final frame; cancellation reaches the handler; notifications."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server.entries import ResourceContent
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc, streaming_pb2, streaming_pb2_grpc


def _stream_request(name: str, **arguments) -> streaming_pb2.CallToolStreamRequest:
    request = streaming_pb2.CallToolStreamRequest()
    request.request.name = name
    request.request.arguments.update(arguments)
    return request


@pytest.mark.parametrize("tool", ["progress", "sync_progress"])
async def test_progress_frames_come_before_exactly_one_final_frame(server, tool):
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = streaming_pb2_grpc.McpStreamingStub(channel)
        frames = [frame async for frame in stub.CallToolStream(_stream_request(tool, steps=4), timeout=10)]
    kinds = [frame.WhichOneof("frame") for frame in frames]
    assert kinds == ["progress"] * 4 + ["result"]
    assert [frame.progress.progress for frame in frames[:4]] == [1, 2, 3, 4]
    assert all(frame.progress.total == 4 for frame in frames[:4])
    assert frames[-1].result.structured_content["result"] == 4


async def test_client_progress_callback(server):
    seen = []
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("progress", {"steps": 3}, progress=seen.append)
    assert [(u.progress, u.total, u.message) for u in seen] == [(1, 3, "step 1"), (2, 3, "step 2"), (3, 3, "step 3")]
    assert result.structured == {"result": 3}


async def test_stream_errors_are_statuses_like_call_tool(server):
    async with AsyncClient(server.address) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("no_such_tool", progress=lambda update: None)
        bad = await client.call_tool("progress", {"steps": "x"}, progress=lambda update: None)
    assert caught.value.status == grpc.StatusCode.NOT_FOUND and caught.value.mcp_code == -32602
    assert bad.is_error and "steps:" in bad.text


async def _wait(event: asyncio.Event, what: str) -> None:
    try:
        await asyncio.wait_for(event.wait(), timeout=10)
    except asyncio.TimeoutError:
        pytest.fail(f"timed out waiting for {what}")


@pytest.mark.parametrize("streaming", [False, True])
async def test_client_cancel_cancels_the_handler(server, observed, streaming):
    async with grpc.aio.insecure_channel(server.address) as channel:
        if streaming:
            call = streaming_pb2_grpc.McpStreamingStub(channel).CallToolStream(_stream_request("wait_forever"))
            reader = asyncio.ensure_future(call.read())
        else:
            request = pb.CallToolRequest()
            request.request.name = "wait_forever"
            call = mcp_pb2_grpc.McpStub(channel).CallTool(request)
            reader = asyncio.ensure_future(call)
        await _wait(observed.started, "the handler to start")
        call.cancel()
        await _wait(observed.cancelled, "the handler to observe its cancellation")
        reader.cancel()
        with pytest.raises((asyncio.CancelledError, grpc.aio.AioRpcError)):
            await reader


async def test_sync_handlers_see_cancellation_through_their_context(server, observed):
    async with AsyncClient(server.address) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("sync_wait", timeout=0.5)
    assert caught.value.status == grpc.StatusCode.DEADLINE_EXCEEDED
    assert observed.sync_started.is_set()
    assert await asyncio.to_thread(observed.sync_cancelled.wait, 10)


async def test_deadline_cancels_the_handler(server, observed):
    async with AsyncClient(server.address) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("wait_forever", timeout=0.5)
    assert caught.value.status == grpc.StatusCode.DEADLINE_EXCEEDED
    await _wait(observed.cancelled, "the handler to observe the deadline")


async def test_listen_acknowledges_then_sends_requested_notifications(app, server):
    async with AsyncClient(server.address) as client:
        events = client.listen(tools=True, prompts=False, resource_uris=["config://app"])
        assert await asyncio.wait_for(events.__anext__(), 10) == ("acknowledged", None)

        @app.prompt()
        def late_prompt() -> str:  # prompts were not asked for: no notification
            return "x"

        @app.tool()
        def late_tool() -> str:
            return "late"

        app.notify_resource_updated("files://not-subscribed")
        app.notify_resource_updated("config://app")
        received = [await asyncio.wait_for(events.__anext__(), 10) for _ in range(2)]
        await events.aclose()
        names = [tool.name for tool in await client.list_tools()]
    assert received == [("tools/list_changed", None), ("resources/updated", "config://app")]
    assert "late_tool" in names


async def test_resource_content_objects(app, server):
    @app.resource("multi://both")
    def both() -> list[ResourceContent]:
        return [ResourceContent("multi://both/a", text="A"), ResourceContent("multi://both/b", blob=b"B", mime_type="x/y")]

    async with AsyncClient(server.address) as client:
        contents = await client.read_resource("multi://both")
    assert [(c.uri, c.text, c.blob, c.mime_type) for c in contents] == [
        ("multi://both/a", "A", None, ""),
        ("multi://both/b", None, b"B", "x/y"),
    ]
