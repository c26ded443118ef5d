"""A storage agent: proves its identity with its own X.509-SVID, then tries every tool on every bucket.

    python -m examples.storage.agent --socket DIR/report-builder.sock --address 127.0.0.1:50053 \
        --server-dns-name storage.example.local

Prints one JSON line per call: {"agent", "call", "outcome", "detail"}; outcome is ``OK`` (or ``TOOL_ERROR``) for a
call that ran, else the gRPC status name (PERMISSION_DENIED names the relation and object that failed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from mcp_grpc.client import McpCallError
from mcp_grpc.client import ClientIdentity

# (label, tool, arguments); every agent tries the same calls, so the output is an allow/deny matrix.
CALLS: list[tuple[str, str, dict[str, Any]]] = [
    ("list events", "list_files", {"bucket": "events"}),
    ("read events", "read_file", {"bucket": "events", "path": "2026-11-01.jsonl"}),
    ("write events", "write_file", {"bucket": "events", "path": "notes.txt", "content": "hello"}),
    ("list ledgers", "list_files", {"bucket": "ledgers"}),
    ("read ledgers", "read_file", {"bucket": "ledgers", "path": "2026-q3.csv"}),
    ("write ledgers", "write_file", {"bucket": "ledgers", "path": "2026-q4.csv", "content": "account,amount\n"}),
    ("list archive", "list_files", {"bucket": "archive"}),
]


async def run(socket: str, address: str, server_dns_name: str) -> list[dict[str, Any]]:
    """List the tools, then make every call in CALLS; one row per call."""
    identity = ClientIdentity.from_workload_api(socket, server_dns_name=server_dns_name)
    spiffe_id = str(identity.x509_source.svid.spiffe_id)
    client = identity.client(address, timeout=10)
    rows: list[dict[str, Any]] = []
    try:
        tools = await client.list_tools()
        rows.append({"agent": spiffe_id, "call": "list tools", "outcome": "OK",
                     "detail": ", ".join(sorted(t.name for t in tools)) or "(none visible)"})
        for label, tool, arguments in CALLS:
            row: dict[str, Any] = {"agent": spiffe_id, "call": label}
            try:
                result = await client.call_tool(tool, arguments)
                row.update(outcome="TOOL_ERROR" if result.is_error else "OK", detail=result.text)
            except McpCallError as exc:
                row.update(outcome=exc.status.name, detail=exc.message)
            rows.append(row)
    finally:
        await client.close()
        await identity.aclose()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="this agent's Workload API socket")
    parser.add_argument("--address", required=True, help="the storage server, host:port")
    parser.add_argument("--server-dns-name", required=True, help="the DNS SAN on the server's SVID")
    args = parser.parse_args(argv)
    for row in asyncio.run(run(args.socket, args.address, args.server_dns_name)):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
