"""A closed-loop load generator: N concurrent callers for a bounded time, latencies in nanoseconds."""

from __future__ import annotations

import asyncio
import dataclasses
import statistics
import time
from typing import Awaitable, Callable


@dataclasses.dataclass(frozen=True)
class LoadResult:
    concurrency: int
    calls: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    first_error: str | None = None

    @property
    def calls_per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0


def _percentile(sorted_values: list[int], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index] / 1e6


async def run_load(
    call: Callable[[], Awaitable[object]],
    *,
    concurrency: int,
    seconds: float,
    warmup_seconds: float = 0.5,
    max_calls: int | None = None,
) -> LoadResult:
    """Run ``call`` from ``concurrency`` tasks; warm-up calls are made but not counted.

    Bounded twice: by wall time and, when given, by ``max_calls`` (counted calls across all tasks).
    """
    latencies: list[int] = []
    errors = 0
    first_error: str | None = None
    counting = False
    stop_at = time.monotonic() + warmup_seconds + seconds
    budget = [max_calls if max_calls is not None else -1]

    async def worker() -> None:
        nonlocal errors, first_error
        while time.monotonic() < stop_at and budget[0] != 0:
            start = time.perf_counter_ns()
            try:
                await call()
            except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop on them
                if counting:
                    errors += 1
                    first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
                continue
            if counting:
                latencies.append(time.perf_counter_ns() - start)
                if budget[0] > 0:
                    budget[0] -= 1

    async def switch_on_counting() -> float:
        nonlocal counting
        await asyncio.sleep(warmup_seconds)
        counting = True
        return time.monotonic()

    switch = asyncio.create_task(switch_on_counting())
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    started = await switch
    elapsed = max(time.monotonic() - started, 1e-9)
    latencies.sort()
    return LoadResult(
        concurrency=concurrency,
        calls=len(latencies),
        errors=errors,
        seconds=elapsed,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        first_error=first_error,
    )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


async def run_paced(
    call: Callable[[], Awaitable[object]],
    *,
    rate: float,
    seconds: float,
    warmup_seconds: float = 0.5,
    max_in_flight: int = 256,
) -> LoadResult:
    """Open-loop load: start ``rate`` calls per second whether or not earlier ones finished (at most
    ``max_in_flight`` at once; a start past that is counted as an error). Every stack then gets the same arrival
    rate, so its CPU per call is compared at the same batching (a closed loop gives a faster server bigger batches
    per wake-up, which lowers its CPU per call). ``concurrency`` in the result is 0 (open loop)."""
    latencies: list[int] = []
    errors = 0
    first_error: str | None = None
    in_flight: set[asyncio.Task] = set()
    interval = 1.0 / rate
    loop = asyncio.get_running_loop()

    async def one(counted: bool) -> None:
        nonlocal errors, first_error
        start = time.perf_counter_ns()
        try:
            await call()
        except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop on them
            if counted:
                errors += 1
                first_error = first_error or f"{type(exc).__name__}: {exc}"[:300]
            return
        if counted:
            latencies.append(time.perf_counter_ns() - start)

    began = loop.time()
    counted_from = began + warmup_seconds
    stop_at = counted_from + seconds
    n = 0
    while True:
        due = began + n * interval
        if due >= stop_at:
            break
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        counted = due >= counted_from
        if len(in_flight) >= max_in_flight:
            if counted:
                errors += 1
                first_error = first_error or f"more than {max_in_flight} calls in flight"
        else:
            task = asyncio.create_task(one(counted))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        n += 1
    if in_flight:
        await asyncio.wait(set(in_flight), timeout=30)
    latencies.sort()
    return LoadResult(
        concurrency=0,
        calls=len(latencies),
        errors=errors,
        seconds=seconds,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        first_error=first_error,
    )
