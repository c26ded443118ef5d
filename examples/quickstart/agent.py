"""Calls the quickstart server: lists tools, calls two of them (one with progress), reads a note, renders a prompt.

    python -m examples.quickstart.agent 127.0.0.1:50051
"""

from __future__ import annotations

import sys

from mcp_grpc.client import Client


def run(address: str) -> dict:
    """Return what the agent saw (printed by main, asserted by the test)."""
    seen: dict = {}
    with Client(address, timeout=10) as client:
        seen["tools"] = [tool.name for tool in client.list_tools()]
        seen["greet"] = client.call_tool("greet", {"name": "Ada", "style": "excited"}).text
        seen["add"] = client.call_tool("add", {"numbers": [1, 2, 3.5]}).structured
        progress: list[float] = []
        counted = client.call_tool("count_to", {"n": 3}, progress=lambda update: progress.append(update.progress))
        seen["count_to"] = {"result": counted.structured, "progress": progress}
        seen["bad_arguments"] = client.call_tool("greet", {}).text
        seen["note"] = client.read_resource("notes://welcome.md")[0].text
        seen["prompt"] = client.get_prompt("review", {"topic": "gRPC"}).messages
    return seen


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50051"
    for key, value in run(address).items():
        print(f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
