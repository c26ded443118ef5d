"""One workload of the real-SPIRE tests, run as its own process so the SPIRE agent attests it (``unix`` plugin:
uid, gid, path). The test starts it with the gid its registration entry selects; it takes its SVID from the agent
through py-spiffe (``ClientIdentity.from_workload_api``) and prints one JSON object on stdout.

    python spire_workload.py id     --socket S
    python spire_workload.py call   --socket S --address A --tool T --arguments JSON
    python spire_workload.py load   --socket S --address A --seconds N --concurrency C
    python spire_workload.py lapse  --socket S --address A --seconds N      (calls once a second, with timestamps)
    python spire_workload.py jwt    --socket S --audience AUD
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

SERVER_DNS = "payments.mcp-tools.local"
TRUST_DOMAIN = "example.org"
LOOKUP = ("lookup_invoice", {"invoice_id": "INV-1001"})


def emit(value: Any) -> None:
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


async def outcome(client: Any, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    from mcp_grpc.client import McpCallError

    try:
        result = await client.call_tool(tool, arguments)
    except McpCallError as exc:
        return {"status": exc.status.name, "detail": exc.message}
    return {"status": "TOOL_ERROR" if result.is_error else "OK", "detail": result.text}


def identity(socket: str) -> Any:
    from mcp_grpc.client import ClientIdentity

    return ClientIdentity.from_workload_api(socket, server_dns_name=SERVER_DNS, server_trust_domain=TRUST_DOMAIN,
                                            timeout=15.0)


def svid_facts(source: Any) -> dict[str, Any]:
    leaf = source.svid.leaf
    return {"spiffe_id": str(source.svid.spiffe_id), "serial": str(leaf.serial_number),
            "not_after": leaf.not_valid_after_utc.timestamp(), "not_before": leaf.not_valid_before_utc.timestamp()}


def cmd_id(args: argparse.Namespace) -> None:
    from mcp_grpc.identity.sources import WorkloadX509Source

    try:
        source = WorkloadX509Source(args.socket, timeout=args.timeout)
    except Exception as exc:  # the answer under test: no entry, no SVID
        emit({"error": f"{type(exc).__name__}: {exc}"})
        return
    try:
        emit(svid_facts(source))
    finally:
        source.close()


async def cmd_call(args: argparse.Namespace) -> None:
    ident = await asyncio.to_thread(identity, args.socket)
    client = ident.client(args.address, timeout=10.0)
    try:
        emit({**await outcome(client, args.tool, json.loads(args.arguments)), **svid_facts(ident.x509_source)})
    finally:
        await client.close()
        await ident.aclose()


async def cmd_load(args: argparse.Namespace) -> None:
    """``concurrency`` callers for ``seconds``; every call's outcome counted, every SVID serial seen recorded."""
    ident = await asyncio.to_thread(identity, args.socket)
    client = ident.client(args.address, timeout=10.0)
    calls = 0
    failures: list[dict[str, Any]] = []
    serials: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + args.seconds

    async def caller() -> None:
        nonlocal calls
        while time.monotonic() < deadline:
            facts = svid_facts(ident.x509_source)
            serials.setdefault(facts["serial"], {**facts, "first_seen": time.time()})
            result = await outcome(client, *LOOKUP)
            calls += 1
            if result["status"] != "OK":
                failures.append({**result, "at": time.time(), "serial": facts["serial"]})

    try:
        await asyncio.gather(*(caller() for _ in range(args.concurrency)))
    finally:
        await client.close()
        await ident.aclose()
    emit({"calls": calls, "failures": len(failures), "failure_samples": failures[:10],
          "svids": sorted(serials.values(), key=lambda s: s["first_seen"])})


async def cmd_lapse(args: argparse.Namespace) -> None:
    """One call a second for ``seconds`` (or until three refusals in a row), one JSON line per call with its time
    and the SVID's expiry, so the test can act (delete the entry) after the first. Once the source serves no SVID
    (withdrawn by the agent, or expired) a line says NO_IDENTITY: the client cannot make a call at all."""
    from mcp_grpc.identity.sources import X509SourceError

    ident = await asyncio.to_thread(identity, args.socket)
    client = ident.client(args.address, timeout=5.0, retry=None)
    refused = 0
    try:
        deadline = time.monotonic() + args.seconds
        while time.monotonic() < deadline and refused < 3:
            try:
                facts = svid_facts(ident.x509_source)
                result = await outcome(client, *LOOKUP)
            except X509SourceError as exc:
                # the source no longer serves an SVID (the agent withdrew it, or it expired): no call can be made
                facts = {"not_after": None, "serial": None}
                result = {"status": "NO_IDENTITY", "detail": f"{type(exc).__name__}: {exc}"}
            emit({**result, "at": time.time(), "not_after": facts["not_after"], "serial": facts["serial"]})
            refused = refused + 1 if result["status"] != "OK" else 0
            await asyncio.sleep(1.0)
    finally:
        await client.close()
        await ident.aclose()
    emit({"done": True})


def cmd_jwt(args: argparse.Namespace) -> None:
    from mcp_grpc.identity.sources import WorkloadJwtSource

    source = WorkloadJwtSource(args.socket, timeout=args.timeout)
    try:
        svid = source.fetch_svid({args.audience})
        emit({"token": svid.token, "spiffe_id": str(svid.spiffe_id), "expiry": svid.expiry})
    finally:
        source.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["id", "call", "load", "lapse", "jwt"])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--address")
    parser.add_argument("--tool", default=LOOKUP[0])
    parser.add_argument("--arguments", default=json.dumps(LOOKUP[1]))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--audience")
    parser.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args()
    if args.mode == "id":
        cmd_id(args)
    elif args.mode == "jwt":
        cmd_jwt(args)
    else:
        asyncio.run({"call": cmd_call, "load": cmd_load, "lapse": cmd_lapse}[args.mode](args))


if __name__ == "__main__":
    main()
