"""One call in flight and the one audit record it leaves (step 5 of the pipeline), whatever its outcome.

A ``Call`` is opened by ``Pipeline.admit`` and ended exactly once: ``finish`` (allowed; a tool error is still an
allowed call) or ``fail`` with the ``Rejected`` that ends the RPC. Ending it writes the ``AuditEvent`` to the
sink and closes the telemetry span; this is the only place that writes either. ``abort`` turns a ``Rejected``
into the gRPC status the caller sees.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import grpc

from mcp_grpc.contract import AuditDecision, AuditEvent, CallTarget, CheckOutcome, Principal
from mcp_grpc.contract.bounds import MAX_MESSAGE, MAX_NAME, clip, clip_json
from mcp_grpc.wire.errors import INTERNAL_ERROR, MCP_ERROR_CODE_KEY, STATUS_CODES, McpError

if TYPE_CHECKING:
    from mcp_grpc.server.telemetry import CallSpan, CallTelemetry
    from mcp_grpc.contract import AuditSink

__all__ = ["Call", "Rejected", "abort", "metadata_dict"]

log = logging.getLogger("mcp_grpc.server")


class Rejected(Exception):
    """Ends a call with ``status``; ``decision`` is what its audit record says; ``trailing`` is sent with the
    status (e.g. ``grpc-status-details-bin``)."""

    def __init__(
        self,
        status: grpc.StatusCode,
        reason: str,
        decision: AuditDecision,
        *,
        mcp_code: int | None = None,
        checks: Sequence[CheckOutcome] = (),
        trailing: Sequence[tuple[str, str | bytes]] = (),
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.decision = AuditDecision(decision)
        self.mcp_code = mcp_code
        self.checks = checks
        #: Extra trailing metadata sent with the status (BadRequest details, a limit's ``retry-after``).
        self.trailing = tuple(trailing)

    @classmethod
    def from_mcp_error(cls, error: McpError) -> "Rejected":
        internal = error.status is grpc.StatusCode.INTERNAL
        decision = AuditDecision.ERROR if internal else AuditDecision.INVALID_ARGUMENT
        return cls(error.status, error.message, decision, mcp_code=error.code)

    @classmethod
    def from_exception(cls, error: BaseException, method: str) -> "Rejected":
        """What an exception that escaped a step means for the caller: its own status, or INTERNAL."""
        if isinstance(error, Rejected):
            return error
        if isinstance(error, McpError):
            return cls.from_mcp_error(error)
        log.error("internal error in %s", method, exc_info=error)
        return cls(
            grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}", AuditDecision.ERROR,
            mcp_code=INTERNAL_ERROR,
        )

    @classmethod
    def cancelled(cls) -> "Rejected":
        return cls(grpc.StatusCode.CANCELLED, "cancelled by the client or its deadline", AuditDecision.ERROR)


def metadata_dict(context: Any) -> dict[str, str]:
    """Invocation metadata as a dict (lower-case keys; binary ``-bin`` values are left out)."""
    found: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if not key.endswith("-bin"):
            found[key] = value
    return found


_HEX = frozenset("0123456789abcdef")


def _trace_id(metadata: Mapping[str, str]) -> str | None:
    """The trace id of a valid W3C ``traceparent`` (version 00), else None: the caller chooses this header, so
    nothing but 32 lower-case hex digits (not all zero) reaches an audit record."""
    parent = metadata.get("traceparent")
    if not parent or len(parent) != 55:
        return None
    version, trace_id, span_id, flags = parent[0:2], parent[3:35], parent[36:52], parent[53:55]
    if parent[2] != "-" or parent[35] != "-" or parent[52] != "-" or version != "00":
        return None
    if not _HEX.issuperset(trace_id + span_id + flags):
        return None
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return trace_id


class Call:
    """One call in flight: who, what, since when. ``finish``/``fail`` write its single audit event."""

    __slots__ = (
        "service", "method", "principal", "metadata", "peer", "started", "target", "checks", "done", "span",
        "release", "note", "shadow", "_sink", "_telemetry", "_audit_arguments",
    )

    def __init__(
        self,
        service: str,
        method: str,
        metadata: dict[str, str],
        peer: str,
        *,
        sink: "AuditSink | None",
        telemetry: "CallTelemetry | None",
        audit_arguments: bool,
    ) -> None:
        self.service = service
        self.method = method
        self.metadata = metadata
        self.peer = peer
        self.principal: Principal | None = None
        self.started = time.perf_counter()
        self.target: CallTarget | None = None
        self.checks: Sequence[CheckOutcome] = ()
        self.done = False
        self.span: CallSpan | None = None
        #: Run once when the call ends (the limiter's concurrency slots).
        self.release: Callable[[], None] | None = None
        #: Added to the audit record's reason (e.g. that rate limits could not be checked).
        self.note = ""
        #: The shadow model's pending ``ShadowVerdict`` (``Decision.shadow``): the audit record waits for it.
        self.shadow: Any = None
        self._sink = sink
        self._telemetry = telemetry
        self._audit_arguments = audit_arguments

    def successor(self) -> "Call":
        """A new call of the same caller, method and target, timed from now: the audit record of how a stream
        ended after its first record (e.g. when the caller's credential expired)."""
        call = Call(
            self.service, self.method, self.metadata, self.peer,
            sink=self._sink, telemetry=self._telemetry, audit_arguments=self._audit_arguments,
        )
        call.principal = self.principal
        call.target = self.target
        return call

    def finish(self, reason: str = "") -> None:
        self._end(AuditDecision.ALLOW, reason, None, grpc.StatusCode.OK)

    def fail(self, rejected: Rejected) -> None:
        self._end(rejected.decision, rejected.reason, rejected.checks or self.checks, rejected.status)

    def _end(
        self, decision: AuditDecision, reason: str, checks: Sequence[CheckOutcome] | None, status: grpc.StatusCode
    ) -> None:
        if self.done:
            return
        self.done = True
        if self.release is not None:
            try:
                self.release()
            except Exception:  # noqa: BLE001
                log.exception("releasing the limits of %s/%s failed", self.service, self.method)
        if self.note:
            reason = f"{reason}; {self.note}" if reason else self.note
        if len(reason) > MAX_MESSAGE:  # reasons quote what the caller sent
            reason = clip(reason, MAX_MESSAGE)
        sink = self._sink
        telemetry = self._telemetry
        telemetry_on = telemetry is not None and telemetry.enabled
        if sink is None and not telemetry_on:
            return
        latency_ms = (time.perf_counter() - self.started) * 1000.0
        target = self.target
        principal = self.principal
        span = self.span
        if telemetry_on:
            try:
                telemetry.end(  # type: ignore[union-attr]
                    span, service=self.service, method=self.method, principal=principal, target=target,
                    decision=decision.value, status=status, reason=reason, latency_ms=latency_ms,
                )
            except Exception:  # noqa: BLE001 - telemetry must never change a call's outcome
                log.exception("telemetry failed to end %s/%s", self.service, self.method)
        if sink is None:
            return
        if span is not None:
            trace_id = span.trace_id
        else:
            trace_id = _trace_id(self.metadata) if "traceparent" in self.metadata else None
        # Positional, in AuditEvent's field order (tests/server/test_audit_fields.py holds it): on every call, keywords
        # cost a third of building the event. ``_value_`` is the member's value without the ``value`` property.
        event = AuditEvent(
            time.time(),  # time
            principal.spiffe_id if principal is not None else None,  # principal
            principal.proven_by._value_ if principal is not None else None,  # proven_by
            self.service,  # service
            self.method,  # method
            target.kind._value_ if target is not None else None,  # kind
            clip(target.name) if target is not None else None,  # target
            decision,  # decision
            reason,  # reason
            tuple(checks if checks is not None else self.checks),  # checks
            latency_ms,  # latency_ms
            trace_id,  # trace_id
            clip(self.peer, MAX_NAME),  # peer
            clip_json(target.arguments) if (target is not None and self._audit_arguments) else None,  # arguments
            principal.actor if principal is not None else None,  # actor
        )
        shadow = self.shadow
        if shadow is not None:
            if not shadow.done():  # the reply is not held back: the record is written when the verdict is in
                shadow.add_done_callback(lambda done: self._emit(sink, _with_shadow(event, done)))
                return
            event = _with_shadow(event, shadow)
        self._emit(sink, event)

    def _emit(self, sink: "AuditSink", event: AuditEvent) -> None:
        try:
            sink.emit(event)
        except Exception:  # noqa: BLE001 - a broken sink must not break calls; it is logged loudly instead
            log.exception("audit sink failed to accept an event for %s/%s", self.service, self.method)


def _with_shadow(event: AuditEvent, done: Any) -> AuditEvent:
    """``event`` with what the shadow model said: a disagreement, or why it could not decide."""
    try:
        verdict = done.result()
    except BaseException as exc:  # noqa: BLE001 - cancelled at shutdown, or a fault: the record is still written
        return dataclasses.replace(event, shadow_error=f"shadow decision lost: {type(exc).__name__}")
    if verdict.shadow is None:
        return dataclasses.replace(event, shadow_error=clip(verdict.reason, MAX_MESSAGE))
    disagreement = verdict.disagreement
    if disagreement is None:
        return event
    return dataclasses.replace(event, shadow=disagreement, shadow_reason=clip(verdict.reason, MAX_MESSAGE))


#: gRPC retry pushback (gRFC A6): a negative value tells the client's retry policy not to retry this answer.
_NO_RETRY = ("grpc-retry-pushback-ms", "-1")


async def abort(context: Any, rejected: Rejected) -> None:
    """End the RPC with the rejection's status (and the MCP error code in trailing metadata). Always raises.

    An authorization outage is UNAVAILABLE but must not be retried by clients' retry policies (which retry
    UNAVAILABLE for transport failures): retries would multiply the load on a backend that is already failing.
    """
    trailing: tuple[tuple[str, str | bytes], ...] = rejected.trailing
    code = rejected.mcp_code if rejected.mcp_code is not None else STATUS_CODES.get(rejected.status)
    if code is not None:
        trailing += ((MCP_ERROR_CODE_KEY, str(code)),)
    if rejected.decision is AuditDecision.UNAVAILABLE:
        trailing += (_NO_RETRY,)
    await context.abort(rejected.status, clip(rejected.reason, MAX_MESSAGE), trailing)
