"""Time the authorization step of one CallTool in process: the decision cache alone, and ``FgaAuthorizer.authorize``
(policy plan, cache, embedded engine, telemetry) with the cache warm and with no cache, on the full-stack bench's
model and tuples (``bench/servers/mcp_grpc_full.py``).

This is what the server spends per call on authorization, without gRPC around it; ``bench/authz_engine.py`` times
the engine alone on a larger, deeper store against the ``fga`` CLI.

Run: python -m bench.authz_path [--iterations N]   (prints JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import pathlib
import statistics
import tempfile
import time
from typing import Any, Awaitable, Callable

from bench.identities import AGENT_ID, TRUST_DOMAIN
from bench.servers.mcp_grpc_full import SERVER_NAME, write_authz_dir
from mcp_grpc.authz.policy import CallPolicy
from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.contract import Principal, ProofKind
from mcp_grpc.contract import CallTarget, DecisionStatus, TargetKind


def _summary(samples_ns: list[int], cpu_seconds: float) -> dict[str, Any]:
    samples_ns.sort()
    n = len(samples_ns)

    def pct(p: float) -> float:
        return round(samples_ns[min(n - 1, int(p * (n - 1)))] / 1000, 3)

    return {
        "iterations": n,
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "mean_us": round(statistics.fmean(samples_ns) / 1000, 3),
        "cpu_us_per_op": round(1e6 * cpu_seconds / n, 3),
    }


def _time_sync(op: Callable[[], Any], iterations: int) -> dict[str, Any]:
    samples = [0] * iterations
    clock = time.perf_counter_ns
    cpu = time.thread_time()
    for i in range(iterations):
        start = clock()
        op()
        samples[i] = clock() - start
    return _summary(samples, time.thread_time() - cpu)


async def _time_async(op: Callable[[], Awaitable[Any]], iterations: int) -> dict[str, Any]:
    samples = [0] * iterations
    clock = time.perf_counter_ns
    cpu = time.thread_time()
    for i in range(iterations):
        start = clock()
        await op()
        samples[i] = clock() - start
    return _summary(samples, time.thread_time() - cpu)


async def measure(iterations: int = 20_000) -> dict[str, Any]:
    principal = Principal(
        AGENT_ID,
        TRUST_DOMAIN,
        ProofKind.X509,
        datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1),
    )
    target = CallTarget(
        server_name=SERVER_NAME,
        service="model_context_protocol.Mcp",
        method="CallTool",
        kind=TargetKind.TOOL,
        name="echo",
        arguments={"text": "hi"},
        peer="ipv4:127.0.0.1:40000",
    )
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-authz-") as tmp:
        authz_dir = pathlib.Path(tmp) / "authz"
        write_authz_dir(authz_dir, 0)
        warm = FgaAuthorizer.from_authz_dir(authz_dir, cache=True)
        cold = FgaAuthorizer.from_authz_dir(authz_dir, cache=False)
        try:
            for name, authorizer in (("authorize_cache_warm", warm), ("authorize_no_cache", cold)):
                decision = await authorizer.authorize(principal, target)
                if decision.status is not DecisionStatus.ALLOW:
                    raise RuntimeError(f"the bench agent is not allowed to call echo: {decision.reason}")
                await _time_async(lambda a=authorizer: a.authorize(principal, target), iterations // 10)  # warm-up
                results[name] = await _time_async(lambda a=authorizer: a.authorize(principal, target), iterations)
            cache = warm.cache
            assert cache is not None
            user = CallPolicy().user(principal)
            obj = f"tool:{SERVER_NAME}/echo"
            context = warm.policy.context({"text": "hi"}, target.peer)

            def lookup() -> Any:
                return cache.get(cache.key(user, "can_call", obj, context))

            # Entries live ttl seconds (5 by default) and the timing above may take longer: fill the cache again.
            await warm.authorize(principal, target)
            if lookup() is None:
                raise RuntimeError("the warm cache has no entry for the echo check")
            results["cache_lookup_hit"] = _time_sync(lookup, iterations)
            stats = cache.stats()
            results["cache_hit_ratio"] = round(stats.hit_ratio, 4) if hasattr(stats, "hit_ratio") else None
        finally:
            await warm.close()
            await cold.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.iterations)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
