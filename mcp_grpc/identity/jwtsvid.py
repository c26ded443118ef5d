"""Validate a JWT-SVID bearer token: strict compact JWS, an allow-listed algorithm, the key of ``sub``'s own trust domain.

Written on ``cryptography`` directly rather than PyJWT or py-spiffe's ``JwtSvid``: the key must be chosen from the JWT
bundle of the trust domain named by the (still unverified) ``sub``, never from a pooled key set; PyJWT's base64url
decoder silently drops characters outside the alphabet, and py-spiffe raises stray ``KeyError``s on tokens without
``exp``. Each rule below fails with its own ``JwtSvidError`` subclass.

Order: shape (three base64url segments, JSON object header and claims, no duplicate keys) -> header (``alg`` in
RS/ES/PS 256/384/512, no ``crit``/``b64``, ``typ`` JWT or JOSE if present, ``kid`` present) -> ``sub`` a strict SPIFFE
ID in an accepted trust domain -> ``kid`` in that domain's JWT bundle -> signature -> ``aud`` includes our audience ->
``exp`` present and not passed -> ``nbf``/``iat`` not in the future -> lifetime within the maximum. Claims are judged only after the signature, so an
unsigned claim never decides the reason.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import json
import math
import re
from typing import Any, Collection, Mapping

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from mcp_grpc.identity.errors import (
    AudienceMismatch,
    InvalidClaim,
    InvalidSignature,
    KeyAlgorithmMismatch,
    MalformedToken,
    MissingClaim,
    MissingKeyId,
    SpiffeIdError,
    TokenExpired,
    TokenLifetimeTooLong,
    TokenNotYetValid,
    TrustDomainNotAccepted,
    UnknownKeyId,
    UnknownTrustDomain,
    UnsupportedAlgorithm,
    UnsupportedHeader,
)
from mcp_grpc.identity.spiffeid import SpiffeId, parse_spiffe_id
from mcp_grpc.identity.trust import TrustBundles

__all__ = [
    "ALLOWED_ALGORITHMS",
    "DEFAULT_LEEWAY",
    "DEFAULT_MAX_LIFETIME",
    "MAX_TOKEN_BYTES",
    "VerifiedJwtSvid",
    "bearer_token",
    "validate_jwt_svid",
]

UTC = datetime.timezone.utc
ALLOWED_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
)
DEFAULT_LEEWAY = datetime.timedelta(seconds=5)
#: The longest a JWT-SVID may live (``exp - iat``) and the furthest its ``exp`` may lie ahead. SPIRE issues 5-minute
#: JWT-SVIDs by default and operators raise that for slow batch hops; an hour leaves room for that while bounding how
#: long a leaked bearer token (they are replayable by design) stays useful. A year-9999 ``exp`` is never accepted.
DEFAULT_MAX_LIFETIME = datetime.timedelta(hours=1)
#: Far above any real JWT-SVID (about 1 KiB); bounds the work done on hostile input before any check.
MAX_TOKEN_BYTES = 16 * 1024
MIN_RSA_BITS = 2048
_MAX_NUMERIC_DATE = 253402300799.0  # 9999-12-31T23:59:59Z, the largest instant a datetime can hold

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}
_CURVES: dict[str, type[ec.EllipticCurve]] = {"256": ec.SECP256R1, "384": ec.SECP384R1, "512": ec.SECP521R1}


@dataclasses.dataclass(frozen=True, slots=True)
class VerifiedJwtSvid:
    """A token that passed every check."""

    spiffe_id: SpiffeId
    audience: tuple[str, ...]
    expiry: datetime.datetime
    claims: Mapping[str, Any]


def bearer_token(authorization: str) -> str:
    """The token of an ``authorization: Bearer <token>`` value (scheme case-insensitive, one space, no padding)."""
    scheme, space, token = authorization.partition(" ")
    if not space or scheme.lower() != "bearer" or not token or token != token.strip() or " " in token:
        raise MalformedToken("authorization metadata is not 'Bearer <token>'")
    return token


def _b64decode(segment: str, what: str) -> bytes:
    # Strict: only the URL-safe alphabet, no padding, and the canonical spelling (no stray low bits), so one token
    # has one encoding.
    if _BASE64URL.fullmatch(segment) is None or len(segment) % 4 == 1:
        raise MalformedToken(f"token {what} is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken(f"token {what} is not unpadded base64url") from None
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != segment:
        raise MalformedToken(f"token {what} is not canonical base64url")
    return data


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise MalformedToken(f"duplicate JSON member {key!r}")
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"JSON constant {name} is not allowed")


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except MalformedToken as exc:
        raise MalformedToken(f"token {what}: {exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MalformedToken(f"token {what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedToken(f"token {what} is not a JSON object")
    return value


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if not isinstance(value, bool) and isinstance(value, (int, float)):
        try:
            seconds = float(value)
        except OverflowError:
            raise InvalidClaim(f"claim {name} is out of range") from None
        if math.isfinite(seconds) and 0 <= seconds <= _MAX_NUMERIC_DATE:
            return seconds
        raise InvalidClaim(f"claim {name} is out of range")
    raise InvalidClaim(f"claim {name} must be a NumericDate (seconds since the epoch)")


def _verify_signature(alg: str, kid: str, key: Any, signing_input: bytes, signature: bytes) -> None:
    family, bits = alg[:2], alg[2:]
    digest = _HASHES[bits]()
    try:
        if family == "ES":
            curve = _CURVES[bits]
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
                raise KeyAlgorithmMismatch(f"key {kid!r} is not a {curve.name} EC key, as {alg} requires")
            size = (key.curve.key_size + 7) // 8
            if len(signature) != 2 * size:
                raise InvalidSignature(f"{alg} signature must be {2 * size} bytes, got {len(signature)}")
            r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
            key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(digest))
            return
        if not isinstance(key, rsa.RSAPublicKey):
            raise KeyAlgorithmMismatch(f"key {kid!r} is not an RSA key, as {alg} requires")
        if key.key_size < MIN_RSA_BITS:
            raise KeyAlgorithmMismatch(f"key {kid!r} is a {key.key_size}-bit RSA key, under {MIN_RSA_BITS} bits")
        if family == "RS":
            key.verify(signature, signing_input, padding.PKCS1v15(), digest)
        else:  # PS: RFC 7518 §3.5 fixes MGF1 with the same hash and a salt as long as the hash
            pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
            key.verify(signature, signing_input, pss, digest)
    except _CryptoInvalidSignature:
        raise InvalidSignature(f"signature does not verify with key {kid!r}") from None


def validate_jwt_svid(
    token: str,
    *,
    audience: str,
    trust_bundles: TrustBundles,
    accepted_trust_domains: Collection[str] | None = None,
    now: datetime.datetime | None = None,
    leeway: datetime.timedelta = DEFAULT_LEEWAY,
    max_lifetime: datetime.timedelta = DEFAULT_MAX_LIFETIME,
) -> VerifiedJwtSvid:
    """Validate a compact JWT-SVID for ``audience``, or raise the ``JwtSvidError`` subclass naming the failed rule.

    ``max_lifetime`` bounds both ``exp - iat`` and ``exp - now`` (the second also covers tokens without ``iat``, and
    ones whose ``iat`` was backdated to look short-lived), each with ``leeway`` for clock skew."""
    if not isinstance(token, str) or not token:
        raise MalformedToken("token is empty")
    if len(token) > MAX_TOKEN_BYTES:
        raise MalformedToken(f"token is {len(token)} bytes, over the {MAX_TOKEN_BYTES}-byte limit")
    if not token.isascii():
        raise MalformedToken("token contains non-ASCII characters")
    segments = token.split(".")
    if len(segments) != 3:
        raise MalformedToken(f"token has {len(segments)} segments; a compact JWS has 3")
    header_b64, claims_b64, signature_b64 = segments
    header = _json_object(_b64decode(header_b64, "header"), "header")

    alg = header.get("alg")
    if alg is None:
        raise UnsupportedAlgorithm("token header has no alg")
    if not isinstance(alg, str) or alg not in ALLOWED_ALGORITHMS:
        if isinstance(alg, str) and alg.lower() == "none":
            raise UnsupportedAlgorithm("alg 'none' (unsigned token) is not allowed")
        if isinstance(alg, str) and alg.startswith("HS"):
            raise UnsupportedAlgorithm(f"alg {alg!r} (shared-secret MAC) is not allowed; JWT-SVIDs are signed")
        raise UnsupportedAlgorithm(f"alg {alg!r} is not one of RS/ES/PS 256/384/512")
    if "crit" in header:
        raise UnsupportedHeader("token header has crit extensions, none of which are supported")
    if "b64" in header:
        raise UnsupportedHeader("token header has b64 (unencoded payload), which is not supported")
    typ = header.get("typ")
    if typ is not None and typ not in ("JWT", "JOSE"):
        raise UnsupportedHeader(f"token header typ {typ!r} is neither JWT nor JOSE")
    kid = header.get("kid")
    if kid is None:
        raise MissingKeyId("token header has no kid")
    if not isinstance(kid, str) or not kid:
        raise MissingKeyId("token header kid must be a non-empty string")

    claims = _json_object(_b64decode(claims_b64, "claims"), "claims")
    signature = _b64decode(signature_b64, "signature")

    if "sub" not in claims:
        raise MissingClaim("token has no sub claim")
    sub = claims["sub"]
    if not isinstance(sub, str):
        raise InvalidClaim("claim sub must be a string")
    try:
        spiffe_id = parse_spiffe_id(sub)
    except SpiffeIdError as exc:
        raise InvalidClaim(f"claim sub is not a valid SPIFFE ID: {exc}") from exc
    trust_domain = spiffe_id.trust_domain.name
    if accepted_trust_domains is not None and trust_domain not in accepted_trust_domains:
        raise TrustDomainNotAccepted(f"trust domain {trust_domain} is not accepted by this server")
    keys = trust_bundles.jwt_authorities(trust_domain)
    if keys is None:
        raise UnknownTrustDomain(f"no JWT bundle for trust domain {trust_domain}")
    key = keys.get(kid)
    if key is None:
        raise UnknownKeyId(f"kid {kid!r} is not in the JWT bundle of trust domain {trust_domain}")
    _verify_signature(alg, kid, key, f"{header_b64}.{claims_b64}".encode("ascii"), signature)

    if "aud" not in claims:
        raise MissingClaim("token has no aud claim")
    aud = claims["aud"]
    audiences = (aud,) if isinstance(aud, str) else tuple(aud) if isinstance(aud, list) else None
    if not audiences or not all(isinstance(a, str) for a in audiences):
        raise InvalidClaim("claim aud must be a string or a non-empty list of strings")
    if audience not in audiences:
        raise AudienceMismatch(f"claim aud does not include this server's audience {audience!r}")

    current = (now or datetime.datetime.now(UTC)).timestamp()
    grace = leeway.total_seconds()
    exp = _number(claims, "exp")
    if exp is None:
        raise MissingClaim("token has no exp claim")
    if current >= exp + grace:
        raise TokenExpired(f"token expired at {_iso(exp)}")
    nbf = _number(claims, "nbf")
    if nbf is not None and nbf > current + grace:
        raise TokenNotYetValid(f"token is not valid before {_iso(nbf)} (nbf)")
    iat = _number(claims, "iat")
    if iat is not None and iat > current + grace:
        raise TokenNotYetValid(f"token was issued in the future at {_iso(iat)} (iat)")
    if iat is not None and exp <= iat:
        raise InvalidClaim("claim exp is not after iat")
    limit = max_lifetime.total_seconds()
    if iat is not None and exp - iat > limit:
        raise TokenLifetimeTooLong(
            f"token lifetime (exp - iat) is {_duration(exp - iat)}, over this server's maximum of {_duration(limit)}")
    if exp - current > limit + grace:
        raise TokenLifetimeTooLong(
            f"token expires {_duration(exp - current)} from now, over this server's maximum lifetime of "
            f"{_duration(limit)}")
    return VerifiedJwtSvid(
        spiffe_id=spiffe_id,
        audience=audiences,
        expiry=datetime.datetime.fromtimestamp(exp, UTC),
        claims=claims,
    )


def _duration(seconds: float) -> str:
    return f"{seconds:.0f}s"


def _iso(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, UTC).isoformat()
