"""A fast path for well-formed DSL: a strict hand-written parser that either builds exactly the model the
ANTLR parser would build, or declines (returns None) and leaves the text to the ANTLR parser.

Why: the ANTLR Python runtime takes 10-20 ms for a typical model, and the engine parses hundreds. This
parser takes well under a millisecond. It accepts only a conservative subset of what the grammar accepts
(canonical line layout, names that lex as a single name token, condition bodies made of plainly lexable
tokens) and declines everything else, including every input with an error, so error messages and positions
always come from the ANTLR parser. Tests compare both parsers on every model in the conformance data and on
mutated models.

Facts about the grammar this relies on (see grammar/FgaParser.g4):
- a definition mixes one kind of operator per level (`or`s, `and`s, or a single `but not`); parentheses
  open a new level;
- a direct assignment `[...]` may only be the first operand of a definition or of a parenthesised group
  that is itself a first operand (at any depth); elsewhere it is a syntax error;
- whatever parse ANTLR picks, the model is the plain expression tree (single operands collapse).
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["fast_parse"]

# Texts the lexer turns into keyword tokens that the `identifier` rule does not accept.
_NOT_NAMES = frozenset(
    ["and", "or", "from", "condition", "relations", "define", "with", "in", "true", "false", "null", "but"]
)
# Keywords that `identifier` does accept (so these are valid type/relation names).
_NAME_KEYWORDS = frozenset(["model", "schema", "type", "relation", "module", "extend"])
_PARAM_KEYWORDS = frozenset(
    ["map", "list", "bool", "string", "int", "uint", "double", "duration", "timestamp", "ipaddress"]
)
_PARAM_TYPES = frozenset(["bool", "string", "int", "uint", "double", "duration", "timestamp", "ipaddress"])

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_EXTENDED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[/.-][A-Za-z0-9_]+)*\Z")  # no nested quantifiers: linear time
_WS = "[ \t\f]"
_TYPE_LINE = re.compile(rf"(extend{_WS}+)?type{_WS}+(\S+)\Z")
_DEFINE_LINE = re.compile(rf"define{_WS}+([^\s:]+){_WS}*:{_WS}*(.+)\Z")
_SCHEMA_LINE = re.compile(rf"schema{_WS}+(\d+\.\d+)\Z")
_MODULE_LINE = re.compile(rf"module{_WS}+(\S+)\Z")
_CONDITION_HEAD = re.compile(rf"condition{_WS}+([A-Za-z_][A-Za-z0-9_-]*){_WS}*\((.*)\){_WS}*\{{(.*)\Z")
_PARAM = re.compile(rf"{_WS}*([A-Za-z_][A-Za-z0-9_-]*){_WS}*:{_WS}*([a-z]+)(?:<([a-z]+)>)?{_WS}*\Z")
# Expression tokens: whitespace, punctuation, `but not`, names (anything else declines).
_EXPR_TOKEN = re.compile(r"[ \t\f]+|[\[\](),#]|:\*|but not(?![A-Za-z0-9_/.-])|[A-Za-z0-9_/.-]+")
# Condition-body tokens that lex cleanly and never hide text (no comments, no escapes, no triple quotes).
_BODY_TOKEN = re.compile(
    r"""\s+|"[^"\\\n\r]*"|'[^'\\\n\r]*'|==|!=|<=|>=|&&|\|\||[<>\[\]{}().,:!?+*%#-]|/(?!/)"""
    r"""|[A-Za-z_][A-Za-z0-9_-]*|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?|0x[0-9a-fA-F]+[uU]?"""
)


class _Decline(Exception):
    """The input is outside the fast path's subset (maybe valid, maybe not): let ANTLR decide."""


def _name(text: str) -> str:
    """A type/relation name as the `identifier` rule accepts it (one IDENTIFIER/EXTENDED_IDENTIFIER/keyword)."""
    if text in _NOT_NAMES:
        raise _Decline
    if text in _NAME_KEYWORDS or _IDENT.match(text) or _EXTENDED.match(text):
        return text
    raise _Decline


def _condition_ref(text: str) -> str:
    """A condition name after `with` (default lexer mode: an IDENTIFIER, not a keyword)."""
    if text in _NOT_NAMES or text in _NAME_KEYWORDS or not _IDENT.match(text):
        raise _Decline
    return text


class _Expr:
    """Recursive descent over the tokens of one `define` right-hand side."""

    __slots__ = ("toks", "pos", "related")

    def __init__(self, text: str) -> None:
        toks = []
        pos = 0
        while pos < len(text):
            m = _EXPR_TOKEN.match(text, pos)
            if m is None:
                raise _Decline
            toks.append(m.group())
            pos = m.end()
        self.toks = toks
        self.pos = 0
        self.related: list[dict] | None = None

    def peek(self, offset: int = 0) -> str | None:
        i = self.pos + offset
        return self.toks[i] if i < len(self.toks) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise _Decline
        self.pos += 1
        return tok

    def space(self, required: bool) -> None:
        tok = self.peek()
        if tok is not None and tok[0] in " \t\f":
            self.pos += 1
        elif required:
            raise _Decline

    def definition(self, direct_ok: bool) -> dict:
        operands = [self.operand(direct_ok)]
        operator = None
        while self.peek() is not None and self.peek()[0] in " \t\f" and self.peek(1) in ("or", "and", "but not"):
            self.pos += 1
            op = self.take()
            if operator is not None and (op != operator or op == "but not"):
                raise _Decline  # mixed operators, or a second `but not`: a syntax error
            operator = op
            self.space(True)
            operands.append(self.operand(False))
        if len(operands) == 1:
            return operands[0]
        if operator == "or":
            return {"union": {"child": operands}}
        if operator == "and":
            return {"intersection": {"child": operands}}
        return {"difference": {"base": operands[0], "subtract": operands[1]}}

    def operand(self, direct_ok: bool) -> dict:
        tok = self.peek()
        if tok == "[":
            if not direct_ok or self.related is not None:
                raise _Decline
            return self.direct()
        if tok == "(":
            self.pos += 1
            while self.peek() is not None and self.peek()[0] in " \t\f":
                self.pos += 1
            inner = self.definition(direct_ok)
            while self.peek() is not None and self.peek()[0] in " \t\f":
                self.pos += 1
            if self.take() != ")":
                raise _Decline
            return inner
        computed = _name(self.take())
        if self.peek() is not None and self.peek()[0] in " \t\f" and self.peek(1) == "from":
            self.pos += 2
            self.space(True)
            tupleset = _name(self.take())
            return {"tupleToUserset": {"computedUserset": {"relation": computed}, "tupleset": {"relation": tupleset}}}
        return {"computedUserset": {"relation": computed}}

    def direct(self) -> dict:
        self.pos += 1  # [
        related: list[dict] = []
        while True:
            self.space(False)
            ref: dict[str, Any] = {"type": _name(self.take())}
            nxt = self.peek()
            if nxt == ":*":
                self.pos += 1
                ref["wildcard"] = {}
            elif nxt == "#":
                self.pos += 1
                ref["relation"] = _name(self.take())
            if self.peek() is not None and self.peek()[0] in " \t\f" and self.peek(1) == "with":
                self.pos += 2
                self.space(True)
                ref["condition"] = _condition_ref(self.take())
            related.append(ref)
            self.space(False)
            tok = self.take()
            if tok == "]":
                break
            if tok != ",":
                raise _Decline
        self.related = related
        return {"this": {}}


def _body_ok(body: str) -> bool:
    pos = 0
    while pos < len(body):
        m = _BODY_TOKEN.match(body, pos)
        if m is None or m.group() == "}" or m.group() == "condition":
            return False
        pos = m.end()
    return True


def _condition(lines: list[str], i: int, modular: bool, module: str | None) -> tuple[dict, int]:
    m = _CONDITION_HEAD.match(lines[i].strip())
    if m is None:
        raise _Decline
    name, params_text, rest = m.groups()
    if name in _PARAM_KEYWORDS:
        raise _Decline
    params: dict[str, dict] = {}
    for part in params_text.split(","):
        pm = _PARAM.match(part)
        if pm is None:
            raise _Decline
        pname, ptype, generic = pm.groups()
        if pname in _PARAM_KEYWORDS or pname in params:
            raise _Decline
        if generic is None:
            if ptype not in _PARAM_TYPES:
                raise _Decline
            params[pname] = {"type_name": "TYPE_NAME_" + ptype.upper()}
        else:
            if ptype not in ("map", "list") or generic not in _PARAM_TYPES:
                raise _Decline
            params[pname] = {
                "type_name": "TYPE_NAME_" + ptype.upper(),
                "generic_types": [{"type_name": "TYPE_NAME_" + generic.upper()}],
            }
    # The body runs to the first line that is exactly `}`; it must not contain another `}`.
    body_lines = [rest]
    j = i + 1
    while j < len(lines) and lines[j].strip() != "}":
        body_lines.append(lines[j])
        j += 1
    if j >= len(lines) or "}" in rest:
        raise _Decline
    body = "\n".join(body_lines)
    if not _body_ok(body):
        raise _Decline
    cond: dict[str, Any] = {"name": name, "expression": body.strip(), "parameters": params}
    if modular:
        cond["metadata"] = {"module": module}
    return cond, j + 1


def _parse(cleaned: str) -> tuple[dict, bool, str | None, frozenset[str]]:
    lines = cleaned.split("\n")
    n = len(lines)
    i = 0
    while i < n and not lines[i].strip():
        i += 1
    if i >= n:
        raise _Decline
    model: dict[str, Any] = {}
    head = lines[i].strip()
    modular = False
    module: str | None = None
    if head == "model":
        i += 1
        while i < n and not lines[i].strip():
            i += 1
        m = _SCHEMA_LINE.match(lines[i].strip()) if i < n else None
        if m is None:
            raise _Decline
        model["schema_version"] = m.group(1)
        i += 1
    else:
        m = _MODULE_LINE.match(head)
        if m is None:
            raise _Decline
        modular, module = True, _name(m.group(1))
        i += 1

    types: list[dict] = []
    extended: set[str] = set()
    conditions: dict[str, dict] = {}
    current: dict | None = None
    in_relations = False
    while i < n:
        line = lines[i].strip()
        if not line:
            i += 1
            continue
        if line.startswith("condition"):
            cond, i = _condition(lines, i, modular, module)
            if cond["name"] in conditions:
                raise _Decline
            conditions[cond["name"]] = cond
            current = None
            continue
        if conditions:
            raise _Decline  # types after conditions
        m = _TYPE_LINE.match(line)
        if m is not None:
            if current is not None and in_relations and not current["relations"]:
                raise _Decline
            is_extend, name = m.group(1) is not None, _name(m.group(2))
            if is_extend:
                if not modular or name in extended:
                    raise _Decline
                extended.add(name)
            current = {"type": name, "relations": {}, "metadata": {"relations": {}}}
            if modular:
                current["metadata"]["module"] = module
            types.append(current)
            in_relations = False
            i += 1
            continue
        if current is None:
            raise _Decline
        if line == "relations":
            if in_relations:
                raise _Decline
            in_relations = True
            i += 1
            continue
        m = _DEFINE_LINE.match(line)
        if m is None or not in_relations:
            raise _Decline
        relation = _name(m.group(1))
        if relation in current["relations"]:
            raise _Decline
        expr = _Expr(m.group(2))
        definition = expr.definition(True)
        if expr.pos != len(expr.toks):
            raise _Decline
        current["relations"][relation] = definition
        current["metadata"]["relations"][relation] = {"directly_related_user_types": expr.related or []}
        i += 1
    if current is not None and in_relations and not current["relations"]:
        raise _Decline
    for td in types:
        if not td["metadata"]["relations"]:
            if modular:
                del td["metadata"]["relations"]
            else:
                td["metadata"] = None
    if types:
        model["type_definitions"] = types
    if conditions:
        model["conditions"] = conditions
    return model, modular, module, frozenset(extended)


def fast_parse(cleaned: str) -> tuple[dict, bool, str | None, frozenset[str]] | None:
    """(model, modular, module name, extended types) for comment-cleaned DSL text, or None to defer to ANTLR."""
    try:
        return _parse(cleaned)
    except (_Decline, IndexError):
        return None
