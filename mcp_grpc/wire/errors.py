"""Protocol errors: an MCP error code paired with the gRPC status that carries it.

A protocol error ends the RPC with a gRPC status; the MCP (JSON-RPC) code travels in the trailing metadata key
``mcp-error-code`` so MCP-aware clients can recover it. A tool that fails is not a protocol error: its failure is a
``CallToolResponse`` with ``is_error=true``.
"""

from __future__ import annotations

import grpc

from mcp_grpc import wire

#: Trailing metadata key carrying the MCP error code of a failed call.
MCP_ERROR_CODE_KEY = wire.ERROR_CODE_METADATA_KEY

# JSON-RPC / MCP error codes.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
RESOURCE_NOT_FOUND = -32002
#: MCP 2026-07-28: the request needs a client capability its ``_meta`` did not declare (FAILED_PRECONDITION here).
MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
#: The message of that error ends with this and the capabilities' names, comma-separated (the bridge reads them).
MISSING_CAPABILITIES_PREFIX = "the client did not declare the capabilities this call needs: "
# mcp-grpc's own codes, in JSON-RPC's implementation-defined server-error range (-32000 to -32099), clear of the
# ones MCP and its SDKs use (-32000 connection closed, -32001 timeout, -32002, -32020 to -32022, -32042): a client
# tells a denial from an outage from a crash by the code, not by parsing text.
PERMISSION_DENIED = -32003
UNAUTHENTICATED = -32004
UNAVAILABLE = -32005
RESOURCE_EXHAUSTED = -32006

#: The MCP code a refusal carries when nothing more precise was set.
STATUS_CODES: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.PERMISSION_DENIED: PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED: UNAUTHENTICATED,
    grpc.StatusCode.UNAVAILABLE: UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RESOURCE_EXHAUSTED,
    grpc.StatusCode.INVALID_ARGUMENT: INVALID_PARAMS,
    grpc.StatusCode.NOT_FOUND: INVALID_PARAMS,
    grpc.StatusCode.UNIMPLEMENTED: METHOD_NOT_FOUND,
}


class McpError(Exception):
    """A protocol error: ``status`` ends the RPC, ``code`` goes to trailing metadata, ``message`` is the detail."""

    def __init__(self, status: grpc.StatusCode, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        return ((MCP_ERROR_CODE_KEY, str(self.code)),)


def invalid_params(message: str) -> McpError:
    return McpError(grpc.StatusCode.INVALID_ARGUMENT, INVALID_PARAMS, message)


def not_found(message: str, code: int = INVALID_PARAMS) -> McpError:
    return McpError(grpc.StatusCode.NOT_FOUND, code, message)


def unimplemented(message: str) -> McpError:
    return McpError(grpc.StatusCode.UNIMPLEMENTED, METHOD_NOT_FOUND, message)


def missing_capabilities(names: list[str]) -> McpError:
    return McpError(
        grpc.StatusCode.FAILED_PRECONDITION, MISSING_REQUIRED_CLIENT_CAPABILITY,
        MISSING_CAPABILITIES_PREFIX + ", ".join(names),
    )


def internal(message: str) -> McpError:
    return McpError(grpc.StatusCode.INTERNAL, INTERNAL_ERROR, message)
