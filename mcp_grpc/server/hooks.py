"""The seams where identity and authorization plug into the one interceptor chain.

The server owns the chain (authenticate -> authorize -> validate -> handler -> audit) and calls these protocols;
``mcp_grpc.identity`` provides an ``Authenticator`` and ``mcp_grpc.authz`` an ``Authorizer``. Both are optional only
in ``--insecure-local`` development mode.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Mapping, Protocol, Sequence

from mcp_grpc.authz.requirements import Check
from mcp_grpc.identity.principal import Principal


class AuthenticationFailed(Exception):
    """The caller could not be authenticated. ``reason`` is precise and safe to return (UNAUTHENTICATED)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Authenticator(Protocol):
    def authenticate(
        self, auth_context: Mapping[str, Sequence[bytes]], metadata: Mapping[str, str]
    ) -> Principal:
        """Return the caller's Principal or raise AuthenticationFailed.

        ``auth_context`` is ``ServicerContext.auth_context()``; ``metadata`` the invocation metadata (lower-case keys),
        where a JWT-SVID arrives as ``authorization: Bearer <token>``. Synchronous: it must be cheap (verdicts cached).
        """
        ...


class TargetKind(str, enum.Enum):
    TOOL = "tool"
    RESOURCE = "resource"
    RESOURCE_TEMPLATE = "resource_template"
    PROMPT = "prompt"
    COMPLETION = "completion"
    METHOD = "method"  # a typed proto-first gRPC method or another non-MCP rpc


@dataclasses.dataclass(frozen=True, slots=True)
class CallTarget:
    """What a call wants to use, after its arguments were validated."""

    server_name: str
    service: str  # full gRPC service name, e.g. model_context_protocol.Mcp
    method: str  # rpc name, e.g. CallTool
    kind: TargetKind
    name: str  # tool or prompt name, resource URI, or the rpc's full method name
    arguments: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    required_checks: Sequence[Check] = ()
    """Checks the target declared (decorator ``authorize=`` or proto option), in addition to the default one."""
    peer: str = ""
    consistency: str | None = None  # e.g. HIGHER_CONSISTENCY asked by the caller (metadata ``mcp-authz-consistency``)


class DecisionStatus(str, enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # -> PERMISSION_DENIED
    UNAVAILABLE = "unavailable"  # backend error or timeout -> UNAVAILABLE (fail closed)


@dataclasses.dataclass(frozen=True, slots=True)
class CheckOutcome:
    relation: str
    object: str
    result: str  # allowed | denied | error


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    status: DecisionStatus
    reason: str = ""  # names the failing relation and object, never the model
    checks: Sequence[CheckOutcome] = ()

    @property
    def allowed(self) -> bool:
        return self.status is DecisionStatus.ALLOW


class InvalidTargetArguments(ValueError):
    """Raised by an Authorizer when the call's arguments cannot form the objects its checks need (a missing argument,
    a value that is not a valid object id). The server answers INVALID_ARGUMENT with the message, which must be
    safe to return: it names the argument and the check, never the model."""


class Authorizer(Protocol):
    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        """Decide one call. Never raises for a denial; an internal failure must come back as UNAVAILABLE."""
        ...

    async def visible(
        self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]
    ) -> set[str]:
        """The subset of ``names`` (tool/prompt names, resource URIs or templates) the caller may use, for List*."""
        ...


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
    decision: str  # allow | deny | unauthenticated | unavailable | invalid_argument | error
    reason: str
    checks: Sequence[CheckOutcome] = ()
    latency_ms: float = 0.0
    trace_id: str | None = None
    peer: str = ""
    arguments: Mapping[str, Any] | None = None  # only when configured


class AuditSink(Protocol):
    def emit(self, event: AuditEvent) -> None:
        """Must not block the call path (queue and write asynchronously)."""
        ...
