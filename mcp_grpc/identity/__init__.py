"""mcp_grpc.identity"""
