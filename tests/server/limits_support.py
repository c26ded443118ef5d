"""Helpers of the limits tests: real mTLS (one CA, a server SVID, client SVIDs), an app with limited tools, an
authorizer that counts what it was asked, and a raw CallTool that returns the trailing metadata."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Mapping

import grpc

from mcp_grpc.client import AsyncClient
from mcp_grpc.contract import ConcurrencyLimit, Decision, DecisionStatus, RateLimit
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.trust import StaticTrustBundles
from mcp_grpc.server import McpApp, ToolAnnotations
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc
from mcp_grpc.wire.structs import python_to_struct
from tests.support import certfactory as cf

BILLING = "spiffe://example.org/ns/prod/sa/billing"
SUPPORT = "spiffe://example.org/ns/prod/sa/support"
AUDITOR = "spiffe://example.org/ns/prod/sa/auditor"
SERVER_DNS = "server.example.org"


@dataclasses.dataclass
class Pki:
    """A CA, the server's credentials and authenticator, and client credentials per SPIFFE ID."""

    ca: cf.CA
    server_cert: Any
    server_key: Any
    clients: dict[str, tuple[bytes, bytes]]

    def server_fields(self) -> dict[str, Any]:
        """``ServerConfig`` fields: new mTLS credentials (one object per server) and the SPIFFE authenticator."""
        credentials = grpc.ssl_server_credentials(
            [(cf.key_pem(self.server_key), cf.pem(self.server_cert))], root_certificates=cf.pem(self.ca.cert),
            require_client_auth=True,
        )
        bundles = StaticTrustBundles(x509_bundles={"example.org": [self.ca.cert]})
        return {"credentials": credentials, "authenticator": SpiffeAuthenticator(bundles), "insecure_local": False}

    def client(self, spiffe_id: str, address: str) -> AsyncClient:
        cert_pem, key_pem = self.clients[spiffe_id]
        credentials = grpc.ssl_channel_credentials(cf.pem(self.ca.cert), key_pem, cert_pem)
        return AsyncClient(address, credentials=credentials, server_name_override=SERVER_DNS, retry=None, timeout=10)


def make_pki(*spiffe_ids: str) -> Pki:
    ca = cf.make_ca("example.org")
    server_cert, server_key = ca.issue_leaf(
        "spiffe://example.org/ns/prod/sa/server", dns_names=[SERVER_DNS], with_eku=True
    )
    return Pki(ca, server_cert, server_key, {spiffe_id: ca.mint([spiffe_id]) for spiffe_id in spiffe_ids})


class CountingAuthorizer:
    """Allows every call and counts the calls it decided (to show that a limited call costs no authorization)."""

    def __init__(self) -> None:
        self.decided: list[tuple[str, str]] = []

    async def authorize(self, principal: Any, target: Any) -> Decision:
        self.decided.append((principal.spiffe_id, target.name))
        return Decision(DecisionStatus.ALLOW, "allowed")

    async def visible(self, principal: Any, server_name: str, kind: Any, names: Any) -> set[str]:
        return set(names)


class LimitedApp:
    """``echo`` (read-only, no limit of its own), ``transfer`` (2 at once per caller, then one per 100 s) and
    ``hold`` (one call in flight per caller; it waits for ``release``)."""

    def __init__(self, name: str = "limits") -> None:
        self.app = McpApp(name)
        self.release = asyncio.Event()
        self.holding = asyncio.Event()
        app = self.app

        @app.tool(annotations=ToolAnnotations(read_only=True))
        def echo(text: str) -> str:
            """Echo."""
            return text

        @app.tool(annotations=ToolAnnotations(destructive=True), limits=[RateLimit(rate=0.01, burst=2)])
        def transfer(amount: int) -> str:
            """Move money."""
            return f"moved {amount}"

        @app.tool(limits=[ConcurrencyLimit(1)])
        async def hold() -> str:
            """Wait for the test."""
            self.holding.set()
            await self.release.wait()
            return "released"


async def raw_call(client: AsyncClient, tool: str, arguments: Mapping[str, Any]) -> tuple[grpc.StatusCode, str, dict]:
    """CallTool on the client's channel: (status, details, trailing metadata as a dict)."""
    request = pb.CallToolRequest()
    request.request.name = tool
    python_to_struct(dict(arguments), request.request.arguments)
    call = mcp_pb2_grpc.McpStub(client.channel).CallTool(request, timeout=10)
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code(), error.details() or "", dict(error.trailing_metadata() or ())
    return grpc.StatusCode.OK, "", dict(await call.trailing_metadata() or ())


async def wait_for(predicate: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)
