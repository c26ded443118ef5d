"""``running``: an ``McpApp`` served by a real grpc.aio ``Server`` on 127.0.0.1 for the length of a block."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from mcp_grpc.server import McpApp, Server, ServerConfig
from mcp_grpc.contract import Authorizer


@contextlib.asynccontextmanager
async def running(app: McpApp, authorizer: Authorizer | None = None, **fields: Any) -> AsyncIterator[Server]:
    """``app`` on port 0 of 127.0.0.1 (``server.address``), stopped without grace when the block ends.

    Plaintext insecure-local mode unless an ``authenticator`` is given (pass ``credentials`` with it, or
    ``insecure_local=True``); ``drain_seconds`` is 0.5 for tests that call ``server.stop()`` themselves. Every other
    keyword is a ``ServerConfig`` field (``audit_sink``, ``page_size``, ...)."""
    fields.setdefault("insecure_local", fields.get("authenticator") is None)
    fields.setdefault("drain_seconds", 0.5)
    server = Server(app, ServerConfig(port=0, handle_signals=False, authorizer=authorizer, **fields))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)
