"""The server framework: the application object, handler context, configuration and the grpc.aio server.

    from mcp_grpc.server import McpApp, Context, ServerConfig, ToolAnnotations
    from mcp_grpc.server import Check, RateLimit

    app = McpApp("files")

    @app.tool(annotations=ToolAnnotations(read_only=True), authorize=[Check("can_read", "bucket:{bucket}")],
              limits=[RateLimit(rate=5, burst=10)])
    async def list_files(bucket: str, ctx: Context, limit: int = 10) -> list[str]:
        "List a bucket."
        await ctx.report_progress(1, 1)
        return ["a.txt"]

    app.serve(ServerConfig(
        host="0.0.0.0", port=50051,
        credentials=server_credentials,   # any grpc.ServerCredentials (mTLS from SPIFFE)
        authenticator=authenticator,      # contract.Authenticator -> Principal
        authorizer=authorizer,            # contract.Authorizer (decide + List* visibility)
        audit_sink=audit_sink,            # contract.AuditSink: one AuditEvent per call
    ))

Every call of Mcp, McpStreaming and proto-first services (``app.add_proto_service``) goes down one
``Pipeline``: authenticate -> resolve and validate -> authorize -> handle -> audit.

Names are loaded on first use, so importing the package does not pull in grpc servers, pydantic models or
generated code. The types shared with identity and authorization live in ``mcp_grpc.contract``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcp_grpc.contract import Check, ConcurrencyLimit, RateLimit
    from mcp_grpc.server.app import App, McpApp
    from mcp_grpc.server.pipeline import INSECURE_LOCAL_PRINCIPAL, Pipeline
    from mcp_grpc.server.registry import Notification, Registry
    from mcp_grpc.server.context import Context, LogMessage, Progress, current_context
    from mcp_grpc.wire.errors import McpError
    from mcp_grpc.server.content import Audio, EmbeddedResource, Image, ResourceContent, ResourceLink
    from mcp_grpc.server.entries import Icon
    from mcp_grpc.server.entries import Completion, ToolError, PromptMessage, ToolAnnotations, ToolResult
    from mcp_grpc.server.runtime import ConfigError, Server, ServerConfig, serve
    from mcp_grpc.server.lifespan import StartupError
    from mcp_grpc.contract.inputs import Elicit, ElicitAnswer, ListRoots, Root, Sample, SampleAnswer
    from mcp_grpc.server.inputs import InputRequired
    from mcp_grpc.server.request_state import RequestStateKeys

_EXPORTS = {
    "Elicit": "mcp_grpc.contract.inputs",
    "ElicitAnswer": "mcp_grpc.contract.inputs",
    "ListRoots": "mcp_grpc.contract.inputs",
    "Root": "mcp_grpc.contract.inputs",
    "Sample": "mcp_grpc.contract.inputs",
    "SampleAnswer": "mcp_grpc.contract.inputs",
    "InputRequired": "mcp_grpc.server.inputs",
    "RequestStateKeys": "mcp_grpc.server.request_state",
    "App": "mcp_grpc.server.app",
    "McpApp": "mcp_grpc.server.app",
    "Notification": "mcp_grpc.server.registry",
    "Registry": "mcp_grpc.server.registry",
    "Pipeline": "mcp_grpc.server.pipeline",
    "INSECURE_LOCAL_PRINCIPAL": "mcp_grpc.server.pipeline",
    "Context": "mcp_grpc.server.context",
    "Progress": "mcp_grpc.server.context",
    "LogMessage": "mcp_grpc.server.context",
    "current_context": "mcp_grpc.server.context",
    "McpError": "mcp_grpc.wire.errors",
    "ToolError": "mcp_grpc.server.entries",
    "Check": "mcp_grpc.contract",
    "ConcurrencyLimit": "mcp_grpc.contract",
    "RateLimit": "mcp_grpc.contract",
    "Completion": "mcp_grpc.server.entries",
    "PromptMessage": "mcp_grpc.server.entries",
    "ResourceContent": "mcp_grpc.server.content",
    "Image": "mcp_grpc.server.content",
    "Audio": "mcp_grpc.server.content",
    "EmbeddedResource": "mcp_grpc.server.content",
    "ResourceLink": "mcp_grpc.server.content",
    "ToolAnnotations": "mcp_grpc.server.entries",
    "Icon": "mcp_grpc.server.entries",
    "ToolResult": "mcp_grpc.server.entries",
    "ConfigError": "mcp_grpc.server.runtime",
    "Server": "mcp_grpc.server.runtime",
    "ServerConfig": "mcp_grpc.server.runtime",
    "serve": "mcp_grpc.server.runtime",
    "StartupError": "mcp_grpc.server.lifespan",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
