"""SPIFFE IDs and trust domain names, parsed strictly per the SPIFFE ID standard.

A SPIFFE ID has exactly one spelling: ``spiffe://`` + a lowercase trust domain of [a-z0-9._-] (at most 255 bytes) +
an optional path of ``/``-separated segments of [a-zA-Z0-9._-], with no empty, ``.`` or ``..`` segment and no trailing
slash; no userinfo, port, query, fragment, percent-encoding, whitespace or control characters; at most 2048 bytes.
Anything else raises one precise ``SpiffeIdError`` subclass. py-spiffe's own ``SpiffeId`` accepts some of these
(a trailing newline, over-long IDs), so the authentication path uses only this module.

    >>> parse_spiffe_id("spiffe://example.org/ns/prod/sa/billing").trust_domain.name
    'example.org'
"""

from __future__ import annotations

import dataclasses
import re

from mcp_grpc.identity.errors import (
    DotPathSegment,
    EmptyPathSegment,
    EmptySpiffeId,
    ForbiddenCharacter,
    FragmentNotAllowed,
    InvalidPathCharacter,
    InvalidTrustDomainCharacter,
    MissingTrustDomain,
    PercentEncodingNotAllowed,
    PortNotAllowed,
    QueryNotAllowed,
    SpiffeIdError,
    SpiffeIdTooLong,
    TrailingSlash,
    UppercaseTrustDomain,
    UserInfoNotAllowed,
    WrongScheme,
)

__all__ = [
    "MAX_SPIFFE_ID_BYTES",
    "MAX_TRUST_DOMAIN_BYTES",
    "SCHEME_PREFIX",
    "SpiffeId",
    "SpiffeIdError",
    "TrustDomain",
    "parse_spiffe_id",
    "parse_trust_domain",
]

SCHEME_PREFIX = "spiffe://"
MAX_SPIFFE_ID_BYTES = 2048
MAX_TRUST_DOMAIN_BYTES = 255

# Printable ASCII except space: everything else (whitespace, controls incl. a trailing newline, DEL, non-ASCII) is
# refused before any other rule, so the remaining checks can count characters as bytes.
_FORBIDDEN = re.compile(r"[^\x21-\x7e]")
_TRUST_DOMAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-_")
_PATH_CHARS = _TRUST_DOMAIN_CHARS | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_SHOWN = 64  # how much of an offending string a message quotes


def _show(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "...")


def _check_no_forbidden_characters(text: str, what: str) -> None:
    bad = _FORBIDDEN.search(text)
    if bad is not None:
        char = bad.group()
        code = ord(char)
        kind = "control" if code < 0x20 or code == 0x7F else "non-ASCII" if code > 0x7F else "whitespace"
        raise ForbiddenCharacter(f"{what} contains a {kind} character {char!r} at position {bad.start()}")


def _check_trust_domain_name(name: str) -> None:
    if not name:
        raise MissingTrustDomain("trust domain is empty")
    if len(name) > MAX_TRUST_DOMAIN_BYTES:
        raise SpiffeIdTooLong(f"trust domain is {len(name)} bytes, over the {MAX_TRUST_DOMAIN_BYTES}-byte limit")
    for position, char in enumerate(name):
        if char not in _TRUST_DOMAIN_CHARS:
            if "A" <= char <= "Z":
                raise UppercaseTrustDomain(
                    f"trust domain {_show(name)} must be lowercase (uppercase {char!r} at position {position})"
                )
            raise InvalidTrustDomainCharacter(
                f"trust domain {_show(name)} has {char!r} at position {position}; allowed are [a-z0-9._-]"
            )


def _check_path(path: str) -> None:
    """``path`` is empty or starts with ``/``; it was already screened for forbidden characters, '%', '?' and '#'."""
    if not path:
        return
    segments = path[1:].split("/")
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if not segment:
            if index == last:
                raise TrailingSlash(f"path {_show(path)} ends with '/'")
            raise EmptyPathSegment(f"path {_show(path)} has an empty segment ('//')")
        if segment == "." or segment == "..":
            raise DotPathSegment(f"path {_show(path)} has a {segment!r} segment")
        for char in segment:
            if char not in _PATH_CHARS:
                raise InvalidPathCharacter(
                    f"path segment {_show(segment)} has {char!r}; allowed are [a-zA-Z0-9._-]"
                )


@dataclasses.dataclass(frozen=True, slots=True)
class TrustDomain:
    """A validated trust domain name such as ``example.org`` (no scheme)."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"trust domain name must be str, not {type(self.name).__name__}")
        _check_no_forbidden_characters(self.name, "trust domain")
        _check_trust_domain_name(self.name)

    def __str__(self) -> str:
        return self.name

    @property
    def id_string(self) -> str:
        """The trust domain as a SPIFFE ID without path, e.g. ``spiffe://example.org`` (a bundle map key)."""
        return SCHEME_PREFIX + self.name

    def id(self, path: str = "") -> "SpiffeId":
        """The SPIFFE ID ``spiffe://<name><path>``; ``path`` is empty or starts with ``/``."""
        return SpiffeId(self, path)


@dataclasses.dataclass(frozen=True, slots=True)
class SpiffeId:
    """A validated SPIFFE ID. ``str()`` gives its one canonical spelling."""

    trust_domain: TrustDomain
    path: str = ""
    """Empty, or ``/``-prefixed segments, e.g. ``/ns/prod/sa/billing``."""

    def __post_init__(self) -> None:
        if not isinstance(self.trust_domain, TrustDomain):
            raise TypeError("trust_domain must be a TrustDomain")
        if not isinstance(self.path, str):
            raise TypeError(f"path must be str, not {type(self.path).__name__}")
        if self.path and not self.path.startswith("/"):
            raise InvalidPathCharacter(f"path {_show(self.path)} must be empty or start with '/'")
        _check_no_forbidden_characters(self.path, "path")
        for char, error, what in (("%", PercentEncodingNotAllowed, "percent-encoding"),
                                  ("?", QueryNotAllowed, "a query"), ("#", FragmentNotAllowed, "a fragment")):
            if char in self.path:
                raise error(f"path {_show(self.path)} contains {what} ({char!r})")
        _check_path(self.path)
        total = len(SCHEME_PREFIX) + len(self.trust_domain.name) + len(self.path)
        if total > MAX_SPIFFE_ID_BYTES:
            raise SpiffeIdTooLong(f"SPIFFE ID is {total} bytes, over the {MAX_SPIFFE_ID_BYTES}-byte limit")

    def __str__(self) -> str:
        return SCHEME_PREFIX + self.trust_domain.name + self.path

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path[1:].split("/")) if self.path else ()

    def member_of(self, trust_domain: TrustDomain | str) -> bool:
        name = trust_domain.name if isinstance(trust_domain, TrustDomain) else trust_domain
        return self.trust_domain.name == name


def parse_spiffe_id(text: str) -> SpiffeId:
    """Parse ``text`` as a SPIFFE ID, or raise the ``SpiffeIdError`` subclass naming the first rule it breaks."""
    if not isinstance(text, str):
        raise TypeError(f"SPIFFE ID must be str, not {type(text).__name__}")
    if not text:
        raise EmptySpiffeId("SPIFFE ID is empty")
    _check_no_forbidden_characters(text, "SPIFFE ID")
    if len(text) > MAX_SPIFFE_ID_BYTES:  # ASCII only from here on: characters are bytes
        raise SpiffeIdTooLong(f"SPIFFE ID is {len(text)} bytes, over the {MAX_SPIFFE_ID_BYTES}-byte limit")
    if not text.startswith(SCHEME_PREFIX):
        scheme, colon, _ = text.partition(":")
        if not colon:
            raise WrongScheme(f"{_show(text)} has no scheme; a SPIFFE ID starts with 'spiffe://'")
        if scheme.lower() != "spiffe":
            raise WrongScheme(f"scheme {_show(scheme)} is not 'spiffe'")
        if scheme != "spiffe":
            raise WrongScheme(f"scheme {_show(scheme)} must be lowercase 'spiffe'")
        raise WrongScheme(f"{_show(text)} does not start with 'spiffe://'")
    if "%" in text:
        raise PercentEncodingNotAllowed(f"{_show(text)} contains percent-encoding ('%')")
    if "?" in text:
        raise QueryNotAllowed(f"{_show(text)} contains a query ('?')")
    if "#" in text:
        raise FragmentNotAllowed(f"{_show(text)} contains a fragment ('#')")
    authority, slash, rest = text[len(SCHEME_PREFIX):].partition("/")
    if not authority:
        raise MissingTrustDomain(f"{_show(text)} has no trust domain")
    if "@" in authority:
        raise UserInfoNotAllowed(f"{_show(text)} has userinfo ('@') before the trust domain")
    if ":" in authority:
        raise PortNotAllowed(f"{_show(text)} has a ':' in its authority (a port or an IP literal)")
    return SpiffeId(TrustDomain(authority), slash + rest)


def parse_trust_domain(text: str) -> TrustDomain:
    """Parse a trust domain name (``example.org``) or take it from a SPIFFE ID (``spiffe://example.org[/path]``)."""
    if not isinstance(text, str):
        raise TypeError(f"trust domain must be str, not {type(text).__name__}")
    if ":/" in text:  # as go-spiffe: anything URI-shaped is parsed as a SPIFFE ID
        return parse_spiffe_id(text).trust_domain
    return TrustDomain(text)
