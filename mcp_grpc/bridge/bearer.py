"""Identified callers behind the HTTP bridge: each MCP client sends its own JWT-SVID, the bridge forwards it.

Without this, every call through the bridge is the bridge's. With ``forward_bearer`` (``bridge --http P
--forward-bearer``), every HTTP request must carry ``Authorization: Bearer <JWT-SVID>``: ``BearerRequired`` answers
**401** with ``WWW-Authenticate: Bearer`` (RFC 6750) to a request without one, or with a value that is not a compact
JWS, before the MCP server sees it. The bridge does not verify the token: the gRPC server does, as it verifies every
JWT-SVID. The bridge sends it on the call over its own mTLS connection, so the server sees both identities; a server
that lists the bridge as a delegate (``serve --jwt-delegate BRIDGE_ID``) authorizes the call as the token's subject
and audits the bridge as ``actor`` (the act claim of RFC 8693 token exchange, done by configuration); any other server
refuses a certificate and a token that name different workloads.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable

__all__ = ["BearerRequired", "bearer_token"]

log = logging.getLogger("mcp_grpc.bridge")

MAX_TOKEN_BYTES = 8192
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer`` value when it is a compact JWS of bounded size, else None."""
    if not authorization or len(authorization) > MAX_TOKEN_BYTES + 7:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip(" \t")
    if scheme.lower() != "bearer" or not _JWS.fullmatch(token):
        return None
    return token


class BearerRequired:
    """ASGI middleware: HTTP requests without a well-formed bearer token get 401; others pass unchanged."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return
        values = [v for k, v in scope.get("headers") or () if k.lower() == b"authorization"]
        token = bearer_token(values[0].decode("latin-1")) if len(values) == 1 else None
        if token is None:
            log.info("bridge: refused an HTTP request without a bearer JWT-SVID (%d authorization headers)",
                     len(values))
            body = b"Unauthorized: send Authorization: Bearer <JWT-SVID>"
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b'Bearer realm="mcp-grpc-bridge"')]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)
