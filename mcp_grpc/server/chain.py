"""The one call path every service goes through: authenticate, authorize, run, audit.

``CallChain`` is shared by the Mcp and McpStreaming servicers and by the wrappers around proto-first methods, so
the three are guarded identically:

1. authenticate: the ``Authenticator`` turns the peer (auth context + metadata) into a ``Principal``; failure is
   UNAUTHENTICATED. Without an authenticator only insecure-local mode is possible, where every caller gets the
   insecure-local principal.
2. the servicer resolves and validates what the call targets (unknown names and bad arguments fail here);
3. authorize: the ``Authorizer`` decides on the ``CallTarget``; DENY is PERMISSION_DENIED with its reason,
   UNAVAILABLE or an exception inside the authorizer is UNAVAILABLE (fail closed);
4. the handler runs;
5. exactly one ``AuditEvent`` goes to the ``AuditSink``, whatever the outcome.

Telemetry (``mcp_grpc.server.telemetry``): a span per call from ``begin`` to that audit event, current while the
call is authorized and handled, child of the caller's trace context; its trace id is the audit record's. A calls
counter and a duration histogram are recorded at the same point. Both cost next to nothing until an
OpenTelemetry SDK provider is installed.

Nothing after a denial runs. Every rejection is a ``Rejected`` exception turned into a gRPC status by ``abort``.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Mapping, Sequence

import grpc

from mcp_grpc import wire
from mcp_grpc.contract import Principal, ProofKind
from mcp_grpc.wire.errors import MCP_ERROR_CODE_KEY, McpError
from mcp_grpc.contract import (
    AuditEvent,
    AuditSink,
    AuthenticationFailed,
    Authenticator,
    Authorizer,
    CallTarget,
    CheckOutcome,
    Decision,
    DecisionStatus,
    InvalidTargetArguments,
    TargetKind,
)
from mcp_grpc.server.telemetry import CallSpan, CallTelemetry

log = logging.getLogger("mcp_grpc.server")

#: The principal of every caller in ``--insecure-local`` mode when no Authenticator is configured.
INSECURE_LOCAL_PRINCIPAL = Principal(
    spiffe_id="spiffe://insecure.local/dev",
    trust_domain="insecure.local",
    proven_by=ProofKind.INSECURE_LOCAL,
    not_after=None,
)

#: Request metadata key naming the MCP revision the client speaks.
PROTOCOL_VERSION_KEY = wire.PROTOCOL_VERSION_METADATA_KEY
SUPPORTED_PROTOCOL_VERSIONS = wire.SUPPORTED_PROTOCOL_VERSIONS
#: Request metadata key asking the authorizer for stronger consistency (e.g. HIGHER_CONSISTENCY).
CONSISTENCY_KEY = "mcp-authz-consistency"


class Rejected(Exception):
    """Ends a call with ``status``; ``decision`` is the audit label (deny, unauthenticated, unavailable, ...)."""

    def __init__(
        self,
        status: grpc.StatusCode,
        reason: str,
        decision: str,
        *,
        mcp_code: int | None = None,
        checks: Sequence[CheckOutcome] = (),
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.decision = decision
        self.mcp_code = mcp_code
        self.checks = checks

    @classmethod
    def from_mcp_error(cls, error: McpError) -> "Rejected":
        decision = "error" if error.status is grpc.StatusCode.INTERNAL else "invalid_argument"
        return cls(error.status, error.message, decision, mcp_code=error.code)


def metadata_dict(context: Any) -> dict[str, str]:
    """Invocation metadata as a dict (lower-case keys; binary ``-bin`` values are left out)."""
    found: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if not key.endswith("-bin"):
            found[key] = value
    return found


def _trace_id(metadata: Mapping[str, str]) -> str | None:
    parent = metadata.get("traceparent")
    if parent:
        parts = parent.split("-")
        if len(parts) >= 2:
            return parts[1]
    return None


class Call:
    """One call in flight: who, what, since when. ``finish``/``fail`` write its single audit event."""

    __slots__ = (
        "chain", "service", "method", "principal", "metadata", "peer", "started", "target", "checks", "done", "span",
    )

    def __init__(self, chain: "CallChain", service: str, method: str, metadata: dict[str, str], peer: str) -> None:
        self.chain = chain
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

    def finish(self, reason: str = "") -> None:
        self._audit("allow", reason, None, grpc.StatusCode.OK)

    def fail(self, rejected: Rejected) -> None:
        self._audit(rejected.decision, rejected.reason, rejected.checks or self.checks, rejected.status)

    def _audit(
        self, decision: str, reason: str, checks: Sequence[CheckOutcome] | None, status: grpc.StatusCode
    ) -> None:
        if self.done:
            return
        self.done = True
        chain = self.chain
        sink = chain.audit_sink
        telemetry = chain.telemetry
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
                    decision=decision, status=status, reason=reason, latency_ms=latency_ms,
                )
            except Exception:  # noqa: BLE001 - telemetry must never change a call's outcome
                log.exception("telemetry failed to end %s/%s", self.service, self.method)
        if sink is None:
            return
        if span is not None:
            trace_id = span.trace_id
        else:
            trace_id = _trace_id(self.metadata) if "traceparent" in self.metadata else None
        event = AuditEvent(
            time=time.time(),
            principal=principal.spiffe_id if principal is not None else None,
            proven_by=principal.proven_by.value if principal is not None else None,
            service=self.service,
            method=self.method,
            kind=target.kind.value if target is not None else None,
            target=target.name if target is not None else None,
            decision=decision,
            reason=reason,
            checks=tuple(checks if checks is not None else self.checks),
            latency_ms=latency_ms,
            trace_id=trace_id,
            peer=self.peer,
            arguments=dict(target.arguments) if (target is not None and self.chain.audit_arguments) else None,
        )
        try:
            sink.emit(event)
        except Exception:  # noqa: BLE001 - a broken sink must not break calls; it is logged loudly instead
            log.exception("audit sink failed to accept an event for %s/%s", self.service, self.method)


class CallChain:
    """The shared authenticate/authorize/audit steps. Built by the server from its ``ServerConfig``."""

    def __init__(
        self,
        *,
        server_name: str,
        authenticator: Authenticator | None,
        authorizer: Authorizer | None,
        audit_sink: AuditSink | None,
        insecure_local: bool,
        audit_arguments: bool = False,
        supported_versions: Sequence[str] = SUPPORTED_PROTOCOL_VERSIONS,
        telemetry: CallTelemetry | None = None,
    ) -> None:
        if authenticator is None and not insecure_local:
            raise ValueError("an Authenticator is required unless insecure_local is set")
        self.server_name = server_name
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.audit_sink = audit_sink
        self.insecure_local = insecure_local
        self.audit_arguments = audit_arguments
        self.supported_versions = tuple(supported_versions)
        #: Spans and metrics of calls; the default follows the global OpenTelemetry providers. None turns it off.
        self.telemetry: CallTelemetry | None = telemetry if telemetry is not None else CallTelemetry()

    # -- step 1 -------------------------------------------------------------------------------------------------

    def begin(self, context: Any, service: str, method: str, *, check_version: bool = True) -> Call:
        """Authenticate the caller (and check the protocol revision for MCP services). Raises ``Rejected``."""
        metadata = metadata_dict(context)
        call = Call(self, service, method, metadata, context.peer() or "")
        telemetry = self.telemetry
        if telemetry is not None and (telemetry.enabled or call.started >= telemetry.next_check) and telemetry.active(
            call.started
        ):
            try:
                call.span = telemetry.start(service, method, metadata)
            except Exception:  # noqa: BLE001 - telemetry must never change a call's outcome
                log.exception("telemetry failed to start a span for %s/%s", service, method)
        if check_version:
            version = metadata.get(PROTOCOL_VERSION_KEY)
            if version is not None and version not in self.supported_versions:
                rejected = Rejected(
                    grpc.StatusCode.UNIMPLEMENTED,
                    f"unsupported MCP protocol version {version!r}; supported versions: "
                    + ", ".join(self.supported_versions),
                    "invalid_argument",
                    mcp_code=-32602,
                )
                call.fail(rejected)
                raise rejected
        try:
            call.principal = self._authenticate(context, metadata)
        except Rejected as rejected:
            call.fail(rejected)
            raise
        return call

    def _authenticate(self, context: Any, metadata: Mapping[str, str]) -> Principal:
        if self.authenticator is None:
            return INSECURE_LOCAL_PRINCIPAL
        try:
            principal = self.authenticator.authenticate(context.auth_context(), metadata)
        except AuthenticationFailed as exc:
            raise Rejected(grpc.StatusCode.UNAUTHENTICATED, exc.reason, "unauthenticated") from None
        except Exception as exc:  # noqa: BLE001 - fail closed on any authenticator fault
            log.exception("authenticator raised")
            raise Rejected(
                grpc.StatusCode.UNAUTHENTICATED, f"authentication failed: internal error ({type(exc).__name__})",
                "unauthenticated",
            ) from None
        if principal is None:
            raise Rejected(grpc.StatusCode.UNAUTHENTICATED, "authentication failed: no identity", "unauthenticated")
        if principal.expired():
            raise Rejected(
                grpc.StatusCode.UNAUTHENTICATED,
                f"the credential of {principal.spiffe_id} expired at {principal.not_after}",
                "unauthenticated",
            )
        return principal

    # -- step 3 -------------------------------------------------------------------------------------------------

    async def authorize(self, call: Call, target: CallTarget) -> None:
        """Decide ``target`` for the call's principal. Raises ``Rejected`` (after auditing) unless allowed."""
        call.target = target
        authorizer = self.authorizer
        if authorizer is None:
            return
        assert call.principal is not None
        try:
            decision: Decision = await authorizer.authorize(call.principal, target)
        except InvalidTargetArguments as exc:  # the caller's arguments cannot name the objects to check
            rejected = Rejected(grpc.StatusCode.INVALID_ARGUMENT, str(exc), "invalid_argument", mcp_code=-32602)
            call.fail(rejected)
            raise rejected from None
        except Exception as exc:  # noqa: BLE001 - fail closed: an authorizer fault is a denial
            log.exception("authorizer raised for %s %s", target.kind.value, target.name)
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE,
                f"authorization unavailable: {type(exc).__name__}",
                "unavailable",
            )
            call.fail(rejected)
            raise rejected from None
        call.checks = decision.checks
        status = decision.status
        if status is DecisionStatus.ALLOW:
            return
        if status is DecisionStatus.DENY:
            rejected = Rejected(grpc.StatusCode.PERMISSION_DENIED, decision.reason or "permission denied", "deny")
        else:
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE, decision.reason or "authorization unavailable", "unavailable"
            )
        call.fail(rejected)
        raise rejected

    async def visible(self, call: Call, kind: TargetKind, names: Sequence[str]) -> Sequence[str]:
        """The names the caller may see, in their original order (List* filtering)."""
        authorizer = self.authorizer
        if authorizer is None or not names:
            return names
        assert call.principal is not None
        try:
            allowed = await authorizer.visible(call.principal, self.server_name, kind, names)
        except Exception as exc:  # noqa: BLE001 - fail closed
            log.exception("authorizer.visible raised for %s", kind.value)
            rejected = Rejected(
                grpc.StatusCode.UNAVAILABLE, f"authorization unavailable: {type(exc).__name__}", "unavailable"
            )
            call.fail(rejected)
            raise rejected from None
        return [name for name in names if name in allowed]

    def target(
        self,
        call: Call,
        kind: TargetKind,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        checks: Sequence[Any] = (),
    ) -> CallTarget:
        return CallTarget(
            server_name=self.server_name,
            service=call.service,
            method=call.method,
            kind=kind,
            name=name,
            arguments=arguments if arguments is not None else {},
            required_checks=tuple(checks),
            peer=call.peer,
            consistency=call.metadata.get(CONSISTENCY_KEY),
        )


#: gRPC retry pushback (gRFC A6): a negative value tells the client's retry policy not to retry this answer.
_NO_RETRY = ("grpc-retry-pushback-ms", "-1")


async def abort(context: Any, rejected: Rejected) -> None:
    """End the RPC with the rejection's status (and the MCP error code in trailing metadata). Always raises.

    An authorization outage is UNAVAILABLE but must not be retried by clients' retry policies (which retry
    UNAVAILABLE for transport failures): retries would multiply the load on a backend that is already failing.
    """
    trailing: tuple[tuple[str, str], ...] = ()
    if rejected.mcp_code is not None:
        trailing += ((MCP_ERROR_CODE_KEY, str(rejected.mcp_code)),)
    if rejected.decision == "unavailable":
        trailing += (_NO_RETRY,)
    await context.abort(rejected.status, rejected.reason, trailing)
