"""``mcp_grpc.v1.McpStreaming``: tool calls with progress, and change notifications, down the same pipeline.

``CallToolStream`` is ``CallTool``'s declaration run with a progress sink: progress frames while the tool runs, then
one result frame. ``Listen`` authorizes every resource subscription before its acknowledgement and ends with OK when
the server shuts down.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import grpc

from mcp_grpc import wire
from mcp_grpc.contract import AuditDecision, TargetKind
from mcp_grpc.server.call import Rejected
from mcp_grpc.server.context import Progress
from mcp_grpc.server.registry import Notification, offer
from mcp_grpc.server.servicer import McpServicer
from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc

__all__ = ["McpStreamingServicer"]

_END = object()


class McpStreamingServicer(streaming_pb2_grpc.McpStreamingServicer):
    """``mcp_grpc.v1.McpStreaming``: tool calls with progress, and change notifications."""

    def __init__(self, mcp: McpServicer) -> None:
        self.mcp = mcp
        self.pipeline = mcp.pipeline
        self.registry = mcp.registry
        self._listeners: set[tuple[Any, asyncio.Queue]] = set()

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

        def sink(progress: Progress) -> None:
            if threading.get_ident() == loop_thread:
                queue.put_nowait(progress)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, progress)

        task = asyncio.ensure_future(pipeline.run(call, self.mcp.call_tool, request, context, sink))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                frame = streaming_pb2.CallToolStreamResponse()
                frame.progress.progress = item.progress
                if item.total is not None:
                    frame.progress.total = item.total
                if item.message:
                    frame.progress.message = item.message
                yield frame
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
        wanted = request.notifications
        subscriptions = list(dict.fromkeys(wanted.resource_subscriptions))
        try:
            visible = set(await pipeline.visible(call, TargetKind.RESOURCE, subscriptions))
            denied = [uri for uri in subscriptions if uri not in visible]
            if denied:
                raise Rejected(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"not allowed to subscribe to resource {denied[0][:256]!r}",
                    AuditDecision.DENY,
                )
        except Exception as exc:  # noqa: BLE001
            await pipeline.reject(call, context, exc)
        call.target = pipeline.target(call, TargetKind.METHOD, f"/{wire.STREAMING_SERVICE}/Listen")
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
            while True:
                kind, uri = await queue.get()
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
