"""The session-era (2025-11-25 and earlier) methods the bridge answers itself: logging/setLevel and
resources/subscribe / resources/unsubscribe.

- ``logging/setLevel`` records the session's level (:class:`LogLevels`): the log messages a tool sends on
  CallToolStream are forwarded to the session as ``notifications/message`` only at that level and above (every level
  before the session sets one). The bridge remembers at most :data:`MAX_LOG_LEVEL_SESSIONS` sessions' levels; a
  forgotten session gets every level again.
- ``resources/subscribe`` opens one gRPC ``McpStreaming.Listen`` stream for that URI (authorized as the bridge, like
  every call) and forwards each ``resources/updated`` to the session that subscribed; ``resources/unsubscribe``
  closes it. A session holds at most :data:`MAX_PER_SESSION` subscriptions, and its streams end with it (the first
  notification that cannot be delivered ends the stream).

2026-07-28 clients have no such methods (the SDK answers them 404 / -32601): they use subscriptions/listen.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import TYPE_CHECKING, Any, Callable

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from mcp_grpc.bridge.errors import jsonrpc_error, status_text, unreachable
from mcp_grpc.client import AsyncClient, McpCallError

if TYPE_CHECKING:
    from mcp_grpc.bridge.gateway import GrpcBackend

__all__ = ["LOG_LEVELS", "MAX_LOG_LEVEL_SESSIONS", "MAX_PER_SESSION", "LogLevels", "ResourceSubscriptions"]

log = logging.getLogger("mcp_grpc.bridge")

#: Resource subscriptions one MCP session may hold at once (each is one gRPC stream).
MAX_PER_SESSION = 64


#: How many sessions' logging/setLevel levels the bridge remembers (the least recently set are forgotten first).
MAX_LOG_LEVEL_SESSIONS = 10_000

#: The protocol's log levels, lowest first.
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")


class LogLevels:
    """The level each session asked for with logging/setLevel, and whether a log message reaches it."""

    def __init__(self, limit: int = MAX_LOG_LEVEL_SESSIONS) -> None:
        self._limit = limit
        self._levels: collections.OrderedDict[Any, int] = collections.OrderedDict()

    async def set_level(self, ctx: ServerRequestContext, params: types.SetLevelRequestParams) -> types.EmptyResult:
        key = _session_key(ctx)
        self._levels[key] = LOG_LEVELS.index(params.level)  # the SDK validated it against the protocol's levels
        self._levels.move_to_end(key)
        while len(self._levels) > self._limit:
            self._levels.popitem(last=False)
        return types.EmptyResult()

    def allows(self, ctx: ServerRequestContext, level: str) -> bool:
        """Whether a message at ``level`` goes to this request's session (every level until it sets one)."""
        if level not in LOG_LEVELS:
            return False
        return LOG_LEVELS.index(level) >= self._levels.get(_session_key(ctx), 0)


class ResourceSubscriptions:
    """resources/subscribe and resources/unsubscribe of every session of one bridge."""

    def __init__(self, backend: GrpcBackend, caller: Callable[[ServerRequestContext], AsyncClient]) -> None:
        self._backend = backend
        self._caller = caller
        # session key -> uri -> the task forwarding that URI's updates (a task removes itself when it ends).
        self._streams: dict[Any, dict[str, asyncio.Task]] = {}

    async def subscribe(self, ctx: ServerRequestContext, params: types.SubscribeRequestParams) -> types.EmptyResult:
        uri = str(params.uri)
        session = ctx.session
        key = _session_key(ctx)
        streams = self._streams.setdefault(key, {})
        if uri in streams and not streams[uri].done():
            return types.EmptyResult()
        if len(streams) >= MAX_PER_SESSION:
            raise MCPError(code=types.INVALID_REQUEST,
                           message=f"at most {MAX_PER_SESSION} resource subscriptions per session")
        events = self._caller(ctx).listen(tools=False, prompts=False, resources=False, resource_uris=[uri])
        try:
            await anext(events)  # acknowledged: from here on no update is missed
        except McpCallError as error:
            await events.aclose()
            raise jsonrpc_error(error) from None
        except StopAsyncIteration:
            raise MCPError(code=types.INTERNAL_ERROR, message="UNAVAILABLE: the server ended the listen stream") from None
        except Exception as error:  # noqa: BLE001 - no channel (identity gone)
            await events.aclose()
            raise jsonrpc_error(unreachable(error)) from None
        streams[uri] = asyncio.ensure_future(self._forward(key, session, uri, events))
        return types.EmptyResult()

    async def unsubscribe(self, ctx: ServerRequestContext, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        task = self._streams.get(_session_key(ctx), {}).pop(str(params.uri), None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        return types.EmptyResult()

    async def close(self) -> None:
        """Stop every forwarding stream (the bridge is stopping)."""
        tasks = [task for streams in list(self._streams.values()) for task in streams.values()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _forward(self, key: Any, session: Any, uri: str, events: Any) -> None:
        try:
            async for kind, updated in events:
                if kind == "resources/updated":
                    await session.send_resource_updated(updated or uri)
        except McpCallError as error:
            log.info("resource subscription %.200r ended: %s", uri, status_text(error))
        except Exception as error:  # noqa: BLE001 - the session is gone: nobody to tell
            log.debug("resource subscription %.200r ended: %s", uri, type(error).__name__)
        finally:
            await events.aclose()
            streams = self._streams.get(key)
            if streams is not None and streams.get(uri) is asyncio.current_task():
                del streams[uri]
                if not streams:
                    del self._streams[key]


def _session_key(ctx: ServerRequestContext) -> Any:
    """Which session a request belongs to: its ``Mcp-Session-Id`` on HTTP (each request gets its own session wrapper
    there), else the session object itself (stdio has one)."""
    headers = getattr(ctx.request, "headers", None)
    session_id = headers.get("mcp-session-id") if headers is not None else None
    return ("http", session_id) if session_id else ("session", id(ctx.session))
