"""Issue 12, beyond the anchors: identified callers behind the HTTP bridge.

The bridge (its own SVID, over mTLS) requires each MCP client's JWT-SVID and forwards it; the demo server lists the
bridge as a JWT delegate, so each call is authorized as the token's SPIFFE ID and audited with the bridge as actor.
"""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import httpx2
import mcp
import pytest
import pytest_asyncio
from mcp.client.streamable_http import streamable_http_client

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from tests.support.e2e import (
    BILLING_ID,
    BRIDGE_ID,
    JWT_AUDIENCE,
    SERVER_DNS,
    SUPPORT_ID,
    RunningServer,
    demo_server,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def delegating(workload_api, demo_authorizer, tmp_path_factory) -> AsyncIterator[tuple[RunningServer, str]]:
    """The demo server trusting the bridge as a JWT delegate, and a bridge forwarding bearers in front of it."""
    audit = tmp_path_factory.mktemp("delegation-audit") / "audit.jsonl"
    async with demo_server(workload_api, demo_authorizer, audit, jwt_audience=JWT_AUDIENCE,
                           jwt_delegates=[BRIDGE_ID]) as server:
        backend = await asyncio.to_thread(GrpcBackend.spiffe, server.address,
                                          socket_path=workload_api.socket("bridge"), server_dns_name=SERVER_DNS)
        try:
            async with serve_http(build_bridge_server(backend, forward_bearer=True), port=0,
                                  require_bearer=True) as endpoint:
                yield server, endpoint.url
        finally:
            await backend.close()


def _token(api: Any, workload: str) -> str:
    from mcp_grpc.identity.sources import WorkloadJwtSource

    source = WorkloadJwtSource(api.socket(workload))
    try:
        return source.fetch_svid(audience={JWT_AUDIENCE}).token
    finally:
        source.close()


async def _refund(url: str, token: str | None, amount: float) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        async with mcp.Client(streamable_http_client(url, http_client=http), mode="2026-07-28") as client:
            return await client.call_tool("refund", {"invoice_id": "INV-1002", "amount": amount})


async def test_each_client_behind_the_bridge_is_authorized_as_itself(delegating, workload_api):
    server, url = delegating
    mark = server.audit_mark()
    billing = await _refund(url, await asyncio.to_thread(_token, workload_api, "billing-agent"), 50)
    support = await _refund(url, await asyncio.to_thread(_token, workload_api, "support-agent"), 50)
    assert not billing.is_error, billing
    assert support.is_error and support.content[0].text.startswith("PERMISSION_DENIED: "), support
    records = server.audit_since(mark, expect=2)  # the SDK client also lists tools: those records are there too
    assert {r.get("actor") for r in records} == {BRIDGE_ID} and {r["proven_by"] for r in records} == {"delegated"}
    refunds = {(r["principal"], r["decision"]) for r in records if r["method"] == "CallTool"}
    assert refunds == {(BILLING_ID, "allow"), (SUPPORT_ID, "deny")}


async def test_a_client_without_a_bearer_gets_401_and_reaches_nothing(delegating):
    server, url = delegating
    mark = server.audit_mark()
    async with httpx2.AsyncClient(timeout=10) as http:
        bare = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                               headers={"accept": "application/json, text/event-stream"})
        forged = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                                 headers={"accept": "application/json, text/event-stream",
                                          "authorization": "Bearer not-a-jwt"})
    assert (bare.status_code, forged.status_code) == (401, 401)
    assert bare.headers["www-authenticate"].startswith("Bearer")
    await asyncio.sleep(0.2)
    assert server.audit_since(mark, expect=0) == []


async def test_a_token_the_server_refuses_is_unauthenticated_through_the_bridge(delegating, workload_api):
    """A well-formed bearer the server does not accept (wrong audience): the bridge forwards, the server decides."""
    from mcp_grpc.identity.sources import WorkloadJwtSource

    server, url = delegating
    source = WorkloadJwtSource(workload_api.socket("billing-agent"))
    try:
        wrong = source.fetch_svid(audience={"spiffe://example.org/someone-else"}).token
    finally:
        source.close()
    mark = server.audit_mark()
    result = await _refund(url, wrong, 50)
    assert result.is_error and result.content[0].text.startswith("UNAUTHENTICATED: "), result
    records = server.audit_since(mark, expect=1)
    assert records and {r["decision"] for r in records} == {"unauthenticated"}, records
