"""Issue 12, transport and identity half: what an attacker got through the handshake and the authenticator, each
replayed over the wire against the demo server (real SPIFFE mTLS, the embedded engine over authz/, the audit log)."""

from __future__ import annotations

import pathlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.certfactory import key_pem, pem, rsa_key
from tests.support.e2e import BILLING_ID, mtls_channel
from tests.e2e.test_identity import call_with_channel

pytestmark = pytest.mark.asyncio(loop_scope="package")


def bundle_pem(api: Any) -> bytes:
    return (pathlib.Path(api.socket_dir) / "bundle.pem").read_bytes()


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
