"""``running``: an ``McpApp`` served by a real grpc.aio ``Server`` on 127.0.0.1 for the length of a block."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, Iterator

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


@contextlib.contextmanager
def on_own_loop(app: McpApp, config: ServerConfig, name: str = "test-server") -> Iterator[tuple[Server, Any]]:
    """``app`` served on its own event loop thread, for tests that drive plain blocking calls (hypothesis): yields
    the started ``Server`` and a blocking ``grpc`` channel to it; stops both when the block ends."""
    import asyncio
    import threading

    import grpc

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name=name, daemon=True)
    thread.start()
    server = Server(app, config)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(30)
    channel = grpc.insecure_channel(server.address)
    try:
        yield server, channel
    finally:
        channel.close()
        asyncio.run_coroutine_threadsafe(server.stop(0), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
