"""The official MCP Python SDK serving the same trivial tool over streamable HTTP (stateless, JSON responses)."""

from __future__ import annotations

import socket
import sys

import uvicorn
from mcp.server.mcpserver import MCPServer

server = MCPServer("bench")


@server.tool()
def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def main() -> None:
    app = server.streamable_http_app(stateless_http=True, json_response=True)
    # IPPROTO_TCP explicitly, as uvicorn's own bind gets it from getaddrinfo: asyncio sets TCP_NODELAY only on
    # sockets whose proto is IPPROTO_TCP, and a bare socket.socket() has proto 0. Without TCP_NODELAY, Nagle's
    # algorithm and delayed ACKs add about 40 ms to every response (measured: 45 ms vs 2.6 ms per request).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # Listen before announcing READY: connections then wait in the backlog until uvicorn accepts them, instead of
    # being refused while uvicorn is still starting.
    sock.listen(2048)
    print(f"READY {port}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    sys.exit(main())
