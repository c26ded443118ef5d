"""The audit step (step 5): one record per call, whatever its outcome, and the sink that writes it."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Mapping, Protocol, Sequence

from mcp_grpc.contract.decision import CheckOutcome

__all__ = ["AuditDecision", "AuditEvent", "AuditSink"]


class AuditDecision(str, enum.Enum):
    """The outcome an audit record names; each maps to the gRPC status the caller saw."""

    ALLOW = "allow"  # OK (a tool error is still an allowed call)
    DENY = "deny"  # PERMISSION_DENIED
    UNAUTHENTICATED = "unauthenticated"  # UNAUTHENTICATED
    UNAVAILABLE = "unavailable"  # UNAVAILABLE: the authorization backend could not decide
    LIMITED = "limited"  # RESOURCE_EXHAUSTED: over a rate limit or a concurrency cap (retry-after says when)
    INVALID_ARGUMENT = "invalid_argument"  # INVALID_ARGUMENT, NOT_FOUND, UNIMPLEMENTED (the request was wrong)
    ERROR = "error"  # INTERNAL, CANCELLED, RESOURCE_EXHAUSTED for a reply over the size limit (it did not complete)


@dataclasses.dataclass(frozen=True, slots=True)
class AuditEvent:
    """One decision, whatever its outcome. The audit sink writes it as one JSON record."""

    time: float  # unix seconds
    principal: str | None  # SPIFFE ID, None when authentication failed
    proven_by: str | None
    service: str
    method: str
    kind: str | None
    target: str | None
    decision: AuditDecision
    reason: str
    checks: Sequence[CheckOutcome] = ()
    latency_ms: float = 0.0
    trace_id: str | None = None
    peer: str = ""
    arguments: Mapping[str, Any] | None = None  # only when configured
    actor: str | None = None  # the delegate (proxy, bridge) whose connection carried the principal's token
    shadow: str | None = None  # "allow→deny": the shadow model decided otherwise (never enforced)
    shadow_reason: str | None = None  # the shadow's reason, with ``shadow``
    shadow_error: str | None = None  # why the shadow model could not decide (an error, a timeout)


class AuditSink(Protocol):
    def emit(self, event: AuditEvent) -> None:
        """Must not block the call path (queue and write asynchronously)."""
        ...
