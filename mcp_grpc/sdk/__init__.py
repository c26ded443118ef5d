"""The official MCP Python SDK over mcp-grpc: a real ``mcp.ClientSession`` whose requests are our rpcs.

    from mcp_grpc.client import ClientIdentity
    import mcp_grpc.sdk

    identity = ClientIdentity.from_workload_api(socket, server_dns_name="payments.example.org")
    async with mcp_grpc.sdk.connect("dns:///payments:50051", identity=identity) as session:
        tools = await session.list_tools()          # the SDK's own API from here on
        result = await session.call_tool("lookup_invoice", {"invoice_id": "INV-1001"})

Each agent presents its own X.509-SVID (``identity``), so the server authorizes and audits it by name. Errors are the
SDK's ``MCPError``; ``error.error.data["grpcStatus"]`` names the gRPC status (see :mod:`mcp_grpc.sdk.errors`).
A tool's input requests (MRTR) reach the session as the protocol's ``InputRequiredResult``
(``allow_input_required=True``; retry with ``input_responses`` and ``request_state``); pass the session's
sampling/elicitation/roots callbacks so it declares those capabilities. The 2025-11-25 handshake
(``negotiate="initialize"``) refuses them: that era's server-to-client requests are not carried.
For another SDK-based framework, :class:`GrpcTransport` is the stream pair to build its ``ClientSession`` on.
"""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator, Literal

from mcp_grpc.contract.extras import require_mcp_sdk

require_mcp_sdk("mcp_grpc.sdk")

from mcp.client.session import ClientSession  # noqa: E402 - after the extra's clear error

from mcp_grpc.client import AsyncClient, ClientIdentity
from mcp_grpc.sdk.errors import DENIAL_STATUSES, is_denial
from mcp_grpc.sdk.methods import ServerInfo
from mcp_grpc.sdk.transport import GrpcTransport

__all__ = ["DENIAL_STATUSES", "GrpcTransport", "ServerInfo", "UNSUPPORTED_CALLBACKS", "connect", "is_denial"]

#: ClientSession callbacks a 2025-11-25 session would need server-to-client requests for (not carried).
UNSUPPORTED_CALLBACKS = ("sampling_callback", "elicitation_callback", "list_roots_callback")


@contextlib.asynccontextmanager
async def connect(
    target: str,
    *,
    identity: ClientIdentity | None = None,
    client: AsyncClient | None = None,
    timeout: float | None = 30.0,
    server_info: ServerInfo | None = None,
    negotiate: Literal["discover", "initialize", "none"] = "discover",
    session_class: type[ClientSession] = ClientSession,
    **session_options: Any,
) -> AsyncIterator[ClientSession]:
    """A ``ClientSession`` (already negotiated) over mcp-grpc to ``target`` (``host:port``, ``dns:///name:port``,
    ``unix:/path``).

    ``identity``: the agent's SPIFFE identity (mTLS with its X.509-SVID); its channel to ``target`` is closed on exit,
    the identity itself stays the caller's. ``client``: an ``AsyncClient`` to use instead (not closed here); with
    neither, the channel is plaintext (insecure-local servers only). ``negotiate``: ``discover`` (2026-07-28, the
    wire's revision), ``initialize`` (the 2025-11-25 handshake) or ``none``. Other keywords go to ``ClientSession``.
    """
    refused = [name for name in UNSUPPORTED_CALLBACKS if session_options.get(name) is not None]
    if refused and negotiate == "initialize":
        raise ValueError(
            f"{', '.join(refused)}: a 2025-11-25 session waits for server-to-client requests, which mcp-grpc does not "
            "send; use negotiate='discover' (2026-07-28), where input requests come as InputRequiredResult"
        )
    if identity is not None and client is not None:
        raise ValueError("pass identity= or client=, not both")
    async with contextlib.AsyncExitStack() as stack:
        if client is None:
            if identity is not None:
                channel = identity.channel(target)
                stack.push_async_callback(identity.close_channel, channel)
                client = AsyncClient(channel_provider=lambda: channel.channel, timeout=timeout)
            else:
                client = AsyncClient(target, timeout=timeout)
                stack.push_async_callback(client.close)
        info = server_info or ServerInfo(target)
        read, write = await stack.enter_async_context(GrpcTransport(client, info))
        session = await stack.enter_async_context(session_class(read, write, **session_options))
        if negotiate == "discover":
            await session.discover()
        elif negotiate == "initialize":
            await session.initialize()
        yield session
