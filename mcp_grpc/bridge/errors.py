"""How the bridge reports failures: :class:`BridgeError` when it cannot be set up, and gRPC failures as MCP errors.

PERMISSION_DENIED, UNAUTHENTICATED and UNAVAILABLE from the gRPC server become a tool error result for tools/call
(:data:`TOOL_ERROR_STATUSES`), so the model sees why; every other failure, and every failure of a list, read, prompt or
completion request, is a JSON-RPC error (:func:`jsonrpc_error`) carrying the MCP error code the server sent (or one
derived from the gRPC status) and the status name in its message.
"""

from __future__ import annotations

import grpc
import mcp_types as types
from mcp.shared.exceptions import MCPError

from mcp_grpc.client import McpCallError
from mcp_grpc.wire.errors import (
    MISSING_CAPABILITIES_PREFIX, MISSING_REQUIRED_CLIENT_CAPABILITY, RESOURCE_NOT_FOUND, STATUS_CODES,
)

__all__ = ["TOOL_ERROR_STATUSES", "BridgeError", "jsonrpc_error", "resource_error", "status_text", "unreachable"]

#: gRPC statuses that tools/call reports as a tool error result (the model can read why) instead of a JSON-RPC error.
TOOL_ERROR_STATUSES = frozenset(
    {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE}
)



class BridgeError(Exception):
    """The bridge cannot be set up as asked (no identity configured, plaintext to a remote server, ...)."""


def status_text(error: McpCallError) -> str:
    """``"PERMISSION_DENIED: <reason>"``, or the status name alone when there is no reason."""
    return f"{error.status.name}: {error.message}" if error.message else error.status.name


def jsonrpc_error(error: McpCallError) -> MCPError:
    code = error.mcp_code if error.mcp_code is not None else STATUS_CODES.get(error.status, types.INTERNAL_ERROR)
    data: dict[str, object] = {"grpcStatus": error.status.name}
    if code == MISSING_REQUIRED_CLIENT_CAPABILITY and MISSING_CAPABILITIES_PREFIX in error.message:
        names = error.message.split(MISSING_CAPABILITIES_PREFIX, 1)[1].split(", ")
        data["requiredCapabilities"] = {name: {} for name in names if name in ("elicitation", "sampling", "roots")}
    return MCPError(code=code, message=status_text(error), data=data)


def resource_error(error: MCPError, uri: str) -> MCPError:
    """A failed resources/read as MCP 2026-07-28 reports it (SEP-2164): an unknown resource is -32602 Invalid Params
    (the gRPC server's -32002 is the code of earlier spec versions) whose data names the ``uri``; other failures pass
    unchanged."""
    if error.error.code != RESOURCE_NOT_FOUND:
        return error
    data = error.error.data if isinstance(error.error.data, dict) else {}
    return MCPError(code=types.INVALID_PARAMS, message=error.error.message, data={**data, "uri": uri})


def unreachable(error: Exception) -> McpCallError:
    """A failure before any RPC (no identity, bad address) reads like the UNAVAILABLE it amounts to."""
    return McpCallError(grpc.StatusCode.UNAVAILABLE, f"the bridge cannot call the server: {error}")
