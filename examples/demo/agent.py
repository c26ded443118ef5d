"""A demo agent: proves its identity with its own X.509-SVID and tries a fixed list of calls.

    python -m examples.demo.agent billing --socket DIR/billing-agent.sock --address 127.0.0.1:50051 \
        --server-dns-name payments.mcp-tools.local

Prints one JSON line per call: {"agent", "call", "outcome", "detail"}; outcome is the gRPC status name, or
``OK`` / ``TOOL_ERROR`` for a call that ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from mcp_grpc.client import McpCallError
from mcp_grpc.client import ClientIdentity

# What each agent tries: (label, tool, arguments); "list_tools" lists instead of calling.
SCENARIOS: dict[str, list[tuple[str, str, dict[str, Any]]]] = {
    "billing": [
        ("list tools", "list_tools", {}),
        ("lookup_invoice INV-1001", "lookup_invoice", {"invoice_id": "INV-1001"}),
        ("read_report reports/q3.txt", "read_report", {"bucket": "reports", "name": "q3.txt"}),
        ("read_report restricted/salaries.txt", "read_report", {"bucket": "restricted", "name": "salaries.txt"}),
        ("refund 50 on INV-1002", "refund", {"invoice_id": "INV-1002", "amount": 50}),
        ("refund 500 on INV-1002", "refund", {"invoice_id": "INV-1002", "amount": 500}),
    ],
    "support": [
        ("list tools", "list_tools", {}),
        ("lookup_invoice INV-1002", "lookup_invoice", {"invoice_id": "INV-1002"}),
        ("read_report reports/q3.txt", "read_report", {"bucket": "reports", "name": "q3.txt"}),
        ("refund 10 on INV-1001", "refund", {"invoice_id": "INV-1001", "amount": 10}),
    ],
}


async def run(agent: str, socket: str, address: str, server_dns_name: str) -> list[dict[str, Any]]:
    identity = ClientIdentity.from_workload_api(socket, server_dns_name=server_dns_name)
    spiffe_id = str(identity.x509_source.svid.spiffe_id)
    client = identity.client(address, timeout=10)
    rows = []
    try:
        for label, tool, arguments in SCENARIOS[agent]:
            row = {"agent": spiffe_id, "call": label}
            try:
                if tool == "list_tools":
                    tools = await client.list_tools()
                    row.update(outcome="OK", detail=", ".join(t.name for t in tools) or "(none visible)")
                else:
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
    parser.add_argument("agent", choices=sorted(SCENARIOS))
    parser.add_argument("--socket", required=True, help="this agent's Workload API socket")
    parser.add_argument("--address", required=True)
    parser.add_argument("--server-dns-name", required=True)
    args = parser.parse_args(argv)
    for row in asyncio.run(run(args.agent, args.socket, args.address, args.server_dns_name)):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
