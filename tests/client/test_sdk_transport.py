"""mcp_grpc.sdk on a real loopback server (insecure-local): cancellation reaches the gRPC call, change notifications
ride McpStreaming.Listen (subscriptions/listen and resources/subscribe), paging, completion and templates."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp import ClientSession
from mcp.client.subscriptions import listen
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ResourceUpdated, ToolsListChanged

import mcp_grpc.sdk
from mcp_grpc.client import AsyncClient
from mcp_grpc.server import Context
from tests.client.client_support import small_app
from tests.support.servers import running

pytestmark = pytest.mark.asyncio


def app_with_a_slow_tool() -> tuple[Any, dict[str, asyncio.Event]]:
    app = small_app()
    events = {"started": asyncio.Event(), "cancelled": asyncio.Event()}

    @app.tool()
    async def wait_forever(ctx: Context) -> str:
        """Runs until its call is cancelled."""
        events["started"].set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            events["cancelled"].set()
            raise
        return "never"

    @app.resource("reports://{bucket}/{name}")
    def report(bucket: str, name: str) -> str:
        return f"{bucket}/{name}"

    return app, events


async def test_cancelling_a_request_cancels_its_grpc_call():
    app, events = app_with_a_slow_tool()
    async with running(app) as server, mcp_grpc.sdk.connect(server.address) as session:
        with anyio.move_on_after(10) as waiting:
            async with anyio.create_task_group() as group:
                group.start_soon(session.call_tool, "wait_forever", {})
                await events["started"].wait()
                group.cancel_scope.cancel()  # the session sends notifications/cancelled for the abandoned request
            await events["cancelled"].wait()
        assert not waiting.cancelled_caught, "the server's handler was not cancelled"
        with pytest.raises(MCPError) as timed_out:  # a read timeout is an abandoned request too
            await session.call_tool("wait_forever", {}, read_timeout_seconds=0.3)
        assert timed_out.value.error.code == types.REQUEST_TIMEOUT
        assert (await session.call_tool("count", {"n": 2})).structured_content == {"result": 2}


async def test_lists_follow_cursors_and_completion_and_templates_are_served():
    app, _ = app_with_a_slow_tool()
    async with running(app, page_size=3) as server, mcp_grpc.sdk.connect(server.address) as session:
        names = [tool.name for tool in (await session.list_tools()).tools]
        assert len(names) == 10 and "count" in names and "filler_6" in names
        templates = (await session.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["reports://{bucket}/{name}"]
        read = await session.read_resource("reports://q3/a.txt")
        assert read.contents[0].text == "q3/a.txt"  # type: ignore[union-attr]
        completed = await session.complete(types.PromptReference(type="ref/prompt", name="ask"),
                                           {"name": "question", "value": "wh"})
        assert completed.completion.values == ["why?", "what?"]
        updates: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            updates.append(progress)

        await session.call_tool("count", {"n": 3}, progress_callback=on_progress)
        assert updates == [1.0, 2.0, 3.0]


async def test_subscriptions_listen_rides_the_listen_stream():
    app, _ = app_with_a_slow_tool()
    async with running(app) as server, mcp_grpc.sdk.connect(server.address) as session:
        async with listen(session, tools_list_changed=True, resource_subscriptions=["text://hello"]) as subscription:
            app.notify("tools/list_changed")
            app.notify_resource_updated("text://hello")
            received = []
            with anyio.fail_after(10):
                async for event in subscription:
                    received.append(event)
                    if len(received) == 2:
                        break
        assert set(received) == {ToolsListChanged(), ResourceUpdated(uri="text://hello")}


async def test_resources_subscribe_of_a_2025_session_gets_updated_notifications():
    app, _ = app_with_a_slow_tool()
    updated = asyncio.Queue[str]()

    async def on_message(message: Any) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            updated.put_nowait(str(message.params.uri))

    async with running(app) as server, mcp_grpc.sdk.connect(
        server.address, negotiate="initialize", message_handler=on_message
    ) as session:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # resources/subscribe is deprecated at 2026-07-28, not at 2025-11-25
            await session.subscribe_resource("text://hello")
            app.notify_resource_updated("text://hello")
            assert await asyncio.wait_for(updated.get(), 10) == "text://hello"
            await session.unsubscribe_resource("text://hello")


async def test_a_session_built_on_the_transport_with_callbacks_is_refused_at_the_2025_handshake():
    """A 2025-11-25 session with callbacks learns at initialize that no server-to-client requests come, instead of
    waiting for them; at 2026-07-28 (discover) input requests are InputRequiredResult, so discover accepts them."""

    async def sample(context: Any, params: Any) -> Any:
        raise AssertionError("never called")

    async with running(small_app()) as server:
        client = AsyncClient(server.address, timeout=5)
        try:
            transport = mcp_grpc.sdk.GrpcTransport(client, mcp_grpc.sdk.ServerInfo("client-test"))
            async with transport as (read, write), ClientSession(read, write, sampling_callback=sample) as session:
                with pytest.raises(MCPError) as refused:
                    await session.initialize()
                assert refused.value.error.code == types.INVALID_REQUEST and "sampling" in refused.value.error.message
                assert (await session.discover()).supported_versions == ["2026-07-28"]
            async with transport as (read, write), ClientSession(read, write) as session:
                assert (await session.discover()).supported_versions == ["2026-07-28"]
        finally:
            await client.close()
