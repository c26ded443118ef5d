"""Where a server's time goes under load: sample it with py-spy (all threads, native frames off) while this process
drives CallTool (or the floor's echo) at a fixed concurrency, then print the top functions by own and total time.

Run::

    .venv/bin/pip install py-spy
    .venv/bin/python -m bench.profile_server [--scenario full_stack|full_stack_no_cache|grpc_mtls] [--seconds 20]
        [--concurrency 16] [--out bench/out/profile_full_stack.txt]

py-spy samples from outside the process (``py-spy record --format raw`` gives collapsed stacks), so the server runs
unmodified. Samples in grpc's C core (TLS, HTTP/2) show up under the Python frame that called into it, or as idle
time of the poller thread.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from bench.run import FLOOR, FULL, FULL_NO_CACHE, LIST_TOOLS_TOOLS, Clients

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent

_LINE = re.compile(r":\d+\)$")


def summarize(collapsed: str, top: int) -> str:
    """Top functions by own samples and by inclusive samples, from py-spy's collapsed stacks (one line per stack).

    A recursive frame is counted once per stack for the inclusive figure."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # "fn (path/file.py:123)" -> "fn (path/file.py)": a function's lines are summed.
        frames = [_LINE.sub(")", frame) for frame in stack.split(";")]
        total += count
        threads[frames[0]] += count
        own[frames[-1]] += count
        for frame in set(frames[1:]):
            inclusive[frame] += count
    if not total:
        return "no samples"
    lines = [f"{total} samples", "", "by thread:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in threads.most_common(8)]
    lines += ["", f"top {top} by own time (the frame that was running):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    lines += ["", f"top {top} by total time (the frame was on the stack):"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top)]
    ours = [(name, n) for name, n in inclusive.most_common() if "mcp_grpc/" in name]
    lines += ["", f"top {top} mcp_grpc functions by total time:"]
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours[:top]]
    return "\n".join(lines)


async def drive(clients: Clients, scenario: str, concurrency: int, seconds: float) -> int:
    from bench.load import run_load

    result = await run_load(clients.calls[scenario], concurrency=concurrency, seconds=seconds, warmup_seconds=0)
    if result.errors:
        raise RuntimeError(f"{result.errors} failed calls: {result.first_error}")
    return result.calls


def main(argv: list[str] | None = None) -> int:
    from bench.harness import server_processes
    from bench.identities import bench_identities

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=(FULL, FULL_NO_CACHE, FLOOR), default=FULL)
    parser.add_argument("--server-flags", default="",
                        help="extra flags for the full-stack server, e.g. '--no-audit --no-authz'")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--native", action="store_true",
                        help="include native frames (grpc's Cython and C core; slower sampling)")
    parser.add_argument("--out", type=pathlib.Path, help="also write the summary here")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(pathlib.Path(sys.executable).parent / "py-spy")
    if not pathlib.Path(py_spy).exists():
        parser.error("py-spy is not installed: .venv/bin/pip install py-spy")

    with tempfile.TemporaryDirectory(prefix="mcp-grpc-profile-") as tmp:
        work = pathlib.Path(tmp)
        with bench_identities(work) as ids:
            if args.scenario == FLOOR:
                command = ("bench.servers.grpc_echo", str(ids.cert_dir))
            else:
                command = ("bench.servers.mcp_grpc_full", str(ids.socket("server")), str(work),
                           "--tools", str(LIST_TOOLS_TOOLS),
                           *(["--no-cache"] if args.scenario == FULL_NO_CACHE else []),
                           *args.server_flags.split())
            # Clients() wants a port for every scenario; only the profiled one is called.
            with server_processes({args.scenario: command}) as servers:
                server = servers[args.scenario]
                ports = {name: server.port for name in (FLOOR, FULL, FULL_NO_CACHE)}
                raw = work / "profile.txt"
                spy = subprocess.Popen(
                    [py_spy, "record", "--pid", str(server.pid), "--format", "raw", "--rate", str(args.rate),
                     "--duration", str(int(args.seconds) + 1), "--threads",
                     # --native needs to pause the process for each sample; without it py-spy does not stop it.
                     *(["--native"] if args.native else ["--nonblocking"]), "--output", str(raw)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                time.sleep(0.5)

                async def go() -> int:
                    async with _FloorAndFullClients(ids, ports) as clients:
                        return await drive(clients, args.scenario, args.concurrency, args.seconds)

                calls = asyncio.run(go())
                try:
                    _, err = spy.communicate(timeout=args.seconds + 30)
                except subprocess.TimeoutExpired:
                    spy.send_signal(signal.SIGINT)
                    _, err = spy.communicate(timeout=10)
                if not raw.exists():
                    print(f"py-spy wrote nothing (exit code {spy.returncode}): {err[-2000:]}", file=sys.stderr)
                    return 1
                report = (f"scenario {args.scenario} {args.server_flags}, concurrency {args.concurrency}, "
                          f"{args.seconds:g} s, {calls} calls\n"
                          + summarize(raw.read_text(), args.top))
    print(report)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(report + "\n")
    return 0


class _FloorAndFullClients(Clients):
    """``Clients`` without the official SDK's client (no SDK server runs while profiling)."""

    async def __aenter__(self) -> "_FloorAndFullClients":
        import grpc

        from bench.identities import SERVER_DNS_NAME
        from bench.servers.grpc_echo import METHOD
        from bench.run import _checked_call
        from mcp_grpc.client import ClientIdentity

        ids = self.identities
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ids.read("bundle.pem"), private_key=ids.read("agent.key"),
            certificate_chain=ids.read("agent.pem"),
        )
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{self.ports[FLOOR]}", credentials, options=(("grpc.ssl_target_name_override", SERVER_DNS_NAME),)
        )
        self._stack.push_async_callback(channel.close)
        echo = channel.unary_unary(METHOD)
        self.calls[FLOOR] = lambda: echo(b"hi", timeout=30)
        identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
        self._stack.push_async_callback(identity.aclose)
        for scenario in (FULL, FULL_NO_CACHE):
            self.calls[scenario] = _checked_call(identity.client(f"127.0.0.1:{self.ports[scenario]}").call_tool, "echo")
        return self


if __name__ == "__main__":
    raise SystemExit(main())
