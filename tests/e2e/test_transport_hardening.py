"""Issue 12, transport and identity half: what an attacker got through the handshake and the authenticator, each
replayed over the wire against the demo server (real SPIFFE mTLS, the embedded engine over authz/, the audit log)."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.certfactory import key_pem, pem, rsa_key
from tests.support.e2e import (
    LOOKUP,
    bundle_pem,
    call_with_channel,
    demo_server,
    jwt_bearer,
    jwt_call,
    BILLING_ID,
    JWT_AUDIENCE,
    SERVER_DNS,
    SERVER_ID,
    SUPPORT_ID,
    TRUST_DOMAIN,
    DevWorkloadApi,
    RunningServer,
    agent_client,
    mtls_channel,
    outcome,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")


# -- 12: weak keys -------------------------------------------------------------------------------------------------


async def test_a_1024_bit_rsa_client_leaf_is_refused(payments, workload_api, our_ca):
    """Signed by our own CA with every other X.509-SVID rule kept: TLS completes the handshake, SPIFFE refuses. (A
    P-521 or secp256k1 leaf never gets this far: grpcio's BoringSSL ends the handshake with
    NO_COMMON_SIGNATURE_ALGORITHMS; tests/identity/validation/test_x509.py covers those through the authenticator.)"""
    cert, key = our_ca.issue_leaf(BILLING_ID, key=rsa_key(1024), with_eku=True)
    mark = payments.audit_mark()
    result = await call_with_channel(mtls_channel(payments.address, bundle_pem(workload_api), pem(cert),
                                                  key_pem(key)))
    assert (result.status, result.detail) == (
        "UNAUTHENTICATED", "x509-svid: leaf has a 1024-bit RSA key; at least 2048 bits are required")
    [record] = payments.audit_since(mark, expect=1)
    assert (record["principal"], record["decision"], record["reason"]) == (None, "unauthenticated", result.detail)


@pytest.mark.parametrize("make_key", [lambda: rsa_key(2048), lambda: ec.generate_private_key(ec.SECP384R1())],
                         ids=["rsa-2048", "ec-p384"])
async def test_keys_spire_issues_are_accepted(payments, workload_api, our_ca, make_key):
    cert, key = our_ca.issue_leaf(BILLING_ID, key=make_key(), with_eku=True)
    result = await call_with_channel(mtls_channel(payments.address, bundle_pem(workload_api), pem(cert),
                                                  key_pem(key)))
    assert result.status == "OK", result


# -- 11: JWT-SVIDs that authenticate somebody ------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def jwt_listener(workload_api, demo_authorizer, tmp_path_factory) -> AsyncIterator[RunningServer]:
    """The demo app on the listener for callers behind an L7 proxy: TLS authenticates the server only, every call
    carries a JWT-SVID (what ``serve --client-auth jwt --jwt-audience A`` builds)."""
    async with demo_server(workload_api, demo_authorizer, tmp_path_factory.mktemp("jwt-listener") / "audit.jsonl",
                           jwt_audience=JWT_AUDIENCE, client_auth="jwt") as running:
        yield running


async def test_jwt_listener_authenticates_bearers_and_refuses_calls_without_one(jwt_listener, workload_api):
    source, billing = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent")
    try:
        mark = jwt_listener.audit_mark()
        ok = await jwt_call(jwt_listener, workload_api, billing.metadata)
        refused = await jwt_call(jwt_listener, workload_api, lambda: ())
    finally:
        source.close()
    assert ok.status == "OK", ok
    assert (refused.status, refused.detail) == (
        "UNAUTHENTICATED", "jwt-svid: this listener requires a JWT-SVID bearer token (authorization: Bearer <token>)")
    records = jwt_listener.audit_since(mark, expect=2)
    assert [(r["principal"], r["proven_by"], r["decision"]) for r in records] == [
        (BILLING_ID, "jwt", "allow"), (None, None, "unauthenticated")]


async def test_certificate_and_token_of_different_callers_are_refused(payments, workload_api):
    """support-agent's mTLS connection carrying billing-agent's JWT-SVID: neither proof is silently chosen."""
    source, billing_bearer = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent")
    try:
        mark = payments.audit_mark()
        async with agent_client(workload_api, "support-agent", payments.address, retry=None,
                                metadata=billing_bearer.metadata) as client:
            result = await outcome(client.call_tool(*LOOKUP))
        async with agent_client(workload_api, "billing-agent", payments.address, retry=None,
                                metadata=billing_bearer.metadata) as client:
            same = await outcome(client.call_tool(*LOOKUP))
    finally:
        source.close()
    assert (result.status, result.detail) == ("UNAUTHENTICATED", (
        f"jwt-svid: the bearer token names {BILLING_ID} but the client certificate names {SUPPORT_ID}; they must "
        f"name the same SPIFFE ID (or the certificate's must be a configured JWT delegate)"))
    assert same.status == "OK", same
    records = payments.audit_since(mark, expect=2)
    assert [(r["principal"], r["proven_by"], r["decision"], r["reason"]) for r in records] == [
        (None, None, "unauthenticated", result.detail), (BILLING_ID, "x509", "allow", records[1]["reason"])]


@pytest_asyncio.fixture(scope="module", loop_scope="package")
async def delegating(workload_api, demo_authorizer, tmp_path_factory) -> AsyncIterator[RunningServer]:
    """mTLS as usual, with support-agent configured as a JWT delegate (a proxy relaying its callers' tokens)."""
    async with demo_server(workload_api, demo_authorizer, tmp_path_factory.mktemp("delegating") / "audit.jsonl",
                           jwt_audience=JWT_AUDIENCE, jwt_delegates=[SUPPORT_ID]) as running:
        yield running


async def test_a_configured_delegate_is_authorized_as_the_token_subject(delegating, workload_api):
    source, billing_bearer = await asyncio.to_thread(jwt_bearer, workload_api, "billing-agent")
    try:
        mark = delegating.audit_mark()
        async with agent_client(workload_api, "support-agent", delegating.address, retry=None,
                                metadata=billing_bearer.metadata) as client:
            relayed = await outcome(client.call_tool("refund", {"invoice_id": "INV-1002", "amount": 10}))
        async with agent_client(workload_api, "support-agent", delegating.address, retry=None) as client:
            alone = await outcome(client.call_tool("refund", {"invoice_id": "INV-1002", "amount": 10}))
    finally:
        source.close()
    assert (relayed.status, alone.status) == ("OK", "PERMISSION_DENIED"), (relayed, alone)
    first, second = delegating.audit_since(mark, expect=2)
    assert (first["principal"], first["proven_by"], first["actor"], first["decision"]) == (
        BILLING_ID, "delegated", SUPPORT_ID, "allow")
    assert (second["principal"], second["proven_by"], "actor" in second) == (SUPPORT_ID, "x509", False)


# -- 13: token lifetime --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def long_jwt_api() -> Iterator[DevWorkloadApi]:
    """A Workload API that mints 2-hour JWT-SVIDs (SPIRE's default is 5 minutes)."""
    api = DevWorkloadApi(TRUST_DOMAIN, {"server": SERVER_ID, "billing-agent": BILLING_ID},
                         dns_names={"server": SERVER_DNS}, extra_args=["--jwt-ttl", "2h"]).start()
    yield api
    api.stop()


async def test_long_lived_jwt_svids_are_refused(long_jwt_api, demo_authorizer, tmp_path):
    async with demo_server(long_jwt_api, demo_authorizer, tmp_path / "audit.jsonl",
                           jwt_audience=JWT_AUDIENCE, client_auth="jwt") as server:
        source, billing = await asyncio.to_thread(jwt_bearer, long_jwt_api, "billing-agent")
        try:
            result = await jwt_call(server, long_jwt_api, billing.metadata)
            [record] = server.audit_since(0, expect=1)
        finally:
            source.close()
    assert (result.status, result.detail) == (
        "UNAUTHENTICATED", "jwt-svid: token lifetime (exp - iat) is 7200s, over this server's maximum of 3600s")
    assert (record["principal"], record["decision"], record["reason"]) == (None, "unauthenticated", result.detail)
