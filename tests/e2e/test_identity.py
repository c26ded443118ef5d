"""Who may even reach the authorizer: callers without a certificate, of a foreign trust domain, with certificates the
Workload API would never issue, and JWT-SVID bearers. Every refusal after the handshake is UNAUTHENTICATED and
audited; a refused handshake never reaches a handler or the audit log."""

from __future__ import annotations

import asyncio
import base64
from typing import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from tests.support.e2e import (
    LOOKUP,
    bundle_pem,
    call_with_channel,
    demo_server,
    jwt_bearer,
    jwt_call,
    BILLING_ID,
    FOREIGN_DOMAIN,
    FOREIGN_ID,
    JWT_AUDIENCE,
    SUPPORT_ID,
    TRUST_DOMAIN,
    RunningServer,
    mtls_channel,
    outcome,
    start_server,
    svid_pems,
    tls_only_channel,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")

@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def federated(workload_api, demo_authorizer, tmp_path_factory) -> AsyncIterator[RunningServer]:
    """The demo app on a server that accepts example.org AND other.org callers (named explicitly, as required)."""
    async with demo_server(workload_api, demo_authorizer, tmp_path_factory.mktemp("fed-audit") / "audit.jsonl",
                           accepted_trust_domains=[TRUST_DOMAIN, FOREIGN_DOMAIN]) as running:
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def behind_proxy(server_identity, demo_authorizer, tmp_path_factory) -> AsyncIterator[RunningServer]:
    """The demo app where TLS does not authenticate the client (as behind a TLS-terminating proxy): the same
    SpiffeAuthenticator then accepts a JWT-SVID bearer token for the server's audience."""
    from examples.demo.server import app

    chain, key = svid_pems(server_identity.workload.x509)
    credentials = grpc.ssl_server_credentials([(key, chain)], require_client_auth=False)
    running = await start_server(app, {"credentials": credentials, "authenticator": server_identity.authenticator},
                           demo_authorizer, tmp_path_factory.mktemp("jwt-audit") / "audit.jsonl")
    yield running
    await running.stop()


# -- the handshake -----------------------------------------------------------------------------------------------


async def test_caller_without_client_certificate_cannot_connect(payments, workload_api):
    mark = payments.audit_mark()
    result = await call_with_channel(tls_only_channel(payments.address, bundle_pem(workload_api)))
    assert result.status == "UNAVAILABLE", result
    await asyncio.sleep(0.2)
    assert payments.audit_since(mark, expect=0) == []  # no call ever reached the server's pipeline


async def test_foreign_trust_domain_is_refused_at_the_handshake(payments, workload_api, foreign_api):
    """other.org is federated into the Workload API's bundles, but this server accepts only its own domain."""
    from mcp_grpc.identity.sources import WorkloadX509Source

    source = await asyncio.to_thread(WorkloadX509Source, foreign_api.socket("agent"))
    try:
        chain, key = svid_pems(source)
    finally:
        source.close()
    mark = payments.audit_mark()
    result = await call_with_channel(mtls_channel(payments.address, bundle_pem(workload_api), chain, key))
    assert result.status == "UNAVAILABLE", result
    await asyncio.sleep(0.2)
    assert payments.audit_since(mark, expect=0) == []


async def test_federated_caller_is_authenticated_then_authorized_as_itself(federated, workload_api, foreign_api):
    """Accepted explicitly, other.org's billing-agent is NOT example.org's billing-agent: same path, no grants."""
    from mcp_grpc.identity.sources import WorkloadX509Source

    source = await asyncio.to_thread(WorkloadX509Source, foreign_api.socket("agent"))
    try:
        chain, key = svid_pems(source)
    finally:
        source.close()
    mark = federated.audit_mark()
    result = await call_with_channel(mtls_channel(federated.address, bundle_pem(workload_api), chain, key),
                                     "refund", {"invoice_id": "INV-1002", "amount": 10})
    assert result.status == "PERMISSION_DENIED"
    assert result.detail == "permission denied: requires can_call on tool:payments/refund"
    [record] = federated.audit_since(mark, expect=1)
    assert (record["principal"], record["proven_by"], record["decision"]) == (FOREIGN_ID, "x509", "deny")


async def test_federated_ca_cannot_impersonate_our_agents(federated, workload_api, foreign_ca):
    """TLS pools every accepted domain's roots, so other.org's CA can complete a handshake with a certificate that
    claims OUR billing agent; the authenticator verifies it against example.org's bundle only and refuses it."""
    cert, key = foreign_ca.mint([BILLING_ID])
    mark = federated.audit_mark()
    result = await call_with_channel(mtls_channel(federated.address, bundle_pem(workload_api), cert, key),
                                     "refund", {"invoice_id": "INV-1002", "amount": 10})
    assert result.status == "UNAUTHENTICATED", result
    [record] = federated.audit_since(mark, expect=1)
    assert (record["principal"], record["decision"], record["method"]) == (None, "unauthenticated", "CallTool")
    assert result.detail.startswith(f"x509-svid: leaf {BILLING_ID} does not chain to the X.509 bundle of trust domain "
                                    f"{TRUST_DOMAIN}")
    assert record["reason"] == result.detail


@pytest.mark.parametrize(
    ("uris", "ca", "reason"),
    [
        ([BILLING_ID, SUPPORT_ID], False, "leaf has 2 URI SANs; an X.509-SVID has exactly one"),
        ([BILLING_ID], True, "leaf asserts basicConstraints CA=true; a CA certificate cannot authenticate"),
        ([FOREIGN_ID], False, "trust domain other.org is not accepted by this server"),
        (["https://example.org/billing-agent"], False,
         "leaf URI SAN 'https://example.org/billing-agent' is not a spiffe"),
    ],
    ids=["two-uri-sans", "ca-leaf", "other-domain-id", "not-a-spiffe-id"],
)
async def test_certificates_tls_accepts_but_spiffe_refuses(payments, workload_api, our_ca, uris, ca, reason):
    """Signed by example.org's own CA, so the TLS handshake succeeds; each breaks an X.509-SVID rule."""
    cert, key = our_ca.mint(uris, ca=ca)
    mark = payments.audit_mark()
    result = await call_with_channel(mtls_channel(payments.address, bundle_pem(workload_api), cert, key))
    assert result.status == "UNAUTHENTICATED", result
    assert result.detail.startswith(f"x509-svid: {reason}"), result.detail
    [record] = payments.audit_since(mark, expect=1)
    assert (record["principal"], record["proven_by"], record["decision"]) == (None, None, "unauthenticated")
    assert record["reason"] == result.detail and record["checks"] == []


# -- JWT-SVID bearer tokens ----------------------------------------------------------------------------------------


async def test_jwt_svid_bearer_is_authenticated_and_authorized(behind_proxy, workload_api):
    billing_source, billing = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent")
    support_source, support = await asyncio.to_thread(jwt_bearer, workload_api, "support-agent")
    try:
        mark = behind_proxy.audit_mark()
        ok = await jwt_call(behind_proxy, workload_api, billing.metadata, "refund",
                             {"invoice_id": "INV-1002", "amount": 50})
        assert ok.status == "OK", ok
        denied = await jwt_call(behind_proxy, workload_api, support.metadata, "refund",
                                 {"invoice_id": "INV-1002", "amount": 50})
        assert denied.status == "PERMISSION_DENIED"
        assert denied.detail == "permission denied: requires can_call on tool:payments/refund"
        records = behind_proxy.audit_since(mark, expect=2)
        assert [(r["principal"], r["proven_by"], r["decision"]) for r in records] == [
            (BILLING_ID, "jwt", "allow"), (SUPPORT_ID, "jwt", "deny")]
    finally:
        billing_source.close()
        support_source.close()


async def test_jwt_svid_refusals(behind_proxy, workload_api):
    source, billing = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent")
    other_source, wrong_audience = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent",
                                                           "spiffe://example.org/ns/mcp-tools/sa/another-server")
    try:
        header, payload, signature = (await asyncio.to_thread(billing.token)).split(".")
        forged_claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(
            b"billing-agent", b"support-agent")
        forged = ".".join([header, base64.urlsafe_b64encode(forged_claims).rstrip(b"=").decode(), signature])
        cases = {
            "no token": lambda: (),
            "wrong audience": wrong_audience.metadata,
            "forged claims": lambda: (("authorization", f"Bearer {forged}"),),
            "not a bearer": lambda: (("authorization", "Basic dXNlcjpwYXNz"),),
        }
        mark = behind_proxy.audit_mark()
        results = {name: await jwt_call(behind_proxy, workload_api, hook) for name, hook in cases.items()}
        assert {name: r.status for name, r in results.items()} == dict.fromkeys(cases, "UNAUTHENTICATED")
        assert results["no token"].detail == "x509-svid: no client certificate (mTLS) and no JWT-SVID bearer token"
        assert results["wrong audience"].detail.startswith(
            "jwt-svid: claim aud does not include this server's audience")
        assert results["forged claims"].detail.startswith("jwt-svid: signature does not verify")
        assert results["not a bearer"].detail == "jwt-svid: authorization metadata is not 'Bearer <token>'"
        records = behind_proxy.audit_since(mark, expect=len(cases))
        assert [r["decision"] for r in records] == ["unauthenticated"] * len(cases)
        assert all(r["principal"] is None for r in records)
    finally:
        source.close()
        other_source.close()
