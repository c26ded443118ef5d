"""Session-era methods the bridge answers itself (logging/setLevel, resources/subscribe and unsubscribe) and the
bounded event store behind resumable SSE streams."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import mcp
import mcp_types as types
import pytest

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.bridge.event_store import BoundedEventStore
from mcp_grpc.server import McpApp
from tests.support.servers import running


@pytest.fixture
async def app_and_url() -> AsyncIterator[tuple[McpApp, str]]:
    app = McpApp("session-methods")

    @app.resource("config://app", mime_type="text/plain")
    def config() -> str:
        return "v1"

    async with running(app) as server:
        backend = GrpcBackend.insecure_local(server.address, timeout=10)
        try:
            async with serve_http(build_bridge_server(backend), port=0) as endpoint:
                yield app, endpoint.url
        finally:
            await backend.close()


async def test_subscribed_session_gets_updates_of_its_uri_until_it_unsubscribes(app_and_url):
    app, url = app_and_url
    updates: asyncio.Queue[str] = asyncio.Queue()

    async def on_message(message) -> None:
        if isinstance(message, types.ResourceUpdatedNotification):
            await updates.put(str(message.params.uri))

    async with mcp.Client(url, mode="legacy", message_handler=on_message) as client:
        await client.set_logging_level("debug")  # accepted
        await client.subscribe_resource("config://app")
        app.notify_resource_updated("config://other")
        app.notify_resource_updated("config://app")
        assert await asyncio.wait_for(updates.get(), 10) == "config://app"
        await client.unsubscribe_resource("config://app")
        app.notify_resource_updated("config://app")
        await asyncio.sleep(0.3)
        assert updates.empty()


async def test_event_store_replays_one_stream_after_an_id_and_keeps_only_the_newest():
    store = BoundedEventStore(max_events=3)
    message = types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={})
    priming = await store.store_event("a", None)
    first = await store.store_event("a", message)
    await store.store_event("b", message)
    await store.store_event("a", message)
    assert len(store) == 3  # the priming event was dropped first
    replayed = []

    async def send(event) -> None:
        replayed.append(event.event_id)

    assert await store.replay_events_after(priming, send) == "a"
    assert replayed == [first, "a/4"]
    assert await store.replay_events_after("not-an-id", send) is None
