"""Load an authorization model from DSL text or OpenFGA API JSON, validated."""

from __future__ import annotations

import json
from typing import Any

from .dsl import parse_dsl_with_errors
from .errors import ModelError, ModelIssue, ModelSyntaxError, ModelValidationError, Span
from .validate import collect_issues

__all__ = ["load_model", "parse_and_validate_dsl", "normalize_json_model"]

_REWRITES = ("this", "computedUserset", "tupleToUserset", "union", "intersection", "difference")


def _check_userset(userset: Any, where: str, depth: int = 0) -> None:
    """Each rewrite is exactly one known kind, recursively (bounded depth: input is untrusted)."""
    if depth > 64:
        raise ModelError(f"relation {where} is nested too deeply")
    kinds = [k for k in _REWRITES if isinstance(userset, dict) and k in userset]
    if not isinstance(userset, dict) or len(kinds) != 1:
        raise ModelError(f"relation {where} must have exactly one of {', '.join(_REWRITES)}: {userset!r}")
    body = userset[kinds[0]]
    if kinds[0] in ("union", "intersection"):
        children = (body or {}).get("child") if isinstance(body, dict) else None
        if not isinstance(children, list) or not children:
            raise ModelError(f"relation {where}: {kinds[0]} needs a non-empty child list")
        for child in children:
            _check_userset(child, where, depth + 1)
    elif kinds[0] == "difference":
        if not isinstance(body, dict) or "base" not in body or "subtract" not in body:
            raise ModelError(f"relation {where}: difference needs base and subtract")
        _check_userset(body["base"], where, depth + 1)
        _check_userset(body["subtract"], where, depth + 1)
    elif kinds[0] == "computedUserset":
        if not isinstance(body, dict) or not isinstance(body.get("relation"), str):
            raise ModelError(f"relation {where}: computedUserset needs a relation name")
    elif kinds[0] == "this" and not isinstance(body, dict):
        raise ModelError(f"relation {where}: this must be an object")
    elif kinds[0] == "tupleToUserset":
        ok = isinstance(body, dict) and all(
            isinstance(body.get(k), dict) and isinstance(body[k].get("relation"), str)
            for k in ("tupleset", "computedUserset")
        )
        if not ok:
            raise ModelError(f"relation {where}: tupleToUserset needs tupleset and computedUserset relations")


_PARAM_TYPE_NAMES = frozenset(
    "TYPE_NAME_" + t
    for t in ("ANY", "BOOL", "STRING", "INT", "UINT", "DOUBLE", "DURATION", "TIMESTAMP", "MAP", "LIST", "IPADDRESS")
)


def _optional(value: Any, kind: type | tuple[type, ...], what: str) -> None:
    if value is not None and not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        raise ModelError(f"{what} must be {'an object' if kind is dict else 'a ' + names}, not {value!r}")


def _check_origin(meta: dict, what: str) -> None:
    _optional(meta.get("module"), str, f"{what} module")
    _optional(meta.get("source_info"), dict, f"{what} source_info")
    _optional((meta.get("source_info") or {}).get("file"), str, f"{what} source_info.file")


def _check_type_metadata(type_name: str, meta: Any) -> None:
    """Metadata of a type: relation metadata with well-formed type restrictions (input is untrusted JSON)."""
    if meta is None:
        return
    _optional(meta.get("relations"), dict, f"metadata.relations of type '{type_name}'")
    _check_origin(meta, f"type '{type_name}'")
    for relation, rel_meta in (meta.get("relations") or {}).items():
        where = f"metadata of '{type_name}#{relation}'"
        if not isinstance(rel_meta, dict):
            raise ModelError(f"{where} must be an object, not {rel_meta!r}")
        _check_origin(rel_meta, where)
        refs = rel_meta.get("directly_related_user_types")
        _optional(refs, list, f"{where} directly_related_user_types")
        for ref in refs or []:
            if not isinstance(ref, dict) or not isinstance(ref.get("type"), str):
                raise ModelError(f"{where}: each type restriction needs a string 'type': {ref!r}")
            _optional(ref.get("relation"), str, f"{where}: restriction relation")
            _optional(ref.get("condition"), str, f"{where}: restriction condition")
            _optional(ref.get("wildcard"), dict, f"{where}: restriction wildcard")


def _check_param_type(ref: Any, where: str) -> None:
    type_name = ref.get("type_name") if isinstance(ref, dict) else None
    if not isinstance(type_name, str) or type_name not in _PARAM_TYPE_NAMES:
        raise ModelValidationError(
            [ModelIssue(f"unknown condition parameter type in {where}: {ref!r}", metadata={"errorType": "invalid-parameter-type"})]
        )
    generics = ref.get("generic_types")
    _optional(generics, list, f"{where} generic_types")
    for generic in generics or []:
        _check_param_type(generic, where)


def _check_condition(name: str, cond: Any) -> None:
    """A condition needs a CEL expression and typed parameters, as the server requires to compile it."""
    if not isinstance(cond, dict):
        raise ModelError(f"condition '{name}' must be an object, not {cond!r}")
    expression = cond.get("expression")
    if not isinstance(expression, str) or not expression.strip():
        raise ModelValidationError(
            [ModelIssue(f"condition '{name}' has no expression", metadata={"symbol": name, "errorType": "invalid-condition"})]
        )
    _optional(cond.get("name"), str, f"condition '{name}' name")
    params = cond.get("parameters")
    _optional(params, dict, f"condition '{name}' parameters")
    for param, ref in (params or {}).items():
        _check_param_type(ref, f"parameter '{param}' of condition '{name}'")
    _optional(cond.get("metadata"), dict, f"condition '{name}' metadata")
    _check_origin(cond.get("metadata") or {}, f"condition '{name}'")


def normalize_json_model(data: dict[str, Any]) -> dict[str, Any]:
    """The model part of an API payload: unwraps `authorization_model`, keeps `id` when present."""
    if not isinstance(data, dict):
        raise ModelError(f"a JSON authorization model must be an object, not {type(data).__name__}")
    if "authorization_model" in data and isinstance(data["authorization_model"], dict):
        data = data["authorization_model"]
    if not isinstance(data.get("type_definitions", []), (list, type(None))):
        raise ModelError("type_definitions must be a list")
    if not isinstance(data.get("conditions", {}), (dict, type(None))):
        raise ModelError("conditions must be an object")
    if data.get("schema_version") is not None and not isinstance(data["schema_version"], str):
        raise ModelError("schema_version must be a string")
    for td in data.get("type_definitions") or []:
        if not isinstance(td, dict) or not isinstance(td.get("type"), str):
            raise ModelError(f"each type definition needs a string 'type': {td!r}")
        for key in ("relations", "metadata"):
            if td.get(key) is not None and not isinstance(td[key], dict):
                raise ModelError(f"{key} of type '{td['type']}' must be an object")
        for name, rewrite in (td.get("relations") or {}).items():
            _check_userset(rewrite, f"'{td['type']}#{name}'")
        _check_type_metadata(td["type"], td.get("metadata"))
    for name, cond in (data.get("conditions") or {}).items():
        _check_condition(name, cond)
    return data


def parse_and_validate_dsl(text: str, rules: str = "language") -> dict[str, Any]:
    """Parse DSL text and validate it; raise ModelSyntaxError or ModelValidationError with positions."""
    result = parse_dsl_with_errors(text)
    if result.issues:
        raise ModelSyntaxError(result.issues)
    issues = collect_issues(result.model, text, rules=rules)
    if issues:
        raise ModelValidationError(issues)
    return result.model


def _conditions_consistent(model: dict) -> None:
    issues = []
    for key, cond in (model.get("conditions") or {}).items():
        name = (cond or {}).get("name")
        if name is not None and name != key:
            issues.append(
                ModelIssue(
                    f"condition key is `{key}` but nested name property is {name}",
                    metadata={"symbol": name, "errorType": "different-nested-condition-name"},
                )
            )
    if issues:
        raise ModelValidationError(issues)


def load_model(source: str | bytes | dict[str, Any], *, rules: str = "language") -> dict[str, Any]:
    """Accept DSL text, JSON text or a JSON dict (as OpenFGA's API takes it); validate; return the JSON model.

    `rules="language"` (default) validates as OpenFGA's language tooling does (the stricter editor checks);
    `rules="server"` accepts exactly what an OpenFGA server accepts on model write (use it in the engine).
    """
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ModelSyntaxError([ModelIssue(f"model text is not UTF-8: {exc.reason} at byte {exc.start}")]) from None
    if isinstance(source, str):
        stripped = source.lstrip()
        if stripped.startswith("{"):
            try:
                data = json.loads(source)
            except json.JSONDecodeError as exc:
                line, col = exc.lineno - 1, exc.colno - 1
                raise ModelSyntaxError(
                    [ModelIssue(f"invalid JSON: {exc.msg}", Span(line, line), Span(col, col + 1))]
                ) from None
        else:
            return parse_and_validate_dsl(source, rules)
    else:
        data = source
    model = normalize_json_model(data)
    _conditions_consistent(model)
    issues = collect_issues(model, rules=rules)
    if issues:
        raise ModelValidationError(issues)
    return model
