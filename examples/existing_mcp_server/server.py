"""The official-SDK server of ``server_sdk.py`` served through mcp-grpc, its code unchanged.

    mcp-grpc serve examples/existing_mcp_server/server.py:app --insecure-local --port 50051
    mcp-grpc tools 127.0.0.1:50051
    mcp-grpc call 127.0.0.1:50051 check_stock --args '{"item": "widget"}'

Every tool, resource, resource template and prompt of the SDK server is registered into an ``McpApp``; calls reach
the SDK's own handlers (its validation, its result conversion) behind mcp-grpc's identity, authorization and audit.
"""

from examples.existing_mcp_server.server_sdk import mcp as sdk_server
from mcp_grpc.bridge import mount_official
from mcp_grpc.server import McpApp

app = McpApp("inventory", instructions=sdk_server.instructions)
mounted = mount_official(app, sdk_server)

if __name__ == "__main__":
    app.serve(insecure_local=True)
