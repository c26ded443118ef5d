"""mcp_grpc.server"""
