"""Calls or streams in flight per key: the Listen streams one caller holds
(``streaming``, bounded by one limit), the tool calls one caller has under each concurrency cap (``limits.limiter``)."""

from __future__ import annotations

import threading
from typing import Hashable

__all__ = ["InFlight"]


class InFlight:
    """How many are open per key, at most ``limit`` each (None: counted without a bound)."""

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and limit < 1:
            raise ValueError("the limit must be at least 1 (or None for no limit)")
        self.limit = limit
        self._open: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: Hashable) -> bool:
        """Take one slot for ``key``; False (nothing taken) when ``key`` already holds ``limit``."""
        with self._lock:
            held = self._open.get(key, 0)
            if self.limit is not None and held >= self.limit:
                return False
            self._open[key] = held + 1
            return True

    def release(self, key: Hashable) -> None:
        """Give back one slot of ``key`` (once per successful ``acquire``)."""
        with self._lock:
            held = self._open.get(key, 0) - 1
            if held > 0:
                self._open[key] = held
            else:
                self._open.pop(key, None)

    def held(self, key: Hashable) -> int:
        """How many ``key`` holds now."""
        with self._lock:
            return self._open.get(key, 0)
