"""Adversarial JWT-SVIDs: each token carries one defect and must be refused with its precise reason.

Tokens are real compact JWS signed with ``cryptography`` (ES256 as SPIRE issues them, RSA for RS*/PS*), presented as
``authorization: Bearer <token>`` metadata to ``SpiffeAuthenticator`` on a connection without a client certificate.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, Callable

import pytest

from mcp_grpc.identity import errors
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.jwtsvid import bearer_token, validate_jwt_svid
from mcp_grpc.contract import ProofKind
from mcp_grpc.contract import AuthenticationFailed
from tests.support import certfactory as cf
from tests.support.certfactory import World, b64json, b64url, make_jwt

NO_CERT: dict[str, list[bytes]] = {"transport_security_type": [b"local"]}


def _now() -> int:
    return int(cf.now().timestamp())


def _raw(header: dict[str, Any] | bytes, claims: dict[str, Any] | bytes, signature: str = "AAAA") -> str:
    """An unsigned token from literal parts (a dict is JSON-encoded, bytes are taken as they are)."""
    part = lambda p: b64url(p) if isinstance(p, bytes) else b64json(p)  # noqa: E731
    return f"{part(header)}.{part(claims)}.{signature}"


def _tamper_claims(w: World) -> str:
    head, _, sig = make_jwt(w.ec_jwt_key).split(".")
    forged = b64json({"sub": "spiffe://example.org/admin", "aud": ["mcp"], "exp": _now() + 300})
    return f"{head}.{forged}.{sig}"


def _truncate_signature(token: str) -> str:
    head, claims, signature = token.split(".")
    raw = cf.base64.urlsafe_b64decode(signature + "==")
    return f"{head}.{claims}.{b64url(raw[:-6])}"


def _bad_raw(text: str) -> Callable[[World], str]:
    return lambda w: text


# (case id, token builder, expected error, phrase in the reason)
CASES: list[tuple[str, Callable[[World], str], type[errors.IdentityError], str]] = [
    ("alg-none", lambda w: make_jwt(None, alg="none"), errors.UnsupportedAlgorithm, "'none'"),
    ("alg-None-mixed-case", lambda w: _raw({"alg": "None", "kid": "key-1"}, {"sub": "spiffe://example.org/w"}, ""),
     errors.UnsupportedAlgorithm, "'none'"),
    ("alg-hs256", lambda w: make_jwt(b"shared-secret", alg="HS256"), errors.UnsupportedAlgorithm, "shared-secret MAC"),
    ("alg-hs256-with-public-key-bytes", lambda w: make_jwt(b"-----BEGIN PUBLIC KEY-----", alg="HS256"),
     errors.UnsupportedAlgorithm, "'HS256'"),
    ("alg-missing", lambda w: _raw({"kid": "key-1"}, {}), errors.UnsupportedAlgorithm, "no alg"),
    ("alg-eddsa", lambda w: f"{b64json({'alg': 'EdDSA', 'kid': 'key-1'})}.{b64json({})}.AAAA",
     errors.UnsupportedAlgorithm, "not one of RS/ES/PS"),
    ("alg-not-a-string", lambda w: f"{b64json({'alg': ['ES256'], 'kid': 'key-1'})}.{b64json({})}.AAAA",
     errors.UnsupportedAlgorithm, "not one of"),
    ("no-kid", lambda w: make_jwt(w.ec_jwt_key, kid=None), errors.MissingKeyId, "no kid"),
    ("empty-kid", lambda w: make_jwt(w.ec_jwt_key, kid=""), errors.MissingKeyId, "non-empty string"),
    ("unknown-kid", lambda w: make_jwt(w.ec_jwt_key, kid="key-404"), errors.UnknownKeyId,
     "'key-404' is not in the JWT bundle of trust domain example.org"),
    ("foreign-domain-kid", lambda w: make_jwt(w.other_jwt_key, kid="other-1"), errors.UnknownKeyId,
     "'other-1' is not in the JWT bundle of trust domain example.org"),
    ("wrong-audience", lambda w: make_jwt(w.ec_jwt_key, aud=["somebody-else"]), errors.AudienceMismatch,
     "does not include this server's audience 'mcp'"),
    ("audience-string-mismatch", lambda w: make_jwt(w.ec_jwt_key, aud="mcp-other"), errors.AudienceMismatch,
     "audience"),
    ("empty-audience-list", lambda w: make_jwt(w.ec_jwt_key, aud=[]), errors.InvalidClaim, "aud must be"),
    ("audience-not-strings", lambda w: make_jwt(w.ec_jwt_key, aud=[1]), errors.InvalidClaim, "aud must be"),
    ("missing-aud", lambda w: make_jwt(w.ec_jwt_key, drop=["aud"]), errors.MissingClaim, "no aud"),
    ("expired", lambda w: make_jwt(w.ec_jwt_key, exp=_now() - 60), errors.TokenExpired, "expired at"),
    ("missing-exp", lambda w: make_jwt(w.ec_jwt_key, drop=["exp"]), errors.MissingClaim, "no exp"),
    ("exp-as-string", lambda w: make_jwt(w.ec_jwt_key, exp=str(_now() + 300)), errors.InvalidClaim, "NumericDate"),
    ("exp-as-bool", lambda w: make_jwt(w.ec_jwt_key, exp=True), errors.InvalidClaim, "NumericDate"),
    ("exp-huge", lambda w: make_jwt(w.ec_jwt_key, exp=10**400), errors.InvalidClaim, "out of range"),
    ("nbf-in-future", lambda w: make_jwt(w.ec_jwt_key, claims={"nbf": _now() + 120}), errors.TokenNotYetValid, "nbf"),
    ("iat-in-future", lambda w: make_jwt(w.ec_jwt_key, claims={"iat": _now() + 120}), errors.TokenNotYetValid, "iat"),
    ("exp-before-iat", lambda w: make_jwt(w.ec_jwt_key, exp=_now() + 1, claims={"iat": _now() + 1}),
     errors.InvalidClaim, "exp is not after iat"),
    ("exp-year-9999", lambda w: make_jwt(w.ec_jwt_key, exp=253402300799), errors.TokenLifetimeTooLong,
     "over this server's maximum of 3600s"),
    ("lifetime-over-an-hour", lambda w: make_jwt(w.ec_jwt_key, exp=_now() + 3700), errors.TokenLifetimeTooLong,
     "lifetime (exp - iat) is 3700s"),
    ("backdated-iat-far-exp", lambda w: make_jwt(w.ec_jwt_key, exp=_now() + 7200, claims={"iat": _now() - 10}),
     errors.TokenLifetimeTooLong, "lifetime (exp - iat)"),
    ("no-iat-far-exp", lambda w: make_jwt(w.ec_jwt_key, exp=_now() + 7200, drop=["iat"]), errors.TokenLifetimeTooLong,
     "s from now, over this server's maximum lifetime of 3600s"),
    ("missing-sub", lambda w: make_jwt(w.ec_jwt_key, sub=None), errors.MissingClaim, "no sub"),
    ("sub-not-string", lambda w: make_jwt(w.ec_jwt_key, claims={"sub": 42}), errors.InvalidClaim, "sub must be"),
    ("sub-malformed", lambda w: make_jwt(w.ec_jwt_key, sub="spiffe://example.org/a/../admin"), errors.InvalidClaim,
     "'..' segment"),
    ("sub-uppercase-domain", lambda w: make_jwt(w.ec_jwt_key, sub="spiffe://EXAMPLE.org/w"), errors.InvalidClaim,
     "lowercase"),
    ("sub-trailing-newline", lambda w: make_jwt(w.ec_jwt_key, sub="spiffe://example.org/w\n"), errors.InvalidClaim,
     "control character"),
    ("foreign-trust-domain-not-accepted",
     lambda w: make_jwt(w.other_jwt_key, kid="other-1", sub="spiffe://other.org/w"),
     errors.TrustDomainNotAccepted, "other.org is not accepted"),
    ("bad-signature", lambda w: make_jwt(cf.ec_key()), errors.InvalidSignature, "does not verify with key 'key-1'"),
    ("tampered-claims", _tamper_claims, errors.InvalidSignature, "does not verify"),
    ("truncated-signature", lambda w: _truncate_signature(make_jwt(w.ec_jwt_key)), errors.InvalidSignature,
     "must be 64 bytes, got 58"),
    ("rsa-key-for-es256", lambda w: make_jwt(w.ec_jwt_key, kid="rsa-1"), errors.KeyAlgorithmMismatch,
     "not a secp256r1 EC key"),
    ("ec-key-for-rs256", lambda w: make_jwt(w.rsa_jwt_key, alg="RS256", kid="key-1"), errors.KeyAlgorithmMismatch,
     "not an RSA key"),
    ("es384-with-p256-key", lambda w: make_jwt(w.ec_jwt_key, alg="ES384"), errors.KeyAlgorithmMismatch, "secp384r1"),
    ("crit-header", lambda w: make_jwt(w.ec_jwt_key, header={"crit": ["exp"]}), errors.UnsupportedHeader, "crit"),
    ("b64-header", lambda w: make_jwt(w.ec_jwt_key, header={"b64": False}), errors.UnsupportedHeader, "b64"),
    ("typ-not-jwt", lambda w: make_jwt(w.ec_jwt_key, header={"typ": "at+jwt"}), errors.UnsupportedHeader, "typ"),
    ("garbage", _bad_raw("garbage-without-any-dots"), errors.MalformedToken, "1 segments"),
    ("two-segments", _bad_raw("eyJhbGciOiJFUzI1NiJ9.e30"), errors.MalformedToken, "2 segments"),
    ("four-segments", _bad_raw("a.b.c.d"), errors.MalformedToken, "4 segments"),
    ("jwe-five-segments", _bad_raw("a.b.c.d.e"), errors.MalformedToken, "5 segments"),
    ("non-json-header", lambda w: f"{b64url(b'not json')}.{b64json({})}.AAAA", errors.MalformedToken,
     "header is not JSON"),
    ("header-json-array", lambda w: f"{b64url(b'[1,2]')}.{b64json({})}.AAAA", errors.MalformedToken,
     "header is not a JSON object"),
    ("duplicate-alg", lambda w: _raw(b'{"alg":"ES256","alg":"none","kid":"key-1"}', {}),
     errors.MalformedToken, "duplicate JSON member 'alg'"),
    ("non-json-claims", lambda w: f"{b64json({'alg': 'ES256', 'kid': 'key-1'})}.{b64url(b'{oops')}.AAAA",
     errors.MalformedToken, "claims is not JSON"),
    ("nan-in-claims", lambda w: _raw({"alg": "ES256", "kid": "key-1"}, b'{"exp":NaN}'), errors.MalformedToken, "NaN"),
    ("padded-base64", lambda w: make_jwt(w.ec_jwt_key).replace(".", "=.", 1), errors.MalformedToken, "base64url"),
    ("standard-base64-alphabet", lambda w: "+/+/." + make_jwt(w.ec_jwt_key).split(".", 1)[1], errors.MalformedToken,
     "base64url"),
    ("non-canonical-base64", lambda w: f"{b64json({'alg': 'ES256', 'kid': 'key-1'})}.e31.AAAA",
     errors.MalformedToken, "canonical"),
    ("non-ascii", _bad_raw("é.é.é"), errors.MalformedToken, "non-ASCII"),
    ("over-long", _bad_raw("a" * 20000), errors.MalformedToken, "over the 16384-byte limit"),
]


@pytest.fixture(scope="module")
def authn(world: World) -> SpiffeAuthenticator:
    return SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org"], jwt_audience="mcp")


@pytest.mark.parametrize(("build", "error", "phrase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_adversarial_token_is_refused(
    world: World, authn: SpiffeAuthenticator, build: Callable[[World], str], error: type, phrase: str
) -> None:
    token = build(world)
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(NO_CERT, {"authorization": f"Bearer {token}"})
    assert type(info.value.__cause__) is error, info.value.reason
    assert info.value.reason.startswith("jwt-svid: ")
    assert phrase in info.value.reason


def test_suite_is_large_enough() -> None:
    assert len(CASES) >= 25


@pytest.mark.parametrize("value", ["", "Bearer", "Bearer ", "Basic abc", "Bearer  two-spaces", "Bearer a b", "token"])
def test_malformed_authorization_header(world: World, authn: SpiffeAuthenticator, value: str) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(NO_CERT, {"authorization": value})
    assert type(info.value.__cause__) is errors.MalformedToken
    assert "not 'Bearer <token>'" in info.value.reason


def test_unknown_trust_domain_when_all_domains_accepted(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp")
    token = make_jwt(world.ec_jwt_key, sub="spiffe://third.org/w")
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(NO_CERT, {"authorization": f"Bearer {token}"})
    assert type(info.value.__cause__) is errors.UnknownTrustDomain


def test_foreign_domain_key_cannot_sign_for_our_domain_even_when_federated(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp")  # other.org accepted too
    forged = make_jwt(world.other_jwt_key, kid="other-1", sub="spiffe://example.org/admin")
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(NO_CERT, {"authorization": f"Bearer {forged}"})
    assert type(info.value.__cause__) is errors.UnknownKeyId
    # The same key is good for its own domain.
    genuine = make_jwt(world.other_jwt_key, kid="other-1", sub="spiffe://other.org/w")
    assert authn.authenticate(NO_CERT, {"authorization": f"Bearer {genuine}"}).trust_domain == "other.org"


def test_jwt_disabled_or_without_audience(world: World) -> None:
    token = make_jwt(world.ec_jwt_key)
    for authn, phrase in (
        (SpiffeAuthenticator(world.bundles, jwt_audience="mcp", allow_jwt=False), "does not accept JWT-SVIDs"),
        (SpiffeAuthenticator(world.bundles), "no JWT audience is configured"),
    ):
        with pytest.raises(AuthenticationFailed) as info:
            authn.authenticate(NO_CERT, {"authorization": f"Bearer {token}"})
        assert type(info.value.__cause__) is errors.JwtSvidNotAccepted
        assert phrase in info.value.reason
        with pytest.raises(AuthenticationFailed, match="mTLS is required"):
            authn.authenticate(NO_CERT, {})


def test_no_certificate_and_no_token(world: World, authn: SpiffeAuthenticator) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(NO_CERT, {})
    assert type(info.value.__cause__) is errors.NoPeerCertificate
    assert "no JWT-SVID bearer token" in info.value.reason


# --- positive cases -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["ES256", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"])
def test_good_token(world: World, authn: SpiffeAuthenticator, alg: str) -> None:
    key, kid = (world.ec_jwt_key, "key-1") if alg == "ES256" else (world.rsa_jwt_key, "rsa-1")
    token = make_jwt(key, alg=alg, kid=kid, sub="spiffe://example.org/ns/prod/sa/billing", aud=["other", "mcp"])
    principal = authn.authenticate(NO_CERT, {"authorization": f"Bearer {token}"})
    assert principal.spiffe_id == "spiffe://example.org/ns/prod/sa/billing"
    assert principal.proven_by is ProofKind.JWT
    exp = json.loads(cf.base64.urlsafe_b64decode(token.split(".")[1] + "==="))["exp"]
    assert principal.not_after == datetime.datetime.fromtimestamp(exp, datetime.timezone.utc)


@pytest.mark.parametrize(("alg", "curve"), [("ES384", "secp384r1"), ("ES512", "secp521r1")])
def test_good_token_other_curves(world: World, alg: str, curve: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = cf.ec_key({"secp384r1": ec.SECP384R1(), "secp521r1": ec.SECP521R1()}[curve])
    bundles = cf_bundles_with(world, {"k": key.public_key()})
    svid = validate_jwt_svid(make_jwt(key, alg=alg, kid="k", aud="mcp"), audience="mcp", trust_bundles=bundles)
    assert str(svid.spiffe_id) == "spiffe://example.org/workload"
    assert svid.audience == ("mcp",)


def cf_bundles_with(world: World, keys: dict[str, Any]) -> Any:
    from mcp_grpc.identity.trust import StaticTrustBundles

    return StaticTrustBundles(jwt_bundles={"example.org": keys})


def test_bearer_scheme_is_case_insensitive(world: World, authn: SpiffeAuthenticator) -> None:
    token = make_jwt(world.ec_jwt_key)
    assert bearer_token(f"bearer {token}") == token
    assert authn.authenticate(NO_CERT, {"authorization": f"BEARER {token}"}).proven_by is ProofKind.JWT


def test_leeway_applies_to_exp(world: World) -> None:
    token = make_jwt(world.ec_jwt_key, exp=_now() - 2, claims={"iat": _now() - 60})
    kwargs = dict(audience="mcp", trust_bundles=world.bundles)
    assert validate_jwt_svid(token, leeway=datetime.timedelta(seconds=30), **kwargs)
    with pytest.raises(errors.TokenExpired):
        validate_jwt_svid(token, leeway=datetime.timedelta(0), **kwargs)


def test_token_lifetime_cap_is_configurable_and_iat_optional(world: World) -> None:
    kwargs = dict(audience="mcp", trust_bundles=world.bundles)
    day = make_jwt(world.ec_jwt_key, exp=_now() + 86400)
    assert validate_jwt_svid(day, max_lifetime=datetime.timedelta(days=1, seconds=5), **kwargs)
    short = make_jwt(world.ec_jwt_key, exp=_now() + 300, drop=["iat"])  # no iat: judged by exp - now alone
    assert validate_jwt_svid(short, **kwargs)
    with pytest.raises(errors.TokenLifetimeTooLong):
        validate_jwt_svid(short, max_lifetime=datetime.timedelta(seconds=60), **kwargs)
    with pytest.raises(ValueError, match="jwt_max_lifetime must be positive"):
        SpiffeAuthenticator(world.bundles, jwt_audience="mcp", jwt_max_lifetime=datetime.timedelta(0))


def test_certificate_and_bearer_naming_different_ids_are_refused(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/by-cert")
    token = make_jwt(world.ec_jwt_key, sub="spiffe://example.org/by-token")
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(world.auth_context(leaf), {"authorization": f"Bearer {token}"})
    assert type(info.value.__cause__) is errors.ConflictingIdentities
    assert info.value.reason == (
        "jwt-svid: the bearer token names spiffe://example.org/by-token but the client certificate names "
        "spiffe://example.org/by-cert; they must name the same SPIFFE ID (or the certificate's must be a configured "
        "JWT delegate)")


def test_certificate_and_bearer_naming_the_same_id(world: World, authn: SpiffeAuthenticator) -> None:
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/same")
    token = make_jwt(world.ec_jwt_key, sub="spiffe://example.org/same", exp=_now() + 60)
    principal = authn.authenticate(world.auth_context(leaf), {"authorization": f"Bearer {token}"})
    assert (principal.spiffe_id, principal.proven_by, principal.actor) == ("spiffe://example.org/same", ProofKind.X509,
                                                                          None)
    assert principal.not_after.timestamp() == _now() + 60  # the earlier of the two proofs' ends


def test_a_configured_delegate_relays_its_callers_token(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org"], jwt_audience="mcp",
                                jwt_delegates=["spiffe://example.org/proxy"])
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/proxy")
    token = make_jwt(world.ec_jwt_key, sub="spiffe://example.org/caller")
    principal = authn.authenticate(world.auth_context(leaf), {"authorization": f"Bearer {token}"})
    assert (principal.spiffe_id, principal.proven_by, principal.actor) == (
        "spiffe://example.org/caller", ProofKind.DELEGATED, "spiffe://example.org/proxy")
    # The delegate alone is itself; a bad relayed token is refused, never downgraded to the delegate.
    assert authn.authenticate(world.auth_context(leaf), {}).spiffe_id == "spiffe://example.org/proxy"
    with pytest.raises(AuthenticationFailed, match="signature does not verify"):
        authn.authenticate(world.auth_context(leaf), {"authorization": f"Bearer {make_jwt(cf.ec_key())}"})


def test_jwt_only_listener_requires_a_token(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp", require_jwt=True)
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/w")
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(world.auth_context(leaf), {})
    assert info.value.reason == (
        "jwt-svid: this listener requires a JWT-SVID bearer token (authorization: Bearer <token>)")
    with pytest.raises(ValueError, match="require_jwt needs"):
        SpiffeAuthenticator(world.bundles, require_jwt=True)


def test_a_token_on_a_server_without_jwt_is_refused_even_with_a_certificate(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org"])
    leaf, _ = world.ca.issue_leaf("spiffe://example.org/w")
    token = make_jwt(world.ec_jwt_key, sub="spiffe://example.org/w")
    with pytest.raises(AuthenticationFailed, match="no JWT audience is configured"):
        authn.authenticate(world.auth_context(leaf), {"authorization": f"Bearer {token}"})
