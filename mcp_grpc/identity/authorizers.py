"""Small composable checks on an authenticated SPIFFE ID, in the style of go-spiffe's ``tlsconfig.Authorizer``.

Each factory returns a callable taking a ``SpiffeId`` that returns None when the ID is acceptable and raises
``NotAuthorized`` otherwise. The authenticator runs one after validating an SVID (the verdict is cached with it), so
these gate *which* workloads may connect at all; per-tool decisions belong to the authorization layer.

    >>> check = authorize_member_of("example.org")
    >>> check(parse_spiffe_id("spiffe://example.org/billing"))  # passes
"""

from __future__ import annotations

from typing import Callable

from mcp_grpc.identity.errors import NotAuthorized
from mcp_grpc.identity.spiffeid import SpiffeId, TrustDomain, parse_spiffe_id, parse_trust_domain

__all__ = [
    "IdAuthorizer",
    "authorize_all_of",
    "authorize_any",
    "authorize_id",
    "authorize_member_of",
    "authorize_one_of",
]

IdAuthorizer = Callable[[SpiffeId], None]


def _as_id(value: SpiffeId | str) -> SpiffeId:
    return value if isinstance(value, SpiffeId) else parse_spiffe_id(value)


def authorize_any() -> IdAuthorizer:
    """Accept every valid SPIFFE ID."""

    def check(spiffe_id: SpiffeId) -> None:
        return None

    return check


def authorize_id(allowed: SpiffeId | str) -> IdAuthorizer:
    """Accept exactly one SPIFFE ID."""
    expected = _as_id(allowed)

    def check(spiffe_id: SpiffeId) -> None:
        if spiffe_id != expected:
            raise NotAuthorized(f"SPIFFE ID {spiffe_id} is not the expected {expected}")

    return check


def authorize_one_of(*allowed: SpiffeId | str) -> IdAuthorizer:
    """Accept any SPIFFE ID of the given set."""
    expected = frozenset(_as_id(a) for a in allowed)

    def check(spiffe_id: SpiffeId) -> None:
        if spiffe_id not in expected:
            raise NotAuthorized(f"SPIFFE ID {spiffe_id} is not one of the {len(expected)} allowed IDs")

    return check


def authorize_member_of(trust_domain: TrustDomain | str) -> IdAuthorizer:
    """Accept any SPIFFE ID in ``trust_domain``."""
    expected = trust_domain if isinstance(trust_domain, TrustDomain) else parse_trust_domain(trust_domain)

    def check(spiffe_id: SpiffeId) -> None:
        if spiffe_id.trust_domain != expected:
            raise NotAuthorized(f"SPIFFE ID {spiffe_id} is not a member of trust domain {expected}")

    return check


def authorize_all_of(*authorizers: IdAuthorizer) -> IdAuthorizer:
    """Accept only IDs every given authorizer accepts (the first refusal is raised)."""
    chain = tuple(authorizers)

    def check(spiffe_id: SpiffeId) -> None:
        for authorize in chain:
            authorize(spiffe_id)

    return check
