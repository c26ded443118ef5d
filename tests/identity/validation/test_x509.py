"""Adversarial X.509-SVIDs: each certificate is built with one defect and must be refused with its precise reason.

Every case goes through ``SpiffeAuthenticator.authenticate`` with an auth context shaped as grpcio fills it, so what is
tested is what the server runs. Bare grpcio mTLS accepts most of these (two URI SANs, CA leaves, malformed IDs, a
federated CA claiming our trust domain); only expiry and an unknown CA would also be refused by TLS itself.
"""

from __future__ import annotations

import datetime
from typing import Any, Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID

from mcp_grpc.identity import errors
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.authorizers import authorize_member_of
from mcp_grpc.contract import ProofKind
from mcp_grpc.identity.x509svid import check_leaf, validate_x509_svid
from mcp_grpc.contract import AuthenticationFailed
from tests.support import certfactory as cf
from tests.support.certfactory import World

HOUR = datetime.timedelta(hours=1)


def _leaf(**kwargs: Any) -> Callable[[World], Any]:
    return lambda w: w.ca.issue_leaf(**kwargs)[0]


def _san(uri: str) -> Callable[[World], Any]:
    return lambda w: w.ca.issue_leaf(uri)[0]


# (case id, how to build the leaf, expected error, phrase in the reason, expected SpiffeIdError cause or None)
CASES: list[tuple[str, Callable[[World], Any], type[errors.IdentityError], str, type | None]] = [
    ("two-uri-sans", _leaf(uris=["spiffe://example.org/a", "spiffe://example.org/b"]),
     errors.MultipleUriSans, "2 URI SANs", None),
    ("spiffe-and-https-uri-sans", _leaf(uris=["spiffe://example.org/a", "https://example.org/a"]),
     errors.MultipleUriSans, "2 URI SANs", None),
    ("non-spiffe-uri-san", _leaf(uris=["https://example.org/workload"]), errors.NonSpiffeUriSan, "not a spiffe://", None),
    ("urn-uri-san", _leaf(uris=["urn:example:workload"]), errors.NonSpiffeUriSan, "not a spiffe://", None),
    ("dns-san-only", _leaf(uris=[], dns_names=["workload.example.org"]), errors.NoUriSan, "no URI SAN", None),
    ("no-san-at-all", _leaf(spiffe_id=None), errors.NoUriSan, "no URI SAN", None),
    ("ca-true-leaf", _leaf(ca=True), errors.LeafIsCa, "CA=true", None),
    ("key-cert-sign", _leaf(key_usage={"digital_signature": True, "key_cert_sign": True}),
     errors.KeyUsageForbidden, "keyCertSign", None),
    ("crl-sign", _leaf(key_usage={"digital_signature": True, "crl_sign": True}),
     errors.KeyUsageForbidden, "cRLSign", None),
    ("no-key-usage", _leaf(key_usage=None), errors.KeyUsageMissing, "no keyUsage", None),
    ("no-digital-signature", _leaf(key_usage={"key_encipherment": True}),
     errors.KeyUsageMissing, "lacks digitalSignature", None),
    ("key-usage-not-critical", _leaf(key_usage_critical=False), errors.KeyUsageNotCritical, "not marked critical", None),
    ("eku-server-auth-only", _leaf(eku=[ExtendedKeyUsageOID.SERVER_AUTH]),
     errors.ExtendedKeyUsageMismatch, "clientAuth", None),
    ("rsa-1024-key", _leaf(key=cf.rsa_key(1024)), errors.WeakKey, "1024-bit RSA key; at least 2048", None),
    ("ec-p521-key", _leaf(key=ec.generate_private_key(ec.SECP521R1())), errors.WeakKey, "curve secp521r1", None),
    ("ec-secp256k1-key", _leaf(key=ec.generate_private_key(ec.SECP256K1())), errors.WeakKey, "curve secp256k1", None),
    ("ed25519-key", _leaf(key=ed25519.Ed25519PrivateKey.generate()), errors.WeakKey, "Ed25519 key", None),
    ("expired", _leaf(not_before=cf.now() - 2 * HOUR, not_after=cf.now() - HOUR),
     errors.CertificateExpired, "expired at", None),
    ("not-yet-valid", _leaf(not_before=cf.now() + HOUR, not_after=cf.now() + 2 * HOUR),
     errors.CertificateNotYetValid, "not valid before", None),
    ("unknown-ca", lambda w: w.rogue_ca.issue_leaf()[0], errors.UntrustedChain,
     "does not chain to the X.509 bundle of trust domain example.org", None),
    ("federated-ca-issues-our-domain", lambda w: w.other_ca.issue_leaf("spiffe://example.org/billing")[0],
     errors.UntrustedChain, "does not chain to the X.509 bundle of trust domain example.org", None),
    ("self-signed-leaf", lambda w: cf.CA(w.ca.cert, cf.ec_key(), "example.org").issue_leaf()[0],
     errors.UntrustedChain, "does not chain", None),
    ("uppercase-trust-domain", _san("spiffe://Example.org/workload"),
     errors.MalformedSpiffeIdInSan, "lowercase", errors.UppercaseTrustDomain),
    ("uppercase-scheme", _san("SPIFFE://example.org/workload"),
     errors.MalformedSpiffeIdInSan, "lowercase 'spiffe'", errors.WrongScheme),
    ("percent-encoded-path", _san("spiffe://example.org/work%2Fload"),
     errors.MalformedSpiffeIdInSan, "percent-encoding", errors.PercentEncodingNotAllowed),
    ("dot-dot-segment", _san("spiffe://example.org/ns/../admin"),
     errors.MalformedSpiffeIdInSan, "'..' segment", errors.DotPathSegment),
    ("dot-segment", _san("spiffe://example.org/./workload"),
     errors.MalformedSpiffeIdInSan, "'.' segment", errors.DotPathSegment),
    ("trailing-slash", _san("spiffe://example.org/workload/"),
     errors.MalformedSpiffeIdInSan, "ends with '/'", errors.TrailingSlash),
    ("empty-segment", _san("spiffe://example.org/ns//workload"),
     errors.MalformedSpiffeIdInSan, "empty segment", errors.EmptyPathSegment),
    ("trailing-newline", _san("spiffe://example.org/workload\n"),
     errors.MalformedSpiffeIdInSan, "control character", errors.ForbiddenCharacter),
    ("over-long-id", _san("spiffe://example.org/" + "a" * 2100),
     errors.MalformedSpiffeIdInSan, "2048-byte", errors.SpiffeIdTooLong),
    ("port", _san("spiffe://example.org:443/workload"),
     errors.MalformedSpiffeIdInSan, "a port", errors.PortNotAllowed),
    ("userinfo", _san("spiffe://admin@example.org/workload"),
     errors.MalformedSpiffeIdInSan, "userinfo", errors.UserInfoNotAllowed),
    ("query", _san("spiffe://example.org/workload?admin=1"),
     errors.MalformedSpiffeIdInSan, "query", errors.QueryNotAllowed),
    ("trust-domain-id-without-path", _san("spiffe://example.org"), errors.LeafIdWithoutPath, "has no path", None),
    ("foreign-trust-domain-not-accepted", lambda w: w.other_ca.issue_leaf()[0],
     errors.TrustDomainNotAccepted, "trust domain other.org is not accepted", None),
    ("trust-domain-without-bundle", lambda w: cf.make_ca("third.org").issue_leaf()[0],
     errors.TrustDomainNotAccepted, "third.org is not accepted", None),
]


@pytest.fixture(scope="module")
def authn(world: World) -> SpiffeAuthenticator:
    return SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org"])


@pytest.mark.parametrize(("build", "error", "phrase", "cause"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_adversarial_certificate_is_refused(
    world: World, authn: SpiffeAuthenticator, build: Callable[[World], Any],
    error: type[errors.IdentityError], phrase: str, cause: type | None,
) -> None:
    leaf = build(world)
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(world.auth_context(leaf), {})
    assert type(info.value.__cause__) is error, info.value.reason
    assert info.value.reason.startswith("x509-svid: ")
    assert phrase in info.value.reason
    if cause is not None:
        assert type(info.value.__cause__.__cause__) is cause
    # A second presentation is refused the same way (from the verdict cache or by validating again).
    with pytest.raises(AuthenticationFailed) as again:
        authn.authenticate(world.auth_context(leaf), {})
    assert again.value.reason == info.value.reason


def test_suite_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_no_certificate(world: World, authn: SpiffeAuthenticator) -> None:
    for auth_context in ({}, {"transport_security_type": [b"local"]}, {"x509_pem_cert": []}):
        with pytest.raises(AuthenticationFailed) as info:
            authn.authenticate(auth_context, {})
        assert type(info.value.__cause__) is errors.NoPeerCertificate
        assert "no client certificate" in info.value.reason


@pytest.mark.parametrize("blob", [b"", b"garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"])
def test_garbage_certificate(world: World, authn: SpiffeAuthenticator, blob: bytes) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate({"x509_pem_cert": [blob]}, {})
    assert type(info.value.__cause__) is errors.MalformedCertificate


def test_peer_spiffe_id_alone_is_never_trusted(world: World, authn: SpiffeAuthenticator) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate({"peer_spiffe_id": [b"spiffe://example.org/admin"], "transport_security_type": [b"ssl"]}, {})
    assert type(info.value.__cause__) is errors.NoPeerCertificate


def test_unknown_trust_domain_when_all_domains_accepted(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles)  # accepts any domain with a bundle
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(world.auth_context(cf.make_ca("third.org").issue_leaf()[0]), {})
    assert type(info.value.__cause__) is errors.UnknownTrustDomain
    assert "no X.509 bundle for trust domain third.org" in info.value.reason


def test_authorizer_refusal(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, authorize=authorize_member_of("example.org"))
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(world.auth_context(world.other_ca.issue_leaf()[0]), {})
    assert type(info.value.__cause__) is errors.NotAuthorized
    assert "not a member of trust domain example.org" in info.value.reason


# --- positive cases -------------------------------------------------------------------------------------------------


def test_good_leaf(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/ns/prod/sa/billing")
    principal = authn.authenticate(world.auth_context(leaf), {})
    assert principal.spiffe_id == "spiffe://example.org/ns/prod/sa/billing"
    assert principal.trust_domain == "example.org"
    assert principal.proven_by is ProofKind.X509
    assert principal.not_after == leaf.not_valid_after_utc


def test_good_leaf_as_spire_issues_it(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/w", dns_names=["w.example.org"], with_eku=True, ca=None)
    assert authn.authenticate(world.auth_context(leaf), {}).spiffe_id == "spiffe://example.org/w"


def test_good_rsa_leaf(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/rsa", key=cf.rsa_key())
    assert authn.authenticate(world.auth_context(leaf), {}).spiffe_id == "spiffe://example.org/rsa"


def test_federated_leaf_is_verified_against_its_own_bundle(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org", "other.org"])
    principal = authn.authenticate(world.auth_context(world.other_ca.issue_leaf()[0]), {})
    assert principal.trust_domain == "other.org"


def test_leaf_within_clock_skew_of_not_before(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf(not_before=cf.now() + datetime.timedelta(seconds=2))
    assert authn.authenticate(world.auth_context(leaf), {}).spiffe_id == "spiffe://example.org/workload"


def test_intermediate_ca_from_the_chain_property(world: World, authn: SpiffeAuthenticator) -> None:
    intermediate = world.ca.issue_intermediate()
    leaf, _ = intermediate.issue_leaf("spiffe://example.org/via-intermediate")
    context = world.auth_context(leaf)
    # Without the intermediate the leaf cannot be chained to the root.
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(context, {})
    assert type(info.value.__cause__) is errors.UntrustedChain
    # grpcio's x509_pem_cert_chain (leaf first, then intermediates) lets it chain.
    context["x509_pem_cert_chain"] = [cf.pem(leaf) + cf.pem(intermediate.cert)]
    principal = authn.authenticate(context, {})
    assert principal.spiffe_id == "spiffe://example.org/via-intermediate"
    assert principal.not_after == min(leaf.not_valid_after_utc, intermediate.cert.not_valid_after_utc)


def test_intermediate_from_a_federated_domain_cannot_help(world: World, authn: SpiffeAuthenticator) -> None:
    foreign_intermediate = world.other_ca.issue_intermediate("other.org")
    leaf, _ = foreign_intermediate.issue_leaf("spiffe://example.org/billing")
    context = world.auth_context(leaf)
    context["x509_pem_cert_chain"] = [cf.pem(leaf) + cf.pem(foreign_intermediate.cert)]
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(context, {})
    assert type(info.value.__cause__) is errors.UntrustedChain


def test_expired_intermediate(world: World) -> None:
    intermediate = cf.make_ca("example.org", parent=world.ca, not_before=cf.now() - 2 * HOUR,
                              not_after=cf.now() - HOUR)
    leaf, _ = intermediate.issue_leaf(not_before=cf.now() - 2 * HOUR)
    with pytest.raises(errors.UntrustedChain):
        validate_x509_svid(leaf, [intermediate.cert], trust_bundles=world.bundles)


def test_validate_accepts_pem_and_der_bytes(world: World) -> None:
    from cryptography.hazmat.primitives import serialization

    leaf, _ = world.ca.issue_leaf()
    for data in (cf.pem(leaf), leaf.public_bytes(serialization.Encoding.DER)):
        assert str(validate_x509_svid(data, trust_bundles=world.bundles).spiffe_id) == "spiffe://example.org/workload"


def test_check_leaf_is_pure(world: World) -> None:
    leaf, _ = world.rogue_ca.issue_leaf("spiffe://example.org/x")
    assert str(check_leaf(leaf)) == "spiffe://example.org/x"  # leaf rules only: trust is validate_x509_svid's job


def test_a_leaf_with_an_invalid_x509_version_is_malformed(world: World) -> None:
    """cryptography raises InvalidVersion (no ValueError) for a version field other than v1/v3: found by the DER
    fuzz test, it escaped as an unexpected failure instead of MalformedCertificate."""
    from cryptography.hazmat.primitives import serialization

    leaf, _ = world.ca.issue_leaf("spiffe://example.org/ns/prod/sa/billing")
    der = leaf.public_bytes(serialization.Encoding.DER)
    v3 = bytes.fromhex("a003020102")  # [0] EXPLICIT INTEGER 2 (v3)
    assert der.count(v3) >= 1
    with pytest.raises(errors.MalformedCertificate, match="does not parse"):
        validate_x509_svid(der.replace(v3, bytes.fromhex("a003020101"), 1), trust_bundles=world.bundles)
