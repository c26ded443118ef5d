"""Whether a relation can ever hold (an entrypoint, and no loop), and OpenFGA's server rule against cycles of
computed usersets."""

from __future__ import annotations

from ._positions import IssueCollector
from ._usersets import computed_refs, related_types, restriction_text

__all__ = ["check_cycles", "entry_or_loop"]


def entry_or_loop(types: dict, type_name: str, relation: str | None, rewrite: dict, visited: dict) -> tuple[bool, bool]:
    """(has an entrypoint, a loop was met): can any tuple ever make `type_name#relation` true through `rewrite`."""
    visited = {k: dict(v) for k, v in visited.items()}
    if not relation:
        return False, False
    visited.setdefault(type_name, {})[relation] = True
    relations = types[type_name].get("relations") or {}
    if relation not in relations:
        return False, False
    if "this" in rewrite:
        for ref in related_types(types, type_name, relation):
            rtype, rrel = ref.get("type"), ref.get("relation")
            if not rrel or ref.get("wildcard") is not None:
                return True, False
            target = (types.get(rtype, {}).get("relations") or {}).get(rrel)
            if target is None:
                return False, False
            if visited.get(rtype, {}).get(rrel):
                continue
            if entry_or_loop(types, rtype, rrel, target, visited)[0]:
                return True, False
        return False, False
    if "computedUserset" in rewrite:
        name = (rewrite["computedUserset"] or {}).get("relation")
        if not name or name not in relations:
            return False, False
        if visited[type_name].get(name):
            return False, True
        return entry_or_loop(types, type_name, name, relations[name], visited)
    if "tupleToUserset" in rewrite:
        ttu = rewrite["tupleToUserset"]
        tupleset = (ttu.get("tupleset") or {}).get("relation")
        computed = (ttu.get("computedUserset") or {}).get("relation")
        if not tupleset or not computed or tupleset not in relations:
            return False, False
        for ref in related_types(types, type_name, tupleset):
            assignable = restriction_text(ref)
            target = (types.get(assignable, {}).get("relations") or {}).get(computed)
            if target is None:
                continue
            if visited.get(assignable, {}).get(computed):
                continue
            if entry_or_loop(types, assignable, computed, target, visited)[0]:
                return True, False
        return False, False
    if "union" in rewrite:
        loop = False
        for child in rewrite["union"].get("child") or []:
            entry, child_loop = entry_or_loop(types, type_name, relation, child, visited)
            if entry:
                return True, False
            loop = loop or child_loop
        return False, loop
    if "intersection" in rewrite:
        for child in rewrite["intersection"].get("child") or []:
            entry, child_loop = entry_or_loop(types, type_name, relation, child, visited)
            if not entry:
                return False, child_loop
        return True, False
    if "difference" in rewrite:
        diff = rewrite["difference"]
        for part in ("base", "subtract"):
            entry, loop = entry_or_loop(types, type_name, relation, diff.get(part) or {}, visited)
            if not entry:
                return False, loop
        return True, False
    return False, False


def check_cycles(c: IssueCollector, type_defs: list[dict]) -> None:
    """OpenFGA's server refuses a relation that reads itself, or reaches a cycle, through computed usersets.

    Only the first offender is reported (as the server reports one), checking relations in name order.
    """
    for td in type_defs:
        type_name = td["type"]
        relations = td.get("relations") or {}
        edges = {name: computed_refs(rewrite, []) for name, rewrite in relations.items()}
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
