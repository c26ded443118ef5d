"""Which edges OpenFGA's ListObjects follows when it walks back from the user (reverse expansion), and whether
ListUsers has anything to expand at all (both read ``GetPrunedRelationshipEdges`` in openfga internal/graph/graph.go).

OpenFGA looks for candidate edges through every operand of a union, only the first operand of an intersection and
only the base of an exclusion (the other operands cannot add an object the first does not also reach; the
candidate's Check decides the rest). So a tuple reached only through a second intersection operand or a subtracted
relation is never read, and a condition it cannot evaluate does not fail the list.

``candidate_edges(ts)`` is computed once per model version: per ``type#relation`` the leaves it follows,
``("this",)``, ``("computed", relation)`` and ``("ttu", tupleset, relation)``, and the nodes each target can reach
through them.
"""

from __future__ import annotations

import weakref
from typing import Any

from .typesystem import COMPUTED, DIFFERENCE, INTERSECTION, THIS, TTU, UNION, TypeSystem

__all__ = ["CandidateEdges", "candidate_edges"]

_CACHE: "weakref.WeakKeyDictionary[TypeSystem, CandidateEdges]" = weakref.WeakKeyDictionary()


def _leaves(rw: tuple, out: set) -> set:
    kind = rw[0]
    if kind == THIS:
        out.add(("this",))
    elif kind == COMPUTED:
        out.add(("computed", rw[1]))
    elif kind == TTU:
        out.add(("ttu", rw[1], rw[2]))
    elif kind == UNION:
        for child in rw[1]:
            _leaves(child, out)
    elif kind == INTERSECTION:
        _leaves(rw[1][0], out)
    elif kind == DIFFERENCE:
        _leaves(rw[1], out)
    return out


class CandidateEdges:
    def __init__(self, ts: TypeSystem) -> None:
        self.ts = ts
        self.leaves: dict[tuple[str, str], frozenset] = {}
        for tname, rels in ts.rewrites.items():
            for rname, rw in rels.items():
                self.leaves[(tname, rname)] = frozenset(_leaves(rw, set()))
        self._relevant: dict[tuple[str, str], frozenset] = {}

    def follows(self, node: tuple[str, str], leaf: tuple) -> bool:
        return leaf in self.leaves.get(node, ())

    def relevant(self, object_type: str, relation: str) -> frozenset:
        """Nodes from which the walk may reach ``object_type#relation`` along candidate edges."""
        key = (object_type, relation)
        hit = self._relevant.get(key)
        if hit is not None:
            return hit
        ts = self.ts
        seen: set[tuple[str, str]] = set()
        stack = [key]
        while stack:
            node = stack.pop()
            if node in seen or node not in self.leaves:
                continue
            seen.add(node)
            for leaf in self.leaves[node]:
                if leaf[0] == "this":
                    stack.extend(ts.direct_usersets(*node))
                elif leaf[0] == "computed":
                    stack.append((node[0], leaf[1]))
                else:
                    stack.extend((ptype, leaf[2]) for ptype in ts.direct_plain_types(node[0], leaf[1]))
        hit = self._relevant[key] = frozenset(seen)
        return hit

    def has_possible_edges(self, object_type: str, relation: str, user_type: str, user_relation: str | None) -> bool:
        """OpenFGA's ListUsers shortcut (``doesHavePossibleEdges`` in pkg/server/commands/listusers/
        list_users_rpc.go, over ``GetPrunedRelationshipEdges`` in internal/graph/graph.go): does any candidate edge
        lead from ``user_type[#user_relation]`` to ``object_type#relation``? When none does, ListUsers answers an
        empty list without reading a tuple (so a condition it cannot evaluate on the object fails nothing).

        An edge is a direct restriction equal to the filter (``RelationEquals``: the type, and the relation or its
        absence; conditions do not matter) or the filter type's public wildcard (``IsPubliclyAssignable`` looks at
        the type only, even for a userset filter), on any node the pruned walk visits; or a computed userset or
        tuple-to-userset hop onto ``user_type#user_relation``, which is exactly that node being visited."""
        start = (object_type, relation)
        nodes = self.relevant(object_type, relation)
        if user_relation is not None and (user_type, user_relation) in nodes and (user_type, user_relation) != start:
            return True
        ts = self.ts
        for node in nodes:
            if user_type in ts.direct_wildcard_types(*node):
                return True
            if user_relation is None and user_type in ts.direct_plain_types(*node):
                return True
        return False


def candidate_edges(ts: TypeSystem) -> CandidateEdges:
    found = _CACHE.get(ts)
    if found is None:
        found = _CACHE[ts] = CandidateEdges(ts)
    return found


