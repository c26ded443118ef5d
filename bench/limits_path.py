"""Time the limits step of one tool call in process: the pipeline's test while no limit is set, ``Limiter.admit``
with no limit, with one or three limits in process (``MemoryGcra``), and with one limit in a real Redis
(``RedisGcra``; a ``redis-server`` on PATH is started on a loopback port and stopped by PID, else that part is
reported as skipped).

Buckets are sized so that no call is refused: this is the cost of an admitted call, the common case.

Run: python -m bench.limits_path [--iterations N]   (prints JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Any

from bench.authz_path import _time_async, _time_sync
from bench.identities import AGENT_ID, TRUST_DOMAIN
from mcp_grpc.authz.limits import LimitPolicy
from mcp_grpc.contract import ConcurrencyLimit, Principal, ProofKind, RateLimit
from mcp_grpc.server.limits import Limiter

_HUGE = 1e9  # tokens per second: never refused


def _policies() -> dict[str, LimitPolicy]:
    one = (RateLimit(_HUGE, 1_000_000, "principal", name="caller"),)
    three = one + (
        RateLimit(_HUGE, 1_000_000, "tool", name="tool"),
        RateLimit(_HUGE, 1_000_000, "principal_tool", name="caller-tool"),
    )
    return {
        "no_limits": LimitPolicy(),
        "memory_one_limit": LimitPolicy(rates=one),
        "memory_three_limits_and_a_cap": LimitPolicy(rates=three, concurrency=(ConcurrencyLimit(1_000, name="cap"),)),
    }


async def _admit_and_release(limiter: Limiter, principal: Principal) -> None:
    admission = await limiter.admit(principal, "echo", None)
    if admission.release is not None:
        admission.release()


def _start_redis(directory: str) -> tuple[subprocess.Popen[bytes], str] | None:
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return process, f"redis://127.0.0.1:{port}/0"
        except OSError:
            time.sleep(0.05)
    process.terminate()
    process.wait(timeout=10)
    return None


async def measure(iterations: int = 20_000) -> dict[str, Any]:
    principal = Principal(
        AGENT_ID, TRUST_DOMAIN, ProofKind.X509,
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )
    results: dict[str, Any] = {}
    # what the pipeline pays per tool call while no limit is configured: it does not call admit at all
    results["pipeline_no_limits"] = _time_sync(lambda limiter=Limiter(): limiter.applies(None), iterations)
    for name, policy in _policies().items():
        limiter = Limiter(policy)
        await _time_async(lambda: _admit_and_release(limiter, principal), iterations // 10)  # warm-up
        results[name] = await _time_async(lambda: _admit_and_release(limiter, principal), iterations)
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        started = _start_redis(tmp)
        if started is None:
            results["redis_one_limit"] = {"skipped": "redis-server is not on PATH (make redis)"}
            return results
        process, url = started
        try:
            from mcp_grpc.server.limits.redis_gcra import RedisGcra

            limiter = Limiter(_policies()["memory_one_limit"], store=RedisGcra(url))
            runs = max(100, iterations // 10)  # a round trip each: fewer
            await _time_async(lambda: _admit_and_release(limiter, principal), runs // 10)
            results["redis_one_limit"] = await _time_async(lambda: _admit_and_release(limiter, principal), runs)
            await limiter.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.iterations)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
