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
    if not isinstance(ref, dict) or not isinstance(ref.get("type_name"), str):
        raise ModelError(f"condition parameter type must be an object with a type_name: {ref!r}")
    name = ref["type_name"].removeprefix("TYPE_NAME_").lower()
    generics = ref.get("generic_types") or []
    if generics:
        name += "<" + ", ".join(_param_type(g) for g in generics) + ">"
    return name


def _origin(metadata: dict | None) -> tuple[str, str]:
    metadata = metadata or {}
    return metadata.get("module") or "", (metadata.get("source_info") or {}).get("file") or ""


def _origin_comment(metadata: dict | None, prefix: str = "") -> str:
    module, file = _origin(metadata)
    return f" # {prefix}module: {module}, file: {file}" if module or file else ""


def to_dsl(model: dict[str, Any], include_source_info: bool = False) -> str:
    """Render a JSON authorization model (a dict, optionally wrapped in `authorization_model`) as DSL text.

    A modular (1.2) model is written as one combined file, ordered by module and file as `fga model transform`
    orders it; `include_source_info` adds `# module: ..., file: ...` comments saying where each part came from.
    """
    if "authorization_model" in model and isinstance(model["authorization_model"], dict):
        model = model["authorization_model"]
    type_defs = list(model.get("type_definitions") or [])
    modular = any(_origin(td.get("metadata"))[0] for td in type_defs)
    if modular:
        type_defs.sort(key=lambda td: (*_origin(td.get("metadata")), td.get("type", "")))
    out = ["model", f"  schema {model.get('schema_version', '1.1')}"]
    for td in type_defs:
        type_name = td.get("type", "")
        type_meta = td.get("metadata") or {}
        out.append("")
        out.append(f"type {type_name}" + (_origin_comment(type_meta) if include_source_info else ""))
        relations = td.get("relations") or {}
        if relations:
            out.append("  relations")
            meta = type_meta.get("relations") or {}
            # Relations by name, as `fga model transform` writes them (the API's relations are a map).
            names = sorted(relations)
            if modular:
                own = sorted(n for n in names if not _origin(meta.get(n))[0])
                extended = sorted((n for n in names if _origin(meta.get(n))[0]), key=lambda n: (*_origin(meta.get(n)), n))
                names = own + extended
            for relation in names:
                userset = _front_direct(relations[relation], type_name, relation, True)
                related = (meta.get(relation) or {}).get("directly_related_user_types") or []
                line = f"    define {relation}: {_userset(userset, related, type_name, relation, False)}"
                if include_source_info and _origin(meta.get(relation))[0]:
                    line += _origin_comment(meta.get(relation), "extended by: ")
                out.append(line)
    conditions = model.get("conditions") or {}
    if modular:
        order = sorted(conditions, key=lambda n: (*_origin((conditions[n] or {}).get("metadata")), n))
    else:
        order = sorted(conditions)
    for name in order:
        cond = conditions[name] or {}
        params = cond.get("parameters") or {}
        signature = ", ".join(f"{p}: {_param_type(params[p])}" for p in sorted(params))
        out.append("")
        out.append(f"condition {cond.get('name') or name}({signature}) {{")
        out.append(f"  {cond.get('expression', '')}")
        out.append("}" + (_origin_comment(cond.get("metadata")) if include_source_info else ""))
    return "\n".join(out) + "\n"
