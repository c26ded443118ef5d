"""Thread CPU per call of each pipeline stage inside the real full-stack server, beside the MCP-wire floor's.

The full-stack server (``bench.servers.mcp_grpc_full``: SPIFFE mTLS, the embedded engine with a warm decision
cache, audit to a file) runs in a child process with a thin timer around each stage (``time.thread_time_ns``
before and after the call, summed per stage; inclusive, so stages nest), plus the cyclic garbage collector's pauses
on the event-loop thread (``gc.callbacks``). The same closed-loop load then drives the MCP-wire floor
(``bench.servers.mcp_wire_floor``) and the full stack in turn, and each server's CPU per call is read per thread
from /proc.

In process (``bench.servicer_path``) the handler costs a third of what it costs here: inside a server with grpc's
threads, TLS and the event loop around it, the same Python runs with cold caches. This measures the handler where it
really runs. Each timer adds ~0.3 µs to the stage it wraps (and to the stages around it), so read the figures as
shares and differences, not as exact costs.

Run::

    PYTHONPATH=. .venv/bin/python -m bench.stage_cpu [--calls 10000] [--concurrency 16] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import inspect
import os
import pathlib
import signal
import sys
import tempfile
import time
from typing import Any, Callable

__all__ = ["main"]

#: (module, class or None, attribute): the stages timed, in pipeline order.
STAGES: tuple[tuple[str, str | None, str], ...] = (
    ("mcp_grpc.server.servicer", "McpServicer", "CallTool"),
    ("mcp_grpc.server.pipeline", "Pipeline", "begin"),
    ("mcp_grpc.server.pipeline", "Pipeline", "_authenticate"),
    ("mcp_grpc.identity.authenticator", "SpiffeAuthenticator", "authenticate"),
    ("mcp_grpc.server.pipeline", "Pipeline", "run"),
    ("mcp_grpc.server.servicer", "McpServicer", "_resolve_tool"),
    ("mcp_grpc.server.servicer", "McpServicer", "_validate_tool"),
    ("mcp_grpc.server.pipeline", "Pipeline", "target"),
    ("mcp_grpc.server.pipeline", "Pipeline", "authorize"),
    ("mcp_grpc.authz.authorizer", "FgaAuthorizer", "authorize"),
    ("mcp_grpc.server.pipeline", "Pipeline", "inputs"),
    ("mcp_grpc.server.servicer", "McpServicer", "_answer_tool"),
    ("mcp_grpc.server.servicer", "McpServicer", "context"),
    ("mcp_grpc.server.entries", "FunctionTool", "run"),
    ("mcp_grpc.server.call", "Call", "finish"),
    ("mcp_grpc.authz.audit", "JsonAuditSink", "emit"),
)

_spent: collections.Counter[str] = collections.Counter()
_count: collections.Counter[str] = collections.Counter()


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    clock = time.thread_time_ns
    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            started = clock()
            try:
                return await function(*args, **kwargs)
            finally:
                _spent[label] += clock() - started
                _count[label] += 1

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        started = clock()
        try:
            return function(*args, **kwargs)
        finally:
            _spent[label] += clock() - started
            _count[label] += 1

    return timed


def _install() -> None:
    import gc
    import importlib
    import threading

    for module_name, class_name, attribute in STAGES:
        owner = importlib.import_module(module_name)
        if class_name is not None:
            owner = getattr(owner, class_name)
        raw = owner.__dict__[attribute] if class_name is not None else getattr(owner, attribute)
        static = isinstance(raw, staticmethod)
        function = raw.__func__ if static else raw
        wrapped = _timed(f"{class_name}.{attribute}" if class_name else attribute, function)
        setattr(owner, attribute, staticmethod(wrapped) if static else wrapped)
    main_thread = threading.main_thread()
    started = [0]

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if threading.current_thread() is not main_thread:
            return
        if phase == "start":
            started[0] = time.thread_time_ns()
        else:
            label = f"gc generation {info['generation']}"
            _spent[label] += time.thread_time_ns() - started[0]
            _count[label] += 1

    gc.callbacks.append(on_gc)


def _report(*_: object) -> None:
    calls = _count.get("McpServicer.CallTool") or 1
    lines = [f"STAGES {calls}"]
    for label, spent in _spent.items():
        lines.append(f"{label}\t{spent / calls / 1000:.1f}\t{_count[label] / calls:.3f}")
    print("\n".join(lines) + "\nEND", flush=True)
    _spent.clear()
    _count.clear()


def _serve(argv: list[str]) -> None:
    """The child: the full-stack bench server with the stage timers; SIGUSR1 prints and resets them."""
    _install()
    signal.signal(signal.SIGUSR1, _report)
    from bench.servers import mcp_grpc_full

    mcp_grpc_full.main(argv)


async def _drive(call: Callable[[], Any], calls: int, concurrency: int) -> float:
    for _ in range(300):
        await call()
    remaining = calls

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


def _read_stages(process: Any) -> dict[str, tuple[float, float]]:
    assert process.stdout is not None
    found: dict[str, tuple[float, float]] = {}
    line = process.stdout.readline()
    while line and not line.startswith("STAGES"):
        line = process.stdout.readline()
    for line in iter(process.stdout.readline, ""):
        if line.strip() == "END":
            break
        label, per_call, times = line.rstrip("\n").split("\t")
        found[label] = (float(per_call), float(times))
    return found


async def _run(args: argparse.Namespace, ids: Any, servers: dict[str, Any]) -> None:
    import grpc

    from bench.identities import SERVER_DNS_NAME
    from bench.profile_call import thread_cpu
    from mcp_grpc.client import AsyncClient, ClientIdentity

    credentials = grpc.ssl_channel_credentials(
        root_certificates=ids.read("bundle.pem"), private_key=ids.read("agent.key"),
        certificate_chain=ids.read("agent.pem"),
    )
    floor = AsyncClient(f"127.0.0.1:{servers['floor'].port}", credentials=credentials,
                        server_name_override=SERVER_DNS_NAME)
    identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
    full = identity.client(f"127.0.0.1:{servers['full'].port}")
    try:
        for round_index in range(args.rounds):
            for name, client in (("floor", floor), ("full", full)):
                async def call(client: Any = client) -> None:
                    result = await client.call_tool("echo", {"text": "hi"})
                    if result.is_error:
                        raise RuntimeError(result.text[:200])

                server = servers[name]
                before = thread_cpu(server.pid)
                if name == "full":
                    os.kill(server.pid, signal.SIGUSR1)  # reset the timers after the previous round
                    await asyncio.to_thread(_read_stages, server.process)
                elapsed = await _drive(call, args.calls, args.concurrency)
                after = thread_cpu(server.pid)
                per_thread = sorted(
                    ((seconds - before.get(tid, (label, 0.0))[1], label) for tid, (label, seconds) in after.items()),
                    reverse=True,
                )
                total = sum(spent for spent, _ in per_thread)
                busiest = ", ".join(f"{label} {1e6 * spent / args.calls:.0f}" for spent, label in per_thread[:3])
                print(f"round {round_index + 1} {name:5}: {args.calls / elapsed:7.0f} calls/s, server CPU "
                      f"{1e6 * total / args.calls:4.0f} µs/call (busiest threads: {busiest})", flush=True)
                if name == "full":
                    os.kill(server.pid, signal.SIGUSR1)
                    stages = await asyncio.to_thread(_read_stages, server.process)
                    print("  stage (inclusive thread CPU µs per call, times per call):")
                    for label, (per_call, times) in sorted(stages.items(), key=lambda item: -item[1][0]):
                        print(f"  {per_call:7.1f}  {label} (x{times:.3f})")
    finally:
        await floor.close()
        await full.close()
        await identity.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stage_cpu", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--serve", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve(args.serve)
        return 0
    from bench.harness import server_processes
    from bench.identities import bench_identities

    with tempfile.TemporaryDirectory(prefix="mcp-grpc-stage-cpu-") as tmp:
        work = pathlib.Path(tmp)
        with bench_identities(work) as ids:
            commands = {
                "floor": ("bench.servers.mcp_wire_floor", str(ids.cert_dir)),
                "full": ("bench.stage_cpu", "--serve", str(ids.socket("server")), str(work)),
            }
            with server_processes(commands) as servers:
                asyncio.run(_run(args, ids, servers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
