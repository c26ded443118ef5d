"""Measure List* filtering strategies and the per-call authorization cost on the embedded engine.

Not a test (performance is measured, not asserted). Run from the repository root:
``.venv/bin/python -m tests.authz.callpath.measure_visible``.
A store like the demo's: 1,000 tools on one server; the agent reaches half of them through a team, a tenth
directly, and is blocked on a few; the other agents' grants add noise.
"""

from __future__ import annotations

import asyncio
import pathlib
import statistics
import time

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.cache import DecisionCache, ModelIndex
from mcp_grpc.authz.engine import EmbeddedBackend, Engine
from mcp_grpc.authz.files import load_model_file
from mcp_grpc.authz.policy import CallPolicy
from mcp_grpc.contract import TargetKind
from tests.support.calls import principal, tool_target

HERE = pathlib.Path(__file__).resolve().parent

TOOLS = 1000
AGENT = principal("ns/mcp-tools/sa/agent-0")


def build() -> tuple[Engine, dict]:
    model = load_model_file(HERE.parents[2] / "authz" / "model.fga")
    engine = Engine()
    engine.write_model(model)
    tuples = []
    for a in range(50):
        tuples.append(TupleKey(f"agent:example.org/ns/mcp-tools/sa/agent-{a}", "member", f"team:t{a % 5}"))
    for i in range(TOOLS):
        obj = f"tool:payments/tool_{i}"
        tuples.append(TupleKey("server:payments", "server", obj))
        if i % 2 == 0:
            tuples.append(TupleKey(f"team:t{i % 10 // 2}#member", "caller", obj))
        if i % 10 == 1:
            tuples.append(TupleKey(CallPolicy().user(AGENT), "caller", obj))
        if i % 97 == 0:
            tuples.append(TupleKey(CallPolicy().user(AGENT), "blocked", obj))
    for start in range(0, len(tuples), 1000):
        engine.write(tuples[start : start + 1000])
    return engine, model


async def timed(fn, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def main() -> None:
    engine, model = build()
    for count in (10, 30, 100, TOOLS):
        names = [f"tool_{i}" for i in range(count)]
        results = {}
        for strategy in ("batch", "list_objects"):
            authorizer = FgaAuthorizer(EmbeddedBackend(engine), list_strategy=strategy)
            seen = await authorizer.visible(AGENT, "payments", TargetKind.TOOL, names)
            ms = await timed(lambda: authorizer.visible(AGENT, "payments", TargetKind.TOOL, names), 10)
            results[strategy] = seen
            print(f"visible({count:4d} of {TOOLS} tools) {strategy:13s}: median {statistics.median(ms):7.2f} ms, "
                  f"min {min(ms):7.2f} ms, {len(seen)} visible")
        assert results["batch"] == results["list_objects"], "strategies disagree"

    cold = FgaAuthorizer(EmbeddedBackend(engine))
    warm = FgaAuthorizer(EmbeddedBackend(engine), cache=DecisionCache(ttl=60, model_index=ModelIndex(model)))
    target = tool_target("tool_1")
    for label, authorizer in (("no cache", cold), ("warm cache", warm)):
        await authorizer.authorize(AGENT, target)
        n = 5000
        t0 = time.perf_counter()
        for _ in range(n):
            await authorizer.authorize(AGENT, target)
        print(f"authorize one tool call, {label:10s}: {(time.perf_counter() - t0) / n * 1e6:7.1f} µs per call")


if __name__ == "__main__":
    asyncio.run(main())
