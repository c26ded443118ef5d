"""Reading a relation's rewrite (its userset tree) and its type restrictions, for the model checks."""

from __future__ import annotations

from typing import Iterable

__all__ = [
    "computed_refs",
    "def_name",
    "is_single",
    "leaf_target",
    "leaves",
    "related_types",
    "restriction_text",
]


def restriction_text(ref: dict) -> str:
    text = ref.get("type", "")
    if ref.get("wildcard") is not None:
        text += ":*"
    elif ref.get("relation"):
        text += "#" + ref["relation"]
    return text


def leaf_target(userset: dict) -> tuple[str, str | None, str | None]:
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


def def_name(userset: dict) -> str | None:
    kind, target, tupleset = leaf_target(userset)
    if kind == "computed":
        return target
    if kind == "ttu":
        return f"{target} from {tupleset}"
    return None


def is_single(userset: dict) -> bool:
    return not any(k in userset for k in ("union", "intersection", "difference"))


def leaves(userset: dict) -> Iterable[dict]:
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


def related_types(types: dict, type_name: str, relation: str) -> list[dict]:
    meta = (types[type_name].get("metadata") or {}).get("relations") or {}
    return (meta.get(relation) or {}).get("directly_related_user_types") or []


def computed_refs(userset: dict, out: list[str]) -> list[str]:
    """Relations of the same type that `userset` reads through computed usersets (not through `from`)."""
    if "computedUserset" in userset:
        out.append((userset["computedUserset"] or {}).get("relation", ""))
    for key in ("union", "intersection"):
        for child in (userset.get(key) or {}).get("child") or []:
            computed_refs(child, out)
    if "difference" in userset:
        computed_refs(userset["difference"].get("base") or {}, out)
        computed_refs(userset["difference"].get("subtract") or {}, out)
    return out
