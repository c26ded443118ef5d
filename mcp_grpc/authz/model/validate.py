"""Semantic validation of authorization models, with OpenFGA's messages and positions.

Rules and their order follow OpenFGA's language tooling (the `openfga/language` validator), so that the
same model yields the same list of errors: names and reserved words first, then the schema version, then
undefined types/relations/conditions, then duplicates, then relations without an entrypoint, and finally
conditions that nothing uses. Positions are found by searching the model's source lines the way the
reference does (first `type X` line, then the first `define R` line after it).

`rules="server"` instead reproduces what an OpenFGA server refuses on model write (checked against
`fga model validate`): no name-length limits, duplicates and unused conditions allowed, computed-userset
cycles refused.
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from .errors import ModelIssue, ModelValidationError, Span
from .server_rules import first_server_error

__all__ = ["validate_model", "collect_issues", "TYPE_NAME_RULE", "RELATION_NAME_RULE", "RESERVED_NAMES"]

TYPE_NAME_RULE = r"^[^:#@\*\s]{1,254}$"
RELATION_NAME_RULE = r"^[^:#@\*\s]{1,50}$"
RESERVED_NAMES = ("self", "this")
_TYPE_RE = re.compile(TYPE_NAME_RULE)
_RELATION_RE = re.compile(RELATION_NAME_RULE)
_SPACES = re.compile(r" {2,}")
# OpenFGA's server checks the characters of names, not the length limits of the language tooling.
_SERVER_NAME_RE = re.compile(r"^[^:#@\*\s]+$")


def _restriction_text(ref: dict) -> str:
    text = ref.get("type", "")
    if ref.get("wildcard") is not None:
        text += ":*"
    elif ref.get("relation"):
        text += "#" + ref["relation"]
    return text


def _target(userset: dict) -> tuple[str, str | None, str | None]:
    """(rewrite kind, target relation, tupleset relation) of a leaf userset."""
    if "computedUserset" in userset:
        target = (userset["computedUserset"] or {}).get("relation") or None
        return ("computed" if target else "direct"), target, None
    ttu = userset.get("tupleToUserset")
    if ttu:
        target = (ttu.get("computedUserset") or {}).get("relation") or None
        tupleset = (ttu.get("tupleset") or {}).get("relation") or None
        if tupleset:
            return "ttu", target, tupleset
        return ("computed" if target else "direct"), target, None
    return "direct", None, None


def _def_name(userset: dict) -> str | None:
    kind, target, tupleset = _target(userset)
    if kind == "computed":
        return target
    if kind == "ttu":
        return f"{target} from {tupleset}"
    return None


def _is_single(userset: dict) -> bool:
    return not any(k in userset for k in ("union", "intersection", "difference"))


class _Collector:
    """Collects issues; positions come from the source lines of the file the checked item was written in."""

    def __init__(
        self,
        lines: list[str] | None,
        meta: dict[str, Any] | None = None,
        sources: dict[str, list[str]] | None = None,
    ) -> None:
        self.lines = lines
        self.issues: list[ModelIssue] = []
        self.meta = meta or {}
        self.sources = sources
        self._types: dict[str, dict] = {}
        self.server = False

    def _focus(self, metadata: dict | None, fallback: dict | None = None) -> None:
        if self.sources is None:
            return
        for md in (metadata, fallback):
            file = ((md or {}).get("source_info") or {}).get("file")
            if file:
                self.lines = self.sources.get(file)
                self.meta = {"file": file, "module": (md or {}).get("module")}
                return
        self.lines, self.meta = None, {}

    def focus_type(self, type_name: str, td: dict | None = None) -> None:
        td = td if td is not None else self._types.get(type_name)
        self._focus((td or {}).get("metadata"))

    def focus_relation(self, type_name: str, relation: str, td: dict | None = None) -> None:
        td = td if td is not None else self._types.get(type_name)
        meta = (td or {}).get("metadata") or {}
        self._focus((meta.get("relations") or {}).get(relation), meta)

    def focus_condition(self, condition: dict) -> None:
        self._focus((condition or {}).get("metadata"))

    # positions, as the reference finds them
    def _find(self, pattern: str, skip: int | None = 0) -> int | None:
        if not self.lines:
            return None
        rx = re.compile(pattern)
        for i in range(max(skip or 0, 0), len(self.lines)):
            if rx.match(_SPACES.sub(" ", self.lines[i].strip())):
                return i
        return None

    def type_line(self, type_name: str, skip: int = 0) -> int | None:
        # Whole-name match: `type asset` must not find `type asset-category`.
        return self._find(r"(?:extend )?type " + re.escape(type_name) + r"(?:[\s#]|$)", skip)

    def relation_line(self, relation: str, skip: int | None = 0) -> int | None:
        return self._find(r"define " + re.escape(relation) + r" ?:", skip)

    def condition_line(self, name: str) -> int | None:
        return self._find(r"condition " + re.escape(name) + r" ?\(")

    def relation_line_in_type(self, type_name: str, relation: str) -> int | None:
        t = self.type_line(type_name)
        return self.relation_line(relation, t if t is not None else 0)

    def schema_line(self, version: str) -> int | None:
        return self._find(r"schema " + re.escape(version))

    def add(self, message: str, line_index: int | None, symbol: str, error_type: str, column_start=None, **extra):
        metadata: dict[str, Any] = {"symbol": symbol, "errorType": error_type}
        metadata.update({k: v for k, v in extra.items() if v is not None})
        metadata.update({k: v for k, v in self.meta.items() if v is not None})
        if line_index is None or not self.lines or line_index >= len(self.lines):
            self.issues.append(ModelIssue(message, None, None, metadata))
            return
        raw = self.lines[line_index]
        if column_start is None:
            column_start = self._word_index(raw, symbol)
        elif callable(column_start):
            column_start = column_start(raw)
        self.issues.append(
            ModelIssue(
                message,
                Span(line_index, line_index),
                Span(column_start, column_start + len(symbol)),
                metadata,
            )
        )

    @staticmethod
    def _word_index(raw: str, symbol: str) -> int:
        m = re.search(r"\b" + re.escape(symbol) + r"\b", raw)
        if m is None and symbol and _SAFE_PATTERN.fullmatch(symbol):
            # The reference builds an unescaped regex \bSYMBOL\b, so `user:*` finds `user` in `[user, user:*]`.
            # Only single-character quantifiers can occur in such symbols, so this cannot backtrack badly.
            m = re.search(r"\b" + symbol + r"\b", raw)
        return m.start() if m else 0


_SAFE_PATTERN = re.compile(r"[\w:*#/@ -]+")


def _check_names(c: _Collector, model: dict) -> None:
    for td in model.get("type_definitions") or []:
        type_name = td.get("type", "")
        c.focus_type(type_name, td)
        if type_name in RESERVED_NAMES:
            c.add("a type cannot be named 'self' or 'this'.", c.type_line(type_name), type_name, "reserved-type-keywords")
        if not (_SERVER_NAME_RE if c.server else _TYPE_RE).match(type_name):
            c.add(
                f"type '{type_name}' does not match naming rule: '{TYPE_NAME_RULE}'.",
                c.type_line(type_name),
                type_name,
                "invalid-name",
            )
        seen = {"self"}
        for relation in td.get("relations") or {}:
            c.focus_relation(type_name, relation, td)
            if relation in RESERVED_NAMES:
                c.add(
                    "a relation cannot be named 'self' or 'this'.",
                    c.relation_line_in_type(type_name, relation),
                    relation,
                    "reserved-relation-keywords",
                )
            elif not (_SERVER_NAME_RE if c.server else _RELATION_RE).match(relation):
                c.add(
                    f"relation '{relation}' of type '{type_name}' does not match naming rule: '{RELATION_NAME_RULE}'.",
                    c.relation_line_in_type(type_name, relation),
                    relation,
                    "invalid-name",
                )
            elif relation in seen:
                first = c.relation_line_in_type(type_name, relation)
                dup = c.relation_line(relation, (first or 0) + 1)
                c.add(f"duplicate relationship definition `{relation}`.", dup, relation, "duplicated-error")
            seen.add(relation)


def _leaves(userset: dict) -> Iterable[dict]:
    queue = [userset]
    while queue:
        child = queue.pop(0)
        if child.get("union", {}).get("child"):
            queue.extend(child["union"]["child"])
        elif child.get("intersection", {}).get("child"):
            queue.extend(child["intersection"]["child"])
        elif child.get("difference", {}).get("base") and child["difference"].get("subtract"):
            queue.extend((child["difference"]["base"], child["difference"]["subtract"]))
        else:
            yield child


def _related(types: dict, type_name: str, relation: str) -> list[dict]:
    meta = (types[type_name].get("metadata") or {}).get("relations") or {}
    return (meta.get(relation) or {}).get("directly_related_user_types") or []


def _check_leaf(c: _Collector, types: dict, conditions: dict, type_name: str, relation: str, leaf: dict) -> None:
    relations = types[type_name].get("relations") or {}
    if relation not in relations:
        return
    kind, target, tupleset = _target(leaf)
    line = lambda: c.relation_line_in_type(type_name, relation)  # noqa: E731 (positions are computed lazily)
    if kind == "direct":
        refs = _related(types, type_name, relation)
        if not refs:
            raw = c.lines[line()] if c.lines and line() is not None else ""
            shown = raw[raw.index("[") : raw.rindex("]") + 1] if "[" in raw and "]" in raw else "self"
            c.add(
                f"assignable relation '{shown}' must have types",
                line(),
                shown,
                "assignable-relation-must-have-type",
                column_start=lambda r: r.find(shown[1:]) - 1,
            )
        for ref in refs:
            rtype, rrel, wildcard = ref.get("type", ""), ref.get("relation"), ref.get("wildcard") is not None
            cond = ref.get("condition")
            if rtype not in types:
                c.add(
                    f"`{rtype}` is not a valid type.",
                    line(),
                    rtype,
                    "invalid-type",
                    column_start=lambda r, t=rtype: _word_after(r, t, "["),
                    typeName=rtype,
                    relation=relation,
                )
            if cond and cond not in conditions:
                c.add(
                    f"`{cond}` is not a defined condition in the model.",
                    line(),
                    cond,
                    "condition-not-defined",
                    relation=relation,
                    typeName=type_name,
                )
            if wildcard and rrel:
                text = _restriction_text(ref)
                c.add(
                    f"type restriction `{text}` cannot contain both wildcard and relation",
                    line(),
                    text,
                    "type-wildcard-relation",
                    relation=relation,
                    typeName=type_name,
                )
            elif rrel and (rtype not in types or rrel not in (types[rtype].get("relations") or {})):
                c.add(
                    f"`{rrel}` is not a valid relation for `{rtype}`.",
                    line(),
                    f"{rtype}#{rrel}",
                    "invalid-relation-type",
                    relation=rrel,
                    typeName=rtype,
                )
    elif kind == "computed":
        if target and target not in relations:
            c.add(
                f"the relation `{target}` does not exist.",
                line(),
                target,
                "missing-definition",
                relation=relation,
                typeName=type_name,
            )
    elif kind == "ttu" and target:
        symbol = f"{target} from {tupleset}"
        if tupleset not in relations:
            c.add(
                f"`{tupleset}` is not a valid relation for `{type_name}`.",
                line(),
                symbol,
                "invalid-relation-type",
                relation=tupleset,
                typeName=type_name,
            )
            return
        tupleset_def = relations[tupleset]
        if "this" not in tupleset_def or not _is_single(tupleset_def):
            _not_direct(c, line(), tupleset, type_name, relation)
            return
        refs = _related(types, type_name, tupleset)
        from_types = [_restriction_text(r) for r in refs]
        missing = []
        for ref in refs:
            if ref.get("wildcard") is not None or ref.get("relation"):
                _not_direct(c, line(), tupleset, type_name, relation)
            elif ref.get("type") not in types or target not in (types[ref["type"]].get("relations") or {}):
                missing.append(ref.get("type"))
        if missing and len(missing) == len(from_types):
            for decoded in missing:
                c.add(
                    f"the `{target}` relation definition on type `{type_name}` is not valid: `{target}` does not exist"
                    f" on `{tupleset}`, which is of type `{decoded}`.",
                    line(),
                    symbol,
                    "invalid-relation-on-tupleset",
                    relation=relation,
                    typeName=type_name,
                )


def _word_after(raw: str, word: str, marker: str) -> int:
    """Column of `word` as a whole word after the first `marker` (e.g. a type inside `[...]`)."""
    start = raw.find(marker)
    start = 0 if start < 0 else start
    m = re.compile(r"\b" + re.escape(word) + r"\b").search(raw, start)
    if m is None:
        m = re.compile(r"\b" + re.escape(word) + r"\b").search(raw)
    return m.start() if m else 0


def _not_direct(c: _Collector, line_index, tupleset: str, type_name: str, relation: str) -> None:
    def column(raw: str) -> int:
        start = raw.find("from") + len("from") + 1
        return start + raw[start:].find(tupleset)

    c.add(
        f"`{tupleset}` relation used inside from allows only direct relation.",
        line_index,
        tupleset,
        "tupleuserset-not-direct",
        column_start=column,
        typeName=type_name,
        relation=relation,
    )


def _entry_or_loop(types: dict, type_name: str, relation: str | None, rewrite: dict, visited: dict) -> tuple[bool, bool]:
    """(has an entrypoint, a loop was met): can any tuple ever make `type_name#relation` true through `rewrite`."""
    visited = {k: dict(v) for k, v in visited.items()}
    if not relation:
        return False, False
    visited.setdefault(type_name, {})[relation] = True
    relations = types[type_name].get("relations") or {}
    if relation not in relations:
        return False, False
    if "this" in rewrite:
        for ref in _related(types, type_name, relation):
            rtype, rrel = ref.get("type"), ref.get("relation")
            if not rrel or ref.get("wildcard") is not None:
                return True, False
            target = (types.get(rtype, {}).get("relations") or {}).get(rrel)
            if target is None:
                return False, False
            if visited.get(rtype, {}).get(rrel):
                continue
            if _entry_or_loop(types, rtype, rrel, target, visited)[0]:
                return True, False
        return False, False
    if "computedUserset" in rewrite:
        name = (rewrite["computedUserset"] or {}).get("relation")
        if not name or name not in relations:
            return False, False
        if visited[type_name].get(name):
            return False, True
        return _entry_or_loop(types, type_name, name, relations[name], visited)
    if "tupleToUserset" in rewrite:
        ttu = rewrite["tupleToUserset"]
        tupleset = (ttu.get("tupleset") or {}).get("relation")
        computed = (ttu.get("computedUserset") or {}).get("relation")
        if not tupleset or not computed or tupleset not in relations:
            return False, False
        for ref in _related(types, type_name, tupleset):
            assignable = _restriction_text(ref)
            target = (types.get(assignable, {}).get("relations") or {}).get(computed)
            if target is None:
                continue
            if visited.get(assignable, {}).get(computed):
                continue
            if _entry_or_loop(types, assignable, computed, target, visited)[0]:
                return True, False
        return False, False
    if "union" in rewrite:
        loop = False
        for child in rewrite["union"].get("child") or []:
            entry, child_loop = _entry_or_loop(types, type_name, relation, child, visited)
            if entry:
                return True, False
            loop = loop or child_loop
        return False, loop
    if "intersection" in rewrite:
        for child in rewrite["intersection"].get("child") or []:
            entry, child_loop = _entry_or_loop(types, type_name, relation, child, visited)
            if not entry:
                return False, child_loop
        return True, False
    if "difference" in rewrite:
        diff = rewrite["difference"]
        for part in ("base", "subtract"):
            entry, loop = _entry_or_loop(types, type_name, relation, diff.get(part) or {}, visited)
            if not entry:
                return False, loop
        return True, False
    return False, False


def _check_model(c: _Collector, model: dict) -> None:
    if c.issues:
        return
    type_defs = model.get("type_definitions") or []
    conditions = model.get("conditions") or {}
    types: dict[str, dict] = {}
    used_conditions: set[str] = set()
    for td in type_defs:
        types[td.get("type", "")] = td
        for meta in ((td.get("metadata") or {}).get("relations") or {}).values():
            for ref in (meta or {}).get("directly_related_user_types") or []:
                if ref.get("condition"):
                    used_conditions.add(ref["condition"])

    # A repeated type is checked in its last definition here (as the reference's type map keeps the last one);
    # the repetition itself is reported below.
    c._types = types
    for td in types.values():
        for relation, rewrite in (td.get("relations") or {}).items():
            c.focus_relation(td["type"], relation, td)
            for leaf in _leaves(rewrite):
                _check_leaf(c, types, conditions, td["type"], relation, leaf)

    if not c.issues:
        seen_types: set[str] = set()
        for td in type_defs:
            type_name = td.get("type", "")
            c.focus_type(type_name, td)
            if type_name in seen_types:
                c.add(f"the type `{type_name}` is a duplicate.", c.type_line(type_name), type_name, "duplicated-error")
            seen_types.add(type_name)
            for relation, meta in ((td.get("metadata") or {}).get("relations") or {}).items():
                c.focus_relation(type_name, relation, td)
                seen_refs: set[str] = set()
                for ref in (meta or {}).get("directly_related_user_types") or []:
                    text = _restriction_text(ref)
                    if ref.get("condition"):
                        text += " with " + ref["condition"]
                    if text in seen_refs and not c.server:
                        c.add(
                            f"the type restriction `{text}` is a duplicate in the relation `{relation}`.",
                            # As the reference does: the search starts at the line of the *restriction's* type.
                            c.relation_line(relation, c.type_line(ref.get("type", ""))),
                            text,
                            "duplicated-error",
                            relation=text,
                        )
                    seen_refs.add(text)
                if not c.server:
                    _check_duplicate_parts(c, td, relation)

    if not c.issues:
        for td in type_defs:
            type_name = td["type"]
            for relation, rewrite in (td.get("relations") or {}).items():
                c.focus_relation(type_name, relation, td)
                entry, loop = _entry_or_loop(types, type_name, relation, rewrite, {})
                if not entry:
                    kind = "potential loop" if loop else "no entrypoint"
                    c.add(
                        f"`{relation}` is an impossible relation for `{type_name}` ({kind}).",
                        c.relation_line_in_type(type_name, relation),
                        relation,
                        "relation-no-entry-point",
                        relation=relation,
                        typeName=type_name,
                    )

    if c.server:
        if not c.issues:
            _check_cycles(c, type_defs)
        if not c.issues:
            _check_server_rules(c, model)
        _check_expressions_compile(c, conditions)
        return
    for name in conditions:
        c.focus_condition(conditions[name])
        if name not in used_conditions:
            c.add(
                f"`{name}` condition is not used in the model.",
                c.condition_line(name),
                name,
                "condition-not-used",
                conditionName=name,
            )


def _check_expressions_compile(c: _Collector, conditions: dict) -> None:
    """An OpenFGA server compiles every condition's CEL on model write and refuses the model if one fails.

    The expression is type-checked against the condition's declared parameters (with OpenFGA's ``ipaddress``
    extension), as the server does: a syntax error, a name that is not a declared parameter or a standard CEL
    macro or function, an operator applied to the wrong types, or a result that is not a bool refuses the model,
    with the server's message.
    """
    if not conditions:
        return
    # The engine's checker; imported only when there are conditions (the model package does not otherwise need it).
    from mcp_grpc.authz.engine.conditions import ConditionError, ParamType, check_condition

    for name, cond in conditions.items():
        cond = cond or {}
        try:
            parameters = {
                pname: ParamType.from_json(pspec or {}) for pname, pspec in (cond.get("parameters") or {}).items()
            }
            check_condition(name, str(cond.get("expression", "")), parameters, require_bool=True)
        except ConditionError as exc:
            c.focus_condition(cond)
            c.add(
                str(exc).split("\n", 1)[0],
                c.condition_line(name),
                name,
                "invalid-condition-expression",
                conditionName=name,
            )


def _computed_refs(userset: dict, out: list[str]) -> list[str]:
    """Relations of the same type that `userset` reads through computed usersets (not through `from`)."""
    if "computedUserset" in userset:
        out.append((userset["computedUserset"] or {}).get("relation", ""))
    for key in ("union", "intersection"):
        for child in (userset.get(key) or {}).get("child") or []:
            _computed_refs(child, out)
    if "difference" in userset:
        _computed_refs(userset["difference"].get("base") or {}, out)
        _computed_refs(userset["difference"].get("subtract") or {}, out)
    return out


def _check_cycles(c: _Collector, type_defs: list[dict]) -> None:
    """OpenFGA's server refuses a relation that reads itself, or reaches a cycle, through computed usersets.

    Only the first offender is reported (as the server reports one), checking relations in name order.
    """
    for td in type_defs:
        type_name = td["type"]
        relations = td.get("relations") or {}
        edges = {name: _computed_refs(rewrite, []) for name, rewrite in relations.items()}
        for name in sorted(relations):
            c.focus_relation(type_name, name, td)
            line = c.relation_line_in_type(type_name, name)
            if name in edges[name]:
                c.add(
                    f"the definition of relation '{name}' in object type '{type_name}' is invalid:"
                    " invalid userset rewrite definition",
                    line,
                    name,
                    "invalid-userset-rewrite",
                    relation=name,
                    typeName=type_name,
                )
                return
            # Depth-first search for a cycle reachable from `name` (iterative: input is untrusted).
            state: dict[str, int] = {}
            stack: list[tuple[str, int]] = [(name, 0)]
            while stack:
                node, i = stack.pop()
                targets = [t for t in edges.get(node, []) if t in edges]
                if i == 0:
                    state[node] = 1
                if i < len(targets):
                    stack.append((node, i + 1))
                    nxt = targets[i]
                    if state.get(nxt) == 1:
                        c.add(
                            f"the definition of relation '{name}' in object type '{type_name}' is invalid:"
                            " an authorization model cannot contain a cycle",
                            line,
                            name,
                            "relation-cycle",
                            relation=name,
                            typeName=type_name,
                        )
                        return
                    if nxt not in state:
                        stack.append((nxt, 0))
                else:
                    state[node] = 2


def _check_server_rules(c: _Collector, model: dict) -> None:
    """The rest of OpenFGA's server-side checks (typesystem.NewAndValidate), ported in server_rules.py."""
    found = first_server_error(model)
    if found is not None:
        type_name, relation, message = found
        c.focus_relation(type_name, relation, c._types.get(type_name))
        c.add(message, c.relation_line_in_type(type_name, relation), relation, "relation-invalid",
              relation=relation, typeName=type_name)


def _check_one_module_per_file(c: _Collector, model: dict) -> None:
    """A modular model must map back to files: every part that names a file must agree on its module."""
    modules: dict[str, list[str]] = {}

    def note(metadata: dict | None) -> None:
        metadata = metadata or {}
        file = (metadata.get("source_info") or {}).get("file")
        module = metadata.get("module")
        if file and module and module not in modules.setdefault(file, []):
            modules[file].append(module)

    for td in model.get("type_definitions") or []:
        note(td.get("metadata"))
        for rel in ((td.get("metadata") or {}).get("relations") or {}).values():
            note(rel)
    for cond in (model.get("conditions") or {}).values():
        note((cond or {}).get("metadata"))
    saved = c.lines
    c.lines = None
    for file, names in modules.items():
        if len(names) > 1:
            c.add(
                f"file {file} would contain multiple module definitions ({', '.join(names)}) when transforming to"
                " DSL. Only one module can be defined per file.",
                None,
                file,
                "multiple-modules-in-file",
            )
    c.lines = saved


def _check_duplicate_parts(c: _Collector, td: dict, relation: str) -> None:
    rewrite = (td.get("relations") or {}).get(relation) or {}
    line = lambda: c.relation_line_in_type(td["type"], relation)  # noqa: E731
    for op in ("union", "intersection"):
        seen: set[str | None] = set()
        for child in (rewrite.get(op) or {}).get("child") or []:
            name = _def_name(child)
            if name and name in seen:
                c.add(
                    f"the partial relation definition `{name}` is a duplicate in the relation `{relation}`.",
                    line(),
                    name,
                    "duplicated-error",
                    relation=name,
                )
            seen.add(name)
    if "difference" in rewrite:
        base = _def_name(rewrite["difference"].get("base") or {})
        subtract = _def_name(rewrite["difference"].get("subtract") or {})
        if base and base == subtract:
            c.add(
                f"the partial relation definition `{base}` is a duplicate in the relation `{relation}`.",
                line(),
                base,
                "duplicated-error",
                relation=base,
            )


def collect_issues(
    model: dict,
    source: str | None = None,
    meta: dict[str, Any] | None = None,
    sources: dict[str, str] | None = None,
    rules: str = "language",
) -> list[ModelIssue]:
    """Every semantic issue of `model`.

    `rules="language"` applies OpenFGA's language tooling rules (what `fga` reports while editing, with the
    reference messages). `rules="server"` applies what an OpenFGA server enforces when a model is written:
    no length limits on names, duplicates and unused conditions allowed, but no computed-userset cycles.
    Positions are looked up in `source` (the DSL text) when given; for a modular model, in `sources`
    ({file name: text}) by each type's, relation's and condition's `source_info.file`.
    """
    if rules not in ("language", "server"):
        raise ValueError(f"rules must be 'language' or 'server', not {rules!r}")
    c = _Collector(
        source.split("\n") if source is not None else None,
        meta,
        {name: text.split("\n") for name, text in sources.items()} if sources is not None else None,
    )
    c.server = rules == "server"
    _check_names(c, model)
    version = model.get("schema_version")
    if not version:
        c.add("schema version required", 0, "", "schema-version-required")
        return c.issues
    if version in ("1.1", "1.2"):
        _check_model(c, model)
        if not c.server:
            _check_one_module_per_file(c, model)
    else:
        c.add(f"invalid schema {version}", c.schema_line(version), version, "invalid-schema")
    return c.issues


def validate_model(model: dict, source: str | None = None, *, rules: str = "language") -> None:
    """Raise ModelValidationError listing every semantic problem of `model` (a JSON authorization model dict).

    See `collect_issues` for `rules` ("language": the reference tooling's checks; "server": what an OpenFGA
    server refuses on model write, which is what the embedded engine should refuse).
    """
    issues = collect_issues(model, source, rules=rules)
    if issues:
        raise ModelValidationError(issues)
