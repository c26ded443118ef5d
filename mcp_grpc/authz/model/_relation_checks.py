"""Per-relation checks: undefined types, relations and conditions, the rules of ``from``, repeated operands."""

from __future__ import annotations

import re

from ._positions import IssueCollector
from ._usersets import def_name, is_single, leaf_target, related_types, restriction_text

__all__ = ["check_duplicate_parts", "check_leaf"]


def check_leaf(c: IssueCollector, types: dict, conditions: dict, type_name: str, relation: str, leaf: dict) -> None:
    relations = types[type_name].get("relations") or {}
    if relation not in relations:
        return
    kind, target, tupleset = leaf_target(leaf)
    line = lambda: c.relation_line_in_type(type_name, relation)  # noqa: E731 (positions are computed lazily)
    if kind == "direct":
        refs = related_types(types, type_name, relation)
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
                text = restriction_text(ref)
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
        if "this" not in tupleset_def or not is_single(tupleset_def):
            _not_direct(c, line(), tupleset, type_name, relation)
            return
        refs = related_types(types, type_name, tupleset)
        from_types = [restriction_text(r) for r in refs]
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


def _not_direct(c: IssueCollector, line_index, tupleset: str, type_name: str, relation: str) -> None:
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


def check_duplicate_parts(c: IssueCollector, td: dict, relation: str) -> None:
    rewrite = (td.get("relations") or {}).get(relation) or {}
    line = lambda: c.relation_line_in_type(td["type"], relation)  # noqa: E731
    for op in ("union", "intersection"):
        seen: set[str | None] = set()
        for child in (rewrite.get(op) or {}).get("child") or []:
            name = def_name(child)
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
        base = def_name(rewrite["difference"].get("base") or {})
        subtract = def_name(rewrite["difference"].get("subtract") or {})
        if base and base == subtract:
            c.add(
                f"the partial relation definition `{base}` is a duplicate in the relation `{relation}`.",
                line(),
                base,
                "duplicated-error",
                relation=base,
            )
