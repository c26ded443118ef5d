"""mcp-grpc: MCP over gRPC with SPIFFE identity and OpenFGA authorization."""

__version__ = "0.1.0"
