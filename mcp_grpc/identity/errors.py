"""Every way a SPIFFE identity can fail validation, one exception class per failure.

All derive from ``IdentityError``, whose ``reason`` is precise and safe to return to the caller (it names the rule that
failed and the offending value, never a key or a bundle). The authenticator turns any of them into
``AuthenticationFailed(reason)``; tests assert on the class.
"""

from __future__ import annotations


class IdentityError(Exception):
    """Base of every identity validation failure."""

    @property
    def reason(self) -> str:
        return str(self)


# --- SPIFFE IDs and trust domains (spiffeid.py) ---------------------------------------------------------------------


class SpiffeIdError(IdentityError, ValueError):
    """A string is not a valid SPIFFE ID or trust domain name."""


class EmptySpiffeId(SpiffeIdError):
    """The string is empty."""


class SpiffeIdTooLong(SpiffeIdError):
    """Over 2048 bytes (SPIFFE ID) or over 255 bytes (trust domain name)."""


class ForbiddenCharacter(SpiffeIdError):
    """Whitespace, a control character or a non-ASCII character anywhere in the string."""


class WrongScheme(SpiffeIdError):
    """The scheme is missing or is not exactly ``spiffe`` (lowercase) followed by ``://``."""


class MissingTrustDomain(SpiffeIdError):
    """Nothing between ``spiffe://`` and the path."""


class UserInfoNotAllowed(SpiffeIdError):
    """The authority carries ``user@``."""


class PortNotAllowed(SpiffeIdError):
    """The authority carries ``:port`` (or any ``:``)."""


class InvalidTrustDomainCharacter(SpiffeIdError):
    """The trust domain has a character outside [a-z0-9._-]."""


class UppercaseTrustDomain(InvalidTrustDomainCharacter):
    """The trust domain has an uppercase letter (it must be lowercase, not case-folded)."""


class PercentEncodingNotAllowed(SpiffeIdError):
    """A ``%`` escape: SPIFFE IDs have exactly one spelling, so escapes are refused rather than decoded."""


class QueryNotAllowed(SpiffeIdError):
    """A ``?query`` component."""


class FragmentNotAllowed(SpiffeIdError):
    """A ``#fragment`` component."""


class EmptyPathSegment(SpiffeIdError):
    """``//`` inside the path."""


class DotPathSegment(SpiffeIdError):
    """A ``.`` or ``..`` path segment."""


class TrailingSlash(SpiffeIdError):
    """The path ends with ``/``."""


class InvalidPathCharacter(SpiffeIdError):
    """A path character outside [a-zA-Z0-9._-]."""


# --- X.509-SVIDs (x509svid.py) ----------------------------------------------------------------------------------------


class X509SvidError(IdentityError):
    """A peer certificate is not an acceptable X.509-SVID."""


class NoPeerCertificate(X509SvidError):
    """The connection carries no client certificate."""


class MalformedCertificate(X509SvidError):
    """The certificate (or an intermediate) does not parse."""


class NoUriSan(X509SvidError):
    """The leaf has no URI SAN (or no subjectAltName at all)."""


class MultipleUriSans(X509SvidError):
    """The leaf has more than one URI SAN; an X.509-SVID has exactly one."""


class NonSpiffeUriSan(X509SvidError):
    """The leaf's URI SAN is not a ``spiffe:`` URI."""


class MalformedSpiffeIdInSan(X509SvidError):
    """The URI SAN has the spiffe scheme but breaks a SPIFFE ID rule; ``__cause__`` is the SpiffeIdError."""


class LeafIdWithoutPath(X509SvidError):
    """The leaf's SPIFFE ID has no path (``spiffe://example.org`` names a trust domain, never a workload)."""


class LeafIsCa(X509SvidError):
    """The leaf asserts basicConstraints CA=true."""


class KeyUsageMissing(X509SvidError):
    """The leaf lacks the keyUsage extension or its digitalSignature bit."""


class KeyUsageNotCritical(X509SvidError):
    """The keyUsage extension is not marked critical (the X.509-SVID standard requires it)."""


class KeyUsageForbidden(X509SvidError):
    """The leaf asserts keyCertSign or cRLSign."""


class ExtendedKeyUsageMismatch(X509SvidError):
    """The leaf carries extendedKeyUsage without id-kp-clientAuth, so it may not authenticate a client."""


class WeakKey(X509SvidError):
    """The leaf's public key is one SPIRE never issues: RSA under 2048 bits, an EC curve other than P-256/P-384, or
    another algorithm (Ed25519, DSA, ...)."""


class CertificateExpired(X509SvidError):
    """The leaf (or a certificate of its chain) is past its notAfter."""


class CertificateNotYetValid(X509SvidError):
    """The leaf is before its notBefore (beyond the allowed clock skew)."""


class UntrustedChain(X509SvidError):
    """The leaf does not chain to the X.509 bundle of its own trust domain."""


# --- JWT-SVIDs (jwtsvid.py) -------------------------------------------------------------------------------------------


class JwtSvidError(IdentityError):
    """A bearer token is not an acceptable JWT-SVID."""


class JwtSvidNotAccepted(JwtSvidError):
    """A bearer token arrived but this server does not accept JWT-SVIDs (disabled, or no audience configured)."""


class MalformedToken(JwtSvidError):
    """Not a compact JWS: wrong segment count, bad base64url, non-JSON or non-object header or claims, too long."""


class UnsupportedAlgorithm(JwtSvidError):
    """``alg`` is missing or not one of RS/ES/PS 256/384/512 (``none`` and HS* are refused)."""


class UnsupportedHeader(JwtSvidError):
    """A header parameter we do not implement and may not ignore (``crit``, ``b64``), or a bad ``typ``."""


class MissingKeyId(JwtSvidError):
    """The header has no ``kid``."""


class UnknownKeyId(JwtSvidError):
    """``kid`` is not in the JWT bundle of the subject's trust domain."""


class KeyAlgorithmMismatch(JwtSvidError):
    """The key found for ``kid`` cannot produce ``alg`` signatures (e.g. an RSA key for ES256, P-384 for ES256)."""


class MissingClaim(JwtSvidError):
    """A required claim (``sub``, ``aud``, ``exp``) is absent."""


class InvalidClaim(JwtSvidError):
    """A claim has the wrong type or an impossible value."""


class AudienceMismatch(JwtSvidError):
    """``aud`` does not include the server's audience."""


class TokenExpired(JwtSvidError):
    """``exp`` has passed (beyond the leeway)."""


class TokenNotYetValid(JwtSvidError):
    """``nbf`` or ``iat`` lies in the future (beyond the leeway)."""


class TokenLifetimeTooLong(JwtSvidError):
    """The token lives longer than the server allows: ``exp - iat`` or ``exp - now`` over the maximum lifetime."""


class InvalidSignature(JwtSvidError):
    """The signature does not verify with the key named by ``kid``."""


# --- Shared by both SVID kinds ----------------------------------------------------------------------------------------


class TrustDomainNotAccepted(X509SvidError, JwtSvidError):
    """The SVID's trust domain is not one this server accepts."""


class UnknownTrustDomain(X509SvidError, JwtSvidError):
    """No bundle is held for the SVID's trust domain, so nothing can vouch for it."""


class ConflictingIdentities(IdentityError):
    """A client certificate and a bearer token name different SPIFFE IDs and the certificate's is no configured
    delegate: neither is silently chosen."""


class JwtSvidRequired(JwtSvidError):
    """This listener authenticates callers by JWT-SVID only (behind an L7 proxy) and the call carried none."""


class NotAuthorized(IdentityError):
    """A valid SPIFFE ID that the configured authorizer (authorizers.py) refuses."""
