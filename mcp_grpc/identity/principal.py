"""The authenticated caller, as the identity layer hands it to authorization and handlers."""

from __future__ import annotations

import dataclasses
import datetime
import enum


class ProofKind(str, enum.Enum):
    """How the caller proved its SPIFFE ID."""

    X509 = "x509"
    JWT = "jwt"
    #: Plaintext development mode (``--insecure-local``): nothing was proven.
    INSECURE_LOCAL = "insecure-local"


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Immutable; equal principals hash equal (used as a cache key part)."""

    spiffe_id: str
    """The full SPIFFE ID, e.g. ``spiffe://example.org/ns/prod/sa/billing``."""
    trust_domain: str
    """The trust domain name, e.g. ``example.org``."""
    proven_by: ProofKind
    not_after: datetime.datetime | None
    """When the proof (certificate or token) expires, timezone-aware UTC; None for insecure-local."""

    def fga_user(self, user_type: str = "agent") -> str:
        """The OpenFGA user string: the scheme is dropped since OpenFGA rejects ':' in ids.

        ``spiffe://example.org/ns/prod/sa/billing`` -> ``agent:example.org/ns/prod/sa/billing``.
        """
        return f"{user_type}:{self.spiffe_id.removeprefix('spiffe://')}"

    def expired(self, now: datetime.datetime | None = None) -> bool:
        """True when the proof's expiry has passed (checked on every call: connections outlive certificates)."""
        if self.not_after is None:
            return False
        now = now or datetime.datetime.now(datetime.timezone.utc)
        return now >= self.not_after
