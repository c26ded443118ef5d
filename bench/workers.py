"""``serve --workers``: the full stack from the command line with 1 and with 2 workers, under the same load.

The server is ``mcp-grpc serve`` itself, as production runs it: mTLS with the server's X.509-SVID from the
development Workload API, the embedded engine over bench.servers.mcp_grpc_full's ``authz/`` folder (decision cache
on), audit to a file (``FILE.wN`` per worker). The load is bench.run's: closed-loop ``CallTool echo`` from
``--concurrency`` callers, spread round-robin over ``--connections`` SPIFFE channels (each its own connection: the
kernel gives each new connection to one worker, so one connection would only ever reach one worker). Server CPU is
the sum over the supervisor and its workers.

    python -m bench.workers                      # 1 and 2 workers, 16 callers, 8 connections, 8 s each
    python -m bench.workers --pin-client 0       # the load generator on CPU 0 only (taskset-like)

On a 2-core machine the load generator itself needs most of a core, so 2 workers cannot double the throughput
there; the figure to read is calls/s and server CPU per call side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from bench import procstat
from bench.servers.mcp_grpc_full import build_app, write_authz_dir

app = build_app(0)
"""The served app (``mcp-grpc serve bench.workers:app``): the full-stack bench server's echo tool."""

SERVING = re.compile(r"mcp-grpc serving 'bench' on (\S+)")
PIDS = re.compile(r"pids ([\d ]+)\)")


def _start(workers: int, socket: str, authz_dir: pathlib.Path, audit: pathlib.Path) -> tuple[subprocess.Popen, str,
                                                                                                list[int], list[str]]:
    command = [sys.executable, "-m", "mcp_grpc", "serve", "bench.workers:app", "--port", "0",
               "--workers", str(workers), "--spiffe-socket", socket, "--authz-dir", str(authz_dir),
               "--audit-log", str(audit), "--drain", "0.5", "--log-level", "info"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: list[str] = []
    found = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if SERVING.search(line):
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(120):
        process.kill()
        raise RuntimeError("server did not start:\n" + "".join(lines))
    line = next(line for line in lines if SERVING.search(line))
    address = SERVING.search(line).group(1)  # type: ignore[union-attr]
    pids = [int(p) for p in PIDS.search(line).group(1).split()] if workers > 1 else [process.pid]  # type: ignore[union-attr]
    return process, address, [process.pid, *pids] if workers > 1 else pids, command


async def _measure(identity: Any, address: str, pids: list[int], args: argparse.Namespace) -> dict[str, Any]:
    from bench.load import run_load
    from mcp_grpc.client import AsyncClient

    channels = [identity.channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(args.connections)]
    clients = [AsyncClient(channel_provider=lambda c=c: c.channel) for c in channels]
    turn = itertools.cycle(clients)

    async def call() -> object:
        result = await next(turn).call_tool("echo", {"text": "hi"})
        if result.is_error:
            raise RuntimeError(result.text)
        return result

    def cpu() -> float:
        return sum(procstat.cpu_seconds(pid) for pid in pids)

    each = {pid: procstat.cpu_seconds(pid) for pid in pids}
    before, client_before, started = cpu(), procstat.cpu_seconds(os.getpid()), time.monotonic()
    load = await run_load(call, concurrency=args.concurrency, seconds=args.seconds, warmup_seconds=args.warmup)
    share = load.seconds / (time.monotonic() - started)
    used = (cpu() - before) * share
    client_used = (procstat.cpu_seconds(os.getpid()) - client_before) * share
    each = {str(pid): round((procstat.cpu_seconds(pid) - cpu0) * share, 2) for pid, cpu0 in each.items()}
    for client in clients:
        await client.close()
    for channel in channels:
        await identity.close_channel(channel)
    return {"calls_per_second": round(load.calls_per_second, 1), "p50_ms": round(load.p50_ms, 2),
            "p99_ms": round(load.p99_ms, 2), "errors": load.errors, "calls": load.calls,
            "server_cpu_us_per_call": round(used / load.calls * 1e6, 1) if load.calls else None,
            "server_cores_busy": round(used / load.seconds, 2) if load.seconds else None,
            "server_cpu_seconds_by_pid": each,
            "client_cores_busy": round(client_used / load.seconds, 2) if load.seconds else None}


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.identities import SERVER_DNS_NAME, bench_identities
    from mcp_grpc.client import ClientIdentity

    results: dict[str, Any] = {"benchmark": "mcp-grpc bench.workers", "command": " ".join(sys.argv),
                               "cpus": os.cpu_count(), "params": vars(args) | {"out": str(args.out)}, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="bench-workers-") as tmp, bench_identities(pathlib.Path(tmp)) as ids:
        authz_dir = pathlib.Path(tmp) / "authz"
        write_authz_dir(authz_dir, 0)
        identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
        if args.pin_client is not None:
            os.sched_setaffinity(0, {args.pin_client})
        try:
            for workers in args.workers:
                process, address, pids, command = _start(workers, str(ids.socket("server")), authz_dir,
                                                         pathlib.Path(tmp) / f"audit-{workers}.log")
                try:
                    row = asyncio.run(_measure(identity, address, pids, args))
                finally:
                    process.send_signal(signal.SIGTERM)
                    row["exit_code"] = process.wait(30)
                row["server_command"] = " ".join(command[1:])
                results["runs"][str(workers)] = row
                print(f"workers={workers}: {row['calls_per_second']:>8.1f} calls/s p50 {row['p50_ms']:.2f} ms "
                      f"p99 {row['p99_ms']:.2f} ms server CPU {row['server_cpu_us_per_call']} µs/call "
                      f"({row['server_cores_busy']} cores; by pid {row['server_cpu_seconds_by_pid']}) "
                      f"client {row['client_cores_busy']} cores errors {row['errors']}", flush=True)
        finally:
            asyncio.run(identity.aclose())
    results["load_average"] = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2],
                        help="worker counts to measure, comma-separated (default 1,2)")
    parser.add_argument("--concurrency", type=int, default=16, help="callers (default 16)")
    parser.add_argument("--connections", type=int, default=8, help="connections the callers share (default 8)")
    parser.add_argument("--seconds", type=float, default=8.0, help="counted seconds per run (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per run (default 1)")
    parser.add_argument("--pin-client", type=int, metavar="CPU", help="run the load generator on this CPU only")
    parser.add_argument("--out", type=pathlib.Path, help="also write the results as JSON here")
    args = parser.parse_args(argv)
    results = run(args)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
