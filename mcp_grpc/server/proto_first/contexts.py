"""The ``ServicerContext`` a proto-first method sees when it runs as an MCP tool or in the handler thread pool.

``ToolServicerContext``: the MCP call's context, where ``abort`` becomes a tool error. ``SyncServicerContext``: a
grpc.aio context usable from a worker thread (``abort`` raises ``ServicerAborted``, applied on the event loop).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import inspect
from typing import Any, Callable

import grpc

from mcp_grpc.server.context import Context

__all__ = ["ServicerAborted", "SyncServicerContext", "ToolServicerContext", "run_method"]

class ToolServicerContext:
    """What a servicer method sees when it runs as an MCP tool: the calling RPC's context, except that ``abort``
    and a non-OK ``set_code`` end the tool call with a tool error instead of ending the CallTool RPC."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._grpc = ctx.grpc_context
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> Any:
        raise ServicerAborted(code, details)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def invocation_metadata(self) -> Any:
        return self._grpc.invocation_metadata() if self._grpc is not None else ()

    def peer(self) -> str:
        return self._ctx.peer

    def auth_context(self) -> Any:
        return self._grpc.auth_context() if self._grpc is not None else {}

    def time_remaining(self) -> float | None:
        return self._ctx.time_remaining()

    def cancelled(self) -> bool:
        return self._ctx.cancelled

    def is_active(self) -> bool:
        return not self._ctx.cancelled

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass

    async def send_initial_metadata(self, metadata: Any) -> None:
        pass

    @property
    def mcp(self) -> Context:
        return self._ctx


class ServicerAborted(Exception):
    """Raised by ``abort`` of the contexts handed to servicer methods outside the event loop."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


class SyncServicerContext:
    """What a synchronous servicer method sees on a typed call (it runs in the handler thread pool).

    grpc.aio's context cannot be used from another thread: its ``abort`` is a coroutine that would never be
    awaited. Here ``abort`` raises ``ServicerAborted`` and the event loop side ends the call with that status;
    ``set_code``, ``set_details`` and ``set_trailing_metadata`` are recorded and applied when the method returns.
    Everything else reads the aio context."""

    def __init__(self, context: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._context = context
        self._loop = loop
        self.code: grpc.StatusCode | None = None
        self.details: str | None = None
        self.trailing_metadata: Any = None

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        raise ServicerAborted(code, details, trailing_metadata)

    def abort_with_status(self, status: Any) -> None:
        raise ServicerAborted(status.code, status.details, status.trailing_metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def set_trailing_metadata(self, metadata: Any) -> None:
        self.trailing_metadata = metadata

    def send_initial_metadata(self, metadata: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._context.send_initial_metadata(metadata), self._loop).result()

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    def peer(self) -> str:
        return self._context.peer()

    def auth_context(self) -> Any:
        return self._context.auth_context()

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def cancelled(self) -> bool:
        return self._context.cancelled()

    def is_active(self) -> bool:
        return not self._context.done()

    def apply(self) -> None:
        """Copy what the method recorded onto the aio context (on the event loop, after the method returned)."""
        if self.trailing_metadata is not None:
            self._context.set_trailing_metadata(self.trailing_metadata)
        if self.code is not None:
            self._context.set_code(self.code)
        if self.details is not None:
            self._context.set_details(self.details)


async def run_method(
    fn: Callable[..., Any], request: Any, context: Any, executor: concurrent.futures.Executor | None
) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(request, context)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, contextvars.copy_context().run, functools.partial(fn, request, context))


