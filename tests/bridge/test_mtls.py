"""The bridge with its own SVID: mTLS to a tool server that authenticates it, authorizes calls AS THE BRIDGE."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import mcp
import pytest

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.credentials import spiffe_server_credentials
from mcp_grpc.identity.sources import WorkloadIdentity
from mcp_grpc.server import Server, ServerConfig
from tests.bridge.bridge_support import (
    BRIDGE_ID,
    DENIED_TOOL,
    DOOMED_BRIDGE_ID,
    SERVER_DNS,
    TRUST_DOMAIN,
    DenyOneAuthorizer,
    WorkloadApi,
    build_native_app,
)


@pytest.fixture(scope="module")
def workload_api():
    api = WorkloadApi().start()
    yield api
    api.stop()


@pytest.fixture
async def mtls_server(workload_api: WorkloadApi, authorizer: DenyOneAuthorizer) -> AsyncIterator[Server]:
    identity = await asyncio.to_thread(WorkloadIdentity, workload_api.socket("server"), jwt=False)
    config = ServerConfig(
        port=0,
        handle_signals=False,
        credentials=spiffe_server_credentials(identity.x509),
        authenticator=SpiffeAuthenticator(identity.trust_bundles, accepted_trust_domains={TRUST_DOMAIN}),
        authorizer=authorizer,
    )
    server = Server(build_native_app(), config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)
        identity.close()


async def _bridged_call(backend: GrpcBackend, tool: str, arguments: dict):
    try:
        async with serve_http(build_bridge_server(backend), port=0) as endpoint:
            async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                return await client.call_tool(tool, arguments)
    finally:
        await backend.close()


async def test_calls_are_authorized_as_the_bridges_spiffe_id(
    workload_api: WorkloadApi, mtls_server: Server, authorizer: DenyOneAuthorizer
):
    backend = await asyncio.to_thread(
        GrpcBackend.spiffe, mtls_server.address, socket_path=workload_api.socket("bridge"), server_dns_name=SERVER_DNS
    )
    assert backend.identity == BRIDGE_ID
    try:
        async with serve_http(build_bridge_server(backend), port=0) as endpoint:
            async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                allowed = await client.call_tool("echo", {"text": "over mTLS"})
                denied = await client.call_tool(DENIED_TOOL, {})
    finally:
        await backend.close()
    assert not allowed.is_error and allowed.content[0].text == "over mTLS"
    assert denied.is_error
    assert denied.content[0].text == f"PERMISSION_DENIED: {BRIDGE_ID} lacks can_call on tool:{DENIED_TOOL}"
    assert {seen.principal for seen in authorizer.seen} == {BRIDGE_ID}


async def test_a_server_the_bridge_cannot_pin_is_never_called(
    workload_api: WorkloadApi, mtls_server: Server, authorizer: DenyOneAuthorizer
):
    backend = await asyncio.to_thread(
        GrpcBackend.spiffe, mtls_server.address, socket_path=workload_api.socket("bridge"),
        server_dns_name="impostor.example.org", timeout=5,
    )
    result = await _bridged_call(backend, "echo", {"text": "x"})
    assert result.is_error and result.content[0].text.startswith("UNAVAILABLE: ")
    assert authorizer.seen == []


async def test_cli_flags_and_environment_pick_the_bridges_identity(
    workload_api: WorkloadApi, mtls_server: Server, monkeypatch: pytest.MonkeyPatch
):
    from mcp_grpc.cli.bridge_commands import _build_backend
    from mcp_grpc.cli.main import build_parser

    monkeypatch.setenv("SPIFFE_ENDPOINT_SOCKET", workload_api.socket("bridge"))
    args = build_parser().parse_args(["bridge", mtls_server.address, "--server-dns-name", SERVER_DNS, "--stdio"])
    backend = await asyncio.to_thread(_build_backend, args)
    try:
        assert backend.identity == BRIDGE_ID
        tools = await backend.client().list_tools()
        assert "echo" in {tool.name for tool in tools}
    finally:
        await backend.close()


async def test_a_bridge_whose_identity_is_removed_stops_calling(
    workload_api: WorkloadApi, mtls_server: Server, authorizer: DenyOneAuthorizer
):
    backend = await asyncio.to_thread(
        GrpcBackend.spiffe, mtls_server.address, socket_path=workload_api.socket("doomed"), server_dns_name=SERVER_DNS,
        timeout=5,
    )
    try:
        async with serve_http(build_bridge_server(backend), port=0) as endpoint:
            async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                before = await client.call_tool("echo", {"text": "still here"})
                await asyncio.to_thread(workload_api.remove_identity, "doomed")
                deadline = asyncio.get_running_loop().time() + 10
                after, succeeded = before, 1
                while not after.is_error and asyncio.get_running_loop().time() < deadline:  # removal reaches the source
                    await asyncio.sleep(0.1)
                    after = await client.call_tool("echo", {"text": "gone?"})
                    succeeded += not after.is_error
                with pytest.raises(mcp.MCPError) as listing:
                    await client.list_tools()
    finally:
        await backend.close()
    assert not before.is_error
    assert after.is_error and after.content[0].text.startswith("UNAVAILABLE: the bridge cannot call the server: ")
    assert "no X.509-SVID" in after.content[0].text
    assert listing.value.message.startswith("UNAVAILABLE: ")
    # The server decided only the calls that succeeded: the failed ones never left the bridge.
    assert [seen.principal for seen in authorizer.seen] == [DOOMED_BRIDGE_ID] * succeeded
