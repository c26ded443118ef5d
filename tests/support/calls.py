"""Principals and call targets for authorizer calls: the embedded, stand-in and real-peer suites build them alike."""

from __future__ import annotations

import datetime
from typing import Any, Mapping

from mcp_grpc.contract import CallTarget, Principal, ProofKind, TargetKind

__all__ = ["SERVER", "principal", "tool_target"]

SERVER = "payments"


def principal(path: str = "ns/prod/sa/billing", domain: str = "example.org") -> Principal:
    """An X.509-proven principal of ``spiffe://domain/path``, valid for an hour."""
    return Principal(
        spiffe_id=f"spiffe://{domain}/{path}",
        trust_domain=domain,
        proven_by=ProofKind.X509,
        not_after=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )


def tool_target(name: str, arguments: Mapping[str, Any] | None = None, checks=(), **kw: Any) -> CallTarget:
    """A CallTool target on ``SERVER`` (``server_name``, ``kind``, ``peer`` and other CallTarget fields by keyword)."""
    return CallTarget(
        server_name=kw.pop("server_name", SERVER),
        service="model_context_protocol.Mcp",
        method="CallTool",
        kind=kw.pop("kind", TargetKind.TOOL),
        name=name,
        arguments=dict(arguments or {}),
        required_checks=tuple(checks),
        peer=kw.pop("peer", "ipv4:127.0.0.1:40000"),
        **kw,
    )
