"""Where the server's Python time goes in one CallTool: cProfile over the full-stack server while N calls arrive.

The server is ``bench.servers.mcp_grpc_full`` (mTLS with SPIFFE checks, the embedded engine, audit to a file) run
in a child process under cProfile; profiling starts after the first call (warm-up) and stops after the last, so
start-up is not counted. grpcio's handlers run on the event loop thread, which is the thread cProfile watches;
time in grpc's C core (TLS, HTTP/2) is not Python and shows up only as the Cython frames that call into it.

Run::

    PYTHONPATH=. .venv/bin/python -m bench.profile_call [--calls 20000] [--concurrency 16] [--top 40]
        [--server-flags '--no-cache'] [--threads]

``--threads`` runs the server unprofiled and prints its CPU per call by thread instead (the event loop, grpc's
poller threads, the audit writer), read from /proc.

cProfile's own overhead inflates small functions; compare shares and call counts between runs, not microseconds
with the unprofiled bench (``bench.run``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pathlib
import pstats
import signal
import sys
import tempfile
import time

from bench.run import FLOOR, FULL, FULL_NO_CACHE

__all__ = ["main"]

_PROFILE_ENV = "MCP_GRPC_PROFILE_OUT"


def _serve_profiled(argv: list[str]) -> None:
    """The child: ``bench.servers.mcp_grpc_full`` with cProfile toggled by SIGUSR1 (on) and SIGUSR2 (off, dump)."""
    import logging

    from bench.servers import mcp_grpc_full

    _name_os_threads()
    out = os.environ[_PROFILE_ENV]
    profiler = cProfile.Profile()

    def on(*_: object) -> None:
        profiler.enable()

    def off(*_: object) -> None:
        profiler.disable()
        profiler.dump_stats(out)
        print("DUMPED", flush=True)

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)
    parser = argparse.ArgumentParser()
    parser.add_argument("socket")
    parser.add_argument("work_dir")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--no-authz", action="store_true")
    parser.add_argument("--no-audit", action="store_true")
    parser.add_argument("--audit-prototype", action="store_true")
    parser.add_argument("--tools", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(mcp_grpc_full.serve(args))


def _name_os_threads() -> None:
    """Give every Python thread started from now on its Python name as its OS name (``/proc/.../comm``), so the
    per-thread CPU figures say which thread is the audit writer, the Workload API stream, ..."""
    import ctypes
    import threading

    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return
    original = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]

    def bootstrap(self: threading.Thread) -> None:
        libc.prctl(15, self.name[:15].encode(), 0, 0, 0)  # PR_SET_NAME
        original(self)

    threading.Thread._bootstrap_inner = bootstrap  # type: ignore[attr-defined]


async def _drive(ids: object, port: int, calls: int, concurrency: int, pid: int, profile: bool) -> float:
    from bench.profile_server import _FloorAndFullClients

    ports = {FLOOR: port, FULL: port, FULL_NO_CACHE: port}
    async with _FloorAndFullClients(ids, ports) as clients:
        call = clients.calls[FULL]
        for _ in range(200):
            await call()
        if profile:
            os.kill(pid, signal.SIGUSR1)
            await asyncio.sleep(0.2)
        remaining = calls

        async def worker() -> None:
            nonlocal remaining
            while remaining > 0:
                remaining -= 1
                await call()

        before = thread_cpu(pid)
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        after = thread_cpu(pid)
        if profile:
            os.kill(pid, signal.SIGUSR2)
        else:
            print(f"{calls} calls at concurrency {concurrency}: {calls / elapsed:.0f}/s; server CPU µs per call by thread:")
            total = 0.0
            for tid, (name, seconds) in sorted(after.items(), key=lambda item: -item[1][1]):
                spent = seconds - before.get(tid, (name, 0.0))[1]
                total += spent
                if spent > 0:
                    print(f"  {1e6 * spent / calls:7.1f}  {name} ({tid})")
            print(f"  {1e6 * total / calls:7.1f}  all threads")
        return elapsed


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """``tid -> (thread name, user + system CPU seconds)`` of every thread of ``pid`` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, tuple[str, float]] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        found[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / ticks)
    return found


def main(argv: list[str] | None = None) -> int:
    from bench.harness import server_processes
    from bench.identities import bench_identities

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime, ...)")
    parser.add_argument("--server-flags", default="", help="extra flags for the server, e.g. '--no-cache'")
    parser.add_argument("--out", type=pathlib.Path, help="also keep the raw pstats file here")
    parser.add_argument("--threads", action="store_true",
                        help="no profiler: print the server's CPU per call by thread (/proc) instead")
    parser.add_argument("--serve", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        _serve_profiled(args.serve)
        return 0

    with tempfile.TemporaryDirectory(prefix="mcp-grpc-profile-call-") as tmp:
        work = pathlib.Path(tmp)
        stats_file = args.out or work / "server.pstats"
        os.environ[_PROFILE_ENV] = str(stats_file)
        with bench_identities(work) as ids:
            command = ("bench.profile_call", "--serve", str(ids.socket("server")), str(work), *args.server_flags.split())
            with server_processes({FULL: command}) as servers:
                server = servers[FULL]
                elapsed = asyncio.run(
                    _drive(ids, server.port, args.calls, args.concurrency, server.pid, not args.threads))
                if args.threads:
                    return 0
                deadline = time.monotonic() + 30
                assert server.process.stdout is not None
                while time.monotonic() < deadline and server.process.stdout.readline().strip() != "DUMPED":
                    pass
        buffer = io.StringIO()
        stats = pstats.Stats(str(stats_file), stream=buffer)
        total = stats.total_tt  # type: ignore[attr-defined]
        print(f"{args.calls} calls at concurrency {args.concurrency} in {elapsed:.2f} s (profiled); "
              f"server Python time {total:.2f} s = {1e6 * total / args.calls:.0f} µs/call under cProfile")
        stats.sort_stats(args.sort).print_stats(args.top)
        print(buffer.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
