"""mcp_grpc.wire"""
