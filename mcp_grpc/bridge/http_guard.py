"""DNS-rebinding protection for the HTTP bridge, whatever address it is bound to.

A web page on ``evil.example`` whose name an attacker re-points at the bridge's address can make a browser send
requests to the bridge; they arrive with ``Host: evil.example:PORT`` and ``Origin: http://evil.example``, and every
call they make runs with the BRIDGE's identity. ``HostOriginGuard`` sits in front of the whole HTTP application and
refuses them, as the official MCP SDK's transport security does (and with the same answers): a Host header that is
not allowed gets **421 Misdirected Request** ("Invalid Host header"), an Origin header that is not allowed gets **403
Forbidden** ("Invalid Origin header"); a missing Host is refused, a missing Origin (clients that are not browsers) is
allowed. Each refusal is logged on ``mcp_grpc.bridge`` with the offending value bounded.

The SDK switches its own check on only when bound to exactly ``127.0.0.1``, ``localhost`` or ``::1``; ours is on for
every address. ``default_allowed_hosts``: the bound address itself and, for a loopback or wildcard address, the
loopback names, each with any port (``NAME:*``). A wildcard bind (``0.0.0.0``, ``::``) knows no public name, so the
names clients use must be added (``--allowed-host``). ``default_allowed_origins``: ``http://`` and ``https://`` of
every allowed host.

Patterns: an exact value (``tools.example.org:8000``, ``https://app.example.org``) or a value ending in ``:*`` for any
port. Hosts compare case-insensitively (DNS names do); nothing else is a wildcard.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, Awaitable, Callable, Iterable, Sequence

from mcp_grpc.bridge.errors import BridgeError
from mcp_grpc.contract.bounds import clip

__all__ = ["HostOriginGuard", "default_allowed_hosts", "default_allowed_origins", "parse_allow_list"]

log = logging.getLogger("mcp_grpc.bridge")

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_SHOWN = 120  # characters of a refused header value that reach the log

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _host_name(bound: str) -> str:
    bound = bound.strip("[]")
    return f"[{bound}]" if ":" in bound else bound.lower()


def _is_wildcard(bound: str) -> bool:
    try:
        return ipaddress.ip_address(bound.strip("[]")).is_unspecified
    except ValueError:
        return bound == ""


def _is_loopback(bound: str) -> bool:
    if bound.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bound.strip("[]")).is_loopback
    except ValueError:
        return False


def default_allowed_hosts(bound: str) -> list[str]:
    """The Host patterns a bridge bound to ``bound`` accepts unless told otherwise."""
    names: list[str] = []
    if not _is_wildcard(bound):
        names.append(_host_name(bound))
    if _is_wildcard(bound) or _is_loopback(bound):
        names.extend(name for name in LOOPBACK_NAMES if name not in names)
    return [pattern for name in names for pattern in (name, f"{name}:*")]


def default_allowed_origins(hosts: Iterable[str]) -> list[str]:
    """``http://`` and ``https://`` origins of every allowed Host pattern."""
    return [f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")]


def parse_allow_list(values: Iterable[str], what: str) -> list[str]:
    """Validated ``--allowed-host`` / ``--allowed-origin`` values; ``BridgeError`` names the bad one."""
    patterns = []
    for value in values:
        shown = value[:_SHOWN]
        if not value or not value.isascii() or any(c.isspace() or ord(c) < 32 for c in value) or "/" in (
            value if what == "host" else value.partition("://")[2]
        ):
            raise BridgeError(f"--allowed-{what} {shown!r}: expected "
                              + ("NAME, NAME:PORT or NAME:*" if what == "host" else "SCHEME://NAME[:PORT|:*]"))
        if what == "origin" and value.partition("://")[0] not in ("http", "https"):
            raise BridgeError(f"--allowed-origin {shown!r}: the scheme must be http or https")
        if "*" in value[:-2] or (value.endswith("*") and not value.endswith(":*")):
            raise BridgeError(f"--allowed-{what} {shown!r}: only a final ':*' (any port) may be a wildcard")
        patterns.append(value)
    return patterns


def _matches(value: str, patterns: Sequence[str], *, fold: bool) -> bool:
    if fold:
        value = value.lower()
    for pattern in patterns:
        if fold:
            pattern = pattern.lower()
        if value == pattern:
            return True
        if pattern.endswith(":*"):
            base, _, port = value.rpartition(":")
            if base == pattern[:-2] and port.isdigit():
                return True
    return False


class HostOriginGuard:
    """ASGI middleware: refuse requests whose Host or Origin is not allowed (421 / 403), before the app sees them."""

    def __init__(self, app: Any, *, allowed_hosts: Sequence[str], allowed_origins: Sequence[str]) -> None:
        if not allowed_hosts:
            raise BridgeError("no allowed Host: the bridge would refuse every request")
        self.app = app
        self.allowed_hosts = tuple(allowed_hosts)
        self.allowed_origins = tuple(allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = origin = None
        for name, value in scope.get("headers", ()):
            if name == b"host" and host is None:
                host = value.decode("latin-1")
            elif name == b"origin" and origin is None:
                origin = value.decode("latin-1")
        if host is None or not _matches(host, self.allowed_hosts, fold=True):
            log.warning("refused an HTTP request with Host %r (DNS-rebinding protection; allowed: %s; add one with "
                        "--allowed-host)", None if host is None else clip(host, _SHOWN), ", ".join(self.allowed_hosts))
            await _refuse(scope, send, 421, b"Invalid Host header")
            return
        if origin is not None and not _matches(origin, self.allowed_origins, fold=True):
            log.warning("refused an HTTP request with Origin %r (DNS-rebinding protection; allowed: %s; add one with "
                        "--allowed-origin)", clip(origin, _SHOWN), ", ".join(self.allowed_origins))
            await _refuse(scope, send, 403, b"Invalid Origin header")
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, body: bytes) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
