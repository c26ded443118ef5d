"""Hostile bytes never escape as anything but a precise IdentityError (or, through the authenticator, a denial)."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.errors import IdentityError, JwtSvidError, X509SvidError
from mcp_grpc.identity.jwtsvid import validate_jwt_svid
from mcp_grpc.identity.x509svid import validate_x509_svid
from mcp_grpc.contract import AuthenticationFailed
from tests.support import certfactory as cf
from tests.support.certfactory import World

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Recursive JSON is costly to generate; fewer examples keep the suite within its time budget.
JSON_SETTINGS = settings(SETTINGS, max_examples=50)


@SETTINGS
@given(token=st.text(max_size=200))
def test_any_text_token(world: World, token: str) -> None:
    try:
        validate_jwt_svid(token, audience="mcp", trust_bundles=world.bundles)
    except JwtSvidError:
        return
    pytest.fail("an arbitrary string validated as a JWT-SVID")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=8,
)


@JSON_SETTINGS
@given(
    header=st.dictionaries(st.sampled_from(["alg", "kid", "typ", "crit", "b64", "x"]), _JSON, max_size=4),
    claims=st.dictionaries(st.sampled_from(["sub", "aud", "exp", "nbf", "iat", "x"]), _JSON, max_size=5),
)
def test_structured_junk_token(world: World, header: dict, claims: dict) -> None:
    token = f"{cf.b64json(header)}.{cf.b64json(claims)}.{cf.b64url(b'x' * 64)}"
    with pytest.raises(JwtSvidError):
        validate_jwt_svid(token, audience="mcp", trust_bundles=world.bundles)


@JSON_SETTINGS
@given(claims=st.dictionaries(st.sampled_from(["sub", "aud", "exp", "nbf", "iat"]), _JSON, max_size=5))
def test_validly_signed_junk_claims(world: World, claims: dict) -> None:
    """Signed by a trusted key, so every claim check is reached: only JwtSvidError, or a fully valid token."""
    signing_input = f"{cf.b64json({'alg': 'ES256', 'kid': 'key-1'})}.{cf.b64json(claims)}".encode()
    token = f"{signing_input.decode()}.{cf.b64url(cf.sign_jws('ES256', world.ec_jwt_key, signing_input))}"
    try:
        svid = validate_jwt_svid(token, audience="mcp", trust_bundles=world.bundles)
    except JwtSvidError:
        return
    assert claims["sub"] == str(svid.spiffe_id) and "mcp" in svid.audience


@SETTINGS
@given(position=st.integers(min_value=0), value=st.integers(min_value=0, max_value=255))
def test_corrupted_der_leaf(world: World, position: int, value: int) -> None:
    der = bytearray(_good_der(world))
    der[position % len(der)] = value
    try:
        validate_x509_svid(bytes(der), trust_bundles=world.bundles)
    except X509SvidError:
        return
    assert bytes(der) == _good_der(world)  # only the unchanged certificate may pass


@SETTINGS
@given(blob=st.binary(max_size=300))
def test_random_bytes_through_the_authenticator(world: World, blob: bytes) -> None:
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp")
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate({"x509_pem_cert": [blob or b"\x00"]}, {})
    assert isinstance(info.value.__cause__, IdentityError)


_DER: dict[int, bytes] = {}


def _good_der(world: World) -> bytes:
    if id(world) not in _DER:
        leaf, _ = world.ca.issue_leaf(not_after=cf.now() + datetime.timedelta(days=1))
        _DER[id(world)] = leaf.public_bytes(serialization.Encoding.DER)
    return _DER[id(world)]
