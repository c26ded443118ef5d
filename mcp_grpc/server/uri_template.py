"""Resource URI templates (RFC 6570 levels 1-3) matched against concrete URIs and expanded from variables.

Every level-3 operator is understood: ``{var}`` (one segment, percent-decoded), ``{+var}`` (reserved: the rest,
``/`` included), ``{#frag}``, ``{/seg}``, ``{.ext}``, ``{;params}``, ``{?query,vars}`` and ``{&more}``, and the
explode modifier on the path-like operators (``{/seg*}``, ``{.ext*}``, ``{;p*}``), whose value is a list. ``{var*}``
without an operator keeps its meaning from before level 3 support: the rest of the URI, ``/`` included (as
``{+var}``). ``files://{+path}`` therefore matches ``files://docs/a.md`` with ``path="docs/a.md"``;
``files://{path}`` matches only ``files://a.md``; ``items{?page,size}`` matches ``items?size=10`` with
``{"size": "10"}`` (query variables are optional and in any order).

The parsing, matching and expansion are the official MCP Python SDK's (``mcp.shared.uri_template``, a dependency
already): a linear two-ended scan with no backtracking, which the PyPI ``uritemplate`` package (expansion only) does
not offer. This module keeps mcp-grpc's interface and errors on top of it.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from mcp.shared.uri_template import InvalidUriTemplate
from mcp.shared.uri_template import UriTemplate as _SdkTemplate

__all__ = ["UriTemplate", "UriTemplateError", "is_template"]

#: ``{name*}`` with no operator: rewritten to ``{+name}`` (the meaning it had before level-3 support).
_SIMPLE_EXPLODE = re.compile(r"\{([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\*\}")
_ANY_EXPRESSION = re.compile(r"\{[^{}]*\}")


class UriTemplateError(ValueError):
    """The template itself is malformed (raised at registration, never per call): names the template and, when the
    fault has one, the character position."""

    def __init__(self, message: str, *, template: str, position: int | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.position = position


def _error(template: str, message: str, position: int | None) -> UriTemplateError:
    shown = template if len(template) <= 200 else template[:200] + "..."
    where = f" at position {position}" if position is not None and "position" not in message else ""
    return UriTemplateError(f"bad URI template {shown!r}{where}: {message}", template=template, position=position)


class UriTemplate:
    """A compiled template: ``match(uri)`` returns the variables or None; ``expand(values)`` builds a URI."""

    __slots__ = ("template", "variables", "optional", "_required", "_sdk")

    def __init__(self, template: str) -> None:
        self.template = template
        # {name*} and {+name} have the same length: the SDK's error positions hold for the original template
        rewritten = _SIMPLE_EXPLODE.sub(r"{+\1}", template)
        stray = _stray_close(template)
        if stray is not None:
            raise _error(template, f"'}}' at position {stray} closes no expression", stray)
        try:
            self._sdk = _SdkTemplate.parse(rewritten)
        except InvalidUriTemplate as exc:
            raise _error(template, str(exc), exc.position) from None
        variables = [variable.name for variable in self._sdk.variables]
        if not variables:
            raise _error(template, "it has no variables; register it as a plain resource", None)
        self.variables = tuple(variables)
        self.optional = frozenset(v.name for v in self._sdk.variables if v.operator in ("?", "&"))
        """Query variables: a URI may leave them out (give the handler's parameter a default)."""
        self._required = tuple(v.name for v in self._sdk.variables if v.operator in ("", "+"))

    def match(self, uri: str) -> dict[str, Any] | None:
        """The variables of ``uri`` (percent-decoded; a list for an exploded path-like operator), or None when it
        does not fit. Query variables (``{?x}``, ``{&x}``) absent from the URI are absent from the result;
        ``{var}`` and ``{+var}`` need a non-empty value (``users://7/posts/`` names no post)."""
        found = self._sdk.match(uri)
        if found is None or any(not found.get(name) for name in self._required):
            return None
        return found

    def expand(self, values: Mapping[str, object]) -> str:
        """The URI for these values (RFC 6570 expansion: encoded per operator; a missing or None value is left
        out)."""
        given: dict[str, Any] = {}
        for name, value in values.items():
            if value is None:
                continue
            given[name] = [str(item) for item in value] if isinstance(value, (list, tuple)) else str(value)
        return self._sdk.expand(given)

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"


def _stray_close(template: str) -> int | None:
    """The position of the first ``}`` outside an expression (the SDK reads it as a literal), or None."""
    inside = False
    for position, char in enumerate(template):
        if char == "{":
            inside = True
        elif char == "}":
            if not inside:
                return position
            inside = False
    return None


def is_template(uri: str) -> bool:
    """Whether ``uri`` holds a ``{...}`` expression (then it is parsed as a template, and must be a valid one)."""
    return _ANY_EXPRESSION.search(uri) is not None or "{" in uri or "}" in uri
