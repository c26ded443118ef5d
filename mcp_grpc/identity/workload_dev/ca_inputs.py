"""What the development CA accepts from its callers: trust domain names, SPIFFE IDs and DNS names for SVIDs.

Trust domains and SPIFFE IDs are parsed by :mod:`mcp_grpc.identity.spiffeid`, the one SPIFFE ID parser of the identity
package, so the CA issues exactly the IDs the authenticator accepts. A parse failure is raised as :class:`CaError`
(what CLI flags and the admin socket report) chained to the parser's precise ``SpiffeIdError`` subclass
(``exc.__cause__``).
"""

from __future__ import annotations

import re

from mcp_grpc.identity.spiffeid import SCHEME_PREFIX, SpiffeIdError, TrustDomain, parse_spiffe_id

__all__ = ["CaError", "validate_dns_name", "validate_spiffe_id_for", "validate_trust_domain"]

_SHOWN = 64  # how much of an offending SPIFFE ID a message quotes
_DNS_LABEL_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


class CaError(Exception):
    """A CA operation or CA input was invalid; the message says exactly what."""


def validate_trust_domain(name: str) -> str:
    """Return ``name`` if it is a valid bare trust domain name such as ``example.org`` (no ``spiffe://``)."""
    if name.startswith(SCHEME_PREFIX):
        raise CaError(f"trust domain {name!r} must be a bare name such as example.org, without spiffe://")
    try:
        TrustDomain(name)
    except SpiffeIdError as exc:
        raise CaError(str(exc)) from exc
    return name


def validate_spiffe_id_for(trust_domain: str, spiffe_id: str) -> str:
    """Return ``spiffe_id`` if it is a valid SPIFFE ID with a path inside ``trust_domain`` (a workload ID)."""
    try:
        parsed = parse_spiffe_id(spiffe_id)
    except SpiffeIdError as exc:
        shown = spiffe_id if len(spiffe_id) <= _SHOWN else spiffe_id[:_SHOWN] + "..."
        raise CaError(f"SPIFFE ID {shown!r} is not valid: {exc}") from exc
    expected = SCHEME_PREFIX + trust_domain
    if not parsed.member_of(trust_domain):
        raise CaError(f"SPIFFE ID {spiffe_id!r} is not in trust domain {trust_domain!r} (expected {expected}/...)")
    if not parsed.path:
        raise CaError(f"SPIFFE ID {spiffe_id!r} has no path; a workload ID needs one, e.g. {expected}/ns/dev/sa/app")
    return spiffe_id


def validate_dns_name(name: str) -> str:
    """Return ``name`` lowercased if it is a valid DNS host name (LDH labels, at most 253 bytes)."""
    if not name or len(name) > 253 or not all(_DNS_LABEL_RE.fullmatch(label) for label in name.split(".")):
        raise CaError(f"DNS name {name!r} is not a valid host name")
    return name.lower()
