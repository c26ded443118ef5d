"""subscriptions/listen through the bridge: one MCP listen stream is one gRPC ``McpStreaming.Listen`` stream.

The stream has the same filter (and the same authorization of resource subscriptions, as the bridge). The gRPC stream
ending ends the MCP stream gracefully; the client re-listens and refetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Callable

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import PromptsListChanged, ResourcesListChanged, ResourceUpdated, ToolsListChanged

from mcp_grpc.bridge.errors import jsonrpc_error, status_text, unreachable
from mcp_grpc.client import AsyncClient, McpCallError

if TYPE_CHECKING:
    from mcp_grpc.bridge.gateway import GrpcBackend

__all__ = ["forward_listen"]

log = logging.getLogger("mcp_grpc.bridge")

_EVENTS: dict[str, Callable[[str | None], Any]] = {
    "tools/list_changed": lambda _uri: ToolsListChanged(),
    "prompts/list_changed": lambda _uri: PromptsListChanged(),
    "resources/list_changed": lambda _uri: ResourcesListChanged(),
    "resources/updated": lambda uri: ResourceUpdated(uri=uri or ""),
}


class _StreamBus:
    """The ``SubscriptionBus`` of ONE listen stream: holds events until the SDK's ``ListenHandler`` subscribes (it
    does so before acknowledging), then delivers them in order; nothing published in between is lost."""

    def __init__(self, max_pending: int = 1024) -> None:
        self._listeners: dict[object, Callable[[Any], None]] = {}
        self._pending: list[Any] = []
        self._max_pending = max_pending

    async def publish(self, event: Any) -> None:
        if not self._listeners:
            if len(self._pending) < self._max_pending:
                self._pending.append(event)
            return
        for listener in list(self._listeners.values()):
            listener(event)

    def subscribe(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener
        pending, self._pending = self._pending, []
        for event in pending:
            listener(event)
        return lambda: self._listeners.pop(token, None)


async def forward_listen(
    backend: GrpcBackend, ctx: ServerRequestContext, params: types.SubscriptionsListenRequestParams,
    client: AsyncClient | None = None,
) -> types.SubscriptionsListenResult:
    """Serve one MCP listen stream from one gRPC listen stream opened through ``client`` (default: the bridge's)."""
    wanted = params.notifications
    events = (client or backend.client()).listen(
        tools=bool(wanted.tools_list_changed),
        prompts=bool(wanted.prompts_list_changed),
        resources=bool(wanted.resources_list_changed),
        resource_uris=list(wanted.resource_subscriptions or ()),
    )
    try:
        await anext(events)  # the server's acknowledgement: from here on no change is missed
    except McpCallError as error:
        await events.aclose()
        raise jsonrpc_error(error) from None
    except StopAsyncIteration:
        ended = "UNAVAILABLE: the server ended the listen stream"
        raise MCPError(code=types.INTERNAL_ERROR, message=ended) from None
    except Exception as error:  # noqa: BLE001 - no channel (identity gone)
        await events.aclose()
        raise jsonrpc_error(unreachable(error)) from None
    bus = _StreamBus()
    handler = ListenHandler(bus, max_subscriptions=1)

    async def pump() -> None:
        try:
            async for kind, uri in events:
                make = _EVENTS.get(kind)
                if make is not None:
                    await bus.publish(make(uri))
        except McpCallError as error:
            log.info("listen stream from %s ended: %s", backend.address, status_text(error))
        finally:
            handler.close()  # graceful end of the MCP stream: the client re-listens and refetches

    forwarding = asyncio.ensure_future(pump())
    try:
        return await handler(ctx, params)
    finally:
        forwarding.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await forwarding
        await events.aclose()
