"""Semantic validation of authorization models, with OpenFGA's messages and positions.

Rules and their order follow OpenFGA's language tooling (the `openfga/language` validator), so that the
same model yields the same list of errors: names and reserved words first, then the schema version, then
undefined types/relations/conditions, then duplicates, then relations without an entrypoint, and finally
conditions that nothing uses. Positions are found by searching the model's source lines the way the
reference does (first `type X` line, then the first `define R` line after it).

`rules="server"` instead reproduces what an OpenFGA server refuses on model write (checked against
`fga model validate`): no name-length limits, duplicates and unused conditions allowed, computed-userset
cycles refused.

This module holds the order of the checks and the model-wide ones; the others are in ``_relation_checks`` (each
relation's references and repeats), ``_entrypoints`` (impossible relations, cycles), with ``_positions`` (issues
and where they are in the source) and ``_usersets`` (reading rewrites).
"""

from __future__ import annotations

from typing import Any

from mcp_grpc.authz.names import (
    RELATION_NAME_RULE,
    RESERVED_NAMES,
    TYPE_NAME_RULE,
    matches_relation_rule,
    matches_type_rule,
)

from ._entrypoints import check_cycles, entry_or_loop
from ._positions import IssueCollector
from ._relation_checks import check_duplicate_parts, check_leaf
from ._usersets import leaves, restriction_text
from .errors import ModelIssue, ModelValidationError
from .server_rules import first_server_error

__all__ = ["collect_issues", "validate_model"]


def _check_names(c: IssueCollector, model: dict) -> None:
    for td in model.get("type_definitions") or []:
        type_name = td.get("type", "")
        c.focus_type(type_name, td)
        if type_name in RESERVED_NAMES:
            c.add("a type cannot be named 'self' or 'this'.", c.type_line(type_name), type_name, "reserved-type-keywords")
        # OpenFGA's server checks the characters of names, not the length limits of the language tooling.
        if not matches_type_rule(type_name, limited=not c.server):
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
            elif not matches_relation_rule(relation, limited=not c.server):
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


def _check_model(c: IssueCollector, model: dict) -> None:
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
    c.types = types
    for td in types.values():
        for relation, rewrite in (td.get("relations") or {}).items():
            c.focus_relation(td["type"], relation, td)
            for leaf in leaves(rewrite):
                check_leaf(c, types, conditions, td["type"], relation, leaf)

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
                    text = restriction_text(ref)
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
                    check_duplicate_parts(c, td, relation)

    if not c.issues:
        for td in type_defs:
            type_name = td["type"]
            for relation, rewrite in (td.get("relations") or {}).items():
                c.focus_relation(type_name, relation, td)
                entry, loop = entry_or_loop(types, type_name, relation, rewrite, {})
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
            check_cycles(c, type_defs)
        if not c.issues:
            _check_server_rules(c, model, type_defs)
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


def _check_expressions_compile(c: IssueCollector, conditions: dict) -> None:
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


def _check_server_rules(c: IssueCollector, model: dict, type_defs: list[dict]) -> None:
    """The rest of OpenFGA's server-side checks (typesystem.NewAndValidate), ported in server_rules.py."""
    found = first_server_error(model)
    if found is not None:
        type_name, relation, message = found
        by_name = {td.get("type"): td for td in type_defs}
        c.focus_relation(type_name, relation, by_name.get(type_name))
        c.add(message, c.relation_line_in_type(type_name, relation), relation, "relation-invalid",
              relation=relation, typeName=type_name)


def _check_one_module_per_file(c: IssueCollector, model: dict) -> None:
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
    c = IssueCollector(
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
