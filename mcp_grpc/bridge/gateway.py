"""The bridge: an mcp-grpc server exposed as a standard MCP server (stdio or streamable HTTP) for JSON-RPC clients.

    backend = GrpcBackend.insecure_local("127.0.0.1:50051")
    server = build_bridge_server(backend)
    await serve_stdio(server)                                   # or:
    async with serve_http(server, host="127.0.0.1", port=8000) as url: ...

The bridge is a low-level ``mcp.server.Server`` of the official SDK whose handlers forward tools/list, tools/call,
resources/list, resources/templates/list, resources/read, prompts/list, prompts/get and completion/complete to the
gRPC server through ``mcp_grpc.client``; each subscriptions/listen stream (2026-07-28 clients) is one gRPC
``McpStreaming.Listen`` stream with the same filter. Progress notifications of tools/call come from CallToolStream.

Identity: the bridge authenticates to the gRPC server with ITS OWN identity (its X.509-SVID from the Workload API, or
the insecure-local development principal), and the gRPC server authorizes every forwarded call as the bridge. The
JSON-RPC clients behind it are not identified to the gRPC server: whoever can reach the bridge acts with the bridge's
permissions. Give the bridge an identity with only the permissions its clients should share, and keep its HTTP port
on loopback.

Errors: PERMISSION_DENIED, UNAUTHENTICATED and UNAVAILABLE from the gRPC server become a tool error result
(``isError: true``, text ``"PERMISSION_DENIED: <reason>"``) for tools/call, so the model sees why; every other
failure, and every failure of a list, read, prompt or completion request, is a JSON-RPC error carrying the MCP error
code the server sent (or one derived from the gRPC status) and the status name in its message.

This module holds how the bridge reaches the gRPC server (:class:`GrpcBackend`, :func:`is_local_address`) and is where
the bridge's public names are imported from. The rest lives by job: :mod:`.mcp_server` (the SDK server and its
handlers), :mod:`.listen` (subscriptions/listen), ``mcp_grpc.client.as_mcp`` (gRPC results as MCP types, shared
with the SDK transport), :mod:`.errors`
(``BridgeError`` and the error mapping) and :mod:`.transports` (stdio and streamable HTTP).
"""

from __future__ import annotations

from typing import Awaitable, Callable

from mcp_grpc.bridge.errors import TOOL_ERROR_STATUSES, BridgeError
from mcp_grpc.bridge.mcp_server import build_bridge_server
from mcp_grpc.bridge.transports import HttpEndpoint, serve_http, serve_stdio
from mcp_grpc.client import AddressError, AsyncClient, resolve_target
from mcp_grpc.contract.address import is_local_target

__all__ = [
    "BridgeError",
    "GrpcBackend",
    "HttpEndpoint",
    "TOOL_ERROR_STATUSES",
    "build_bridge_server",
    "is_local_address",
    "serve_http",
    "serve_stdio",
]

# -- reaching the gRPC server -------------------------------------------------------------------------------------


#: True for a Unix socket target or host:port pairs whose hosts are all loopback (plaintext is allowed there).
is_local_address = is_local_target


class GrpcBackend:
    """How the bridge reaches the gRPC server, as whom: ``client()`` gives an ``AsyncClient`` for the next call.

    Build one with :meth:`insecure_local` (plaintext, loopback or Unix socket only) or :meth:`spiffe` (mTLS with the
    bridge's X.509-SVID from the Workload API). Create it inside the event loop that will use it.
    """

    def __init__(
        self,
        address: str,
        client_factory: Callable[[], AsyncClient],
        close: Callable[[], Awaitable[None]],
        *,
        identity: str,
    ) -> None:
        self.address = address
        self.identity = identity
        """Who the gRPC server sees: ``insecure-local`` or the bridge's SPIFFE ID."""
        self._client_factory = client_factory
        self._close = close

    def client(self, *, bearer: str | None = None) -> AsyncClient:
        """The client for the next call; with ``bearer``, one on the same channel that sends ``authorization:
        Bearer <bearer>`` with every call (a JWT-SVID the bridge forwards for its caller)."""
        base = self._client_factory()
        if bearer is None:
            return base
        metadata = (("authorization", f"Bearer {bearer}"),)
        return AsyncClient(channel=base.channel, timeout=base.timeout, metadata=lambda: metadata)

    async def close(self) -> None:
        await self._close()

    @classmethod
    def insecure_local(cls, address: str, *, timeout: float | None = 30.0) -> "GrpcBackend":
        """Plaintext to an ``--insecure-local`` server; refused unless ``address`` is loopback or a Unix socket."""
        if not is_local_address(address):
            raise BridgeError(
                f"--insecure-local dials plaintext and is allowed only to a loopback address or a Unix socket, "
                f"not {address!r}; use --spiffe-socket and --server-dns-name for mTLS"
            )
        try:
            client = AsyncClient(address, timeout=timeout)
        except AddressError as error:
            raise BridgeError(str(error)) from None
        return cls(address, lambda: client, client.close, identity="insecure-local")

    @classmethod
    def spiffe(
        cls,
        address: str,
        *,
        socket_path: str | None,
        server_dns_name: str,
        server_trust_domain: str | None = None,
        timeout: float | None = 30.0,
        source_timeout: float = 10.0,
    ) -> "GrpcBackend":
        """mTLS with the bridge's own X.509-SVID (``socket_path`` or ``$SPIFFE_ENDPOINT_SOCKET``).

        The server is pinned by ``server_dns_name`` (a DNS SAN of its SVID) and trusted only through the bundle of
        ``server_trust_domain`` (default: the bridge's own trust domain). The channel is rebuilt when the SVID
        rotates, so every call uses the current identity.
        """
        if not server_dns_name:
            raise BridgeError(
                "--server-dns-name is required with --spiffe-socket: grpcio verifies the server by a DNS SAN"
            )
        try:
            from mcp_grpc.client import ClientIdentity
        except ImportError as error:  # the identity layer is optional at import time; say what is missing
            raise BridgeError(f"mTLS needs mcp_grpc.identity, which is not available: {error}") from None
        from spiffe.workloadapi.errors import X509SourceError

        try:
            resolve_target(address)  # a bad address is refused before the Workload API is asked
        except AddressError as error:
            raise BridgeError(str(error)) from None
        try:
            identity = ClientIdentity.from_workload_api(
                socket_path, server_dns_name=server_dns_name, server_trust_domain=server_trust_domain,
                timeout=source_timeout,
            )
        except X509SourceError as error:
            raise BridgeError(f"no identity for the bridge: {error}") from None
        try:
            spiffe_id = str(identity.x509_source.svid.spiffe_id)
            # The same retry policy and load balancing as mcp_grpc.client's own channels.
            channel = identity.channel(address)
        except (X509SourceError, ValueError) as error:
            identity.x509_source.close()
            raise BridgeError(f"no identity for the bridge: {error}") from None

        def client() -> AsyncClient:
            return AsyncClient(channel=channel.channel, timeout=timeout)  # the current channel: it follows rotation

        async def close() -> None:
            await identity.aclose()

        return cls(address, client, close, identity=spiffe_id)
