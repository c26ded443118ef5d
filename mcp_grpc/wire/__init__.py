"""The wire protocol: Python code generated from ``protos/`` plus the protocol's values.

Hand-written: the constants below (service names, protocol versions, metadata keys), ``structs`` (Struct <-> Python
values) and ``errors`` (MCP error codes and the gRPC status that carries each).

Generated modules (committed; regenerate with ``make proto``, see protos/README.md)::

    from mcp_grpc.wire import mcp_pb2, mcp_pb2_grpc     # service model_context_protocol.Mcp
    from mcp_grpc.wire import mcp_messages_pb2         # its messages (ListToolsRequest, CallToolResponse, ...)
    from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc  # service mcp_grpc.v1.McpStreaming
    from mcp_grpc.wire import options_pb2              # (mcp_grpc.v1.tool) / (mcp_grpc.v1.resource) options

They are loaded on first use, so importing this package for its constants registers no descriptors. Our
``model_context_protocol`` descriptors share their symbol names with the published ``mcp_grpc_transport_proto``
package; protobuf refuses both in one process, so use that package in a separate process.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mcp_grpc.wire._comments import leading_comments

if TYPE_CHECKING:
    from mcp_grpc.wire import (
        mcp_messages_pb2,
        mcp_pb2,
        mcp_pb2_grpc,
        options_pb2,
        streaming_pb2,
        streaming_pb2_grpc,
    )

__all__ = [
    "CURSOR_KEY",
    "MCP_SERVICE",
    "STREAMING_SERVICE",
    "ERROR_CODE_METADATA_KEY",
    "LATEST_PROTOCOL_VERSION",
    "NEXT_CURSOR_KEY",
    "PROTOCOL_VERSION_METADATA_KEY",
    "SUPPORTED_PROTOCOL_VERSIONS",
    "errors",
    "leading_comments",
    "mcp_messages_pb2",
    "mcp_pb2",
    "mcp_pb2_grpc",
    "options_pb2",
    "streaming_pb2",
    "streaming_pb2_grpc",
    "structs",
]

MCP_SERVICE = "model_context_protocol.Mcp"
"""The full name of the MCP service (the gRPC-transport proposal's ``model_context_protocol.Mcp``)."""
STREAMING_SERVICE = "mcp_grpc.v1.McpStreaming"
"""The full name of our streaming extension (progress of a tool call, change notifications)."""

SUPPORTED_PROTOCOL_VERSIONS: tuple[str, ...] = ("2026-07-28",)
"""MCP revisions this implementation speaks, newest first."""
LATEST_PROTOCOL_VERSION: str = SUPPORTED_PROTOCOL_VERSIONS[0]

PROTOCOL_VERSION_METADATA_KEY = "mcp-protocol-version"
"""Request metadata naming the MCP revision of a call (e.g. ``2026-07-28``)."""
ERROR_CODE_METADATA_KEY = "mcp-error-code"
"""Trailing metadata carrying the MCP (JSON-RPC) error code of a failed call, as a decimal string."""

CURSOR_KEY = "cursor"
"""Key in ``RequestFields.metadata`` of the opaque page cursor a list request asks for."""
NEXT_CURSOR_KEY = "nextCursor"
"""Key in ``ResponseFields.metadata`` of the opaque cursor of the next page; absent on the last page."""

_GENERATED = frozenset(
    {"mcp_messages_pb2", "mcp_pb2", "mcp_pb2_grpc", "options_pb2", "streaming_pb2", "streaming_pb2_grpc", "errors", "structs"}
)


def __getattr__(name: str) -> Any:
    if name in _GENERATED:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
