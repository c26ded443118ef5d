"""mcp_grpc.client"""
