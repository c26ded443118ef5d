"""What each layer of the full stack costs: the same echo CallTool with layers taken out, measured side by side.

Variants (each its own server process, rounds rotate the order as in ``bench.run``):

- ``grpc_mtls``: the floor (bare grpcio echo over mTLS, raw bytes);
- ``grpc_mtls_auth_context``: the floor, also reading ``context.auth_context()`` (the peer certificate) per call;
- ``mcp_grpc_authn``: mcp-grpc with SPIFFE mTLS and the SpiffeAuthenticator, no authorizer, no audit (the MCP
  servicer: protobuf Struct arguments, pydantic validation, the handler, the response);
- ``mcp_grpc_authn_audit``: plus the JSON audit sink;
- ``mcp_grpc_authn_authz``: plus the embedded FGA check with a warm cache, no audit;
- ``full_stack``: everything (authn, authz with warm cache, audit), as in ``bench.run``;
- ``full_stack_deque_audit``: everything, with the audit sink replaced by ``bench.audit_sink.DequeAuditSink``, a
  prototype of the fix suggested for ``JsonAuditSink`` (not product code).

The difference in server CPU per call between two variants is what the added layer costs. By default every variant
gets the same open-loop arrival rate (``--rate``, 250 calls/s): in a closed loop a faster server handles bigger
batches per wake-up and so spends less CPU per call, which would blur the comparison; with equal arrivals the
per-call overheads compare like for like.

Run: python -m bench.decompose [--rate 250] [--seconds 5] [--rounds 3] [--out bench/out/decompose.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import statistics
import tempfile
from typing import Any

VARIANTS = {
    "grpc_mtls": (),
    "grpc_mtls_auth_context": ("--auth-context",),
    "mcp_grpc_authn": ("--no-authz", "--no-audit"),
    "mcp_grpc_authn_audit": ("--no-authz",),
    "mcp_grpc_authn_authz": ("--no-audit",),
    "full_stack": (),
    "full_stack_deque_audit": ("--audit-prototype",),
}


async def run(args: argparse.Namespace, work: pathlib.Path) -> dict[str, Any]:
    import grpc

    from bench.harness import measure, server_processes
    from bench.identities import SERVER_DNS_NAME, bench_identities
    from bench.run import _checked_call
    from bench.servers.grpc_echo import METHOD
    from mcp_grpc.client import ClientIdentity

    rows: list[dict[str, Any]] = []
    with bench_identities(work) as ids:
        commands = {
            name: ("bench.servers.grpc_echo", str(ids.cert_dir), *flags) if name.startswith("grpc_mtls")
            else ("bench.servers.mcp_grpc_full", str(ids.socket("server")), str(work), *flags)
            for name, flags in VARIANTS.items()
        }
        with server_processes(commands) as servers:
            credentials = grpc.ssl_channel_credentials(
                ids.read("bundle.pem"), ids.read("agent.key"), ids.read("agent.pem")
            )
            channels: list[Any] = []
            calls: dict[str, Any] = {}
            for name in ("grpc_mtls", "grpc_mtls_auth_context"):
                channel = grpc.aio.secure_channel(
                    f"127.0.0.1:{servers[name].port}", credentials,
                    options=(("grpc.ssl_target_name_override", SERVER_DNS_NAME),),
                )
                channels.append(channel)
                echo = channel.unary_unary(METHOD)
                calls[name] = lambda echo=echo: echo(b"hi", timeout=30)
            identity = ClientIdentity.from_workload_api(str(ids.socket("agent")), server_dns_name=SERVER_DNS_NAME)
            try:
                for name in VARIANTS:
                    if not name.startswith("grpc_mtls"):
                        client = identity.client(f"127.0.0.1:{servers[name].port}")
                        calls[name] = _checked_call(client.call_tool, "echo")
                names = list(VARIANTS)
                for round_index in range(args.rounds):
                    order = names[round_index % len(names):] + names[: round_index % len(names)]
                    for name in order:
                        m = await measure(name, servers[name], calls[name], concurrency=args.concurrency,
                                          seconds=args.seconds, warmup_seconds=args.warmup,
                                          rate=args.rate or None)
                        row = m.as_dict() | {"round": round_index + 1}
                        rows.append(row)
                        print(f"  round {round_index + 1} {name:24} {row['calls_per_second']:>8.1f}/s server CPU "
                              f"{row['server_cpu_us_per_call']:>6.0f} µs/call errors {row['errors']}", flush=True)
            finally:
                await identity.aclose()
                for channel in channels:
                    await channel.close()
    summary = {}
    for name in VARIANTS:
        mine = [r for r in rows if r["scenario"] == name]
        summary[name] = {
            "calls_per_second": round(statistics.median(r["calls_per_second"] for r in mine), 1),
            "server_cpu_us_per_call": round(statistics.median(r["server_cpu_us_per_call"] for r in mine), 1),
            "errors": sum(r["errors"] for r in mine),
        }
    floor = summary["grpc_mtls"]["server_cpu_us_per_call"]
    for name in VARIANTS:
        summary[name]["server_cpu_us_over_floor"] = round(summary[name]["server_cpu_us_per_call"] - floor, 1)
    return {"rate": args.rate or None, "concurrency": None if args.rate else args.concurrency,
            "seconds": args.seconds, "rounds": args.rounds,
            "load_average_end": os.getloadavg(), "summary": summary, "raw": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rate", type=float, default=250.0,
                        help="open-loop calls per second for every variant (0: closed loop at --concurrency)")
    parser.add_argument("--concurrency", type=int, default=16, help="callers of the closed loop (with --rate 0)")
    parser.add_argument("--out", type=pathlib.Path)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="mcp-grpc-decompose-") as tmp:
        result = asyncio.run(run(args, pathlib.Path(tmp)))
    result["load_average_start"] = load_start
    print(f"\n{'variant':24} {'calls/s':>9} {'server CPU µs/call':>19} {'over floor':>11}")
    for name, s in result["summary"].items():
        print(f"{name:24} {s['calls_per_second']:>9.1f} {s['server_cpu_us_per_call']:>19.0f} "
              f"{s['server_cpu_us_over_floor']:>11.0f}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
