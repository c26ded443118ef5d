"""The types every layer shares: who calls (principal), what it targets, the decision, and the audit record.

Also the one address parser (``mcp_grpc.contract.address``). Standard library only; imports nothing else of ``mcp_grpc``. The server's pipeline calls the three protocols in
order (``Authenticator``, then ``Authorizer`` on the validated ``CallTarget``, then ``AuditSink``);
``mcp_grpc.identity`` and ``mcp_grpc.authz`` implement them without knowing each other.
"""

from mcp_grpc.contract.address import AddressError
from mcp_grpc.contract.audit import AuditDecision, AuditEvent, AuditSink
from mcp_grpc.contract.decision import Authorizer, CheckOutcome, Decision, DecisionStatus, ShadowVerdict
from mcp_grpc.contract.limits import ConcurrencyLimit, LimitScope, RateLimit
from mcp_grpc.contract.principal import AuthenticationFailed, Authenticator, Principal, ProofKind
from mcp_grpc.contract.target import CallTarget, Check, InvalidTargetArguments, TargetKind

__all__ = [
    "AddressError",
    "AuditDecision",
    "AuditEvent",
    "AuditSink",
    "AuthenticationFailed",
    "Authenticator",
    "Authorizer",
    "CallTarget",
    "Check",
    "CheckOutcome",
    "ConcurrencyLimit",
    "Decision",
    "DecisionStatus",
    "InvalidTargetArguments",
    "LimitScope",
    "Principal",
    "ProofKind",
    "RateLimit",
    "ShadowVerdict",
    "TargetKind",
]
