"""The per-call context a handler receives when one of its parameters is annotated ``Context``."""

from __future__ import annotations

import contextvars
import dataclasses
import threading
from typing import Any, Callable, Mapping

from mcp_grpc.contract import Principal


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """One progress notification: ``progress`` increases; ``total`` when known."""

    progress: float
    total: float | None = None
    message: str | None = None


class _Done:
    """Returned by ``report_progress`` so that both ``ctx.report_progress(...)`` and ``await ...`` work."""

    __slots__ = ()

    def __await__(self):  # type: ignore[no-untyped-def]
        return iter(())


_DONE = _Done()


class Context:
    """What a handler may know about its call: who called, what they sent alongside, and whether they gave up.

    - ``principal``: the authenticated caller (an insecure-local principal in ``--insecure-local`` mode).
    - ``metadata``: the gRPC invocation metadata, lower-case keys, text values only.
    - ``request_meta``: the MCP envelope's ``RequestFields.metadata`` as a dict.
    - ``report_progress(progress, total=None, message=None)``: streamed to the caller on ``CallToolStream``; a no-op
      on unary ``CallTool``. Safe from async handlers and from sync handlers running in the thread pool.
    - ``cancelled`` / ``cancel_event``: set when the client cancels or the deadline passes. Async handlers are also
      cancelled (``asyncio.CancelledError`` is raised at their next await); sync handlers should poll.
    """

    __slots__ = (
        "principal",
        "metadata",
        "request_meta",
        "method",
        "peer",
        "server_name",
        "_cancelled",
        "_cancel_event",
        "_grpc_context",
        "_progress_sink",
    )

    def __init__(
        self,
        *,
        principal: Principal,
        metadata: Mapping[str, str],
        method: str,
        peer: str = "",
        server_name: str = "",
        request_meta: Mapping[str, Any] | None = None,
        grpc_context: Any = None,
        progress_sink: Callable[[Progress], None] | None = None,
    ) -> None:
        self.principal = principal
        self.metadata = metadata
        self.request_meta: Mapping[str, Any] = request_meta or {}
        self.method = method
        self.peer = peer
        self.server_name = server_name
        self._cancelled = False
        self._cancel_event: threading.Event | None = None  # created on first use: most handlers never ask
        self._grpc_context = grpc_context
        self._progress_sink = progress_sink

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def cancel_event(self) -> threading.Event:
        """Set when the call is cancelled; a sync handler may ``wait()`` on it. Safe to fetch from any thread."""
        event = self._cancel_event
        if event is None:
            event = threading.Event()
            self._cancel_event = event
            # Written before reading _cancelled (cancel() does the reverse), so one of the two always sees the other.
            if self._cancelled:
                event.set()
        return self._cancel_event

    def cancel(self) -> None:
        """Mark the call cancelled (the framework calls this on client cancel or deadline)."""
        self._cancelled = True
        event = self._cancel_event
        if event is not None:
            event.set()

    def time_remaining(self) -> float | None:
        """Seconds until the caller's deadline, or None when it set none."""
        if self._grpc_context is None:
            return None
        return self._grpc_context.time_remaining()

    @property
    def grpc_context(self) -> Any:
        """The underlying ``grpc.aio.ServicerContext`` (an escape hatch; prefer the fields above)."""
        return self._grpc_context

    def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> _Done:
        if self._progress_sink is not None:
            self._progress_sink(Progress(float(progress), None if total is None else float(total), message))
        return _DONE


_CURRENT: contextvars.ContextVar[Context | None] = contextvars.ContextVar("mcp_grpc_context", default=None)


def current_context() -> Context | None:
    """The ``Context`` of the call being served; for code that cannot take a Context parameter (proto servicers)."""
    return _CURRENT.get()
