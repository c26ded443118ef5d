"""Every SPIFFE ID rule, one malformed input per rule, plus a property test: parsing raises only SpiffeIdError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcp_grpc.identity import errors
from mcp_grpc.identity.authorizers import (
    authorize_all_of,
    authorize_any,
    authorize_id,
    authorize_member_of,
    authorize_one_of,
)
from mcp_grpc.identity.spiffeid import (
    MAX_SPIFFE_ID_BYTES,
    SpiffeId,
    SpiffeIdError,
    TrustDomain,
    parse_spiffe_id,
    parse_trust_domain,
)

VALID = [
    "spiffe://example.org",
    "spiffe://example.org/workload",
    "spiffe://example.org/ns/prod/sa/billing",
    "spiffe://a-b_c.0-9/A.Z_a-z-0.9",
    "spiffe://example.org/...",  # three dots is a name, not a dot segment
    "spiffe://example.org/.hidden",
    "spiffe://" + "a" * 255,
    "spiffe://example.org/" + "x" * (MAX_SPIFFE_ID_BYTES - len("spiffe://example.org/")),
]


@pytest.mark.parametrize("text", VALID)
def test_valid_ids_round_trip(text: str) -> None:
    spiffe_id = parse_spiffe_id(text)
    assert str(spiffe_id) == text
    assert parse_spiffe_id(str(spiffe_id)) == spiffe_id


def test_parts() -> None:
    spiffe_id = parse_spiffe_id("spiffe://example.org/ns/prod/sa/billing")
    assert spiffe_id.trust_domain == TrustDomain("example.org")
    assert spiffe_id.path == "/ns/prod/sa/billing"
    assert spiffe_id.segments == ("ns", "prod", "sa", "billing")
    assert spiffe_id.member_of("example.org") and not spiffe_id.member_of("other.org")
    assert spiffe_id.trust_domain.id_string == "spiffe://example.org"
    assert TrustDomain("example.org").id("/w") == parse_spiffe_id("spiffe://example.org/w")
    assert parse_spiffe_id("spiffe://example.org").segments == ()


INVALID = [
    ("", errors.EmptySpiffeId, "empty"),
    ("spiffe://example.org/workload\n", errors.ForbiddenCharacter, "control character '\\n'"),
    ("spiffe://example.org/work load", errors.ForbiddenCharacter, "whitespace"),
    ("spiffe://example.org/work\tload", errors.ForbiddenCharacter, "control"),
    ("spiffe://example.org/w\x00", errors.ForbiddenCharacter, "control"),
    ("spiffe://example.org/w\x7f", errors.ForbiddenCharacter, "control"),
    (" spiffe://example.org/w", errors.ForbiddenCharacter, "position 0"),
    ("spiffe://example.org/caf\u00e9", errors.ForbiddenCharacter, "non-ASCII"),
    ("spiffe://example.org/" + "x" * MAX_SPIFFE_ID_BYTES, errors.SpiffeIdTooLong, "2048-byte"),
    ("spiffe://" + "a" * 256, errors.SpiffeIdTooLong, "255-byte"),
    ("example.org/workload", errors.WrongScheme, "no scheme"),
    ("https://example.org/workload", errors.WrongScheme, "'https' is not 'spiffe'"),
    ("SPIFFE://example.org/workload", errors.WrongScheme, "lowercase"),
    ("Spiffe://example.org/workload", errors.WrongScheme, "lowercase"),
    ("spiffe:example.org/workload", errors.WrongScheme, "does not start with 'spiffe://'"),
    ("spiffe:/example.org/workload", errors.WrongScheme, "does not start with 'spiffe://'"),
    ("spiffe://", errors.MissingTrustDomain, "no trust domain"),
    ("spiffe:///workload", errors.MissingTrustDomain, "no trust domain"),
    ("spiffe://user@example.org/workload", errors.UserInfoNotAllowed, "userinfo"),
    ("spiffe://example.org:8443/workload", errors.PortNotAllowed, "port"),
    ("spiffe://example.org:/workload", errors.PortNotAllowed, "port"),
    ("spiffe://Example.org/workload", errors.UppercaseTrustDomain, "lowercase"),
    ("spiffe://EXAMPLE.ORG", errors.UppercaseTrustDomain, "lowercase"),
    ("spiffe://exa$mple.org/workload", errors.InvalidTrustDomainCharacter, "'$'"),
    ("spiffe://[::1]/workload", errors.PortNotAllowed, "a port or an IP literal"),
    ("spiffe://[example.org]/workload", errors.InvalidTrustDomainCharacter, "'['"),
    ("spiffe://example.org/work%20load", errors.PercentEncodingNotAllowed, "percent"),
    ("spiffe://example%2Eorg/workload", errors.PercentEncodingNotAllowed, "percent"),
    ("spiffe://example.org/%2e%2e/admin", errors.PercentEncodingNotAllowed, "percent"),
    ("spiffe://example.org/workload?x=1", errors.QueryNotAllowed, "query"),
    ("spiffe://example.org/workload#frag", errors.FragmentNotAllowed, "fragment"),
    ("spiffe://example.org/", errors.TrailingSlash, "ends with '/'"),
    ("spiffe://example.org/workload/", errors.TrailingSlash, "ends with '/'"),
    ("spiffe://example.org//workload", errors.EmptyPathSegment, "empty segment"),
    ("spiffe://example.org/a//b", errors.EmptyPathSegment, "empty segment"),
    ("spiffe://example.org/.", errors.DotPathSegment, "'.' segment"),
    ("spiffe://example.org/a/./b", errors.DotPathSegment, "'.' segment"),
    ("spiffe://example.org/..", errors.DotPathSegment, "'..' segment"),
    ("spiffe://example.org/a/../admin", errors.DotPathSegment, "'..' segment"),
    ("spiffe://example.org/work+load", errors.InvalidPathCharacter, "'+'"),
    ("spiffe://example.org/work:load", errors.InvalidPathCharacter, "':'"),
    ("spiffe://example.org/work@load", errors.InvalidPathCharacter, "'@'"),
    ("spiffe://example.org/a*b", errors.InvalidPathCharacter, "'*'"),
]


@pytest.mark.parametrize(("text", "error", "phrase"), INVALID, ids=[repr(case[0])[:40] for case in INVALID])
def test_each_rule_has_its_own_error(text: str, error: type[SpiffeIdError], phrase: str) -> None:
    with pytest.raises(error) as info:
        parse_spiffe_id(text)
    assert type(info.value) is error  # precisely this class, not a sibling or the base
    assert phrase in info.value.reason
    assert isinstance(info.value, ValueError)


def test_messages_quote_only_a_bounded_prefix() -> None:
    with pytest.raises(errors.TrailingSlash) as info:
        parse_spiffe_id("spiffe://example.org/" + "a" * 1000 + "/")
    assert len(info.value.reason) < 200


def test_non_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_spiffe_id(b"spiffe://example.org/w")  # type: ignore[arg-type]


def test_constructors_validate_too() -> None:
    with pytest.raises(errors.UppercaseTrustDomain):
        TrustDomain("Example.org")
    with pytest.raises(errors.DotPathSegment):
        SpiffeId(TrustDomain("example.org"), "/a/..")
    with pytest.raises(errors.InvalidPathCharacter):
        SpiffeId(TrustDomain("example.org"), "relative")
    with pytest.raises(errors.QueryNotAllowed):
        SpiffeId(TrustDomain("example.org"), "/a?b")


@pytest.mark.parametrize(
    ("text", "name"),
    [("example.org", "example.org"), ("spiffe://example.org", "example.org"), ("spiffe://example.org/w", "example.org")],
)
def test_parse_trust_domain(text: str, name: str) -> None:
    assert parse_trust_domain(text).name == name


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", errors.MissingTrustDomain),
        ("Example.org", errors.UppercaseTrustDomain),
        ("example.org:443", errors.InvalidTrustDomainCharacter),
        ("example.org\n", errors.ForbiddenCharacter),
        ("https://example.org", errors.WrongScheme),
        ("a" * 256, errors.SpiffeIdTooLong),
    ],
)
def test_parse_trust_domain_rejects(text: str, error: type[SpiffeIdError]) -> None:
    with pytest.raises(error):
        parse_trust_domain(text)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_parse_raises_only_spiffe_id_errors(text: str) -> None:
    try:
        spiffe_id = parse_spiffe_id(text)
    except SpiffeIdError:
        return
    assert str(spiffe_id) == text


_TD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789.-_", min_size=1, max_size=40)
_SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_", min_size=1, max_size=12)


@settings(max_examples=300, deadline=None)
@given(_TD, st.lists(_SEGMENT.filter(lambda s: s not in (".", "..")), max_size=6))
def test_generated_valid_ids_parse(td: str, segments: list[str]) -> None:
    text = "spiffe://" + td + "".join("/" + s for s in segments)
    spiffe_id = parse_spiffe_id(text)
    assert spiffe_id.trust_domain.name == td
    assert list(spiffe_id.segments) == segments


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="spifeSPIFE:/.%?#@ \nexamplorgw-_A1", max_size=60))
def test_near_misses_raise_only_spiffe_id_errors(text: str) -> None:
    try:
        parse_spiffe_id(text)
    except SpiffeIdError:
        pass


# --- authorizers ------------------------------------------------------------------------------------------------


BILLING = parse_spiffe_id("spiffe://example.org/billing")
SEARCH = parse_spiffe_id("spiffe://example.org/search")
FOREIGN = parse_spiffe_id("spiffe://other.org/billing")


def test_authorize_any() -> None:
    authorize_any()(FOREIGN)


def test_authorize_id() -> None:
    check = authorize_id("spiffe://example.org/billing")
    check(BILLING)
    with pytest.raises(errors.NotAuthorized, match="not the expected"):
        check(SEARCH)
    with pytest.raises(errors.NotAuthorized):
        check(FOREIGN)


def test_authorize_one_of() -> None:
    check = authorize_one_of(BILLING, "spiffe://example.org/search")
    check(BILLING)
    check(SEARCH)
    with pytest.raises(errors.NotAuthorized, match="not one of the 2 allowed"):
        check(FOREIGN)


def test_authorize_member_of() -> None:
    check = authorize_member_of("example.org")
    check(BILLING)
    with pytest.raises(errors.NotAuthorized, match="not a member of trust domain example.org"):
        check(FOREIGN)


def test_authorize_all_of_composes() -> None:
    check = authorize_all_of(authorize_member_of("example.org"), authorize_one_of(BILLING, FOREIGN))
    check(BILLING)
    with pytest.raises(errors.NotAuthorized, match="member"):
        check(FOREIGN)
    with pytest.raises(errors.NotAuthorized, match="one of"):
        check(SEARCH)


def test_authorizer_arguments_are_validated_eagerly() -> None:
    with pytest.raises(errors.TrailingSlash):
        authorize_id("spiffe://example.org/billing/")
    with pytest.raises(errors.UppercaseTrustDomain):
        authorize_member_of("Example.org")
