"""mcp_grpc.authz"""
