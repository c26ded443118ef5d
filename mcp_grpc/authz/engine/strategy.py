"""Which check strategy OpenFGA takes for each relation, computed once per model.

OpenFGA's LocalChecker (openfga internal/graph/check.go, ``checkTTU`` and ``checkDirectUsersetTuples``) picks a
strategy per tuple-to-userset rewrite and per userset, for a given kind of user (a plain ``type:id``; a userset user
always takes the default strategy):

- **weight2** (``weight_two_resolver.go``), tried first: ``TTUUseWeight2Resolver`` / ``UsersetUseWeight2Resolver``
  in pkg/typesystem/typesystem.go;
- **recursive** (``recursive_resolver.go``): ``TTUUseRecursiveResolver`` / ``UsersetUseRecursiveResolver``. It
  walks the parents breadth first without dispatching, so it never reports a cycle: a cycle-flagged denial met
  under it is a plain denial;
- **default**: dispatch each tuple (our resolver), keeping the cycle flag.

Every predicate reads the weighted graph (:mod:`.weighted_graph`). When OpenFGA cannot build it (``typesystem.New``
ignores the builder's error) no fast strategy exists for the model: every relation takes the default strategy.

This module is the one place the choice is made; :class:`Strategies` answers it per
(object type, relation[, tupleset, computed relation], user type) from tables filled at model load.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import weighted_graph as wg

__all__ = ["Strategies", "DEFAULT", "WEIGHT2", "RECURSIVE"]

DEFAULT, WEIGHT2, RECURSIVE = "default", "weight2", "recursive"


class Strategies:
    """The strategy OpenFGA takes per relation and user type. Built once per model version."""

    __slots__ = ("graph", "ttu", "userset", "userset_weight2", "weight2_usersets", "user_types")

    def __init__(self, model: Mapping[str, Any]) -> None:
        self.graph = wg.build(model)
        self.ttu: dict[tuple[str, str, str, str, str], str] = {}
        """(object type, relation, tupleset, computed, user type) -> strategy."""
        self.userset: dict[tuple[str, str, str], str] = {}
        """(object type, relation, user type) -> RECURSIVE or DEFAULT for all its usersets at once."""
        self.userset_weight2: dict[tuple[str, str, str, str, str], bool] = {}
        """(object type, relation, user type, userset type, userset relation) -> weight2 applies."""
        self.weight2_usersets: dict[tuple[str, str, str], tuple[tuple[str, str], ...]] = {}
        """(object type, relation, user type) -> the userset types weight2 applies to, sorted (the resolver's
        per-call lookup: absent when there are none)."""
        self.user_types = tuple(sorted(td["type"] for td in model.get("type_definitions") or []))
        if self.graph is None:
            return
        for td in model.get("type_definitions") or []:
            tname = td["type"]
            meta = (td.get("metadata") or {}).get("relations") or {}
            for rname, rw in (td.get("relations") or {}).items():
                ttus = list(_ttus(rw))
                usersets = [(r["type"], r["relation"]) for r in
                            (meta.get(rname) or {}).get("directly_related_user_types") or [] if r.get("relation")]
                for ut in self.user_types:
                    for ts, cr in ttus:
                        if self.ttu_weight2(tname, rname, ut, ts, cr):
                            self.ttu[(tname, rname, ts, cr, ut)] = WEIGHT2
                        elif self.ttu_recursive(tname, rname, ut):
                            self.ttu[(tname, rname, ts, cr, ut)] = RECURSIVE
                    if usersets:
                        if self.userset_recursive(tname, rname, ut):
                            self.userset[(tname, rname, ut)] = RECURSIVE
                        else:
                            weight2 = {us for us in usersets if self.userset_w2(tname, rname, ut, us)}
                            for us in weight2:
                                self.userset_weight2[(tname, rname, ut) + us] = True
                            if weight2:
                                self.weight2_usersets[(tname, rname, ut)] = tuple(sorted(weight2))

    # --- lookups used by the resolver ------------------------------------------------------------------------------

    def for_ttu(self, otype: str, relation: str, tupleset: str, computed: str, user_type: str) -> str:
        return self.ttu.get((otype, relation, tupleset, computed, user_type), DEFAULT)

    def for_usersets(self, otype: str, relation: str, user_type: str) -> str:
        return self.userset.get((otype, relation, user_type), DEFAULT)

    def fast_userset_types(self, otype: str, relation: str) -> frozenset[str]:
        """User types whose usersets of ``otype#relation`` take the recursive or (for some userset type) the weight2
        strategy."""
        return frozenset(k[2] for k in (*self.userset, *self.weight2_usersets) if k[:2] == (otype, relation))

    # --- the predicates of pkg/typesystem/typesystem.go ------------------------------------------------------------

    def _node(self, label: str) -> wg.Node | None:
        return self.graph.nodes.get(label) if self.graph is not None else None

    def ttu_weight2(self, otype: str, relation: str, user_type: str, tupleset: str, computed: str) -> bool:
        """TTUUseWeight2Resolver."""
        node = self._node(f"{otype}#{relation}")
        if node is None or user_type not in node.weights:
            return False
        edges = self.graph.edges.get(node.id)
        if not edges:
            return False
        ts_label = f"{otype}#{tupleset}"
        found = []
        while not found:
            inner: list[wg.Edge] = []
            for e in edges:
                if e.kind == wg.REWRITE_EDGE:
                    sub = self.graph.edges.get(e.dst.id)
                    if not sub:
                        return False
                    inner.extend(sub)
                if e.kind == wg.TTU_EDGE and e.tupleset == ts_label and e.dst.id.endswith("#" + computed):
                    w = e.weights.get(user_type)
                    if w is not None:
                        if w > 2:
                            return False
                        found.append(e)
            if not inner:
                break
            edges = inner
        return bool(found)

    def userset_w2(self, otype: str, relation: str, user_type: str, userset: tuple[str, str]) -> bool:
        """UsersetUseWeight2Resolver."""
        node = self._node(f"{otype}#{relation}")
        if node is None or node.tuple_cycle or node.recursive_relation:
            return False
        us = self._node(f"{userset[0]}#{userset[1]}")
        return us is not None and us.weights.get(user_type) == 1

    def _recursive(self, otype: str, relation: str, user_type: str, self_edge: int, logical_edge: int) -> bool:
        """TTUUseRecursiveResolver (self_edge TTU_EDGE) and UsersetUseRecursiveResolver (DIRECT_EDGE)."""
        label = f"{otype}#{relation}"
        node = self._node(label)
        if node is None or node.weights.get(user_type) != wg.INFINITE:
            return False
        if node.recursive_relation != label or node.tuple_cycle:
            return False
        edges = self.graph.edges.get(node.id)
        if not edges:
            return False
        found = False
        while edges:
            inner: list[wg.Edge] = []
            for e in edges:
                w = e.weights.get(user_type)
                if w is None:
                    continue
                if e.recursive_relation == label:
                    if e.kind == self_edge and e.dst is node and not found:
                        found = True
                        continue
                    if e.kind in (wg.REWRITE_EDGE, logical_edge):
                        sub = self.graph.edges.get(e.dst.id)
                        if sub is None:
                            return False
                        inner.extend(sub)
                        continue
                if w > 1:
                    return False
            if not inner:
                break
            edges = inner
        return found

    def ttu_recursive(self, otype: str, relation: str, user_type: str) -> bool:
        return self._recursive(otype, relation, user_type, wg.TTU_EDGE, wg.TTU_LOGICAL_EDGE)

    def userset_recursive(self, otype: str, relation: str, user_type: str) -> bool:
        return self._recursive(otype, relation, user_type, wg.DIRECT_EDGE, wg.DIRECT_LOGICAL_EDGE)


def _ttus(rw: Mapping[str, Any]):
    if "tupleToUserset" in rw:
        t = rw["tupleToUserset"]
        yield t["tupleset"]["relation"], t["computedUserset"]["relation"]
    for key in ("union", "intersection"):
        if key in rw:
            for child in rw[key].get("child") or []:
                yield from _ttus(child)
    if "difference" in rw:
        yield from _ttus(rw["difference"]["base"])
        yield from _ttus(rw["difference"]["subtract"])
