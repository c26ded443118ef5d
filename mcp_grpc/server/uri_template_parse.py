"""Parsing RFC 6570 level-3 URI templates into literals and expressions, refusing at registration what could not
be matched unambiguously.

A template is split into literal text and ``{...}`` expressions (an operator, then comma-separated variable names,
each perhaps exploded with ``*``). Beyond RFC 6570's syntax, matching a URI back to variables needs a few rules
that expansion alone does not: a variable appears once; an expression that starts with no delimiter of its own
(``{x}``, ``{+x}``) or is exploded does not directly follow another expression (nothing would say where one ends);
at most one variable may span ``/`` (``{+x}``, ``{#x}`` or an exploded one), so the rest are fixed by literals on
either side of it; and one ``{?...}`` expression at most. Prefix modifiers (``{x:3}``) and explode on anything but
the path-like operators (``/``, ``.``, ``;``) are refused: their matches would be guesses.

Errors are :class:`TemplateSyntaxError` with a message and the position of the expression at fault (None when the
fault is the template as a whole); :mod:`mcp_grpc.server.uri_template` names the template around them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_TEMPLATE_LENGTH",
    "MAX_VARIABLES",
    "MULTI_SEGMENT_OPERATORS",
    "OPERATORS",
    "Expression",
    "Part",
    "TemplateSyntaxError",
    "Variable",
    "parse_template",
]

#: The level-2 and level-3 operators; an expression whose first character is none of these has the simple one ("").
OPERATORS = frozenset("+#./;?&")
#: Operators whose (single) value may hold ``/``: at most one such variable, exploded ones included, per template.
MULTI_SEGMENT_OPERATORS = frozenset("+#")
#: Operators on which ``*`` is understood for matching (a list of path segments, labels or parameters).
EXPLODABLE_OPERATORS = frozenset("/.;")
#: Bounds on what one registration may ask of every later match.
MAX_TEMPLATE_LENGTH = 8_192
MAX_VARIABLES = 256

#: RFC 6570 varname without pct-encoded triplets: ``name`` or ``dotted.name``.
_NAME = re.compile(r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")


class TemplateSyntaxError(ValueError):
    """Why a template cannot be used, and the position of the ``{`` of the expression at fault (or None)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable of an expression: its name, the expression's operator and whether it is exploded (``*``)."""

    name: str
    operator: str
    explode: bool

    @property
    def multi_segment(self) -> bool:
        """Whether its matched text may span ``/`` (then it is the template's only such variable)."""
        return self.explode or self.operator in MULTI_SEGMENT_OPERATORS


@dataclass(frozen=True, slots=True)
class Expression:
    """One ``{...}``: its operator ("" for none), its variables in order and where its ``{`` stands."""

    operator: str
    variables: tuple[Variable, ...]
    position: int


Part = str | Expression


def parse_template(template: str) -> tuple[Part, ...]:
    """The literals (non-empty strings) and expressions of ``template``, in order, or ``TemplateSyntaxError``."""
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise TemplateSyntaxError(f"Template is {len(template)} characters long; at most {MAX_TEMPLATE_LENGTH}")
    parts: list[Part] = []
    position = 0
    while position < len(template):
        start = template.find("{", position)
        if start == -1:
            parts.append(template[position:])
            break
        if start > position:
            parts.append(template[position:start])
        end = template.find("}", start)
        if end == -1:
            raise TemplateSyntaxError(f"Unclosed expression at position {start}", start)
        parts.append(_expression(template[start + 1 : end], start))
        position = end + 1
    _check_matchable(parts)
    return tuple(parts)


def _expression(body: str, position: int) -> Expression:
    if not body:
        raise TemplateSyntaxError(f"Empty expression at position {position}", position)
    operator = body[0] if body[0] in OPERATORS else ""
    variables = []
    for spec in body[len(operator) :].split(","):
        if ":" in spec:
            raise TemplateSyntaxError(
                f"Prefix modifier {{var:N}} is not supported: {spec!r} at position {position} (a truncated value "
                "cannot be matched back)",
                position,
            )
        explode = spec.endswith("*")
        name = spec[:-1] if explode else spec
        if _NAME.fullmatch(name) is None:
            raise TemplateSyntaxError(f"Invalid variable name {name!r} at position {position}", position)
        if explode and operator not in EXPLODABLE_OPERATORS:
            raise TemplateSyntaxError(
                f"Explode modifier on {{{operator}{name}*}} is not supported for matching (only {{/x*}}, {{.x*}} "
                "and {;x*} give a list)",
                position,
            )
        variables.append(Variable(name, operator, explode))
    return Expression(operator, tuple(variables), position)


def _check_matchable(parts: list[Part]) -> None:
    """The whole-template rules that keep matching unambiguous (see the module docstring)."""
    expressions = [part for part in parts if isinstance(part, Expression)]
    variables = [variable for expression in expressions for variable in expression.variables]
    if len(variables) > MAX_VARIABLES:
        raise TemplateSyntaxError(f"Template has {len(variables)} variables; at most {MAX_VARIABLES}")
    seen: set[str] = set()
    for variable in variables:
        if variable.name in seen:
            raise TemplateSyntaxError(f"Variable {variable.name!r} appears more than once; each may appear once")
        seen.add(variable.name)
    for before, after in zip(parts, parts[1:]):
        if not (isinstance(before, Expression) and isinstance(after, Expression)):
            continue
        if after.operator in ("", "+") or any(variable.explode for variable in after.variables):
            raise TemplateSyntaxError(
                f"Variables {before.variables[-1].name!r} and {after.variables[0].name!r} are adjacent with no "
                "literal between them: matching could not tell where one ends; put a literal between them"
            )
    spanning = [variable.name for variable in variables if variable.multi_segment]
    if len(spanning) > 1:
        raise TemplateSyntaxError(
            f"Variables {spanning[0]!r} and {spanning[1]!r} may both span '/' ({{+var}}, {{#var}} or an exploded "
            "one); a template may hold one such variable, else matching would be ambiguous"
        )
    if sum(expression.operator == "?" for expression in expressions) > 1:
        raise TemplateSyntaxError(
            "Template has more than one {?...} expression; use {?a,b} or {?a}{&b} for several query parameters"
        )
