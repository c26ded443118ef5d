"""How the bridge's MCP server is served to JSON-RPC clients: stdio, or streamable HTTP on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, AsyncIterator, Sequence

from mcp.server import Server
from mcp.server.transport_security import TransportSecuritySettings

from mcp_grpc.bridge.bearer import BearerRequired
from mcp_grpc.bridge.errors import BridgeError
from mcp_grpc.bridge.event_store import BoundedEventStore
from mcp_grpc.bridge.http_guard import (
    HostOriginGuard,
    default_allowed_hosts,
    default_allowed_origins,
    parse_allow_list,
)

__all__ = ["SSE_RETRY_MS", "HttpEndpoint", "serve_http", "serve_stdio"]

#: The reconnection delay (milliseconds) the HTTP bridge suggests to clients whose SSE stream broke.
SSE_RETRY_MS = 2000


async def serve_stdio(server: Server) -> None:
    """Serve one MCP client on this process's stdin/stdout until it closes stdin."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class HttpEndpoint:
    """A running streamable-HTTP bridge: its ``url``, and ``wait_closed()`` to block until it stops (signal)."""

    def __init__(self, url: str, task: Any) -> None:
        self.url = url
        self._task = task

    async def wait_closed(self) -> None:
        """Return when the HTTP server has stopped on its own (it does not stop for signals: see ``serve_http``)."""
        await asyncio.shield(self._task)


@contextlib.asynccontextmanager
async def serve_http(
    server: Server,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/mcp",
    allowed_hosts: Sequence[str] = (),
    allowed_origins: Sequence[str] = (),
    require_bearer: bool = False,
    startup_timeout: float = 10.0,
) -> AsyncIterator[HttpEndpoint]:
    """Serve streamable HTTP at ``http://host:port/path`` (port 0 picks one) until the block exits.

    Yields an ``HttpEndpoint`` whose ``url`` is the address MCP clients connect to.

    DNS-rebinding protection is on for every ``host`` (``mcp_grpc.bridge.http_guard``): Host headers must match the
    bound address (and the loopback names on a loopback or wildcard address) or ``allowed_hosts``; Origin headers,
    when sent, must be ``http(s)://`` of an allowed host or in ``allowed_origins``. Refusals are 421 (Host) and 403
    (Origin), as in the official SDK, and logged. ``require_bearer``: every request must carry ``Authorization:
    Bearer <JWT-SVID>`` (401 otherwise; see ``mcp_grpc.bridge.bearer``).
    Signals are left to the caller (uvicorn's own handling would re-raise them after shutdown).
    """
    import uvicorn

    class _Uvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[no-untyped-def, override]
            yield

    if not 0 <= port <= 65535:
        raise BridgeError(f"cannot listen on port {port}: out of range 0-65535")
    hosts = default_allowed_hosts(host) + parse_allow_list(allowed_hosts, "host")
    origins = default_allowed_origins(hosts) + parse_allow_list(allowed_origins, "origin")
    # One check, ours, for every address: the SDK's would only duplicate it on loopback (and not elsewhere).
    # Session-era SSE streams are resumable (SEP-1699): a priming event with an id and the retry delay comes first.
    unguarded = server.streamable_http_app(
        streamable_http_path=path, host=host,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        event_store=BoundedEventStore(), retry_interval=SSE_RETRY_MS,
    )
    inner = BearerRequired(unguarded) if require_bearer else unguarded
    asgi = HostOriginGuard(inner, allowed_hosts=hosts, allowed_origins=origins)
    uv = _Uvicorn(uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on", access_log=False))

    async def run() -> None:
        try:
            await uv.serve()
        except SystemExit:  # uvicorn exits the process when it cannot bind; we report instead
            raise BridgeError(f"cannot listen on {host}:{port} (in use or not available)") from None

    task = asyncio.ensure_future(run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + startup_timeout
        while not uv.started:
            if task.done():
                error = task.exception()
                if isinstance(error, BridgeError):
                    raise error
                raise BridgeError(f"cannot listen on {host}:{port}: {error or 'the server stopped during startup'}")
            if loop.time() > deadline:
                raise BridgeError(f"the HTTP server on {host}:{port} did not start within {startup_timeout:g}s")
            await asyncio.sleep(0.02)
        bound = uv.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        yield HttpEndpoint(f"http://{shown}:{bound}{path}", task)
    finally:
        uv.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5.0)
