"""Who is calling: the authenticated caller and the protocol that produces it (step 1 of the pipeline)."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Mapping, Protocol, Sequence

__all__ = ["AuthenticationFailed", "Authenticator", "Principal", "ProofKind"]


class ProofKind(str, enum.Enum):
    """How the caller proved its SPIFFE ID."""

    X509 = "x509"
    JWT = "jwt"
    #: A JWT-SVID carried by a configured delegate (a proxy or bridge) over its own mTLS connection: the token's
    #: subject is the principal, the certificate's SPIFFE ID is ``Principal.actor``.
    DELEGATED = "delegated"
    #: Plaintext development mode (``--insecure-local``): nothing was proven.
    INSECURE_LOCAL = "insecure-local"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Immutable; equal principals hash equal (used as a cache key part).

    Its OpenFGA user form (``agent:example.org/ns/prod/sa/billing``) belongs to authorization:
    ``mcp_grpc.authz.names.spiffe_id_to_user``.
    """

    spiffe_id: str
    """The full SPIFFE ID, e.g. ``spiffe://example.org/ns/prod/sa/billing``."""
    trust_domain: str
    """The trust domain name, e.g. ``example.org``."""
    proven_by: ProofKind
    not_after: datetime.datetime | None
    """When the proof (certificate or token) expires, timezone-aware UTC; None for insecure-local."""
    actor: str | None = None
    """For ``DELEGATED``: the SPIFFE ID of the delegate whose connection carried the caller's token."""

    def expired(self, now: datetime.datetime | None = None) -> bool:
        """True when the proof's expiry has passed (checked on every call: connections outlive certificates)."""
        if self.not_after is None:
            return False
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now >= self.not_after


class AuthenticationFailed(Exception):
    """The caller could not be authenticated. ``reason`` is precise and safe to return (UNAUTHENTICATED)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Authenticator(Protocol):
    """Turns the peer of a call into a ``Principal`` (``mcp_grpc.identity.SpiffeAuthenticator`` is one)."""

    def authenticate(
        self, auth_context: Mapping[str, Sequence[bytes]], metadata: Mapping[str, str]
    ) -> Principal:
        """Return the caller's Principal or raise AuthenticationFailed.

        ``auth_context`` is ``ServicerContext.auth_context()``; ``metadata`` the invocation metadata (lower-case keys),
        where a JWT-SVID arrives as ``authorization: Bearer <token>``. Synchronous: it must be cheap (verdicts cached).
        """
        ...
