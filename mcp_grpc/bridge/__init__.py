"""Interoperability with the official MCP Python SDK (PyPI ``mcp``), in both directions.

- ``mount_official(app, server)``: serve an existing ``MCPServer`` through mcp-grpc (identity, authorization, audit).
- ``mcp-grpc bridge ADDRESS --stdio | --http PORT``: expose an mcp-grpc server to JSON-RPC MCP clients
  (``mcp_grpc.bridge.gateway``). Calls through the bridge are authorized as the BRIDGE's identity.

Names are loaded on first use, so ``import mcp_grpc.bridge`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mcp_grpc.contract.extras import require_mcp_sdk

if TYPE_CHECKING:
    from mcp_grpc.bridge.errors import BridgeError
    from mcp_grpc.bridge.gateway import GrpcBackend
    from mcp_grpc.bridge.mcp_server import build_bridge_server
    from mcp_grpc.bridge.transports import HttpEndpoint, serve_http, serve_stdio
    from mcp_grpc.bridge.mount import MountedServer, MountError, SkippedPrimitive, mount_official

_EXPORTS = {
    "BridgeError": "mcp_grpc.bridge.errors",
    "GrpcBackend": "mcp_grpc.bridge.gateway",
    "HttpEndpoint": "mcp_grpc.bridge.transports",
    "build_bridge_server": "mcp_grpc.bridge.mcp_server",
    "serve_http": "mcp_grpc.bridge.transports",
    "serve_stdio": "mcp_grpc.bridge.transports",
    "MountError": "mcp_grpc.bridge.mount",
    "MountedServer": "mcp_grpc.bridge.mount",
    "SkippedPrimitive": "mcp_grpc.bridge.mount",
    "mount_official": "mcp_grpc.bridge.mount",
}

__all__ = sorted(_EXPORTS)


# Every module here imports the official MCP SDK (``mcp``, ``mcp_types``): without the [bridge] extra, importing
# any of them (``mcp_grpc.bridge.gateway``, ``mount_official``) is one MissingExtra naming it. Found, not imported:
# the SDK's import (~0.9 s) waits for the first name used.
require_mcp_sdk("the bridge")


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
