"""mcp_grpc.cli"""
