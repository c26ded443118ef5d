"""The embedded engine at scale: a large store's load time, memory and checks; ListTools over 10,000 tools.

Two measurements, in process (steadier than over gRPC on a shared machine):

- **store**: the realistic model and tuple generator of ``bench/authz_engine.py`` (nested teams, folder chains, a
  condition, a wildcard, an exclusion) grown to ``--tuples`` (1,000,000 by default). Reports the time of one bulk
  ``Engine.write`` (validation and index), the memory it takes per tuple (RSS growth over the load, with the input
  dicts kept alive so they are not counted; and, on a 50,000-tuple sample, the bytes ``tracemalloc`` traces to the
  write), and uncached check latency (p50/p90/p99, wall and thread CPU) on random and allowed queries, as
  ``bench/authz_engine.py`` times them.
- **list_tools**: an app with ``--tools`` filler tools (10,000 by default) and the authz folder of
  ``bench/servers/mcp_grpc_full.py`` (the agent may call every fourth tool), the server's ListTools handler path
  for the first page (``Pipeline.listing`` after authentication): the registry's names, the filtering through the
  embedded engine (no decision cache, so every listing filters afresh: the cost of a first listing) of only the
  prefix the page needs (``Pipeline.visible_prefix``), and the servicer's page of ``page_size`` tools; beside it,
  the same page cut from the whole filtered list (what the server did before), which must be the same page.

Run::

    PYTHONPATH=. .venv/bin/python -m bench.engine_scale [--tuples 1000000] [--tools 10000] [--quick]

``--quick``: 50,000 tuples, fewer repeats (what ``python -m bench.run --quick`` runs). Writes
``bench/out/engine_scale.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from typing import Any

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.authz_engine import (  # noqa: E402
    MODEL_DSL, _time_checks, allowed_queries, build_queries, build_store, dsl_to_model,
)
from mcp_grpc.authz.engine import Engine  # noqa: E402

__all__ = ["bench_store", "bench_list_tools", "main"]

TRACEMALLOC_SAMPLE = 50_000
CHECK_P50_TARGET_US = 50.0
LIST_TOOLS_TARGET_MS = 10.0


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _traced_bytes_per_tuple(n: int) -> float:
    """Bytes traced to one bulk write of ``n`` generated tuples (the input's own allocations excluded)."""
    tuples, _ = build_store(n)
    engine = Engine()
    engine.write_model(dsl_to_model(MODEL_DSL))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        engine.write(tuples)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) / len(tuples)


def bench_store(n_tuples: int, n_queries: int, repeat: int, sample: int = TRACEMALLOC_SAMPLE) -> dict[str, Any]:
    t0 = time.perf_counter()
    tuples, shape = build_store(n_tuples)
    generate_s = time.perf_counter() - t0
    queries = build_queries(tuples, n_queries)
    gc.collect()
    rss0 = _rss_bytes()
    engine = Engine()
    engine.write_model(dsl_to_model(MODEL_DSL))
    t0 = time.perf_counter()
    engine.write(tuples)
    load_s = time.perf_counter() - t0
    gc.collect()
    rss1 = _rss_bytes()
    errors = 0
    answers = []
    for q in queries:  # warm-up, and every answer must be an answer
        r = engine.check(q["user"], q["relation"], q["object"], context=q["context"])
        errors += r.error is not None
        answers.append(r.allowed)
    granted = allowed_queries(engine, tuples, n_queries)
    random_stats = _time_checks(engine, queries, repeat)
    allowed_stats = _time_checks(engine, granted, repeat)
    sample = min(shape["tuples"], sample)
    del engine, tuples
    gc.collect()
    return {
        "store": shape,
        "generate_seconds": round(generate_s, 2),
        "load_seconds": round(load_s, 2),
        "load_tuples_per_second": round(shape["tuples"] / load_s),
        "rss_mb_after_load": round(rss1 / 2**20, 1),
        "rss_bytes_per_tuple": round((rss1 - rss0) / shape["tuples"]),
        "tracemalloc_bytes_per_tuple": round(_traced_bytes_per_tuple(sample)),
        "tracemalloc_sample_tuples": sample,
        "check_errors": errors,
        "random": {**random_stats, "allowed_fraction": round(sum(answers) / len(answers), 3)},
        "allowed": allowed_stats,
        "check_p50_target_us": CHECK_P50_TARGET_US,
    }


async def _list_tools_first_page(n_tools: int, repeats: int) -> dict[str, Any]:
    from bench.servers.mcp_grpc_full import AGENT_USER, SERVER_NAME, build_app, visible_filler, write_authz_dir
    from mcp_grpc.contract import Principal, ProofKind, TargetKind
    from mcp_grpc import wire
    from mcp_grpc.server.call import Call
    from mcp_grpc.server.messages import ListSettings
    from mcp_grpc.server.runtime import Server, ServerConfig
    from mcp_grpc.server.security import authorizer_from_authz_dir
    from mcp_grpc.server.servicer import McpServicer
    from mcp_grpc.wire import mcp_messages_pb2 as pb

    spiffe_id = "spiffe://" + AGENT_USER.removeprefix("agent:")
    principal = Principal(spiffe_id, spiffe_id.split("/")[2], ProofKind.X509, None)
    with tempfile.TemporaryDirectory(prefix="engine-scale-") as tmp:
        authz_dir = pathlib.Path(tmp) / "authz"
        write_authz_dir(authz_dir, n_tools)
        t0 = time.perf_counter()
        authorizer = authorizer_from_authz_dir(authz_dir, cache=False)
        load_s = time.perf_counter() - t0
        app = build_app(n_tools)
        server = Server(app, ServerConfig(port=0, insecure_local=True, authorizer=authorizer))
        lists = ListSettings(server.config.page_size, None, pb.CACHE_SCOPE_PRIVATE)
        servicer = McpServicer(server.registry, server.pipeline, lists=lists)
        rpc = servicer.list_tools
        request = pb.ListToolsRequest()
        expected = 1 + sum(1 for i in range(n_tools) if visible_filler(i))

        async def first_page(prefix: bool = True) -> tuple[pb.ListToolsResponse, dict[str, int]]:
            # pipeline.listing's steps after authentication: names, filtering (only the first page's prefix of
            # the list, as the server does; ``prefix=False``: the whole list, as before it did), the page.
            call = Call(wire.MCP_SERVICE, "ListTools", {}, "ipv4:127.0.0.1:1", sink=None, telemetry=None,
                        audit_arguments=False)
            call.principal = principal
            t_start = time.perf_counter_ns()
            entries = dict(rpc.names())
            needed = rpc.needed(request) if prefix and rpc.needed is not None else None
            if needed is None or needed >= len(entries):
                visible = await pipeline.visible(call, TargetKind.TOOL, list(entries))
            else:
                visible = await pipeline.visible_prefix(call, TargetKind.TOOL, list(entries), needed)
            t_filtered = time.perf_counter_ns()
            response = rpc.answer(request, entries, visible)
            t_end = time.perf_counter_ns()
            if not prefix and len(visible) != expected:
                raise RuntimeError(f"{len(visible)} tools visible, expected {expected}")
            return response, {"total": t_end - t_start, "filter": t_filtered - t_start, "page": t_end - t_filtered}

        pipeline = server.pipeline
        whole, _ = await first_page(prefix=False)  # warm-up: tool messages are built once and kept by the servicer
        response, _ = await first_page()
        if list(response.tools) != list(whole.tools) or response.common != whole.common:
            raise RuntimeError("the first page filtered by prefix differs from the one cut from the whole list")
        runs = [(await first_page())[1] for _ in range(repeats)]
        whole_runs = [(await first_page(prefix=False))[1]["total"] / 1e6 for _ in range(max(3, repeats // 4))]
    ms = {part: sorted(r[part] / 1e6 for r in runs) for part in ("total", "filter", "page")}
    return {
        "tools_registered": n_tools + 1,
        "tools_visible": expected,
        "page_size": len(response.tools),
        "repeats": repeats,
        "list_strategy": authorizer.list_strategy,
        "authz_load_seconds": round(load_s, 2),
        "first_page_ms_p50": round(statistics.median(ms["total"]), 3),
        "first_page_ms_min": round(ms["total"][0], 3),
        "filter_ms_p50": round(statistics.median(ms["filter"]), 3),
        "page_ms_p50": round(statistics.median(ms["page"]), 3),
        "whole_list_filtering_first_page_ms_p50": round(statistics.median(whole_runs), 3),
        "target_ms": LIST_TOOLS_TARGET_MS,
    }


def bench_list_tools(n_tools: int, repeats: int) -> dict[str, Any]:
    return asyncio.run(_list_tools_first_page(n_tools, repeats))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine_scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tuples", type=int, help="store size (default 1,000,000; quick 50,000)")
    parser.add_argument("--tools", type=int, default=10_000, help="filler tools for ListTools (default 10,000)")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, help="rounds over the queries (default 10; quick 3)")
    parser.add_argument("--quick", action="store_true", help="50,000 tuples and fewer repeats")
    parser.add_argument("--out", default=str(REPO_ROOT / "bench" / "out" / "engine_scale.json"))
    args = parser.parse_args(argv)
    n_tuples = args.tuples if args.tuples is not None else (50_000 if args.quick else 1_000_000)
    repeat = args.repeat if args.repeat is not None else (3 if args.quick else 10)
    started = time.monotonic()
    store = bench_store(n_tuples, args.queries, repeat, 10_000 if args.quick else TRACEMALLOC_SAMPLE)
    list_tools = bench_list_tools(args.tools, 5 if args.quick else 20)
    result = {
        "benchmark": "engine_scale",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "command": " ".join(["python", "-m", "bench.engine_scale", *(sys.argv[1:] if argv is None else argv)]),
        "store": store,
        "list_tools": list_tools,
        "wall_seconds": round(time.monotonic() - started, 1),
    }
    st, lt = store, list_tools
    print(f"store: {st['store']['tuples']:,} tuples loaded in {st['load_seconds']} s "
          f"({st['load_tuples_per_second']:,}/s); RSS {st['rss_mb_after_load']} MB, {st['rss_bytes_per_tuple']} B/tuple "
          f"(tracemalloc {st['tracemalloc_bytes_per_tuple']} B/tuple on {st['tracemalloc_sample_tuples']:,})")
    for key in ("random", "allowed"):
        s = st[key]
        print(f"  check, {key:8} p50 {s['p50_us']:.1f} µs  p90 {s['p90_us']:.1f}  p99 {s['p99_us']:.1f}  "
              f"(CPU p50 {s['p50_cpu_us_median_round']:.1f}; target p50 <= {CHECK_P50_TARGET_US:g})")
    print(f"ListTools first page: {lt['tools_registered']:,} tools, {lt['tools_visible']:,} visible, page "
          f"{lt['page_size']}: {lt['first_page_ms_p50']} ms p50 (filter {lt['filter_ms_p50']} ms, page "
          f"{lt['page_ms_p50']} ms; target <= {LIST_TOOLS_TARGET_MS:g} ms); filtering the whole list first: "
          f"{lt['whole_list_filtering_first_page_ms_p50']} ms")
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO_ROOT) if out.is_relative_to(REPO_ROOT) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
