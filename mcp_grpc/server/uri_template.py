"""Resource URI templates (RFC 6570 level 1 and 2 expressions) matched against concrete URIs.

``{name}`` matches one path segment (no ``/``) and is percent-decoded, as RFC 6570 simple expansion encodes ``/``;
``{+name}`` (reserved expansion) and ``{name*}`` match the rest including ``/``. ``files://{+path}`` therefore
matches ``files://docs/a.md`` with ``path="docs/a.md"``; ``files://{path}`` matches only ``files://a.md``.
"""

from __future__ import annotations

import re
import urllib.parse

_EXPRESSION = re.compile(r"\{([+]?)([A-Za-z_][A-Za-z0-9_]*)(\*?)\}")


class UriTemplateError(ValueError):
    """The template itself is malformed (raised at registration, never per call)."""


class UriTemplate:
    """A compiled template: ``match(uri)`` returns the variables or None."""

    __slots__ = ("template", "variables", "_pattern", "_reserved")

    def __init__(self, template: str) -> None:
        self.template = template
        pattern: list[str] = []
        variables: list[str] = []
        reserved: set[str] = set()
        position = 0
        for match in _EXPRESSION.finditer(template):
            literal = template[position : match.start()]
            if "{" in literal or "}" in literal:
                raise UriTemplateError(f"unsupported expression in URI template {template!r} near {literal!r}")
            pattern.append(re.escape(literal))
            operator, name, explode = match.groups()
            if name in variables:
                raise UriTemplateError(f"variable {name!r} appears twice in URI template {template!r}")
            variables.append(name)
            if operator or explode:
                reserved.add(name)
                pattern.append(f"(?P<{name}>.+?)")
            else:
                pattern.append(f"(?P<{name}>[^/?#]+)")
            position = match.end()
        tail = template[position:]
        if "{" in tail or "}" in tail:
            raise UriTemplateError(f"unsupported expression in URI template {template!r} near {tail!r}")
        pattern.append(re.escape(tail))
        if not variables:
            raise UriTemplateError(f"URI template {template!r} has no variables; register it as a plain resource")
        self.variables = tuple(variables)
        self._reserved = frozenset(reserved)
        self._pattern = re.compile("".join(pattern) + r"\Z", re.DOTALL)

    def match(self, uri: str) -> dict[str, str] | None:
        found = self._pattern.match(uri)
        if found is None:
            return None
        return {
            name: value if name in self._reserved else urllib.parse.unquote(value)
            for name, value in found.groupdict().items()
        }

    def expand(self, values: dict[str, object]) -> str:
        """The URI for these variable values (simple ones percent-encoded, reserved ones kept as given)."""

        def replace(match: re.Match[str]) -> str:
            operator, name, explode = match.groups()
            value = str(values.get(name, ""))
            return value if (operator or explode) else urllib.parse.quote(value, safe="")

        return _EXPRESSION.sub(replace, self.template)

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"


def is_template(uri: str) -> bool:
    return _EXPRESSION.search(uri) is not None
