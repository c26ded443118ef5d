"""The audit sink: one JSON record per decision, written through ``logging`` off the call path.

``JsonAuditSink.emit`` only appends the event to a bounded deque (one atomic append: no lock, and no wake-up of
the writer per call, which measured as the largest cost of a call in bench/); a daemon thread drains it every
``interval`` seconds (50 ms by default), turning each event into one JSON line handed to the logger
(``mcp_grpc.audit`` unless configured), whose handlers decide where it goes (a file, stderr, a log shipper). When
the sink's own handler is a plain file or stream handler that would write just the line, the lines of a drain are
written to its stream at once (one write and one flush per batch, not a ``LogRecord`` and a flush per record). When
the deque is full the event is dropped and counted in ``dropped`` (and one error is logged per 1,000 drops): a
stalled log destination must not stall calls. ``flush`` and ``close`` write what is pending at once.

A record the handler given to the constructor fails to write (a full disk: ``logging`` would only print a traceback
to stderr and go on) is counted in ``failed`` and logged as an error on ``mcp_grpc.authz.audit``. ``writable`` is
False while records cannot be written (the last write failed, the queue is full, or the sink is closed): a server
with ``audit_required`` refuses calls then.

Record fields: ``time`` (RFC 3339 UTC, milliseconds), ``principal``, ``proven_by``, ``service``, ``method``, ``kind``,
``target``, ``decision``, ``reason``, ``checks`` (``[{relation, object, result}]``), ``latency_ms``, ``trace_id``,
``peer``, ``actor`` (only for a ``delegated`` principal: the proxy or bridge that relayed its token),
``shadow`` and ``shadow_reason`` (only when a shadow model decided otherwise, e.g. ``"allow→deny"``; see
``mcp_grpc.authz.shadow``), ``shadow_error`` (only when the shadow model could not decide), and
``argument_names``; ``arguments`` (the values) only when ``include_arguments=True``.

Usage::

    sink = JsonAuditSink()                       # logger "mcp_grpc.audit"
    sink = JsonAuditSink(handler=logging.FileHandler("audit.log"))   # also attach a handler
    ...
    sink.close()                                 # flush and stop the writer thread
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import itertools
import json
import logging
import math
import sys
import threading
import time
from typing import Any

from opentelemetry import trace

from mcp_grpc.contract import AuditEvent

__all__ = ["JsonAuditSink", "audit_record"]

AUDIT_LOGGER = "mcp_grpc.audit"

log = logging.getLogger(__name__)


def _current_trace_id() -> str | None:
    """The active OpenTelemetry trace id, if a recording span is current (no-op without the SDK)."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


#: The last second ``_stamp`` formatted: ``(whole seconds, "YYYY-MM-DDTHH:MM:SS")`` (records come in bursts).
_last_second: tuple[float, str] = (-1.0, "")


def _stamp(when: float) -> str:
    """``datetime.fromtimestamp(when, utc).isoformat(timespec="milliseconds")`` with ``Z``, formatting the date and
    time of day once per second: the writer thread formats every record. Rounds to the microsecond as
    ``fromtimestamp`` does (half to even; a carry goes to the next second), then truncates to the millisecond."""
    global _last_second
    fraction, whole = math.modf(when)
    if fraction < 0.0 or not 1e9 <= whole < 32503680000.0:  # before 2001 or from year 3000: the general way
        stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    micro = round(fraction * 1e6)
    if micro >= 1_000_000:
        micro -= 1_000_000
        whole += 1.0
    last = _last_second  # one read: another writer thread may replace it meanwhile
    if last[0] == whole:
        prefix = last[1]
    else:
        prefix = datetime.datetime.fromtimestamp(whole, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        _last_second = (whole, prefix)
    return f"{prefix}.{micro // 1000:03d}Z"


def _plain(value: Any) -> Any:
    """An enum member's value, else ``value`` (``getattr(value, "value", value)`` without the AttributeError a str
    or None raises inside getattr)."""
    if value is None or value.__class__ is str:
        return value
    return getattr(value, "value", value)


def audit_record(event: AuditEvent, *, include_arguments: bool = False) -> dict[str, Any]:
    """The JSON-ready record of one event."""
    record: dict[str, Any] = {
        "time": _stamp(event.time),
        "principal": event.principal,
        "proven_by": _plain(event.proven_by),
        "service": event.service,
        "method": event.method,
        "kind": _plain(event.kind),
        "target": event.target,
        "decision": event.decision,
        "reason": event.reason,
        "checks": [{"relation": c.relation, "object": c.object, "result": c.result} for c in event.checks],
        "latency_ms": round(event.latency_ms, 3),
        "trace_id": event.trace_id,
        "peer": event.peer,
    }
    if event.actor is not None:
        record["actor"] = event.actor
    if event.shadow is not None:
        record["shadow"] = event.shadow
        record["shadow_reason"] = event.shadow_reason or ""
    if event.shadow_error is not None:
        record["shadow_error"] = event.shadow_error
    if event.arguments is not None:
        record["argument_names"] = sorted(event.arguments)
        if include_arguments:
            record["arguments"] = dict(event.arguments)
    return record


_SINK_IDS = itertools.count(1)

#: Handler types whose ``emit`` is exactly "format, write, terminator, flush" (subclasses may rotate, filter, ...).
_DIRECT_HANDLERS = (logging.StreamHandler, logging.FileHandler)
#: The most records one direct write carries.
_BATCH = 1000


class JsonAuditSink:
    """An ``AuditSink`` (``mcp_grpc.contract``) writing one JSON line per decision through ``logging``.

    - ``logger``: a logger name or object (default ``mcp_grpc.audit``). Records are logged at INFO.
    - ``handler``: optionally attached to a child logger of its own (``mcp_grpc.audit.sinkN``) that does not
      propagate, so the records go to that handler only (``close`` detaches it). Without one, configure the logger as
      usual; the sink sets the logger's level to INFO when it is unset so records are not lost to the root default.
    - ``include_arguments``: add argument values to records (names are always recorded).
    - ``max_pending``: the bound of events waiting to be written; beyond it events are dropped and counted.
    - ``interval``: how often the writer thread wakes to write what is pending (seconds).
    """

    def __init__(
        self,
        *,
        logger: str | logging.Logger = AUDIT_LOGGER,
        handler: logging.Handler | None = None,
        include_arguments: bool = False,
        max_pending: int = 100_000,
        interval: float = 0.05,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be > 0")
        self.logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        if handler is not None:
            # Its own child logger: two sinks in one process (two servers) must not write into each other's files.
            self.logger = self.logger.getChild(f"sink{next(_SINK_IDS)}")
        if self.logger.level == logging.NOTSET:
            self.logger.setLevel(logging.INFO)
        self._handler = handler
        self._propagate = self.logger.propagate
        self.failed = 0
        self._write_ok = True
        if handler is not None:
            # logging hands a failed write to handleError, which prints to stderr and forgets it: count it instead
            handler.handleError = self._write_failed  # type: ignore[method-assign]
            self.logger.addHandler(handler)
            self.logger.propagate = False  # the audit trail goes to its handler, not also to the root's
        self.include_arguments = include_arguments
        # One encoder: json.dumps with options builds a new one per record.
        self._encoder = json.JSONEncoder(separators=(",", ":"), default=str)
        self._pending: collections.deque[AuditEvent] = collections.deque()
        self._max_pending = max_pending
        self._interval = interval
        self._wake = threading.Event()  # set by flush/close only: emit never wakes the writer
        self._writing = False
        self.dropped = 0
        self.written = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mcp-grpc-audit", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Records queued, not yet written."""
        return len(self._pending)

    def emit(self, event: AuditEvent) -> None:
        """Queue one event; never blocks. Fills ``trace_id`` from the current span when the event has none."""
        if self._closed:
            self._drop()
            return
        if event.trace_id is None:
            trace_id = _current_trace_id()
            if trace_id is not None:
                event = dataclasses.replace(event, trace_id=trace_id)
        if len(self._pending) >= self._max_pending:
            self._drop()
            return
        self._pending.append(event)

    @property
    def writable(self) -> bool:
        """False while records are being lost: the last write failed, the queue is full, or the sink is closed."""
        return self._write_ok and not self._closed and len(self._pending) < self._max_pending

    def _write_failed(self, record: logging.LogRecord) -> None:
        self.failed += 1
        self._write_ok = False
        if self.failed % 1000 == 1:
            error = sys.exc_info()[1]
            log.error("audit records cannot be written (%d lost so far): %r", self.failed, error)

    def _drop(self) -> None:
        self.dropped += 1
        if self.dropped % 1000 == 1:
            log.error("audit queue full or closed: %d audit records dropped so far", self.dropped)

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            self._drain()
            if self._closed and not self._pending:
                return

    def _drain(self) -> None:
        pending = self._pending
        self._writing = True  # before popping, so flush never sees "empty and idle" while a record is in hand
        try:
            while pending:
                stream = self._direct_stream()
                if stream is None:
                    self._write_one(pending.popleft())
                else:
                    self._write_batch(stream)
        finally:
            self._writing = False

    def _line(self, event: AuditEvent) -> str:
        return self._encoder.encode(audit_record(event, include_arguments=self.include_arguments))

    def _write_one(self, event: AuditEvent) -> None:
        """One record through ``logging`` (any handlers, filters and formatters the logger has)."""
        try:
            line = self._line(event)
            failed = self.failed
            self.logger.info(line)
            if self.failed == failed:
                self.written += 1
                self._write_ok = True
        except Exception:  # noqa: BLE001 - one bad record must not kill the writer
            log.exception("failed to write an audit record")

    def _direct_stream(self) -> Any:
        """The stream of the sink's own handler when logging would only write each record's message to it and
        flush (a plain ``StreamHandler`` or ``FileHandler`` formatting ``%(message)s``, no filters, the only
        handler of a logger that does not propagate); else None. A batch is then written with one write and one
        flush instead of one ``LogRecord``, format and flush per record: the same lines, in the same order."""
        handler = self._handler
        if handler is None or type(handler) not in _DIRECT_HANDLERS:
            return None
        formatter = handler.formatter
        logger = self.logger
        if (
            formatter is None or type(formatter) is not logging.Formatter or formatter._fmt != "%(message)s"
            or handler.filters or logger.filters or logger.propagate or logger.handlers != [handler]
            or logger.disabled or not logger.isEnabledFor(logging.INFO) or handler.level > logging.INFO
        ):
            return None
        return handler.stream  # None while a delayed FileHandler has not opened its file: logging opens it

    def _write_batch(self, stream: Any) -> None:
        """Up to ``_BATCH`` pending records as one write to ``stream`` and one flush (see ``_direct_stream``)."""
        handler = self._handler
        assert handler is not None
        pending = self._pending
        lines: list[str] = []
        for _ in range(min(len(pending), _BATCH)):
            event = pending.popleft()
            try:
                lines.append(self._line(event))
            except Exception:  # noqa: BLE001 - one bad record must not kill the writer
                log.exception("failed to write an audit record")
        if not lines:
            return
        terminator = handler.terminator  # type: ignore[attr-defined]
        text = terminator.join(lines) + terminator
        handler.acquire()
        try:
            stream.write(text)
            stream.flush()
        except Exception:  # noqa: BLE001 - e.g. a full disk: counted and logged as logging's path would be
            self._batch_failed(len(lines))
            return
        finally:
            handler.release()
        self.written += len(lines)
        self._write_ok = True

    def _batch_failed(self, count: int) -> None:
        before = self.failed
        self.failed += count
        self._write_ok = False
        if (self.failed - 1) // 1000 != (before - 1) // 1000:  # one error per 1,000 lost (the 1st, 1001st, ...)
            error = sys.exc_info()[1]
            log.error("audit records cannot be written (%d lost so far): %r", self.failed, error)

    def flush(self, timeout: float = 5.0) -> bool:
        """Write every pending event now (bounded by ``timeout``). True when nothing is left pending."""
        deadline = time.monotonic() + timeout
        self._wake.set()
        while (self._pending or self._writing) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.002)
        return not self._pending and not self._writing

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the writer thread and detach the handler given to the constructor."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout)
        if self._handler is not None:
            try:
                self._handler.flush()
            except Exception as exc:  # noqa: BLE001 - e.g. a full disk: loud, and the handler is still detached
                self._write_failed(logging.LogRecord(self.logger.name, logging.ERROR, "", 0, str(exc), None, None))
            self.logger.removeHandler(self._handler)
            self.logger.propagate = self._propagate
