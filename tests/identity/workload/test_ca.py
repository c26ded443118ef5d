"""The SVID-issuing CA: SPIRE's SVID shape, TTL caps, two-step rotation of the X.509 CA and JWT key, persistence."""

from __future__ import annotations

import datetime
import json

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from mcp_grpc.identity.workload_dev.authorities import AuthorityRole, load_ca
from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.workload_dev.ca_inputs import CaError
from tests.support.certfactory import make_ca
from mcp_grpc.identity import errors
from mcp_grpc.identity.workload_dev.authorities import AuthorityRole, load_ca
from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from mcp_grpc.identity.workload_dev.ca_inputs import CaError

UTC = datetime.timezone.utc
TD = "example.org"
ID = "spiffe://example.org/ns/a/sa/b"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


def authority(clock: Clock, **kwargs) -> SvidAuthority:
    kwargs.setdefault("x509_ttl", datetime.timedelta(seconds=10))
    kwargs.setdefault("ca_ttl", datetime.timedelta(seconds=60))
    return SvidAuthority(TD, clock=clock, **kwargs)


def test_x509_svid_shape() -> None:
    ca = authority(Clock())
    svid = ca.issue_x509_svid(ID, ["svc.example.org"])
    leaf = svid.leaf
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey) and leaf.public_key().curve.name == "secp256r1"
    ext = leaf.extensions
    assert ext.get_extension_for_class(x509.BasicConstraints).critical
    assert ext.get_extension_for_class(x509.BasicConstraints).value.ca is False
    ku = ext.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign and not ku.value.crl_sign
    san = ext.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [ID]
    assert san.get_values_for_type(x509.DNSName) == ["svc.example.org"]
    leaf.verify_directly_issued_by(ca.x509_bundle()[0])
    assert svid.chain_der() == leaf.public_bytes(__import__("cryptography").hazmat.primitives.serialization.Encoding.DER)


def test_ttl_and_half_life_rotation_time() -> None:
    clock = Clock()
    svid = authority(clock).issue_x509_svid(ID)
    assert svid.not_after == clock.now + datetime.timedelta(seconds=10)
    assert svid.rotate_at == clock.now + datetime.timedelta(seconds=5)


def test_svid_lifetime_is_capped_by_the_signing_ca() -> None:
    clock = Clock()
    ca = authority(clock, ca_ttl=datetime.timedelta(seconds=20))
    clock.advance(15)
    svid = ca.issue_x509_svid(ID)
    assert svid.not_after == ca.active_x509.not_after  # 5 s left, not 10


@pytest.mark.parametrize(
    "spiffe_id, message, cause",
    [
        ("spiffe://other.org/x", "not in trust domain", None),
        ("spiffe://example.org", "has no path", None),
        ("spiffe://example.org/a//b", "has an empty segment", errors.EmptyPathSegment),
        ("spiffe://example.org/a/../b", "has a '..' segment", errors.DotPathSegment),
        ("spiffe://example.org/a%20b", "percent-encoding", errors.PercentEncodingNotAllowed),
        ("spiffe://example.org/a\n", "control character", errors.ForbiddenCharacter),
        ("http://example.org/a", "scheme 'http' is not 'spiffe'", errors.WrongScheme),
    ],
)
def test_issuing_refuses_malformed_or_foreign_ids(spiffe_id: str, message: str, cause: type | None) -> None:
    """Malformed IDs are refused by the identity package's SPIFFE ID parser, whose precise error is the cause."""
    with pytest.raises(CaError, match=message.replace("(", r"\(").replace(".", r"\.")) as info:
        authority(Clock()).issue_x509_svid(spiffe_id)
    assert type(info.value.__cause__) is cause if cause else info.value.__cause__ is None


def test_jwt_svid_is_es256_with_kid_and_verifies_with_the_bundle() -> None:
    ca = authority(Clock(), ca_ttl=datetime.timedelta(hours=1))
    token = ca.issue_jwt_svid(ID, ["a", "b"])
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["kid"] == ca.active_jwt.key_id
    claims = jwt.decode(token, ca.jwt_bundle()[header["kid"]], algorithms=["ES256"], audience="b")
    assert claims["sub"] == ID and claims["aud"] == ["a", "b"] and claims["exp"] - claims["iat"] == 300
    jwks = json.loads(ca.jwks())
    assert [k["kid"] for k in jwks["keys"]] == [header["kid"]]
    with pytest.raises(CaError, match="audience"):
        ca.issue_jwt_svid(ID, [])


def test_jwt_svid_expiry_is_capped_by_the_signing_key() -> None:
    clock = Clock()
    ca = authority(clock, ca_ttl=datetime.timedelta(seconds=60))
    claims = jwt.decode(ca.issue_jwt_svid(ID, ["a"]), options={"verify_signature": False})
    assert claims["exp"] == int(ca.active_jwt.not_after.timestamp())


def test_x509_ca_rotation_prepare_activate_drop() -> None:
    clock = Clock()
    ca = authority(clock)
    old = ca.active_x509
    assert ca.prepare_x509() and not ca.prepare_x509()  # idempotent while one is prepared
    assert len(ca.x509_bundle()) == 2
    prepared = next(c for c in ca.x509_bundle() if c != old.certificate)
    # Prepared but not yet signing: new SVIDs still come from the old CA.
    assert ca.issue_x509_svid(ID).leaf.issuer == old.certificate.subject
    assert ca.activate_x509()
    svid = ca.issue_x509_svid(ID)
    assert svid.leaf.issuer == prepared.subject
    assert old.certificate in ca.x509_bundle()  # retired, still trusted while its SVIDs live
    clock.advance(10 + 1)
    assert not ca.tick(automatic=False)  # 10 s TTL + 2 s backdate margin not yet over
    clock.advance(2)
    assert ca.tick(automatic=False)
    assert ca.x509_bundle() == (prepared,)


def test_automatic_rotation_follows_the_ca_lifetime() -> None:
    clock = Clock()
    ca = authority(clock, ca_ttl=datetime.timedelta(seconds=60))
    first = ca.active_x509.certificate
    lifetime = (first.not_valid_after_utc - first.not_valid_before_utc).total_seconds()
    clock.now = first.not_valid_before_utc + datetime.timedelta(seconds=lifetime / 2 - 1)
    assert not ca.tick()
    clock.advance(1)
    assert ca.tick()
    roles = ca.authorities()
    assert [a["role"] for a in roles["x509"]] == ["active", "prepared"]
    assert [a["role"] for a in roles["jwt"]] == ["active", "prepared"]
    clock.now = first.not_valid_before_utc + datetime.timedelta(seconds=lifetime * 5 / 6)
    ca.tick()
    assert ca.active_x509.certificate != first
    assert [a["role"] for a in ca.authorities()["x509"]] == ["active", "retired"]
    clock.now = first.not_valid_after_utc
    ca.tick()
    assert first not in ca.x509_bundle()  # dropped once expired (the next CA may already be prepared by then)
    assert ca.next_event() is not None


def test_jwt_key_rotation_keeps_old_key_until_its_tokens_expire() -> None:
    clock = Clock()
    ca = authority(clock, jwt_ttl=datetime.timedelta(seconds=30))
    old_kid = ca.active_jwt.key_id
    token = ca.issue_jwt_svid(ID, ["a"])
    ca.prepare_jwt()
    assert len(ca.jwt_bundle()) == 2 and jwt.get_unverified_header(ca.issue_jwt_svid(ID, ["a"]))["kid"] == old_kid
    ca.activate_jwt()
    assert jwt.get_unverified_header(ca.issue_jwt_svid(ID, ["a"]))["kid"] != old_kid
    jwt.decode(token, ca.jwt_bundle()[old_kid], algorithms=["ES256"], audience="a",
               options={"verify_exp": False})
    clock.advance(33)
    ca.tick(automatic=False)
    assert old_kid not in ca.jwt_bundle()


def test_state_round_trip_keeps_trust_and_roles() -> None:
    clock = Clock()
    ca = authority(clock)
    ca.prepare_x509()
    restored = SvidAuthority.from_state(json.loads(json.dumps(ca.to_state())), clock=clock,
                                        x509_ttl=datetime.timedelta(seconds=10), ca_ttl=datetime.timedelta(seconds=60))
    assert restored.x509_bundle() == ca.x509_bundle()
    assert restored.jwt_bundle().keys() == ca.jwt_bundle().keys()
    assert restored.active_x509.certificate == ca.active_x509.certificate
    with pytest.raises(CaError, match="trust domain"):
        SvidAuthority.from_state(ca.to_state(), trust_domain="other.org")


def test_state_with_expired_authorities_starts_afresh() -> None:
    clock = Clock()
    state = authority(clock).to_state()
    clock.advance(3600)
    restored = SvidAuthority.from_state(state, clock=clock, x509_ttl=datetime.timedelta(seconds=10),
                                        ca_ttl=datetime.timedelta(seconds=60))
    assert restored.active_x509.not_after > clock.now


def test_brought_ca_signs_directly_and_cannot_rotate() -> None:
    cert_pem, key_pem = make_ca(TD).pems()
    upstream = load_ca(cert_pem, key_pem)
    ca = SvidAuthority(TD, upstream=upstream)
    assert ca.x509_bundle() == (upstream.certificate,)
    ca.issue_x509_svid(ID).leaf.verify_directly_issued_by(upstream.certificate)
    with pytest.raises(CaError, match="cannot be rotated"):
        ca.prepare_x509()
    assert ca.prepare_jwt()  # the JWT key is ours and still rotates
    assert ca.to_state()["x509"] == []  # the brought CA's key is never written to our state


def test_load_ca_rejects_bad_input() -> None:
    cert_pem, key_pem = make_ca(TD).pems()
    other_cert, other_key = make_ca("other.org").pems()
    leaf_cert, leaf_key = make_ca(TD, ca=False).pems()
    with pytest.raises(CaError, match="not a PEM certificate"):
        load_ca(b"junk", key_pem)
    with pytest.raises(CaError, match="not an unencrypted PEM private key"):
        load_ca(cert_pem, b"junk")
    with pytest.raises(CaError, match="does not match"):
        load_ca(cert_pem, other_key)
    with pytest.raises(CaError, match="CA=false"):
        load_ca(leaf_cert, leaf_key)
    with pytest.raises(CaError, match="exactly one certificate"):
        load_ca(cert_pem + other_cert, key_pem)
    with pytest.raises(CaError, match="expired"):
        load_ca(cert_pem, key_pem, now=datetime.datetime.now(UTC) + datetime.timedelta(days=30))


def test_configuration_errors() -> None:
    with pytest.raises(CaError, match="lowercase"):
        SvidAuthority("Example.org")
    with pytest.raises(CaError, match="control character"):
        SvidAuthority("example.org\n")
    with pytest.raises(CaError, match="not a valid host name"):
        authority(Clock()).issue_x509_svid(ID, ["svc.example.org\n"])
    with pytest.raises(CaError, match="at least twice"):
        SvidAuthority(TD, x509_ttl=datetime.timedelta(seconds=10), ca_ttl=datetime.timedelta(seconds=15))
    with pytest.raises(CaError, match="positive"):
        SvidAuthority(TD, jwt_ttl=datetime.timedelta(0))
    assert AuthorityRole("retired") is AuthorityRole.RETIRED
