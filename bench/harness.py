"""Start a benchmark server in its own process and measure it under load from this process."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import subprocess
import sys
import time
from typing import Awaitable, Callable, Iterator

from bench import procstat
from bench.load import LoadResult, run_load, run_paced


@dataclasses.dataclass
class ServerProcess:
    process: subprocess.Popen
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def _start(module: str, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        stdout=subprocess.PIPE,
        stderr=None,
        text=True,
        env=env,
    )


def _wait_ready(module: str, process: subprocess.Popen, deadline: float) -> ServerProcess:
    assert process.stdout is not None
    while time.monotonic() < deadline:
        # select bounds the wait: a server that hangs before printing anything must not hang the benchmark.
        readable, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("READY "):
            return ServerProcess(process, int(line.split()[1]))
    raise RuntimeError(f"{module} did not become ready (exit code {process.poll()})")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def server_process(module: str, *args: str, ready_timeout: float = 60.0) -> Iterator[ServerProcess]:
    """Run ``python -m module args``; it prints ``READY <port>`` once listening. Stopped on exit."""
    with server_processes({module: (module, *args)}, ready_timeout=ready_timeout) as servers:
        yield servers[module]


@contextlib.contextmanager
def server_processes(
    commands: dict[str, tuple[str, ...]], *, ready_timeout: float = 90.0
) -> Iterator[dict[str, ServerProcess]]:
    """Start several servers at once (``name -> (module, *args)``), wait until each printed ``READY <port>``.

    Starting them together overlaps their imports, which take seconds each on a loaded machine. All are stopped
    on exit."""
    processes: dict[str, subprocess.Popen] = {}
    try:
        for name, (module, *args) in commands.items():
            processes[name] = _start(module, *args)
        deadline = time.monotonic() + ready_timeout
        yield {name: _wait_ready(commands[name][0], process, deadline) for name, process in processes.items()}
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.terminate()
        for process in processes.values():
            _stop(process)


@dataclasses.dataclass(frozen=True)
class Measurement:
    scenario: str
    load: LoadResult
    server_cpu_seconds: float
    server_rss_bytes: int
    client_cpu_seconds: float = float("nan")

    @property
    def server_cpu_us_per_call(self) -> float:
        return 1e6 * self.server_cpu_seconds / self.load.calls if self.load.calls else float("nan")

    @property
    def client_cpu_us_per_call(self) -> float:
        return 1e6 * self.client_cpu_seconds / self.load.calls if self.load.calls else float("nan")

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
            "client_cpu_us_per_call": round(self.client_cpu_us_per_call, 1),
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
    rate: float | None = None,
) -> Measurement:
    """Closed-loop load from ``concurrency`` callers or, with ``rate``, open-loop load at ``rate`` calls per second."""
    # CPU is read around the whole run, warm-up included, then scaled to the counted window: the warm-up share is
    # small and reading /proc from inside the load loop would perturb it.
    cpu_before = procstat.cpu_seconds(server.pid)
    client_cpu_before = procstat.cpu_seconds(os.getpid())
    started = time.monotonic()
    if rate is not None:
        load = await run_paced(call, rate=rate, seconds=seconds, warmup_seconds=warmup_seconds)
    else:
        load = await run_load(
            call, concurrency=concurrency, seconds=seconds, warmup_seconds=warmup_seconds, max_calls=max_calls
        )
    total = time.monotonic() - started
    cpu = procstat.cpu_seconds(server.pid) - cpu_before
    client_cpu = procstat.cpu_seconds(os.getpid()) - client_cpu_before
    counted_share = load.seconds / total if total > 0 else 1.0
    return Measurement(
        scenario, load, cpu * counted_share, procstat.rss_bytes(server.pid), client_cpu * counted_share
    )
