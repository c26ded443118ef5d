"""Start a benchmark server in its own process and measure it under load from this process."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import time
from typing import Awaitable, Callable, Iterator

from bench import procstat
from bench.load import LoadResult, run_load


@dataclasses.dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


@contextlib.contextmanager
def server_process(module: str, *args: str, ready_timeout: float = 60.0) -> Iterator[ServerProcess]:
    """Run ``python -m module args``; it prints ``READY <port>`` once listening. Stopped on exit."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    process = subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + ready_timeout
        port = None
        assert process.stdout is not None
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            if line.startswith("READY "):
                port = int(line.split()[1])
                break
        if port is None:
            raise RuntimeError(f"{module} did not become ready (exit code {process.poll()})")
        yield ServerProcess(process, port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclasses.dataclass(frozen=True)
class Measurement:
    scenario: str
    load: LoadResult
    server_cpu_seconds: float
    server_rss_bytes: int

    @property
    def server_cpu_us_per_call(self) -> float:
        return 1e6 * self.server_cpu_seconds / self.load.calls if self.load.calls else float("nan")

    def as_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "concurrency": self.load.concurrency,
            "calls": self.load.calls,
            "errors": self.load.errors,
            "first_error": self.load.first_error,
            "seconds": round(self.load.seconds, 3),
            "calls_per_second": round(self.load.calls_per_second, 1),
            "p50_ms": round(self.load.p50_ms, 3),
            "p99_ms": round(self.load.p99_ms, 3),
            "server_cpu_us_per_call": round(self.server_cpu_us_per_call, 1),
            "server_rss_mb": round(self.server_rss_bytes / 2**20, 1),
        }


async def measure(
    scenario: str,
    server: ServerProcess,
    call: Callable[[], Awaitable[object]],
    *,
    concurrency: int,
    seconds: float,
    warmup_seconds: float = 0.5,
    max_calls: int | None = None,
) -> Measurement:
    # CPU is read around the whole run, warm-up included, then scaled to the counted window: the warm-up share is
    # small and reading /proc from inside the load loop would perturb it.
    cpu_before = procstat.cpu_seconds(server.pid)
    started = time.monotonic()
    load = await run_load(
        call, concurrency=concurrency, seconds=seconds, warmup_seconds=warmup_seconds, max_calls=max_calls
    )
    total = time.monotonic() - started
    cpu = procstat.cpu_seconds(server.pid) - cpu_before
    counted_share = load.seconds / total if total > 0 else 1.0
    return Measurement(scenario, load, cpu * counted_share, procstat.rss_bytes(server.pid))
