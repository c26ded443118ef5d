"""mcp-grpc: MCP over gRPC with SPIFFE identity and OpenFGA authorization."""

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: importing mcp_grpc alone loads no server code
    if name in ("App", "McpApp", "Context", "ServerConfig", "Server", "ToolAnnotations"):
        import mcp_grpc.server as server

        return getattr(server, name)
    raise AttributeError(f"module 'mcp_grpc' has no attribute {name!r}")
