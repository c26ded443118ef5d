"""Resource URI templates (RFC 6570 levels 1-3) matched against concrete URIs and expanded from variables.

Every level-3 operator is understood: ``{var}`` (one segment, percent-decoded), ``{+var}`` (reserved: the rest,
``/`` included), ``{#frag}``, ``{/seg}``, ``{.ext}``, ``{;params}``, ``{?query,vars}`` and ``{&more}``, and the
explode modifier on the path-like operators (``{/seg*}``, ``{.ext*}``, ``{;p*}``), whose value is a list. ``{var*}``
without an operator keeps its meaning from before level 3 support: the rest of the URI, ``/`` included (as
``{+var}``). ``files://{+path}`` therefore matches ``files://docs/a.md`` with ``path="docs/a.md"``;
``files://{path}`` matches only ``files://a.md``; ``items{?page,size}`` matches ``items?size=10`` with
``{"size": "10"}`` (query variables are optional and in any order). That holds for a trailing query with no ``?`` or
``#`` before it; after one (``items?sort=asc{&page}``) query expressions are read in place, each one needed.

Our own implementation, standard library only, so that the core install neither needs the official MCP SDK nor
pays for importing it (``tests/server/test_uri_templates_differential.py`` checks it against the SDK's where the
``[bridge]`` extra is installed). A template is compiled once, at registration
(:mod:`mcp_grpc.server.uri_template_parse` refuses what could not be matched unambiguously), into literals and
variable slots, each slot with the characters its text may not hold (``{x}`` stops at ``/ ? # , &``, ``{/x}`` at
``/ ? #``...). One slot is the middle: the template's one variable that may span ``/`` (``{+x}``, ``{#x}``, an
exploded one), else its first variable. A match is a two-ended scan with no backtracking: the slots after the
middle are read from the end of the URI, those before it from the start, each taking the shortest text up to the
literal beside it (within the run its characters allow), and the middle gets what lies between. Each slot costs at
most two passes over its run, so a match is linear in the URI's length times the template's slots, and a URI
longer than :data:`MAX_URI_LENGTH` matches nothing before any scan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import quote, unquote

from mcp_grpc.server.uri_template_parse import Expression, Part, TemplateSyntaxError, parse_template

__all__ = ["MAX_URI_LENGTH", "UriTemplate", "UriTemplateError", "is_template"]

#: A longer URI matches no template (the caller controls the URI; this bounds what one match may cost).
MAX_URI_LENGTH = 65_536

#: ``{name*}`` with no operator: rewritten to ``{+name}`` (the meaning it had before level-3 support).
_SIMPLE_EXPLODE = re.compile(r"\{([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)\*\}")
_ANY_EXPRESSION = re.compile(r"\{[^{}]*\}")
_PCT_TRIPLET = re.compile(r"%[0-9A-Fa-f]{2}")

#: What a variable's matched text may not contain, per operator: its own delimiters, and ``?``/``#`` that start
#: the query and the fragment (``{#x}`` takes anything; a query value stops only at ``&`` and ``#``).
_EXCLUDED = {"": "#&,/?", "+": "#?", "#": "", "/": "#/?", ".": "#./?", ";": "#/;?", "?": "#&", "&": "#&"}
#: RFC 6570 section 3.2's table: (first, separator, named, if-empty, reserved characters allowed).
_EXPANSION = {
    "": ("", ",", False, "", False),
    "+": ("", ",", False, "", True),
    "#": ("#", ",", False, "", True),
    ".": (".", ".", False, "", False),
    "/": ("/", "/", False, "", False),
    ";": (";", ";", True, "", False),
    "?": ("?", "&", True, "=", False),
    "&": ("&", "&", True, "=", False),
}
_RESERVED = ":/?#[]@!$&'()*+,;="


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


@dataclass(frozen=True, slots=True)
class _Slot:
    """Where one variable's text stands in a URI: the characters it may not hold (as a run-matching regex), whether
    it is a ``;`` parameter (text ``=value`` or empty after the name, items ``name=value`` or ``name`` when
    exploded), and for an exploded variable the separator that starts each item (then the text is empty or
    ``sep item sep item...``)."""

    name: str
    excluded: str
    run: re.Pattern[str]
    named: bool
    list_separator: str
    spans: bool

    def value(self, text: str) -> str | list[str] | None:
        """The variable's (still percent-encoded) value from its matched text, or None when it does not fit."""
        if not self.list_separator:
            if not self.named:
                return text
            # {;x}: the name is in the literal before; what is left is "=value", or nothing for an empty value
            return text[1:] if text.startswith("=") else ("" if not text else None)
        if not text:
            return []
        if text[0] != self.list_separator:
            return None
        items = []
        for item in text[1:].split(self.list_separator):
            if any(char in self.excluded for char in item):
                return None
            scalar = self._scalar(item)
            if scalar is None:
                return None
            items.append(scalar)
        return items

    def _scalar(self, text: str) -> str | None:
        """One item of an exploded list: ``x=value`` or ``x`` for {;x*}, the text itself otherwise."""
        if not self.named:
            return text
        if text == self.name:
            return ""
        if text.startswith(self.name) and text[len(self.name) : len(self.name) + 1] == "=":
            return text[len(self.name) + 1 :]
        return None


_Piece = str | _Slot
_RUNS: dict[str, re.Pattern[str]] = {}


def _slot(name: str, operator: str, *, explode: bool = False) -> _Slot:
    excluded = _EXCLUDED[operator]
    if excluded not in _RUNS:
        _RUNS[excluded] = re.compile(f"[^{re.escape(excluded)}]*" if excluded else ".*", re.DOTALL)
    return _Slot(
        name, excluded, _RUNS[excluded], named=operator == ";", list_separator=operator if explode else "",
        spans=explode or operator in ("+", "#"),
    )


def _pieces(parts: tuple[Part, ...]) -> list[_Piece]:
    """Literals and slots, adjacent literals merged: ``{/a,b}`` is ``"/" a "/" b``, ``{;x}`` is ``";x" x`` (text
    ``=...`` or nothing), ``{?x,y}`` outside a trailing query is ``"?x=" x "&y=" y``, and ``{/p*}`` one list slot."""
    pieces: list[_Piece] = []

    def literal(text: str) -> None:
        if not text:
            return
        if pieces and isinstance(pieces[-1], str):
            pieces[-1] += text
        else:
            pieces.append(text)

    for part in parts:
        if isinstance(part, str):
            literal(part)
            continue
        first, separator = _EXPANSION[part.operator][:2]
        for index, variable in enumerate(part.variables):
            if variable.explode:
                pieces.append(_slot(variable.name, part.operator, explode=True))
                continue
            literal(first if index == 0 else separator)
            if part.operator in ("?", "&"):
                literal(variable.name + "=")  # expansion always writes name=, an empty value included
            elif part.operator == ";":
                literal(variable.name)  # then "=value", or nothing for an empty value
            pieces.append(_slot(variable.name, part.operator))
    return pieces


class UriTemplate:
    """A compiled template: ``match(uri)`` returns the variables or None; ``expand(values)`` builds a URI."""

    __slots__ = ("template", "variables", "optional", "_required", "_parts", "_head", "_middle", "_tail", "_query")

    def __init__(self, template: str) -> None:
        self.template = template
        # {name*} and {+name} have the same length: error positions hold for the original template
        rewritten = _SIMPLE_EXPLODE.sub(r"{+\1}", template)
        stray = _stray_close(template)
        if stray is not None:
            raise _error(template, f"'}}' at position {stray} closes no expression", stray)
        try:
            parts = parse_template(rewritten)
        except TemplateSyntaxError as exc:
            raise _error(template, str(exc), exc.position) from None
        every = [variable for part in parts if isinstance(part, Expression) for variable in part.variables]
        if not every:
            raise _error(template, "it has no variables; register it as a plain resource", None)
        self._parts = parts
        self.variables = tuple(variable.name for variable in every)
        self.optional = frozenset(variable.name for variable in every if variable.operator in ("?", "&"))
        """Query variables: a URI may leave them out (give the handler's parameter a default)."""
        self._required = tuple(variable.name for variable in every if variable.operator in ("", "+"))
        parts, self._query = _split_query(parts)
        pieces = _pieces(parts)
        # The middle: the variable that may span '/', else the first one; what lies either side of it is fixed
        slots = [(index, piece) for index, piece in enumerate(pieces) if isinstance(piece, _Slot)]
        middle = next((index for index, slot in slots if slot.spans), slots[0][0] if slots else None)
        if middle is None:  # every variable in the trailing query
            self._head, self._middle, self._tail = tuple(pieces), None, ()
        else:
            self._head, self._middle = tuple(pieces[:middle]), pieces[middle]
            self._tail = tuple(pieces[middle + 1 :])
        _check_delimited(self._head, self._tail, template)

    def match(self, uri: str) -> dict[str, Any] | None:
        """The variables of ``uri`` (percent-decoded; a list for an exploded path-like operator), or None when it
        does not fit. Query variables (``{?x}``, ``{&x}``) absent from the URI are absent from the result;
        ``{var}`` and ``{+var}`` need a non-empty value (``users://7/posts/`` names no post)."""
        if len(uri) > MAX_URI_LENGTH:
            return None
        text, query = uri, None
        if self._query:
            text, _, query = uri.partition("#")[0].partition("?")
        raw = self._scan(text)
        if raw is None:
            return None
        found: dict[str, Any] = {
            name: [unquote(item) for item in value] if isinstance(value, list) else unquote(value)
            for name, value in raw.items()
        }
        if query:
            for pair in query.split("&"):
                name, _, value = pair.partition("=")
                if name in self._query and name not in found:
                    found[name] = unquote(value)
        if any(not found.get(name) for name in self._required):
            return None
        return found

    def _scan(self, text: str) -> dict[str, str | list[str]] | None:
        """The raw text of each slot: the tail read from the end, then the head from the start up to where the
        tail began, each slot there taking the shortest text up to its literal; the middle gets what lies between
        (see the module docstring)."""
        texts: list[tuple[_Slot, str]] = []
        end = len(text)
        reversed_text: str | None = None
        for index in range(len(self._tail) - 1, -1, -1):
            piece = self._tail[index]
            if isinstance(piece, str):
                if end < len(piece) or not text.startswith(piece, end - len(piece)):
                    return None
                end -= len(piece)
                continue
            before = self._tail[index - 1]  # a literal (_check_delimited)
            if reversed_text is None:
                reversed_text = text[::-1]
            run = piece.run.match(reversed_text, len(text) - end)
            start = end - (run.end() - run.start()) if run else end
            found = text.rfind(before, max(0, start - len(before)), end)
            if found == -1:
                return None
            texts.append((piece, text[found + len(before) : end]))
            end = found + len(before)
        position = 0
        for index, piece in enumerate(self._head):
            if isinstance(piece, str):
                if position + len(piece) > end or not text.startswith(piece, position):
                    return None
                position += len(piece)
                continue
            after = self._head[index + 1]  # a literal (_check_delimited)
            run = piece.run.match(text, position, end)
            stop = run.end() if run else position
            found = text.find(after, position, min(end, stop + len(after)))
            if found == -1:
                return None
            texts.append((piece, text[position:found]))
            position = found
        if self._middle is None:
            if position != end:
                return None
        else:
            if position > end:
                return None
            middle = text[position:end]
            if not self._middle.list_separator and any(char in self._middle.excluded for char in middle):
                return None
            texts.append((self._middle, middle))
        values: dict[str, str | list[str]] = {}
        for slot, slot_text in texts:
            value = slot.value(slot_text)
            if value is None:
                return None
            values[slot.name] = value
        return values

    def expand(self, values: Mapping[str, object]) -> str:
        """The URI for these values (RFC 6570 expansion: encoded per operator; a missing or None value is left
        out)."""
        given: dict[str, str | list[str]] = {}
        for name, value in values.items():
            if value is None:
                continue
            given[name] = [str(item) for item in value] if isinstance(value, (list, tuple)) else str(value)
        out: list[str] = []
        for part in self._parts:
            out.append(part if isinstance(part, str) else _expand_expression(part, given))
        return "".join(out)

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"


def _check_delimited(head: tuple[_Piece, ...], tail: tuple[_Piece, ...], template: str) -> None:
    """Every slot of the head has a literal after it and every slot of the tail a literal before it: the parser's
    adjacency rules guarantee it, and the scan relies on it."""
    for index, piece in enumerate(head):
        if isinstance(piece, _Slot) and not (index + 1 < len(head) and isinstance(head[index + 1], str)):
            raise _error(template, f"variable {piece.name!r} is followed by no literal", None)
    for index, piece in enumerate(tail):
        if isinstance(piece, _Slot) and (index == 0 or not isinstance(tail[index - 1], str)):
            raise _error(template, f"variable {piece.name!r} is preceded by no literal", None)


def _encode(value: str, reserved: bool) -> str:
    if not reserved:
        return quote(value, safe="")
    # {+x} and {#x}: reserved characters and existing %XX triplets pass through
    out, position = [], 0
    for triplet in _PCT_TRIPLET.finditer(value):
        out.append(quote(value[position : triplet.start()], safe=_RESERVED))
        out.append(triplet.group())
        position = triplet.end()
    out.append(quote(value[position:], safe=_RESERVED))
    return "".join(out)


def _expand_expression(expression: Expression, given: Mapping[str, str | list[str]]) -> str:
    first, separator, named, if_empty, reserved = _EXPANSION[expression.operator]
    items: list[str] = []
    for variable in expression.variables:
        value = given.get(variable.name)
        if value is None or (isinstance(value, list) and not value):
            continue
        if isinstance(value, str):
            encoded = _encode(value, reserved)
            items.append((variable.name + ("=" + encoded if encoded else if_empty)) if named else encoded)
        elif variable.explode:
            for item in value:
                encoded = _encode(item, reserved)
                items.append((variable.name + ("=" + encoded if encoded else if_empty)) if named else encoded)
        else:
            joined = ",".join(_encode(item, reserved) for item in value)
            items.append((variable.name + ("=" + joined if joined else if_empty)) if named else joined)
    return first + separator.join(items) if items else ""


def _split_query(parts: tuple[Part, ...]) -> tuple[tuple[Part, ...], frozenset[str]]:
    """The parts matched by the scan, and the variables read from the URI's query string.

    A trailing ``{?a,b}{&c}`` with no '?' or '#' before it is a query string: optional parameters in any order,
    the URI's fragment ignored. Elsewhere query expressions stay in the parts, read in place as literal-delimited
    slots (``"?a=" a "&b=" b``), every one needed (as the official SDK does)."""
    start = len(parts)
    while start and isinstance(parts[start - 1], Expression) and parts[start - 1].operator in ("?", "&"):
        start -= 1
    leading = parts[start] if start < len(parts) else None
    if not (isinstance(leading, Expression) and leading.operator == "?"):
        return parts, frozenset()
    if any(_may_hold_query_or_fragment(part) for part in parts[:start]):
        return parts, frozenset()
    names = frozenset(v.name for part in parts[start:] if isinstance(part, Expression) for v in part.variables)
    return parts[:start], names


def _may_hold_query_or_fragment(part: Part) -> bool:
    """Whether this part of a template before its trailing query is a literal holding '?' or '#', or a ``{#...}``:
    then the query is read in place, not as a query string (as the official SDK does)."""
    if isinstance(part, str):
        return "?" in part or "#" in part
    return part.operator == "#"


def _stray_close(template: str) -> int | None:
    """The position of the first ``}`` outside an expression, or None."""
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
