"""The proto-first example: the committed generated code is fresh, and its agent calls it both ways."""

from __future__ import annotations

import pathlib

from examples.proto_tools import agent
from examples.proto_tools.server import app
from mcp_grpc.server import Server, ServerConfig
from mcp_grpc.wire._generate import generate

EXAMPLE = pathlib.Path(__file__).resolve().parents[2] / "examples" / "proto_tools"


async def test_agent_calls_the_service_as_mcp_tools_and_as_typed_grpc():
    server = Server(app, ServerConfig(port=0, insecure_local=True, handle_signals=False))
    await server.start()
    try:
        seen = await agent.run(server.address)
    finally:
        await server.stop(0)
    assert seen["tools"] == ["list_objects", "put_object", "read_object"]
    assert seen["put_object_description"] == "Writes an object, replacing any object with the same key."
    assert seen["put_via_mcp"] == {"info": {"key": "a.txt", "size": "14"}}
    assert seen["list_via_mcp"] == {"objects": [{"key": "a.txt", "size": "14"}]}
    assert seen["index_via_mcp"] == {"objects": [{"key": "a.txt", "size": "14"}]}
    assert seen["missing_via_mcp"] == {"is_error": True, "text": "NOT_FOUND: no object 'nope' in bucket 'notes'"}
    assert seen["get_via_grpc"] == "written as MCP"  # written through MCP, read back through typed gRPC
    assert seen["stats_via_grpc"]["buckets"] == 2


def test_generated_code_is_fresh(tmp_path):
    fresh = generate(EXAMPLE / "protos", ["acme/storage/v1/storage.proto"], tmp_path, "examples.proto_tools.gen")
    for path in fresh:
        committed = EXAMPLE / "gen" / path.name
        assert committed.read_text() == path.read_text(), f"{committed} is stale: regenerate it (see server.py)"
