"""GCRA (the generic cell rate algorithm): a token bucket kept as one number per bucket, its theoretical arrival time.

A bucket of ``burst`` tokens refilled at one token per ``interval`` seconds admits a call at ``now`` when
``max(tat, now) + interval - burst * interval <= now``, and then stores ``max(tat, now) + interval``. Several buckets
are taken all or none: a call refused by one bucket takes no token from the others.

``MemoryGcra`` keeps the buckets of this process (the default); ``mcp_grpc.server.limits.redis_gcra.RedisGcra``
keeps them in Redis for a fleet of replicas.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Callable, Protocol, Sequence

__all__ = ["Bucket", "GcraStore", "MemoryGcra", "StoreUnavailable", "Verdict"]


@dataclasses.dataclass(frozen=True, slots=True)
class Bucket:
    key: str
    interval: float
    """Seconds per token (1 / rate)."""
    burst: int


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    """``allowed``, or refused by bucket ``index`` whose next token comes in ``retry_after`` seconds."""

    allowed: bool
    retry_after: float = 0.0
    index: int = -1


ALLOWED = Verdict(True)


class StoreUnavailable(Exception):
    """The store could not answer (a shared store unreachable or slow). ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GcraStore(Protocol):
    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        """One token from every bucket, or none; raises ``StoreUnavailable``."""
        ...

    async def close(self) -> None: ...


def decide(tats: Sequence[float], buckets: Sequence[Bucket], now: float) -> tuple[Verdict, list[float]]:
    """The verdict for ``buckets`` whose stored arrival times are ``tats``, and their new arrival times."""
    new: list[float] = []
    wait = 0.0
    index = -1
    for i, (tat, bucket) in enumerate(zip(tats, buckets)):
        start = tat if tat > now else now
        next_tat = start + bucket.interval
        allow_at = next_tat - bucket.burst * bucket.interval
        if allow_at > now and allow_at - now > wait:
            wait, index = allow_at - now, i
        new.append(next_tat)
    if index >= 0:
        return Verdict(False, wait, index), new
    return ALLOWED, new


class MemoryGcra:
    """Buckets of this process. At most ``max_buckets``: past that, full buckets (arrival time in the past) are
    dropped first, then the oldest ones (which then start full again)."""

    def __init__(self, *, max_buckets: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self._tats: dict[str, float] = {}
        self.max_buckets = max_buckets
        self._clock = clock

    async def take(self, buckets: Sequence[Bucket]) -> Verdict:
        return self.take_now(buckets)

    def take_now(self, buckets: Sequence[Bucket]) -> Verdict:
        """``take`` without awaiting (nothing else runs between reading and writing the buckets)."""
        now = self._clock()
        tats = self._tats
        verdict, new = decide([tats.get(b.key, now) for b in buckets], buckets, now)
        if verdict.allowed:
            for bucket, tat in zip(buckets, new):
                tats[bucket.key] = tat
            if len(tats) > self.max_buckets:
                self._shrink(now)
        return verdict

    def _shrink(self, now: float) -> None:
        tats = self._tats
        for key in [key for key, tat in tats.items() if tat <= now]:
            del tats[key]
        while len(tats) > self.max_buckets:
            del tats[next(iter(tats))]

    def __len__(self) -> int:
        return len(self._tats)

    async def close(self) -> None:
        self._tats.clear()
