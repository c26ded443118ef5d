"""Principals and call targets for authorizer calls in the real-peer tests."""

from __future__ import annotations

import datetime
from typing import Any, Mapping

from mcp_grpc.contract import CallTarget, Principal, ProofKind, TargetKind


def principal(path: str = "ns/prod/sa/billing", domain: str = "example.org") -> Principal:
    return Principal(
        spiffe_id=f"spiffe://{domain}/{path}", trust_domain=domain, proven_by=ProofKind.X509,
        not_after=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )


def target(name: str, arguments: Mapping[str, Any] | None = None, checks=(), *, server: str = "payments",
           kind: TargetKind = TargetKind.TOOL) -> CallTarget:
    return CallTarget(
        server_name=server, service="model_context_protocol.Mcp", method="CallTool", kind=kind, name=name,
        arguments=dict(arguments or {}), required_checks=tuple(checks), peer="ipv4:127.0.0.1:40000",
    )
