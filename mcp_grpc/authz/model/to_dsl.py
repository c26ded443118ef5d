"""JSON authorization model to DSL text, formatted as OpenFGA's `fga model transform` writes it."""

from __future__ import annotations

from typing import Any

from .errors import ModelError

__all__ = ["to_dsl"]

_OPERATORS = (("union", " or "), ("intersection", " and "))


def _restriction(ref: dict) -> str:
    text = ref.get("type", "")
    if ref.get("wildcard") is not None:
        text += ":*"
    elif ref.get("relation"):
        text += "#" + ref["relation"]
    if ref.get("condition"):
        text += " with " + ref["condition"]
    return text


def _userset(userset: dict, related: list[dict], type_name: str, relation: str, nested: bool) -> str:
    if "this" in userset:
        return "[" + ", ".join(_restriction(r) for r in related) + "]"
    if "computedUserset" in userset:
        return (userset["computedUserset"] or {}).get("relation", "")
    if "tupleToUserset" in userset:
        ttu = userset["tupleToUserset"]
        computed = (ttu.get("computedUserset") or {}).get("relation", "")
        tupleset = (ttu.get("tupleset") or {}).get("relation", "")
        return f"{computed} from {tupleset}"
    for key, joiner in _OPERATORS:
        if key in userset:
            children = (userset[key] or {}).get("child") or []
            text = joiner.join(_userset(c, related, type_name, relation, True) for c in children)
            return f"({text})" if nested and len(children) > 1 else text
    if "difference" in userset:
        diff = userset["difference"] or {}
        base = _userset(diff.get("base") or {}, related, type_name, relation, True)
        subtract = _userset(diff.get("subtract") or {}, related, type_name, relation, True)
        text = f"{base} but not {subtract}"
        return f"({text})" if nested else text
    raise ModelError(f"relation '{type_name}#{relation}' has an empty or unknown rewrite: {userset!r}")


def _front_direct(userset: dict, type_name: str, relation: str, leftmost: bool) -> dict:
    """Check that `this` appears only where the DSL can write it, moving it first in a union/intersection.

    The DSL writes a direct assignment `[...]` only as the first operand of a definition (at any depth along the
    first operands); union and intersection are commutative, so a `this` elsewhere among their children moves
    to the front.
    """
    if "this" in userset:
        if not leftmost:
            raise ModelError(
                f"the '{relation}' relation definition under the '{type_name}' type is not supported by the"
                " OpenFGA DSL syntax yet"
            )
        return userset
    for key in ("union", "intersection"):
        if key in userset:
            children = list((userset[key] or {}).get("child") or [])
            direct = [c for c in children if "this" in c]
            if direct and leftmost:
                children = direct[:1] + [c for c in children if c is not direct[0]]
            out = [_front_direct(c, type_name, relation, leftmost and i == 0) for i, c in enumerate(children)]
            return {key: {"child": out}}
    if "difference" in userset:
        diff = userset["difference"] or {}
        return {
            "difference": {
                "base": _front_direct(diff.get("base") or {}, type_name, relation, leftmost),
                "subtract": _front_direct(diff.get("subtract") or {}, type_name, relation, False),
            }
        }
    return userset


def _param_type(ref: dict) -> str:
    name = ref.get("type_name", "").removeprefix("TYPE_NAME_").lower()
    generics = ref.get("generic_types") or []
    if generics:
        name += "<" + ", ".join(_param_type(g) for g in generics) + ">"
    return name


def to_dsl(model: dict[str, Any]) -> str:
    """Render a JSON authorization model (a dict, optionally wrapped in `authorization_model`) as DSL text."""
    if "authorization_model" in model and isinstance(model["authorization_model"], dict):
        model = model["authorization_model"]
    out = ["model", f"  schema {model.get('schema_version', '1.1')}"]
    for td in model.get("type_definitions") or []:
        type_name = td.get("type", "")
        out.append("")
        out.append(f"type {type_name}")
        relations = td.get("relations") or {}
        if relations:
            out.append("  relations")
            meta = ((td.get("metadata") or {}).get("relations")) or {}
            for relation, userset in relations.items():
                related = (meta.get(relation) or {}).get("directly_related_user_types") or []
                userset = _front_direct(userset, type_name, relation, True)
                out.append(f"    define {relation}: {_userset(userset, related, type_name, relation, False)}")
    conditions = model.get("conditions") or {}
    for name in sorted(conditions):
        cond = conditions[name] or {}
        params = cond.get("parameters") or {}
        signature = ", ".join(f"{p}: {_param_type(params[p])}" for p in sorted(params))
        out.append("")
        out.append(f"condition {cond.get('name') or name}({signature}) {{")
        out.append(f"  {cond.get('expression', '')}")
        out.append("}")
    return "\n".join(out) + "\n"
