"""The server's ``Authenticator``: a peer's X.509-SVID (mTLS) or JWT-SVID (bearer) to a ``Principal``, once per proof.

Per call it reads ``x509_pem_cert`` from grpcio's auth context (never ``peer_spiffe_id``, which grpcio fills without
any SPIFFE rule) and looks its bytes up in a bounded LRU of verdicts. A miss runs the full validation
(``x509svid.validate_x509_svid``, then the configured ID authorizer); a hit costs a dict lookup and one expiry compare,
because connections outlive certificates. The cache is dropped whenever ``trust_bundles.generation`` changes, so a
bundle update (CA rotation, a federated domain removed) is obeyed on the next call. With no peer certificate, an
``authorization: Bearer <token>`` JWT-SVID is accepted when allowed and an audience is configured.

When a call carries both a peer certificate and a bearer token, both are validated and they must name the same SPIFFE
ID; otherwise the certificate's SPIFFE ID must be one of ``jwt_delegates`` (a proxy or bridge relaying its caller's
token), and the principal is the token's subject proven ``delegated`` with the delegate as ``actor``. Anything else is
refused: neither proof is silently preferred. ``require_jwt`` is the listener mode for callers behind an L7 proxy
(TLS authenticates the server only): every call must carry a JWT-SVID.

Every failure raises ``AuthenticationFailed`` whose ``reason`` names the failed rule; ``__cause__`` is the precise
``IdentityError`` subclass from ``mcp_grpc.identity.errors``.

    >>> authn = SpiffeAuthenticator(bundles, accepted_trust_domains={"example.org"}, jwt_audience="mcp")
    >>> principal = authn.authenticate(context.auth_context(), dict(context.invocation_metadata()))
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import threading
import time
from typing import Callable, Iterable, Mapping, Sequence

from cryptography import x509

from mcp_grpc.identity.authorizers import IdAuthorizer, authorize_any
from mcp_grpc.identity.errors import (
    CertificateExpired,
    CertificateNotYetValid,
    ConflictingIdentities,
    IdentityError,
    JwtSvidNotAccepted,
    JwtSvidRequired,
    NoPeerCertificate,
    TokenExpired,
    UntrustedChain,
)
from mcp_grpc.identity.jwtsvid import DEFAULT_LEEWAY, DEFAULT_MAX_LIFETIME, bearer_token, validate_jwt_svid
from mcp_grpc.contract import Principal, ProofKind
from mcp_grpc.identity.spiffeid import TrustDomain, parse_spiffe_id, parse_trust_domain
from mcp_grpc.identity.trust import TrustBundles
from mcp_grpc.identity.x509svid import DEFAULT_CLOCK_SKEW, load_certificate, load_certificates, validate_x509_svid
from mcp_grpc.contract import AuthenticationFailed

__all__ = ["DEFAULT_CACHE_SIZE", "SpiffeAuthenticator"]

UTC = datetime.timezone.utc
DEFAULT_CACHE_SIZE = 4096
PEER_CERT = "x509_pem_cert"
PEER_CERT_CHAIN = "x509_pem_cert_chain"
AUTHORIZATION = "authorization"

_log = logging.getLogger(__name__)


class _UnexpectedFailure(IdentityError):
    """A validator raised something it should not have; the caller is denied and the verdict is not cached."""


# X.509 failures that may stop being failures while the bundles stay the same (time passes), so are never cached.
# JWT failures are never cached at all: a caller could mint endless distinct garbage tokens to flush the cache.
_TRANSIENT = (CertificateNotYetValid, UntrustedChain, _UnexpectedFailure)


class _Verdict:
    """A cached outcome: a principal valid until ``expires_at`` (epoch seconds), or the error to raise again."""

    __slots__ = ("principal", "expires_at", "error")

    def __init__(self, principal: Principal | None, expires_at: float, error: IdentityError | None) -> None:
        self.principal = principal
        self.expires_at = expires_at
        self.error = error


class SpiffeAuthenticator:
    """Authenticate callers by SPIFFE SVID; implements ``mcp_grpc.contract.Authenticator``.

    ``accepted_trust_domains``: names (or ``TrustDomain``s) whose SVIDs are accepted; None accepts any trust domain
    ``trust_bundles`` holds a bundle for (each SVID is still verified only against its own domain's bundle).
    ``jwt_audience``: the audience a JWT-SVID must carry; without one, bearer tokens are refused.
    ``require_jwt``: every call must carry a JWT-SVID (the L7-proxy listener mode); needs ``jwt_audience``.
    ``jwt_delegates``: SPIFFE IDs whose client certificates may carry another caller's JWT-SVID.
    ``authorize``: a check from ``authorizers`` run once per validated SVID (e.g. ``authorize_member_of``).
    ``clock_skew``: how far in the future an X.509 notBefore may lie; ``jwt_leeway``: grace for exp/nbf/iat;
    ``jwt_max_lifetime``: the longest a JWT-SVID may live (``exp - iat`` and ``exp - now``; default one hour).
    ``clock``: epoch seconds, injectable for tests.
    """

    def __init__(
        self,
        trust_bundles: TrustBundles,
        *,
        accepted_trust_domains: Iterable[str | TrustDomain] | None = None,
        jwt_audience: str | None = None,
        allow_jwt: bool = True,
        require_jwt: bool = False,
        jwt_delegates: Iterable[str] = (),
        authorize: IdAuthorizer | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        clock_skew: datetime.timedelta = DEFAULT_CLOCK_SKEW,
        jwt_leeway: datetime.timedelta = DEFAULT_LEEWAY,
        jwt_max_lifetime: datetime.timedelta = DEFAULT_MAX_LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if cache_size < 1:
            raise ValueError("cache_size must be at least 1")
        self._bundles = trust_bundles
        self._accepted: frozenset[str] | None = (
            None
            if accepted_trust_domains is None
            else frozenset(
                td.name if isinstance(td, TrustDomain) else parse_trust_domain(td).name
                for td in accepted_trust_domains
            )
        )
        self._audience = jwt_audience
        self._allow_jwt = allow_jwt
        if require_jwt and not (allow_jwt and jwt_audience):
            raise ValueError("require_jwt needs JWT-SVIDs allowed and a jwt_audience")
        self._require_jwt = require_jwt
        self._delegates = frozenset(str(parse_spiffe_id(d)) for d in jwt_delegates)
        self._authorize = authorize or authorize_any()
        self._cache_size = cache_size
        self._clock_skew = clock_skew
        self._jwt_leeway = jwt_leeway
        self._jwt_grace = jwt_leeway.total_seconds()
        if jwt_max_lifetime <= datetime.timedelta(0):
            raise ValueError("jwt_max_lifetime must be positive")
        self._jwt_max_lifetime = jwt_max_lifetime
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: collections.OrderedDict[object, _Verdict] = collections.OrderedDict()
        self._generation = trust_bundles.generation
        self._validations = 0

    @property
    def validations(self) -> int:
        """How many full validations ran (cache misses); for tests and metrics."""
        return self._validations

    @property
    def cached(self) -> int:
        return len(self._cache)

    def authenticate(
        self, auth_context: Mapping[str, Sequence[bytes]], metadata: Mapping[str, str]
    ) -> Principal:
        certs = auth_context.get(PEER_CERT)
        authorization = metadata.get(AUTHORIZATION)
        if authorization is not None and not self._jwt_enabled:
            raise _failed("jwt-svid", JwtSvidNotAccepted(
                "this server does not accept JWT-SVIDs" if not self._allow_jwt
                else "this server accepts no JWT-SVIDs: no JWT audience is configured"
            ))
        if authorization is None:
            if self._require_jwt:
                raise _failed("jwt-svid", JwtSvidRequired(
                    "this listener requires a JWT-SVID bearer token (authorization: Bearer <token>)"))
            if not certs:
                raise _failed("x509-svid", NoPeerCertificate(
                    "no client certificate (mTLS) and no JWT-SVID bearer token" if self._jwt_enabled
                    else "no client certificate (mTLS is required)"
                ))
        by_certificate: Principal | None = None
        if certs:
            chain = auth_context.get(PEER_CERT_CHAIN)
            key: object = certs[0] if not chain else (certs[0], chain[0])
            by_certificate = self._authenticate(key, certs[0], chain[0] if chain else None)
            if authorization is None:
                return by_certificate
        assert authorization is not None
        by_token = self._authenticate(authorization, None, None)
        if by_certificate is None:
            return by_token
        return self._reconcile(by_certificate, by_token)

    def _reconcile(self, by_certificate: Principal, by_token: Principal) -> Principal:
        """One principal from a certificate and a token that both verified: the same ID, or a delegate's relay."""
        assert by_certificate.not_after is not None and by_token.not_after is not None
        not_after = min(by_certificate.not_after, by_token.not_after)
        if by_certificate.spiffe_id == by_token.spiffe_id:
            return dataclasses.replace(by_certificate, not_after=not_after)
        if by_certificate.spiffe_id in self._delegates:
            return dataclasses.replace(
                by_token, proven_by=ProofKind.DELEGATED, not_after=not_after, actor=by_certificate.spiffe_id)
        raise _failed("jwt-svid", ConflictingIdentities(
            f"the bearer token names {by_token.spiffe_id} but the client certificate names "
            f"{by_certificate.spiffe_id}; they must name the same SPIFFE ID (or the certificate's must be a "
            f"configured JWT delegate)"
        ))

    @property
    def _jwt_enabled(self) -> bool:
        return self._allow_jwt and self._audience is not None

    def _authenticate(self, key: object, leaf_pem: bytes | None, chain_pem: bytes | None) -> Principal:
        now = self._clock()
        generation = self._bundles.generation
        with self._lock:
            if generation != self._generation:
                self._cache.clear()
                self._generation = generation
            verdict = self._cache.get(key)
            if verdict is not None:
                self._cache.move_to_end(key)
        if verdict is None:
            verdict = self._validate(key, leaf_pem, chain_pem, now)
            if verdict.principal is not None or (leaf_pem is not None and not isinstance(verdict.error, _TRANSIENT)):
                with self._lock:
                    if self._generation == generation == self._bundles.generation:
                        self._cache[key] = verdict
                        if len(self._cache) > self._cache_size:
                            self._cache.popitem(last=False)
        kind = "x509-svid" if leaf_pem is not None else "jwt-svid"
        if verdict.error is not None:
            raise _failed(kind, verdict.error)
        if now >= verdict.expires_at:
            with self._lock:
                self._cache.pop(key, None)
            assert verdict.principal is not None and verdict.principal.not_after is not None
            expired_at = verdict.principal.not_after.isoformat()
            if kind == "x509-svid":
                raise _failed(kind, CertificateExpired(f"certificate expired at {expired_at}"))
            raise _failed(kind, TokenExpired(f"token expired at {expired_at}"))
        assert verdict.principal is not None
        return verdict.principal

    def _validate(self, key: object, leaf_pem: bytes | None, chain_pem: bytes | None, now: float) -> _Verdict:
        self._validations += 1
        moment = datetime.datetime.fromtimestamp(now, UTC)
        try:
            if leaf_pem is not None:
                return self._validate_x509(leaf_pem, chain_pem, moment)
            assert isinstance(key, str)
            return self._validate_jwt(key, moment)
        except IdentityError as exc:
            return _Verdict(None, 0.0, exc.with_traceback(None))
        except Exception as exc:  # noqa: BLE001 - a validator bug must deny this caller, not crash the server
            _log.exception("SVID validation failed unexpectedly; denying the caller")
            return _Verdict(None, 0.0, _UnexpectedFailure(
                f"{'certificate' if leaf_pem is not None else 'token'} could not be validated ({type(exc).__name__})"
            ))

    def _validate_x509(self, leaf_pem: bytes, chain_pem: bytes | None, now: datetime.datetime) -> _Verdict:
        leaf = load_certificate(leaf_pem)
        intermediates: list[x509.Certificate] = []
        if chain_pem:
            # grpcio's chain property may or may not repeat the leaf; only the other certificates are intermediates.
            intermediates = [c for c in load_certificates(chain_pem) if c != leaf]
        svid = validate_x509_svid(
            leaf,
            intermediates,
            trust_bundles=self._bundles,
            accepted_trust_domains=self._accepted,
            now=now,
            clock_skew=self._clock_skew,
        )
        self._authorize(svid.spiffe_id)
        principal = Principal(
            spiffe_id=str(svid.spiffe_id),
            trust_domain=svid.spiffe_id.trust_domain.name,
            proven_by=ProofKind.X509,
            not_after=svid.not_after,
        )
        return _Verdict(principal, svid.not_after.timestamp(), None)

    def _validate_jwt(self, authorization: str, now: datetime.datetime) -> _Verdict:
        assert self._audience is not None
        svid = validate_jwt_svid(
            bearer_token(authorization),
            audience=self._audience,
            trust_bundles=self._bundles,
            accepted_trust_domains=self._accepted,
            now=now,
            leeway=self._jwt_leeway,
            max_lifetime=self._jwt_max_lifetime,
        )
        self._authorize(svid.spiffe_id)
        principal = Principal(
            spiffe_id=str(svid.spiffe_id),
            trust_domain=svid.spiffe_id.trust_domain.name,
            proven_by=ProofKind.JWT,
            not_after=svid.expiry,
        )
        return _Verdict(principal, svid.expiry.timestamp() + self._jwt_grace, None)


def _failed(kind: str, error: IdentityError) -> AuthenticationFailed:
    failure = AuthenticationFailed(f"{kind}: {error.reason}")
    failure.__cause__ = error
    failure.__suppress_context__ = True
    return failure
