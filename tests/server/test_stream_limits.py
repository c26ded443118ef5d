"""The stream bounds on their own: the per-caller counter, and waiting for a stream's next item until expiry."""

from __future__ import annotations

import asyncio
import datetime

import grpc
import pytest

from mcp_grpc.contract import AuditDecision, Principal, ProofKind
from mcp_grpc.server.in_flight import InFlight
from mcp_grpc.server.stream_limits import (
    EXPIRED,
    credential_deadline,
    credential_expired,
    next_item,
)

ALICE = "spiffe://example.org/alice"


def test_the_counter_bounds_each_key_and_gives_slots_back():
    counter = InFlight(2)
    assert counter.acquire(ALICE) and counter.acquire(ALICE)
    assert not counter.acquire(ALICE) and counter.held(ALICE) == 2
    assert counter.acquire("spiffe://example.org/bob")
    counter.release(ALICE)
    assert counter.acquire(ALICE)
    for _ in range(2):
        counter.release(ALICE)
    assert counter.held(ALICE) == 0
    assert InFlight(None).acquire(ALICE)
    with pytest.raises(ValueError):
        InFlight(0)


def principal(seconds: float | None) -> Principal:
    not_after = None
    if seconds is not None:
        not_after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return Principal(ALICE, "example.org", ProofKind.X509, not_after)


async def test_next_item_returns_items_then_expired_at_the_deadline():
    queue: asyncio.Queue = asyncio.Queue()
    queue.put_nowait("first")
    deadline = credential_deadline(principal(0.2))
    assert await next_item(queue, deadline) == "first"
    assert await asyncio.wait_for(next_item(queue, deadline), 2) is EXPIRED
    assert credential_deadline(principal(None)) is None
    queue.put_nowait("kept")
    assert await next_item(queue, None) == "kept"


def test_an_expired_credential_is_unauthenticated_with_its_expiry():
    rejected = credential_expired(principal(-1))
    assert rejected.status == grpc.StatusCode.UNAUTHENTICATED
    assert rejected.decision is AuditDecision.UNAUTHENTICATED
    assert rejected.reason.startswith(f"credential expired: the credential of {ALICE} expired at ")
