"""The MCP-wire floor: bare grpcio serving Google's published ``model_context_protocol.Mcp/CallTool`` (PyPI
``mcp-grpc-transport-proto``'s stubs) over mTLS with the same certificates as the full stack.

Per call it does what any wire-compatible MCP server in Python must: parse the request (its ``Struct`` arguments
included), answer one text block and a structured result. No identity checks, authorization or audit: the least an
MCP server on this wire can cost, so ``full_stack / this`` is mcp-grpc's own overhead. It never imports mcp_grpc
(the published package defines the same protobuf symbols; protobuf refuses both in one process).

Usage: python -m bench.servers.mcp_wire_floor CERT_DIR   (reads server.pem, server.key, bundle.pem)
Prints ``READY <port>`` once listening.
"""

from __future__ import annotations

import asyncio
import pathlib
import sys

import grpc
from google.protobuf import json_format
from mcp_grpc_transport_proto import mcp_messages_pb2 as pb
from mcp_grpc_transport_proto import mcp_pb2_grpc


class EchoMcp(mcp_pb2_grpc.McpServicer):
    async def CallTool(self, request: pb.CallToolRequest, context: grpc.aio.ServicerContext) -> pb.CallToolResponse:
        arguments = json_format.MessageToDict(request.request.arguments)
        text = str(arguments.get("text", ""))
        response = pb.CallToolResponse()
        response.content.add().text.text = text
        response.structured_content.update({"result": text})
        return response


async def serve(cert_dir: pathlib.Path) -> None:
    credentials = grpc.ssl_server_credentials(
        [((cert_dir / "server.key").read_bytes(), (cert_dir / "server.pem").read_bytes())],
        root_certificates=(cert_dir / "bundle.pem").read_bytes(),
        require_client_auth=True,
    )
    server = grpc.aio.server()
    mcp_pb2_grpc.add_McpServicer_to_server(EchoMcp(), server)
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    print(f"READY {port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(pathlib.Path(sys.argv[1])))
