"""Our URI templates against the official MCP SDK's (``mcp.shared.uri_template``, installed with the ``[bridge]``
extra) on generated templates and URIs: the same templates refused, the same variables out of the same URIs, the
same URIs out of the same values. Skipped without the extra: the core does not need the SDK, only this comparison.

Where we differ on purpose the test says so and adjusts the SDK's answer rather than skipping the case:

- ``{var*}`` with no operator is ours ``{+var}`` (its meaning before level-3 support; the SDK refuses it): the SDK
  is given the rewritten template.
- ``{var}`` and ``{+var}`` need a non-empty value (``users://7/posts/`` names no post): an SDK match giving one of
  them ``""`` is expected as None from us.
- A ``}`` outside any expression is refused by us (the SDK reads it as a literal): generated literals hold none;
  ``test_uri_templates.py`` checks that error.
- Error messages are our own; only whether a template is refused is compared.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

sdk = pytest.importorskip("mcp.shared.uri_template")

from mcp_grpc.server.uri_template import UriTemplate, UriTemplateError  # noqa: E402

OPERATORS = ["", "+", "#", "/", ".", ";", "?", "&"]
NAMES = ["a", "b", "c", "d"]
LITERAL_CHARS = "ab/.-,;=?&#:%2F"
VALUE_CHARS = "ab/.-,;=?&#:% é"
URI_CHARS = "abcd12/.-,;=?&#:%2F"
_SIMPLE_EXPLODE = re.compile(r"\{([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\*\}")


def as_sdk_template(template: str) -> str:
    """Our documented rewrite: ``{var*}`` with no operator means ``{+var}``."""
    return _SIMPLE_EXPLODE.sub(r"{+\1}", template)


@st.composite
def templates(draw: st.DrawFn) -> str:
    out = [draw(st.sampled_from(["s:", "s://h", "x"]))]
    names = list(NAMES)
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            out.append(draw(st.text(LITERAL_CHARS, min_size=1, max_size=3)))
        operator = draw(st.sampled_from(OPERATORS))
        count = draw(st.integers(1, 2))
        specs = []
        for _ in range(count):
            if not names:
                names = ["a"]  # a repeated name: refused by both
            name = names.pop(draw(st.integers(0, len(names) - 1)))
            specs.append(name + ("*" if draw(st.integers(0, 4)) == 0 else ""))
        out.append("{" + operator + ",".join(specs) + "}")
    if draw(st.booleans()):
        out.append(draw(st.text(LITERAL_CHARS, min_size=1, max_size=3)))
    return "".join(out)


values_strategy = st.one_of(
    st.none(),
    st.text(VALUE_CHARS, max_size=4),
    st.lists(st.text(VALUE_CHARS, max_size=3), max_size=3),
)


def sdk_parse(template: str):
    try:
        return sdk.UriTemplate.parse(as_sdk_template(template))
    except sdk.InvalidUriTemplate:
        return None


def ours(template: str) -> UriTemplate | None:
    try:
        return UriTemplate(template)
    except UriTemplateError:
        return None


def expected_match(reference, compiled: UriTemplate, uri: str):
    found = reference.match(uri)
    if found is None:
        return None
    required = [v.name for v in reference.variables if v.operator in ("", "+")]
    if any(not found.get(name) for name in required):
        return None  # ours: {var} and {+var} need a non-empty value
    return found


def mutations(uri: str, data: st.DataObject) -> list[str]:
    """The URI itself and a few neighbours: a character dropped, inserted or replaced, a query or fragment added,
    and an arbitrary URI-ish string after the scheme."""
    out = [uri, uri + "?a=1&b=x%20y", uri + "#f", uri + "/", uri[:-1]]
    out.append(uri[:2] + data.draw(st.text(URI_CHARS, max_size=12)))
    if uri:
        index = data.draw(st.integers(0, len(uri) - 1))
        char = data.draw(st.sampled_from(list("/.?&#,;=a")))
        out += [uri[:index] + uri[index + 1 :], uri[:index] + char + uri[index:], uri[:index] + char + uri[index + 1 :]]
    return out


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(templates())
@example("s:{/a*}{.b}")
@example("s:{+a}/z/{b}")
@example("s:{a}{?b,c}")
@example("s:?a=1{&b}")
def test_the_same_templates_are_refused(template):
    assert (ours(template) is None) == (sdk_parse(template) is None), template


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(templates(), st.dictionaries(st.sampled_from(NAMES), values_strategy), st.data())
@example("s:{a}.{b}", {"a": "x.y", "b": "z"}, None)
@example("s:{+a}/z/{b}", {"a": "x/z/y", "b": "w"}, None)
def test_match_and_expand_agree_with_the_sdk(template, values, data):
    reference, compiled = sdk_parse(template), ours(template)
    assume(reference is not None and compiled is not None)
    plain = {name: value for name, value in values.items() if name in compiled.variables}
    uri = reference.expand({k: v for k, v in plain.items() if v is not None})
    assert compiled.expand(plain) == uri, (template, plain)
    candidates = [uri] if data is None else mutations(uri, data)
    for candidate in candidates:
        assert compiled.match(candidate) == expected_match(reference, compiled, candidate), (template, candidate)
