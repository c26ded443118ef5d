"""The per-call context a handler receives when one of its parameters is annotated ``Context``."""

from __future__ import annotations

import contextvars
import dataclasses
import json
import threading
from typing import Any, Callable, Mapping, Sequence

from mcp_grpc.contract import Principal
from mcp_grpc.wire.errors import missing_capabilities
from mcp_grpc.contract.inputs import Answer, Elicit, ElicitAnswer, InputRequest, ListRoots, Root, Sample, SampleAnswer

_CAPABILITY = {"elicitation/create": "elicitation", "sampling/createMessage": "sampling", "roots/list": "roots"}

#: Where a 2026-07-28 request's ``_meta`` carries the client's capabilities.
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"


@dataclasses.dataclass(frozen=True, slots=True)
class Progress:
    """One progress notification: ``progress`` increases; ``total`` when known."""

    progress: float
    total: float | None = None
    message: str | None = None


#: The protocol's log levels (RFC 5424's severities), lowest first.
LOG_LEVELS = ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")

#: The largest log message ``Context.log`` sends: its data as compact JSON, in bytes (UTF-8).
MAX_LOG_BYTES = 64 * 1024


@dataclasses.dataclass(frozen=True, slots=True)
class LogMessage:
    """One log message to the caller (the protocol's ``notifications/message``)."""

    level: str
    data: Any
    logger: str | None = None


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
    - ``log(level, data, logger=None)``: a log message to the caller, streamed like progress (the protocol's
      ``notifications/message``; deprecated in 2026-07-28, still delivered to earlier clients through the bridge).
    - ``cancelled`` / ``cancel_event``: set when the client cancels or the deadline passes. Async handlers are also
      cancelled (``asyncio.CancelledError`` is raised at their next await); sync handlers should poll.
    - ``elicit``, ``sample``, ``list_roots``, ``ask``: input from the client in the middle of the call (MRTR). A
      missing answer ends this run with ``InputRequired``: the client is asked, retries with the answers, and the
      handler runs again from the top, finding them (``mcp_grpc.server.inputs``). ``input_round`` counts the runs;
      ``client_capabilities`` is what the request's ``_meta`` says the client supports (``{}`` when it says
      nothing: over gRPC, clients rarely do).
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
        "_inputs",
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
        inputs: Any = None,
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
        self._inputs = inputs

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

    def log(self, level: str, data: Any, logger: str | None = None) -> _Done:
        """Send a log message to the caller: ``level`` one of :data:`LOG_LEVELS`, ``data`` any JSON value (at most
        :data:`MAX_LOG_BYTES` as JSON). Streamed on ``CallToolStream``; a no-op on unary ``CallTool``. Like
        ``report_progress``, works with or without ``await``, from any thread."""
        if level not in LOG_LEVELS:
            raise ValueError(f"log level must be one of {', '.join(LOG_LEVELS)}, not {str(level)[:32]!r}")
        if logger is not None and not isinstance(logger, str):
            raise ValueError(f"logger must be a string, not {type(logger).__name__}")
        try:
            size = len(json.dumps(data, separators=(",", ":"), allow_nan=False).encode())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"log data must be a JSON value: {str(exc)[:200]}") from None
        if size > MAX_LOG_BYTES:
            raise ValueError(f"log data is {size} bytes as JSON; at most {MAX_LOG_BYTES}")
        if logger is not None and len(logger) > 256:
            raise ValueError("logger names are at most 256 characters")
        if self._progress_sink is not None:
            self._progress_sink(LogMessage(level, data, logger))
        return _DONE

    # -- input from the client (MRTR) ------------------------------------------------------------------------------

    @property
    def client_capabilities(self) -> Mapping[str, Any]:
        capabilities = self.request_meta.get(CLIENT_CAPABILITIES_META)
        return capabilities if isinstance(capabilities, Mapping) else {}

    @property
    def input_round(self) -> int:
        return self._inputs.round if self._inputs is not None else 1

    def ask(self, requests: Mapping[str, InputRequest]) -> dict[str, Answer]:
        """The answers to several questions at once, by key; every missing one is asked in the same round."""
        if self._inputs is None:
            raise RuntimeError(f"{self.method} cannot ask the client for input (only tools, prompts and resources can)")
        declared = self.request_meta.get(CLIENT_CAPABILITIES_META)
        if isinstance(declared, Mapping):  # a client that declares its capabilities is asked only what it supports
            lacking = sorted({_CAPABILITY[r.method] for r in requests.values() if _CAPABILITY[r.method] not in declared})
            if lacking:
                raise missing_capabilities(lacking)
        return self._inputs.ask(requests)

    def _key(self, key: str | None, prefix: str) -> str:
        if key is not None:
            return key
        if self._inputs is None:
            raise RuntimeError(f"{self.method} cannot ask the client for input (only tools, prompts and resources can)")
        return self._inputs.key_for(prefix)

    async def elicit(
        self, message: str, schema: Mapping[str, Any] | None = None, *, key: str | None = None,
        url: str | None = None, elicitation_id: str | None = None,
    ) -> ElicitAnswer:
        """Ask the user: a form (``schema``: a flat JSON Schema object) or a ``url`` to visit."""
        key = self._key(key, "elicit")
        answer = self.ask({key: Elicit(message, schema, url, elicitation_id)})[key]
        assert isinstance(answer, ElicitAnswer)
        return answer

    async def sample(
        self, messages: str | Sequence[Mapping[str, Any]], *, max_tokens: int = 1000, key: str | None = None,
        system_prompt: str | None = None, temperature: float | None = None, stop_sequences: Sequence[str] = (),
        model_hints: Sequence[str] = (),
    ) -> SampleAnswer:
        """Ask the client's model to continue ``messages`` (a string is one user message)."""
        key = self._key(key, "sample")
        request = Sample(messages, max_tokens, system_prompt, temperature, tuple(stop_sequences), tuple(model_hints))
        answer = self.ask({key: request})[key]
        assert isinstance(answer, SampleAnswer)
        return answer

    async def list_roots(self, *, key: str | None = None) -> list[Root]:
        """The client's roots."""
        key = self._key(key, "roots")
        answer = self.ask({key: ListRoots()})[key]
        assert isinstance(answer, list)
        return answer


_CURRENT: contextvars.ContextVar[Context | None] = contextvars.ContextVar("mcp_grpc_context", default=None)


def current_context() -> Context | None:
    """The ``Context`` of the call being served; for code that cannot take a Context parameter (proto servicers)."""
    return _CURRENT.get()
