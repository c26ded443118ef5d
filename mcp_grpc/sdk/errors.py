"""gRPC failures as the SDK's JSON-RPC errors: the code, a readable message and the gRPC status name in ``data``.

``ErrorData.code`` is the MCP code the server sent in ``mcp-error-code`` trailing metadata; without one it is derived
from the status as the server derives it (``mcp_grpc.wire.errors.STATUS_CODES``: PERMISSION_DENIED -32003,
UNAUTHENTICATED -32004, UNAVAILABLE -32005, RESOURCE_EXHAUSTED -32006, INVALID_ARGUMENT and NOT_FOUND -32602,
UNIMPLEMENTED -32601), DEADLINE_EXCEEDED -32001, everything else -32603. ``ErrorData.data`` is
``{"grpcStatus": "<STATUS NAME>"}``: PERMISSION_DENIED and UNAUTHENTICATED are denials (the caller's identity may
not do this), UNAVAILABLE and the rest are failures worth retrying or reporting.
"""

from __future__ import annotations

from typing import Any

import grpc
import mcp_types as types

from mcp_grpc.client import McpCallError
from mcp_grpc.wire.errors import STATUS_CODES

__all__ = ["DENIAL_STATUSES", "error_data", "is_denial", "unreachable"]

#: gRPC statuses that mean "this identity may not", as opposed to "this did not work".
DENIAL_STATUSES = frozenset({"PERMISSION_DENIED", "UNAUTHENTICATED"})

_CODES = {**STATUS_CODES, grpc.StatusCode.DEADLINE_EXCEEDED: types.REQUEST_TIMEOUT}


def error_data(error: McpCallError) -> types.ErrorData:
    code = error.mcp_code if error.mcp_code is not None else _CODES.get(error.status, types.INTERNAL_ERROR)
    message = f"{error.status.name}: {error.message}" if error.message else error.status.name
    return types.ErrorData(code=code, message=message, data={"grpcStatus": error.status.name})


def unreachable(error: BaseException) -> McpCallError:
    """A failure before any rpc (no SVID yet, a bad address) reads like the UNAVAILABLE it amounts to."""
    return McpCallError(grpc.StatusCode.UNAVAILABLE, f"cannot call the server: {error}")


def is_denial(error: Any) -> bool:
    """Whether an ``mcp.shared.exceptions.MCPError`` (or its ``ErrorData``) from this transport is a denial."""
    data = getattr(getattr(error, "error", error), "data", None)
    return isinstance(data, dict) and data.get("grpcStatus") in DENIAL_STATUSES
