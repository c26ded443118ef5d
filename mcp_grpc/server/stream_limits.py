"""Bounds on long streams: how many Listen streams one caller holds, and how long a stream outlives its credential.

``InFlight`` (``mcp_grpc.server.in_flight``) counts the Listen streams per caller. A connection outlives the certificate that opened it, and a stream outlives the per-call expiry check of the
pipeline: ``credential_deadline`` gives the event-loop time at which the caller's proof expires and
``next_item`` waits for a stream's next item no longer than that.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import grpc

from mcp_grpc.contract import AuditDecision, Principal
from mcp_grpc.server.call import Rejected

__all__ = [
    "DEFAULT_MAX_LISTEN_STREAMS",
    "EXPIRED",
    "credential_deadline",
    "credential_expired",
    "next_item",
    "too_many_streams",
]

#: Concurrent ``McpStreaming/Listen`` streams one principal (SPIFFE ID) may hold by default.
DEFAULT_MAX_LISTEN_STREAMS = 16

#: What ``next_item`` returns when the caller's credential expired before the next item came.
EXPIRED = object()


def too_many_streams(spiffe_id: str, limit: int) -> Rejected:
    """RESOURCE_EXHAUSTED for a caller already holding ``limit`` Listen streams."""
    return Rejected(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        f"too many Listen streams: {spiffe_id} already holds {limit}, the most one caller may hold on this server; "
        "close one first",
        AuditDecision.LIMITED,
    )


def credential_expired(principal: Principal) -> Rejected:
    """UNAUTHENTICATED for a stream whose caller's certificate or token expired while it was open."""
    expired_at = principal.not_after.isoformat() if principal.not_after is not None else "?"
    return Rejected(
        grpc.StatusCode.UNAUTHENTICATED,
        f"credential expired: the credential of {principal.spiffe_id} expired at {expired_at}; "
        "reconnect with a fresh one",
        AuditDecision.UNAUTHENTICATED,
    )


def credential_deadline(principal: Principal | None) -> float | None:
    """The running loop's time at which ``principal``'s proof expires; None when it never does (insecure-local)."""
    if principal is None or principal.not_after is None:
        return None
    remaining = (principal.not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    return asyncio.get_running_loop().time() + remaining


async def next_item(queue: asyncio.Queue, deadline: float | None) -> Any:
    """The queue's next item, or ``EXPIRED`` once the loop's time reaches ``deadline``."""
    if deadline is None:
        return await queue.get()
    remaining = deadline - asyncio.get_running_loop().time()
    if remaining <= 0:
        return EXPIRED
    if not queue.empty():  # no timer for an item already there (progress frames come in bursts)
        return queue.get_nowait()
    try:
        return await asyncio.wait_for(queue.get(), remaining)
    except asyncio.TimeoutError:
        return EXPIRED
