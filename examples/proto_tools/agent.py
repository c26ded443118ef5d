"""Calls the proto-first storage service both ways: as MCP tools and as typed gRPC.

    python -m examples.proto_tools.agent 127.0.0.1:50052
"""

from __future__ import annotations

import asyncio
import json
import sys

import grpc

from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
from mcp_grpc.client import AsyncClient


async def run(address: str) -> dict:
    """Return what the agent saw (printed by main, asserted by the test)."""
    seen: dict = {}
    async with AsyncClient(address) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        seen["tools"] = sorted(tools)
        seen["put_object_description"] = tools["put_object"].description
        put = await client.call_tool("put_object", {"bucket": "notes", "key": "a.txt", "content": "written as MCP"})
        seen["put_via_mcp"] = put.structured
        listed = await client.call_tool("list_objects", {"bucket": "notes"})
        seen["list_via_mcp"] = listed.structured
        index = await client.read_resource("storage://notes/index")
        seen["index_via_mcp"] = json.loads(index[0].text)
        missing = await client.call_tool("read_object", {"bucket": "notes", "key": "nope"})
        seen["missing_via_mcp"] = {"is_error": missing.is_error, "text": missing.text}
        async with grpc.aio.insecure_channel(address) as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            got = await stub.GetObject(storage_pb2.GetObjectRequest(bucket="notes", key="a.txt"), timeout=10)
            seen["get_via_grpc"] = got.content
            stats = await stub.GetStats(storage_pb2.GetStatsRequest(), timeout=10)
            seen["stats_via_grpc"] = {"buckets": stats.buckets, "objects": stats.objects}
    return seen


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:50052"
    print(json.dumps(asyncio.run(run(address)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
