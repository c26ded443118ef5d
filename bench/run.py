"""Every benchmark scenario side by side, in one run on one machine: ``make bench`` / ``python -m bench.run``.

Scenarios (each server in its own process, all started together and kept up for the whole run):

- ``grpc_mtls``: the floor, bare grpcio asyncio unary echo over mTLS with the same SVIDs (``bench/servers/grpc_echo``);
- ``mcp_wire_floor``: the MCP-wire floor, bare grpcio serving Google's published ``Mcp.CallTool`` stubs (parse the
  Struct arguments, answer text and structured content; mTLS, no identity checks, authorization or audit;
  ``bench/servers/mcp_wire_floor``): the least any wire-compatible MCP server in Python costs;
- ``full_stack``: CallTool of a trivial tool through mcp-grpc (SPIFFE mTLS and SVID checks, embedded FGA check,
  audit on), decision cache warm (``bench/servers/mcp_grpc_full``);
- ``full_stack_no_cache``: the same with the decision cache off;
- ``official_sdk_http``: the official MCP SDK over streamable HTTP (stateless, 2026-07-28), driven by its own client.

Each is measured at every concurrency, in ``--rounds`` rounds; within a round the order of scenarios rotates, so a
noisy neighbour slows every stack alike rather than one. The reported figure is the median over rounds. Client and
server share the machine's cores, so server (and client) CPU per call are reported next to throughput.

Also: server RSS before and after 100,000 calls of the full stack (skipped with ``--quick``), the authorization
step in process (``bench/authz_path.py``), the engine against the ``fga`` CLI (``bench/authz_engine.py``) and
ListTools filtering with 1,000 tools.

Output: a table on stdout, ``bench/results.json`` (``--out``) and ``bench/throughput.png`` (``--plot``); a full run
to those default places also rewrites the generated section of BENCHMARKS.md (``bench/report.py``). A ``--quick``
run writes to ``bench/out/`` (not tracked) unless told otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime
import json
import os
import pathlib
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"

FLOOR = "grpc_mtls"
MCP_FLOOR = "mcp_wire_floor"
FULL = "full_stack"
FULL_NO_CACHE = "full_stack_no_cache"
SDK = "official_sdk_http"
SCENARIOS = (FLOOR, MCP_FLOOR, FULL, FULL_NO_CACHE, SDK)
LABELS = {
    FLOOR: "grpc mTLS echo (floor)",
    MCP_FLOOR: "MCP wire, bare grpcio (MCP floor)",
    FULL: "mcp-grpc full stack, cache warm",
    FULL_NO_CACHE: "mcp-grpc full stack, cache off",
    SDK: "official MCP SDK, HTTP",
}
RATIO_CONCURRENCY = 16
LIST_TOOLS_TOOLS = 1000
RSS_CALLS = 100_000

TARGETS = {
    "full_stack_vs_grpc_mtls": 0.85,
    "full_stack_vs_mcp_floor": 0.85,
    "full_stack_vs_official_sdk_http": 5.0,
    "engine_check_p50_us_uncached": 50.0,
    "engine_check_p50_us_cached": 2.0,
}


# -- machine ---------------------------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import grpc

    model = None
    with contextlib.suppress(OSError):
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    versions: dict[str, str] = {"python": platform.python_version(), "grpcio": grpc.__version__}
    from importlib import metadata

    for package in ("protobuf", "mcp", "uvicorn", "spiffe"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "platform": platform.platform(),
        "versions": versions,
    }


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bench", "mcp_grpc"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip() or None
    return f"{commit} (uncommitted changes)" if commit and dirty.stdout.strip() else commit


# -- clients ---------------------------------------------------------------------------------------------------------


class Clients:
    """One client per stack, each as its users would write it, kept open for the whole run."""

    def __init__(self, identities: Any, ports: dict[str, int]) -> None:
        self.identities = identities
        self.ports = ports
        self.calls: dict[str, Callable[[], Awaitable[object]]] = {}
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> "Clients":
        import grpc
        import mcp

        from bench.identities import SERVER_DNS_NAME
        from bench.servers.grpc_echo import METHOD
        from mcp_grpc.client import ClientIdentity

        ids = self.identities
        credentials = grpc.ssl_channel_credentials(
            root_certificates=ids.read("bundle.pem"),
            private_key=ids.read("agent.key"),
            certificate_chain=ids.read("agent.pem"),
        )
        channel = grpc.aio.secure_channel(
            f"127.0.0.1:{self.ports[FLOOR]}",
            credentials,
            options=(("grpc.ssl_target_name_override", SERVER_DNS_NAME),),
        )
        self._stack.push_async_callback(channel.close)
        echo = channel.unary_unary(METHOD)
        payload = b"hi"
        self.calls[FLOOR] = lambda: echo(payload, timeout=30)

        # The MCP floor speaks Google's wire: our client calls it as it would any MCP server, over plain mTLS.
        from mcp_grpc.client import AsyncClient

        floor_client = AsyncClient(f"127.0.0.1:{self.ports[MCP_FLOOR]}", credentials=credentials,
                                   server_name_override=SERVER_DNS_NAME)
        self._stack.push_async_callback(floor_client.close)
        self.calls[MCP_FLOOR] = _checked_call(floor_client.call_tool, "echo")

        identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
        self._stack.push_async_callback(identity.aclose)
        for scenario in (FULL, FULL_NO_CACHE):
            client = identity.client(f"127.0.0.1:{self.ports[scenario]}")
            self.calls[scenario] = _checked_call(client.call_tool, "echo")
        self.full_client_factory = lambda port: identity.client(f"127.0.0.1:{port}")

        sdk = await self._stack.enter_async_context(
            mcp.Client(f"http://127.0.0.1:{self.ports[SDK]}/mcp", mode="2026-07-28")
        )
        self.calls[SDK] = _checked_call(sdk.call_tool, "echo")
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._stack.aclose()


def _checked_call(call_tool: Callable[..., Awaitable[Any]], tool: str) -> Callable[[], Awaitable[object]]:
    """A CallTool that counts as an error unless the tool really answered (a denial or tool error is not a call)."""

    async def call() -> object:
        result = await call_tool(tool, {"text": "hi"})
        if getattr(result, "is_error", False):
            raise RuntimeError(f"tool error: {result!r}"[:300])
        return result

    return call


# -- scenarios -------------------------------------------------------------------------------------------------------


async def run_rounds(
    clients: Clients, servers: dict[str, Any], concurrencies: list[int], rounds: int, seconds: float, warmup: float
) -> list[dict[str, Any]]:
    from bench.harness import measure

    raw: list[dict[str, Any]] = []
    step = 0
    for round_index in range(rounds):
        for concurrency in concurrencies:
            # Rotate the order each time so that no stack always runs first (or last) in a round.
            order = SCENARIOS[step % len(SCENARIOS):] + SCENARIOS[: step % len(SCENARIOS)]
            step += 1
            for scenario in order:
                m = await measure(
                    scenario, servers[scenario], clients.calls[scenario],
                    concurrency=concurrency, seconds=seconds, warmup_seconds=warmup,
                )
                row = m.as_dict() | {"round": round_index + 1, "load_average_1m": os.getloadavg()[0]}
                raw.append(row)
                print(
                    f"  round {round_index + 1} c={concurrency:<3} {scenario:22} {row['calls_per_second']:>8.1f}/s "
                    f"p50 {row['p50_ms']:.2f} ms p99 {row['p99_ms']:.2f} ms server CPU "
                    f"{row['server_cpu_us_per_call']:.0f} µs/call errors {row['errors']}",
                    flush=True,
                )
    return raw


def summarize(raw: list[dict[str, Any]], concurrencies: list[int]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per scenario and concurrency: the median over rounds of each figure, plus the totals of calls and errors."""
    summary: dict[str, dict[str, dict[str, Any]]] = {}
    for scenario in SCENARIOS:
        summary[scenario] = {}
        for concurrency in concurrencies:
            rows = [r for r in raw if r["scenario"] == scenario and r["concurrency"] == concurrency]
            if not rows:
                continue

            def med(key: str) -> float:
                values = [r[key] for r in rows if r[key] == r[key]]  # NaN-free
                return round(statistics.median(values), 3) if values else float("nan")

            summary[scenario][str(concurrency)] = {
                "rounds": len(rows),
                "calls": sum(r["calls"] for r in rows),
                "errors": sum(r["errors"] for r in rows),
                "calls_per_second": med("calls_per_second"),
                "calls_per_second_min": min(r["calls_per_second"] for r in rows),
                "calls_per_second_max": max(r["calls_per_second"] for r in rows),
                "p50_ms": med("p50_ms"),
                "p99_ms": med("p99_ms"),
                "server_cpu_us_per_call": med("server_cpu_us_per_call"),
                "client_cpu_us_per_call": med("client_cpu_us_per_call"),
                "server_rss_mb": max(r["server_rss_mb"] for r in rows),
            }
    return summary


def ratios(raw: list[dict[str, Any]], summary: dict, concurrency: int) -> dict[str, Any]:
    """Throughput ratios at ``concurrency``: of the medians, and the median of per-round ratios (paired in time)."""

    def ratio(a: str, b: str) -> dict[str, Any]:
        sa, sb = summary[a].get(str(concurrency)), summary[b].get(str(concurrency))
        if not sa or not sb or not sb["calls_per_second"]:
            return {"of_medians": None, "per_round": [], "median_per_round": None}
        per_round = []
        for r in sorted({row["round"] for row in raw}):
            xa = [x["calls_per_second"] for x in raw if x["scenario"] == a and x["concurrency"] == concurrency
                  and x["round"] == r]
            xb = [x["calls_per_second"] for x in raw if x["scenario"] == b and x["concurrency"] == concurrency
                  and x["round"] == r]
            if xa and xb and xb[0]:
                per_round.append(round(xa[0] / xb[0], 3))
        return {
            "of_medians": round(sa["calls_per_second"] / sb["calls_per_second"], 3),
            "per_round": per_round,
            "median_per_round": round(statistics.median(per_round), 3) if per_round else None,
        }

    def cpu_ratio(a: str, b: str) -> float | None:
        c = str(concurrency)
        if c not in summary[a] or c not in summary[b] or not summary[b][c]["server_cpu_us_per_call"]:
            return None
        return round(summary[a][c]["server_cpu_us_per_call"] / summary[b][c]["server_cpu_us_per_call"], 3)

    return {
        "full_stack_vs_grpc_mtls": ratio(FULL, FLOOR),
        "full_stack_vs_mcp_floor": ratio(FULL, MCP_FLOOR),
        "full_stack_no_cache_vs_mcp_floor": ratio(FULL_NO_CACHE, MCP_FLOOR),
        "full_stack_cpu_vs_mcp_floor": cpu_ratio(FULL, MCP_FLOOR),
        "full_stack_vs_official_sdk_http": ratio(FULL, SDK),
        "full_stack_no_cache_vs_grpc_mtls": ratio(FULL_NO_CACHE, FLOOR),
        "server_cpu_per_call_full_stack_vs_grpc_mtls": (
            round(summary[FULL][str(concurrency)]["server_cpu_us_per_call"]
                  / summary[FLOOR][str(concurrency)]["server_cpu_us_per_call"], 3)
            if str(concurrency) in summary[FULL] and str(concurrency) in summary[FLOOR] else None
        ),
    }


async def rss_after_calls(clients: Clients, server: Any, calls: int, concurrency: int) -> dict[str, Any]:
    from bench import procstat
    from bench.harness import measure

    before = procstat.rss_bytes(server.pid)
    m = await measure(
        f"{FULL}_rss", server, clients.calls[FULL],
        concurrency=concurrency, seconds=1800, warmup_seconds=0, max_calls=calls,
    )
    after = procstat.rss_bytes(server.pid)
    return {
        "scenario": FULL,
        "concurrency": concurrency,
        "calls": m.load.calls,
        "errors": m.load.errors,
        "rss_before_mb": round(before / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "calls_per_second": round(m.load.calls_per_second, 1),
        "server_cpu_us_per_call": round(m.server_cpu_us_per_call, 1),
    }


async def list_tools_filtering(clients: Clients, port: int, repeats: int) -> dict[str, Any]:
    """ListTools through the full stack with 1,000 tools of which the agent may call 251 (one page and all pages)."""
    from bench.servers.mcp_grpc_full import visible_filler
    from mcp_grpc.wire import mcp_messages_pb2 as pb

    client = clients.full_client_factory(port)
    expected = 1 + sum(1 for i in range(LIST_TOOLS_TOOLS) if visible_filler(i))
    tools = await client.list_tools()
    if len(tools) != expected:
        raise RuntimeError(f"ListTools returned {len(tools)} tools, expected {expected}")
    full_list: list[int] = []
    first_page: list[int] = []
    page_size = 0
    for _ in range(repeats):
        start = time.perf_counter_ns()
        await client.list_tools()
        full_list.append(time.perf_counter_ns() - start)
        start = time.perf_counter_ns()
        response = await client._unary(client._mcp.ListTools, pb.ListToolsRequest(), None)  # one RPC, one page
        first_page.append(time.perf_counter_ns() - start)
        page_size = len(response.tools)
    # Does a ListTools hold up other calls? CallTool latency on the same server, alone and while another caller
    # lists one page after another.
    from bench.load import run_load

    seconds = 1.0 if repeats <= 5 else 3.0
    alone = await run_load(clients.calls[FULL], concurrency=1, seconds=seconds, warmup_seconds=0.2)
    stop = asyncio.Event()

    async def keep_listing() -> int:
        pages = 0
        while not stop.is_set():
            await client._unary(client._mcp.ListTools, pb.ListToolsRequest(), None)
            pages += 1
        return pages

    lister = asyncio.create_task(keep_listing())
    try:
        beside = await run_load(clients.calls[FULL], concurrency=1, seconds=seconds, warmup_seconds=0.2)
    finally:
        stop.set()
        pages_listed = await lister
    return {
        "call_tool_alone": {"calls": alone.calls, "errors": alone.errors, "p50_ms": round(alone.p50_ms, 3),
                            "p99_ms": round(alone.p99_ms, 3)},
        "call_tool_beside_list_tools": {"calls": beside.calls, "errors": beside.errors,
                                        "p50_ms": round(beside.p50_ms, 3), "p99_ms": round(beside.p99_ms, 3),
                                        "list_tools_pages": pages_listed},
        "tools_registered": LIST_TOOLS_TOOLS + 1,
        "tools_visible": expected,
        "page_size": page_size,
        "repeats": repeats,
        "one_page_ms_p50": round(statistics.median(first_page) / 1e6, 3),
        "one_page_ms_min": round(min(first_page) / 1e6, 3),
        "all_pages_ms_p50": round(statistics.median(full_list) / 1e6, 3),
        "all_pages_ms_min": round(min(full_list) / 1e6, 3),
    }


def authz_engine(out: pathlib.Path, quick: bool) -> dict[str, Any]:
    """Run ``bench/authz_engine.py`` (the engine engineer's) in its own process and read its JSON."""
    args = ["--tuples", "1000", "--queries", "60", "--repeat", "3", "--no-cli"] if quick else ["--cli-checks", "100"]
    command = [sys.executable, str(BENCH_DIR / "authz_engine.py"), *args, "--out", str(out)]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0 or not out.exists():
        return {"error": f"exit code {proc.returncode}: {proc.stderr[-2000:]}", "command": _display(command)}
    report = json.loads(out.read_text())
    report.get("params", {}).pop("out", None)  # a temporary path of this machine
    report["command"] = _display(command[:-2])
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    report["stdout"] = "".join(line for line in proc.stdout.splitlines(keepends=True) if not line.startswith("wrote "))
    return report


def _bench_module(module: str, args: list[str], out: pathlib.Path, timeout: float) -> dict[str, Any]:
    """Run ``python -m module args --out out`` in its own process and read its JSON report (or the error)."""
    command = [sys.executable, "-m", module, *args, "--out", str(out)]
    started = time.monotonic()
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0 or not out.exists():
        return {"error": f"exit code {proc.returncode}: {proc.stderr[-2000:]}", "command": _display(command)}
    report = json.loads(out.read_text())
    report["command"] = _display(command[:-2])
    report["wall_seconds"] = round(time.monotonic() - started, 1)
    return report


def workers_phase(out: pathlib.Path, quick: bool) -> dict[str, Any]:
    """``bench/workers.py``: ``mcp-grpc serve`` with 1 and 2 workers under the same load."""
    return _bench_module("bench.workers", ["--seconds", "2", "--warmup", "0.5"] if quick else [], out, 600)


#: Issue 15's "done when", each as (key, what, target, higher is better).
DONE_WHEN = (
    ("full_stack_vs_mcp_floor", "throughput at 16 callers, full stack / MCP-wire floor", 0.85, True),
    ("full_stack_cpu_vs_mcp_floor", "server CPU per call at 16 callers, full stack / MCP-wire floor", 1.15, False),
    ("full_stack_vs_official_sdk_http", "throughput at 16 callers, full stack / official SDK over HTTP", 5.0, True),
    ("p50_1_caller_vs_mcp_floor", "p50 latency at 1 caller, full stack / MCP-wire floor", 1.2, False),
    ("no_cache_vs_mcp_floor", "throughput at 16 callers, decision cache off / MCP-wire floor", 0.75, True),
    ("cold_start_seconds", "cold start, process start to the first served call (s)", 0.5, False),
    ("engine_uncached_random_p50_us", "uncached check p50 on the realistic model's random queries (µs)", 20.0, False),
    ("list_tools_10k_first_page_ms", "ListTools' first page over 10,000 tools (ms)", 10.0, False),
    ("engine_1m_random_p50_us", "check p50 on a 1,000,000-tuple store, random queries (µs)", 50.0, False),
)


def done_when(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each criterion of issue 15 with its measured value, whether it is met and by how much it is missed (the
    measured value over the target, as a ratio; None where a part did not run)."""
    summary = results.get("summary") or {}
    ratios_ = results.get("ratios") or {}

    def p50(scenario: str) -> float | None:
        return ((summary.get(scenario) or {}).get("1") or {}).get("p50_ms")

    full_p50, floor_p50 = p50(FULL), p50(MCP_FLOOR)
    scale = results.get("engine_scale") or {}
    store = scale.get("store") or {}
    listing = scale.get("list_tools") or {}
    measured = {
        "full_stack_vs_mcp_floor": results.get("full_stack_vs_mcp_floor"),
        "full_stack_cpu_vs_mcp_floor": results.get("full_stack_cpu_vs_mcp_floor"),
        "full_stack_vs_official_sdk_http": results.get("full_stack_vs_official_sdk_http"),
        "p50_1_caller_vs_mcp_floor": round(full_p50 / floor_p50, 3) if full_p50 and floor_p50 else None,
        "no_cache_vs_mcp_floor": (ratios_.get("full_stack_no_cache_vs_mcp_floor") or {}).get("of_medians"),
        "cold_start_seconds": (results.get("cold_start") or {}).get("first_call_seconds"),
        "engine_uncached_random_p50_us": (results.get("engine_check_p50_us") or {}).get("uncached_random"),
        "list_tools_10k_first_page_ms": (listing.get("first_page_ms_p50")
                                         if (listing.get("tools_registered") or 0) >= 10_000 else None),
        "engine_1m_random_p50_us": ((store.get("random") or {}).get("p50_us")
                                    if ((store.get("store") or {}).get("tuples") or 0) >= 1_000_000 else None),
    }
    rows = []
    for key, what, target, higher in DONE_WHEN:
        value = measured[key]
        met = None if value is None else (value >= target if higher else value <= target)
        rows.append({"key": key, "what": what, "target": target, "higher_is_better": higher, "measured": value,
                     "met": met, "of_target": None if value is None else round(value / target, 3)})
    return rows


def engine_scale(out: pathlib.Path, quick: bool) -> dict[str, Any]:
    """Run ``bench/engine_scale.py`` (a 1,000,000-tuple store, ListTools over 10,000 tools; quick: 50,000 tuples
    and 1,000 tools) in its own process and read its JSON."""
    return _bench_module("bench.engine_scale", ["--quick", "--tools", "1000"] if quick else [], out, 900)


async def cold_start(ids: Any, work_dir: pathlib.Path, runs: int) -> dict[str, Any]:
    """Process start to the first served call: the full-stack server (mTLS from the Workload API, the embedded engine
    over its authz folder, audit) started alone, then one CallTool as soon as it prints READY; beside it, the start
    of a bare ``python -c "import grpc"`` (the interpreter's own floor). Medians of ``runs``."""
    from bench.harness import _start, _stop, _wait_ready
    from bench.identities import SERVER_DNS_NAME
    from mcp_grpc.client import ClientIdentity

    # An installed wheel ships compiled bytecode (pip compiles at install); a checkout run with
    # PYTHONDONTWRITEBYTECODE (CI, this machine) would compile every module at every start instead (~0.3 s).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO_ROOT / "mcp_grpc"), str(REPO_ROOT / "bench")],
                   check=True, timeout=300, env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
                   stdout=subprocess.DEVNULL)
    identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
    first_call, ready = [], []
    try:
        for _ in range(runs):
            started = time.monotonic()
            process = _start("bench.servers.mcp_grpc_full", str(ids.socket("server")), str(work_dir))
            try:
                server = _wait_ready("bench.servers.mcp_grpc_full", process, started + 60)
                ready.append(time.monotonic() - started)
                client = identity.client(f"127.0.0.1:{server.port}")
                try:
                    result = await client.call_tool("echo", {"text": "hi"})
                finally:
                    await client.close()
                if result.is_error:
                    raise RuntimeError(f"the first call failed: {result.text[:200]}")
                first_call.append(time.monotonic() - started)
            finally:
                if process.poll() is None:
                    process.terminate()
                _stop(process)
    finally:
        await identity.aclose()
    bare = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([sys.executable, "-c", "import grpc"], check=True, timeout=60)
        bare.append(time.monotonic() - started)
    return {
        "runs": runs,
        "first_call_seconds": round(statistics.median(first_call), 3),
        "ready_seconds": round(statistics.median(ready), 3),
        "python_import_grpc_seconds": round(statistics.median(bare), 3),
        "target_seconds": 0.5,
    }


def limits_path(quick: bool) -> dict[str, Any]:
    """Run ``bench/limits_path.py`` (the limiter's cost per admitted call, in process and in Redis) in its own
    process and read the JSON it prints."""
    command = [sys.executable, "-m", "bench.limits_path", "--iterations", "2000" if quick else "20000"]
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900, check=False)
    if proc.returncode != 0:
        return {"error": f"exit code {proc.returncode}: {proc.stderr[-2000:]}", "command": _display(command)}
    report = json.loads(proc.stdout)
    report["command"] = _display(command)
    return report


def _display(command: list[str]) -> str:
    shown = []
    for part in command:
        if part == sys.executable:
            shown.append("python")
            continue
        with contextlib.suppress(ValueError):
            part = str(pathlib.Path(part).relative_to(REPO_ROOT)) if part.startswith("/") else part
        shown.append(part)
    return shlex.join(shown)


# -- report ----------------------------------------------------------------------------------------------------------


def table(results: dict[str, Any]) -> str:
    lines = []
    header = (f"{'scenario':34} {'conc':>4} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'srv CPU µs/call':>16} "
              f"{'cli CPU µs/call':>16} {'srv RSS MB':>10} {'errors':>6}")
    lines.append(header)
    lines.append("-" * len(header))
    for scenario in SCENARIOS:
        for concurrency, s in results["summary"][scenario].items():
            lines.append(
                f"{LABELS[scenario]:34} {concurrency:>4} {s['calls_per_second']:>9.1f} {s['p50_ms']:>8.2f} "
                f"{s['p99_ms']:>8.2f} {s['server_cpu_us_per_call']:>16.0f} {s['client_cpu_us_per_call']:>16.0f} "
                f"{s['server_rss_mb']:>10.1f} {s['errors']:>6}"
            )
    lines.append("")
    c = results["ratio_concurrency"]
    for key in ("full_stack_vs_grpc_mtls", "full_stack_vs_mcp_floor", "full_stack_vs_official_sdk_http"):
        target = TARGETS[key]
        value = results[key]
        verdict = "n/a" if value is None else ("met" if value >= target else "MISSED")
        lines.append(f"{key} at c={c}: {value}x (target >= {target}x: {verdict}); "
                     f"per round {results['ratios'][key]['per_round']}")
    cpu_ratio = results["ratios"]["server_cpu_per_call_full_stack_vs_grpc_mtls"]
    lines.append(f"server CPU per call, full stack / floor at c={c}: {cpu_ratio}x")
    lines.append(f"server CPU per call, full stack / MCP floor at c={c}: "
                 f"{results['ratios'].get('full_stack_cpu_vs_mcp_floor')}x (target <= 1.15)")
    engine = results.get("engine_check_p50_us") or {}
    if engine:
        lines.append(
            f"engine check p50: uncached {engine.get('uncached_allowed')} µs on allowed queries, "
            f"{engine.get('uncached_random')} µs on random ones (target <= 50); cached {engine.get('cached')} µs "
            f"(target <= 2)"
        )
    path = results.get("authz_path") or {}
    if path:
        lines.append(
            "authorize() in process p50: cache warm {} µs, no cache {} µs".format(
                path["authorize_cache_warm"]["p50_us"], path["authorize_no_cache"]["p50_us"]
            )
        )
    cli = (results.get("authz_engine") or {}).get("fga_cli")
    if cli:
        lines.append(f"fga CLI marginal time per check: {cli.get('marginal_us_per_check', float('nan')):.0f} µs "
                     f"(disagreements with the engine: {cli.get('disagreements_with_engine')})")
    lt = results.get("list_tools_1000") or {}
    if lt and "error" not in lt:
        lines.append(
            f"ListTools, {lt['tools_registered']} tools, {lt['tools_visible']} visible: one page "
            f"({lt['page_size']} tools) {lt['one_page_ms_p50']} ms p50, all pages {lt['all_pages_ms_p50']} ms p50"
        )
        lines.append(
            f"CallTool p99 alone {lt['call_tool_alone']['p99_ms']} ms, beside a ListTools loop "
            f"{lt['call_tool_beside_list_tools']['p99_ms']} ms"
        )
    scale = results.get("engine_scale") or {}
    if scale and "error" not in scale:
        st, sl = scale["store"], scale["list_tools"]
        lines.append(
            f"engine at scale: {st['store']['tuples']:,} tuples loaded in {st['load_seconds']} s, "
            f"{st['rss_bytes_per_tuple']} B/tuple RSS ({st['tracemalloc_bytes_per_tuple']} traced); check p50 "
            f"random {st['random']['p50_us']:.1f} µs, allowed {st['allowed']['p50_us']:.1f} µs (target <= "
            f"{st['check_p50_target_us']:g})"
        )
        lines.append(
            f"ListTools first page in process, {sl['tools_registered']:,} tools ({sl['tools_visible']:,} visible), "
            f"no decision cache: {sl['first_page_ms_p50']} ms p50, filtering {sl['filter_ms_p50']} ms "
            f"(target <= {sl['target_ms']:g})"
        )
    elif scale:
        lines.append(f"engine at scale: {scale['error'][:200]}")
    rss = results.get("rss_after_100k_calls")
    if rss:
        lines.append(f"full stack RSS: {rss['rss_before_mb']} MB before, {rss['rss_after_mb']} MB after "
                     f"{rss['calls']} calls ({rss['errors']} errors)")
    lines.append(f"load average at start {results['load_average']['start']}, at end {results['load_average']['end']}")
    return "\n".join(lines)


def plot(results: dict[str, Any], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_tput, ax_p99) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {FLOOR: ("k", "o", "-"), MCP_FLOOR: ("tab:gray", "D", "--"), FULL: ("tab:blue", "s", "-"), FULL_NO_CACHE: ("tab:blue", "s", ":"),
              SDK: ("tab:red", "^", "-")}
    for scenario in SCENARIOS:
        points = sorted((int(c), s) for c, s in results["summary"][scenario].items())
        if not points:
            continue
        xs = [c for c, _ in points]
        color, marker, line = styles[scenario]
        ax_tput.plot(xs, [s["calls_per_second"] for _, s in points], color=color, marker=marker, linestyle=line,
                     label=LABELS[scenario])
        ax_p99.plot(xs, [s["p99_ms"] for _, s in points], color=color, marker=marker, linestyle=line,
                    label=LABELS[scenario])
    concurrencies = sorted({int(c) for per in results["summary"].values() for c in per})
    for ax in (ax_tput, ax_p99):
        ax.set_xscale("log", base=2)
        ax.set_xticks(concurrencies, [str(c) for c in concurrencies])
        ax.set_xlabel("concurrent callers")
        ax.grid(True, alpha=0.3)
    ax_tput.set_ylabel("calls per second (median of rounds)")
    ax_tput.set_title("Throughput")
    ax_p99.set_ylabel("p99 latency, ms")
    ax_p99.set_yscale("log")
    ax_p99.set_title("p99 latency")
    ax_tput.legend(fontsize=8)
    machine = results["machine"]
    fig.suptitle(
        f"{results['when']}, {machine['nproc']} cores ({machine['cpu_model']}), client and server on the same cores, "
        f"load avg {results['load_average']['start'][0]:.1f}",
        fontsize=8,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- main ------------------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, work_dir: pathlib.Path) -> dict[str, Any]:
    from bench.authz_path import measure as measure_authz_path
    from bench.harness import server_processes
    from bench.identities import bench_identities

    concurrencies = args.concurrency
    middle = concurrencies[len(concurrencies) // 2]
    ratio_concurrency = RATIO_CONCURRENCY if RATIO_CONCURRENCY in concurrencies else middle
    results: dict[str, Any] = {
        "benchmark": "mcp-grpc bench.run",
        "when": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "command": args.command,
        "git_commit": git_commit(),
        "machine": machine_info(),
        "load_average": {"start": [round(x, 2) for x in os.getloadavg()]},
        "params": {
            "quick": args.quick,
            "seconds": args.seconds,
            "warmup_seconds": args.warmup,
            "rounds": args.rounds,
            "concurrency": concurrencies,
        },
        "targets": TARGETS,
        "ratio_concurrency": ratio_concurrency,
    }

    phases: dict[str, float] = {}
    results["phase_seconds"] = phases
    mark = time.monotonic()

    def phase(name: str) -> None:
        nonlocal mark
        now = time.monotonic()
        phases[name] = round(now - mark, 1)
        mark = now

    print("authorization step in process (bench/authz_path.py) ...", flush=True)
    results["authz_path"] = await measure_authz_path(2_000 if args.quick else 20_000)
    phase("authz_path")

    with bench_identities(work_dir) as ids:
        server_socket = str(ids.socket("server"))
        commands = {
            FLOOR: ("bench.servers.grpc_echo", str(ids.cert_dir)),
            MCP_FLOOR: ("bench.servers.mcp_wire_floor", str(ids.cert_dir)),
            # Both full-stack servers carry 1,000 more tools (as a real server might): the ListTools scenario
            # runs on the warm one, and the echo call path does not depend on how many tools there are.
            FULL: ("bench.servers.mcp_grpc_full", server_socket, str(work_dir), "--tools", str(LIST_TOOLS_TOOLS)),
            FULL_NO_CACHE: ("bench.servers.mcp_grpc_full", server_socket, str(work_dir), "--no-cache",
                            "--tools", str(LIST_TOOLS_TOOLS)),
            SDK: ("bench.servers.mcp_sdk_http",),
        }
        phase("identities")
        print("starting servers ...", flush=True)
        with server_processes(commands) as servers:
            phase("servers_start")
            ports = {name: server.port for name, server in servers.items()}
            async with Clients(ids, ports) as clients:
                phase("clients")
                print(f"load: {args.rounds} round(s) x concurrency {concurrencies} x {len(SCENARIOS)} scenarios, "
                      f"{args.seconds:g} s each (+{args.warmup:g} s warm-up)", flush=True)
                raw = await run_rounds(clients, servers, concurrencies, args.rounds, args.seconds, args.warmup)
                phase("load")
                results["raw"] = raw
                summary = summarize(raw, concurrencies)
                results["summary"] = summary
                results["ratios"] = ratios(raw, summary, ratio_concurrency)
                results["full_stack_vs_grpc_mtls"] = results["ratios"]["full_stack_vs_grpc_mtls"]["of_medians"]
                results["full_stack_vs_mcp_floor"] = results["ratios"]["full_stack_vs_mcp_floor"]["of_medians"]
                results["full_stack_cpu_vs_mcp_floor"] = results["ratios"]["full_stack_cpu_vs_mcp_floor"]
                results["full_stack_vs_official_sdk_http"] = (
                    results["ratios"]["full_stack_vs_official_sdk_http"]["of_medians"]
                )
                print("ListTools with 1,000 tools ...", flush=True)
                results["list_tools_1000"] = await list_tools_filtering(
                    clients, ports[FULL], 5 if args.quick else 30
                )
                phase("list_tools")
                if args.quick:
                    results["rss_after_100k_calls"] = None
                else:
                    print(f"full stack RSS over {RSS_CALLS} calls ...", flush=True)
                    results["rss_after_100k_calls"] = await rss_after_calls(
                        clients, servers[FULL], RSS_CALLS, max(concurrencies)
                    )
                    phase("rss_100k")
            phase("clients_close")
        phase("servers_stop")
        print("cold start (process start to the first served call) ...", flush=True)
        results["cold_start"] = await cold_start(ids, work_dir, 2 if args.quick else 5)
        phase("cold_start")
    # The engine benchmark last and alone: the servers are gone, so it does not compete with them.
    print("authorization engine (bench/authz_engine.py) ...", flush=True)
    engine = authz_engine(work_dir / "authz_engine.json", args.quick)
    phase("authz_engine")
    results["authz_engine"] = engine
    embedded = engine.get("embedded", {}) if isinstance(engine, dict) else {}
    results["engine_check_p50_us"] = {
        "uncached_allowed": embedded.get("allowed", {}).get("p50_us"),
        "uncached_random": embedded.get("random", {}).get("p50_us"),
        "uncached_allowed_cpu": embedded.get("allowed", {}).get("p50_cpu_us_median_round"),
        "uncached_random_cpu": embedded.get("random", {}).get("p50_cpu_us_median_round"),
        "cached": results["authz_path"]["cache_lookup_hit"]["p50_us"],
    }
    print("engine at scale (bench/engine_scale.py) ...", flush=True)
    results["engine_scale"] = engine_scale(work_dir / "engine_scale.json", args.quick)
    phase("engine_scale")
    print("rate limits (bench/limits_path.py) ...", flush=True)
    results["limits_path"] = limits_path(args.quick)
    phase("limits_path")
    print("serve --workers 1 and 2 (bench/workers.py) ...", flush=True)
    results["workers"] = workers_phase(work_dir / "workers.json", args.quick)
    phase("workers")
    results["done_when"] = done_when(results)
    results["load_average"]["end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a short smoke run: 1 round of 1 s at concurrency 1 and 16, no 100k-call RSS run, "
                             "a small engine benchmark without the fga CLI")
    parser.add_argument("--seconds", type=float, help="counted seconds per measurement (default 5, quick 1)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds before each measurement (default 1, quick 0.3)")
    parser.add_argument("--rounds", type=int, help="rounds of every scenario (default 3, quick 1)")
    parser.add_argument("--concurrency", type=lambda s: [int(x) for x in s.split(",") if x],
                        help="comma-separated concurrencies (default 1,16,64; quick 1,16)")
    parser.add_argument("--out", type=pathlib.Path,
                        help="the JSON report (default bench/results.json; quick: bench/out/results-quick.json)")
    parser.add_argument("--plot",
                        help="the PNG of throughput and p99 against concurrency, '' for none (default "
                             "bench/throughput.png; quick: bench/out/throughput-quick.png)")
    args = parser.parse_args(argv)
    args.seconds = args.seconds if args.seconds is not None else (1.0 if args.quick else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.3 if args.quick else 1.0)
    args.rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    args.concurrency = args.concurrency or ([1, 16] if args.quick else [1, 16, 64])
    if args.seconds <= 0 or args.rounds < 1 or any(c < 1 for c in args.concurrency):
        parser.error("--seconds, --rounds and every --concurrency must be positive")
    # A quick run never replaces the recorded results (bench/out/ is not tracked).
    args.update_benchmarks_md = args.out is None and not args.quick
    if args.out is None:
        args.out = BENCH_DIR / "out" / "results-quick.json" if args.quick else BENCH_DIR / "results.json"
    if args.plot is None:
        args.plot = str(BENCH_DIR / "out" / "throughput-quick.png" if args.quick else BENCH_DIR / "throughput.png")
    args.plot = pathlib.Path(args.plot) if args.plot else None
    args.command = shlex.join(["python", "-m", "bench.run", *(sys.argv[1:] if argv is None else argv)])
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    with tempfile.TemporaryDirectory(prefix="mcp-grpc-bench-") as tmp:
        results = asyncio.run(run(args, pathlib.Path(tmp)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    if args.plot is not None:
        plot(results, args.plot)
    if args.update_benchmarks_md:
        from bench.report import update

        if update(REPO_ROOT / "BENCHMARKS.md", results):
            print("updated the generated section of BENCHMARKS.md")
    print()
    print(table(results))
    print(f"\nwrote {_display([str(args.out)])}" + (f" and {_display([str(args.plot)])}" if args.plot else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
