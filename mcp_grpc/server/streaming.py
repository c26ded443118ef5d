"""``mcp_grpc.v1.McpStreaming``: tool calls with progress, and change notifications, down the same pipeline.

``CallToolStream`` is ``CallTool``'s declaration run with a progress sink: progress and log frames while the tool
runs, in the order it sent them, then one result frame. ``Listen`` needs ``can_call`` on its method target (``method:<server>//mcp_grpc.v1.McpStreaming/
Listen``) and authorizes every resource subscription before its acknowledgement; one caller (SPIFFE ID) holds at
most ``max_listen_streams`` of them (RESOURCE_EXHAUSTED beyond). It ends with OK when the server shuts down. Both
streams end UNAUTHENTICATED, audited, when the caller's certificate or token expires while they are open.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import grpc

from mcp_grpc import wire
from mcp_grpc.contract import AuditDecision, TargetKind
from mcp_grpc.server.call import Call, Rejected, abort
from mcp_grpc.server.context import LogMessage, Progress
from mcp_grpc.server.in_flight import InFlight
from mcp_grpc.server.registry import Notification, offer
from mcp_grpc.server.servicer import McpServicer
from mcp_grpc.server.stream_limits import (
    DEFAULT_MAX_LISTEN_STREAMS,
    EXPIRED,
    credential_deadline,
    credential_expired,
    next_item,
    too_many_streams,
)
from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc
from mcp_grpc.wire.structs import python_to_value

__all__ = ["LISTEN_METHOD", "McpStreamingServicer"]

#: The name of Listen's METHOD target (the policy's default object is ``method:<server>/<this name>``).
LISTEN_METHOD = f"/{wire.STREAMING_SERVICE}/Listen"

_END = object()


async def _end_expired(call: Call, context: Any) -> None:
    """End a stream whose caller's credential expired: audited (a new record when the call's own one was written
    already), then UNAUTHENTICATED. Always raises."""
    assert call.principal is not None
    rejected = credential_expired(call.principal)
    (call.successor() if call.done else call).fail(rejected)
    await abort(context, rejected)


def _frame(item: Progress | LogMessage) -> streaming_pb2.CallToolStreamResponse:
    """The CallToolStream frame of one progress report or log message."""
    frame = streaming_pb2.CallToolStreamResponse()
    if isinstance(item, LogMessage):
        frame.log.level = streaming_pb2.LoggingLevel.Value("LOGGING_LEVEL_" + item.level.upper())
        if item.logger:
            frame.log.logger = item.logger
        python_to_value(item.data, frame.log.data)
        return frame
    frame.progress.progress = item.progress
    if item.total is not None:
        frame.progress.total = item.total
    if item.message:
        frame.progress.message = item.message
    return frame


class McpStreamingServicer(streaming_pb2_grpc.McpStreamingServicer):
    """``mcp_grpc.v1.McpStreaming``: tool calls with progress, and change notifications."""

    def __init__(self, mcp: McpServicer, *, max_listen_streams: int | None = DEFAULT_MAX_LISTEN_STREAMS) -> None:
        self.mcp = mcp
        self.pipeline = mcp.pipeline
        self.registry = mcp.registry
        self._listeners: set[tuple[Any, asyncio.Queue]] = set()
        #: Open Listen streams per SPIFFE ID (``max_listen_streams`` None: counted, unbounded).
        self.listen_streams = InFlight(max_listen_streams)

    def close(self) -> None:
        """End every Listen stream with OK (the server is shutting down; clients reconnect elsewhere)."""
        for loop, queue in list(self._listeners):
            loop.call_soon_threadsafe(offer, queue, (_END, None))

    async def CallToolStream(self, request: streaming_pb2.CallToolStreamRequest, context: Any):  # type: ignore[override]
        pipeline = self.pipeline
        call = await pipeline.admit(context, wire.STREAMING_SERVICE, "CallToolStream")
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        queue: asyncio.Queue = asyncio.Queue()

        def sink(update: Progress | LogMessage) -> None:
            if threading.get_ident() == loop_thread:
                queue.put_nowait(update)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, update)

        task = asyncio.ensure_future(pipeline.run(call, self.mcp.call_tool, request, context, sink))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        deadline = credential_deadline(call.principal)
        try:
            while True:
                item = await next_item(queue, deadline)
                if item is EXPIRED:
                    task.cancel()
                    await _end_expired(call, context)
                if item is _END:
                    break
                yield _frame(item)
            try:
                result = task.result()
            except Exception as exc:  # noqa: BLE001
                await pipeline.reject(call, context, exc)
                return
            final = streaming_pb2.CallToolStreamResponse()
            final.result.CopyFrom(result)
            yield final
        finally:
            if not task.done():
                task.cancel()
                call.fail(Rejected.cancelled())

    async def Listen(self, request: streaming_pb2.ListenRequest, context: Any):  # type: ignore[override]
        pipeline = self.pipeline
        call = await pipeline.admit(context, wire.STREAMING_SERVICE, "Listen")
        assert call.principal is not None
        caller = call.principal.spiffe_id
        wanted = request.notifications
        subscriptions = list(dict.fromkeys(wanted.resource_subscriptions))
        streams = self.listen_streams
        try:
            await pipeline.authorize(call, pipeline.target(call, TargetKind.METHOD, LISTEN_METHOD))
            visible = set(await pipeline.visible(call, TargetKind.RESOURCE, subscriptions))
            denied = [uri for uri in subscriptions if uri not in visible]
            if denied:
                raise Rejected(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"not allowed to subscribe to resource {denied[0][:256]!r}",
                    AuditDecision.DENY,
                )
            if not streams.acquire(caller):
                assert streams.limit is not None
                raise too_many_streams(caller, streams.limit)
        except Exception as exc:  # noqa: BLE001
            await pipeline.reject(call, context, exc)
        try:  # the slot is held from here: released however the stream ends
            async with contextlib.aclosing(self._notifications(call, context, wanted, subscriptions)) as frames:
                async for frame in frames:
                    yield frame
        finally:
            streams.release(caller)

    async def _notifications(self, call: Call, context: Any, wanted: Any, subscriptions: list[str]):
        """The acknowledgement, then the notifications asked for, until shutdown or the credential's expiry."""
        entry = self.registry.subscribe()
        self._listeners.add(entry)
        try:
            ack = streaming_pb2.ListenResponse()
            ack.acknowledged.notifications.CopyFrom(wanted)
            call.finish()
            yield ack
            kinds = {
                Notification.TOOLS_CHANGED: wanted.tools_list_changed,
                Notification.PROMPTS_CHANGED: wanted.prompts_list_changed,
                Notification.RESOURCES_CHANGED: wanted.resources_list_changed,
            }
            subscribed = set(subscriptions)
            queue = entry[1]
            deadline = credential_deadline(call.principal)
            while True:
                item = await next_item(queue, deadline)
                if item is EXPIRED:
                    await _end_expired(call, context)
                kind, uri = item
                if kind is _END:
                    return
                frame = streaming_pb2.ListenResponse()
                if kind == Notification.RESOURCE_UPDATED:
                    if uri not in subscribed:
                        continue
                    frame.resource_updated.uri = uri
                elif not kinds.get(kind):
                    continue
                elif kind == Notification.TOOLS_CHANGED:
                    frame.tools_list_changed.SetInParent()
                elif kind == Notification.PROMPTS_CHANGED:
                    frame.prompts_list_changed.SetInParent()
                else:
                    frame.resources_list_changed.SetInParent()
                yield frame
        finally:
            self._listeners.discard(entry)
            self.registry.unsubscribe(entry)
