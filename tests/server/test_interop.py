"""Done-when: the published mcp-grpc-transport-proto 0.2.0 stubs, an independent client, against our server.

The published package defines the same protobuf symbols as ``mcp_grpc.wire``; protobuf refuses both in one process,
so the client runs in a subprocess that never imports mcp_grpc.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
import textwrap

import pytest

from tests.support.servers import running

CLIENT = textwrap.dedent(
    """
    import json, sys
    import grpc
    from google.protobuf import json_format
    from mcp_grpc_transport_proto import mcp_messages_pb2 as pb, mcp_pb2_grpc

    assert "mcp_grpc" not in sys.modules
    out = {}
    metadata = [("mcp-protocol-version", "2026-07-28")]
    with grpc.insecure_channel(sys.argv[1]) as channel:
        stub = mcp_pb2_grpc.McpStub(channel)
        listed = stub.ListTools(pb.ListToolsRequest(), metadata=metadata, timeout=20)
        out["tools"] = {t.name: json_format.MessageToDict(t.input_schema) for t in listed.tools}
        out["descriptions"] = {t.name: t.description for t in listed.tools}

        def call(name, arguments):
            request = pb.CallToolRequest()
            request.request.name = name
            request.request.arguments.update(arguments)
            response = stub.CallTool(request, metadata=metadata + [("mcp_tool", name)], timeout=20)
            return {
                "text": [c.text.text for c in response.content if c.HasField("text")],
                "structured": json_format.MessageToDict(response.structured_content),
                "is_error": response.is_error,
            }

        out["ok"] = call("add", {"a": 19, "b": 23})
        out["echo"] = call("echo", {"text": "hi"})
        out["missing"] = call("add", {"a": 1})
        out["mistyped"] = call("echo", {"text": 5})
        try:
            call("no_such_tool", {})
        except grpc.RpcError as error:
            out["unknown"] = [error.code().name, error.details(), dict(error.trailing_metadata())]
    print(json.dumps(out))
    """
)


async def run_published_client(script: str, address: str) -> dict:
    """``script`` in a subprocess that never imports mcp_grpc, against ``address``: the JSON it prints."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", script, address, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, stderr.decode()
    return json.loads(stdout)


@pytest.mark.skipif(
    importlib.util.find_spec("mcp_grpc_transport_proto") is None, reason="mcp-grpc-transport-proto is not installed"
)
async def test_published_stubs_list_and_call_our_tools(app):
    async with running(app) as server:
        out = await run_published_client(CLIENT, server.address)
    assert out["tools"]["add"]["required"] == ["a", "b"]
    assert out["tools"]["add"]["properties"]["a"]["type"] == "integer"
    assert out["tools"]["echo"]["properties"]["text"]["description"] == "What to say back."
    assert out["descriptions"]["echo"] == "Say it back."
    assert out["ok"] == {"text": ["42"], "structured": {"result": 42.0}, "is_error": False}
    assert out["echo"] == {"text": ["hi"], "structured": {}, "is_error": False}
    assert out["missing"]["is_error"] and "b: required argument is missing" in out["missing"]["text"][0]
    assert out["mistyped"]["is_error"] and "text: Input should be a valid string" in out["mistyped"]["text"][0]
    assert out["unknown"] == ["NOT_FOUND", "unknown tool 'no_such_tool'", {"mcp-error-code": "-32602"}]


PROTO_CLIENT = textwrap.dedent(
    """
    import json, sys
    import grpc
    from google.protobuf import json_format
    from mcp_grpc_transport_proto import mcp_messages_pb2 as pb, mcp_pb2_grpc

    metadata = [("mcp-protocol-version", "2026-07-28")]
    with grpc.insecure_channel(sys.argv[1]) as channel:
        stub = mcp_pb2_grpc.McpStub(channel)
        listed = stub.ListTools(pb.ListToolsRequest(), metadata=metadata, timeout=20)
        request = pb.CallToolRequest()
        request.request.name = "read_object"
        request.request.arguments.update({"bucket": "docs", "key": ""})
        refused = stub.CallTool(request, metadata=metadata + [("mcp_tool", "read_object")], timeout=20)
    print(json.dumps({
        "schemas": {t.name: json_format.MessageToDict(t.input_schema) for t in listed.tools},
        "refused": {"is_error": refused.is_error, "text": [c.text.text for c in refused.content]},
    }))
    """
)


@pytest.mark.skipif(
    importlib.util.find_spec("mcp_grpc_transport_proto") is None, reason="mcp-grpc-transport-proto is not installed"
)
async def test_published_stubs_see_the_proto_constraints_of_proto_first_tools():
    """Issue 19: the Google stubs list the same constrained schema our client lists, and get the same refusal."""
    from examples.proto_tools.gen import storage_pb2
    from examples.proto_tools.server import StorageService
    from mcp_grpc.client import AsyncClient
    from mcp_grpc.server import McpApp

    app = McpApp("storage")
    app.add_proto_service(StorageService(), storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    async with running(app) as server:
        async with AsyncClient(server.address) as client:
            ours = {tool.name: tool.input_schema for tool in await client.list_tools()}
        out = await run_published_client(PROTO_CLIENT, server.address)
    assert out["schemas"] == json.loads(json.dumps(ours))  # JSON numbers: the Struct carries doubles
    assert out["schemas"]["list_objects"]["properties"]["bucket"]["pattern"] == "^[a-z0-9][a-z0-9.-]*$"
    assert out["schemas"]["read_object"]["required"] == ["bucket", "key"]
    assert out["refused"]["is_error"], out["refused"]
    assert out["refused"]["text"][0].startswith("invalid arguments: key: "), out["refused"]
