"""The development server's admin socket: rotate the CA, remove or restore a workload's identity, read status.

Protocol: one JSON object per line on a Unix stream socket (``<socket_dir>/_admin.sock`` by default; the leading
underscore keeps it apart from workload sockets, whose names cannot start with one). Request
``{"command": NAME, ...arguments}``; reply ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": MESSAGE}``.

Commands: ``status``; ``rotate-ca`` with ``step`` = ``prepare`` | ``activate`` | ``full`` (prepare now, activate after
the configured delay) and ``which`` = ``x509`` | ``jwt`` | ``both``; ``remove-identity``, ``restore-identity`` and
``rotate-svid`` with ``name``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from typing import Any, Awaitable, Callable, Mapping

__all__ = ["ADMIN_SOCKET_NAME", "AdminError", "admin_request", "serve_admin"]

ADMIN_SOCKET_NAME = "_admin.sock"
_MAX_LINE = 64 * 1024
_log = logging.getLogger("mcp_grpc.identity.dev")


class AdminError(Exception):
    """The admin command failed or the admin socket could not be reached."""


Handler = Callable[[Mapping[str, Any]], Awaitable[Any]]


async def serve_admin(path: str, handler: Handler) -> asyncio.AbstractServer:
    """Serve the admin protocol at ``path``; ``handler`` gets each request and returns the result or raises."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    reply: dict[str, Any] = {"ok": False, "error": f"request longer than {_MAX_LINE} bytes"}
                    writer.write(json.dumps(reply).encode() + b"\n")
                    break
                if not line:
                    break
                try:
                    request = json.loads(line)
                    if not isinstance(request, dict) or not isinstance(request.get("command"), str):
                        raise ValueError('a request is a JSON object with a string "command"')
                    reply = {"ok": True, "result": await handler(request)}
                except Exception as exc:  # every failure is reported to the caller; the server keeps running
                    reply = {"ok": False, "error": str(exc) or type(exc).__name__}
                writer.write(json.dumps(reply).encode() + b"\n")
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_unix_server(on_connection, path=path, limit=_MAX_LINE)


def admin_request(path: str, command: str, *, timeout: float = 10.0, **arguments: Any) -> Any:
    """Send one admin command to a running development server and return its result (blocking)."""
    request = json.dumps({"command": command, **arguments}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(request)
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except OSError as exc:
        raise AdminError(f"cannot reach the development Workload API admin socket at {path}: {exc}") from None
    try:
        reply = json.loads(data)
    except ValueError:
        raise AdminError(f"malformed reply from the admin socket at {path}: {data[:200]!r}") from None
    if not reply.get("ok"):
        raise AdminError(reply.get("error", "unknown error"))
    return reply.get("result")
