"""OpenFGA's weighted authorization-model graph, which decides which check strategies OpenFGA may use.

A port of the builder and weight assignment in openfga/language ``pkg/go/graph`` (v0.3.2:
``weighted_graph_builder.go``, ``weighted_graph.go``), kept to what the strategy choice reads: per node and per edge
the weight for each terminal type (1 = a direct tuple, 2 = one userset/tuple-to-userset hop, ..., ``INFINITE`` =
recursive), the ``recursive_relation`` label and the ``tuple_cycle`` flag.

``build(model)`` returns the graph, or ``None`` when the builder fails. OpenFGA's ``typesystem.New`` ignores that
error and leaves the weighted graph nil, which switches every fast strategy off for the whole model (so a model that
builds here behaves differently from one that does not, even on relations far from the failure). It fails when an
intersection or exclusion sits on a tuple cycle (``ErrContrainstTupleCycle``), on a model cycle, when an exclusion
ends up with other than two edges (``X from p but not X from p`` with one parent type: the second TTU edge is
deduplicated), when a tuple-to-userset names a relation one of its parent types lacks, and when an intersection's
operands share no terminal type.

Node and edge visiting order follows the builder's insertion order (types and relations sorted by name). OpenFGA
iterates a Go map there, so its order is random; the results this module is used for do not depend on it for the
models we have compared.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["INFINITE", "WeightedGraph", "Node", "Edge", "build", "GraphBuildError",
           "SPECIFIC_TYPE", "SPECIFIC_TYPE_AND_RELATION", "OPERATOR", "WILDCARD", "LOGICAL_DIRECT", "LOGICAL_TTU",
           "DIRECT_EDGE", "REWRITE_EDGE", "TTU_EDGE", "COMPUTED_EDGE", "DIRECT_LOGICAL_EDGE", "TTU_LOGICAL_EDGE"]

INFINITE = 2**31 - 1

SPECIFIC_TYPE, SPECIFIC_TYPE_AND_RELATION, OPERATOR, WILDCARD, LOGICAL_DIRECT, LOGICAL_TTU = range(6)
DIRECT_EDGE, REWRITE_EDGE, TTU_EDGE, COMPUTED_EDGE, DIRECT_LOGICAL_EDGE, TTU_LOGICAL_EDGE = range(6)
UNION, INTERSECTION, EXCLUSION = "union", "intersection", "exclusion"


class GraphBuildError(Exception):
    """The builder's error (OpenFGA discards it and runs without the weighted graph)."""


class Node:
    __slots__ = ("id", "label", "kind", "weights", "recursive_relation", "tuple_cycle")

    def __init__(self, uid: str, label: str, kind: int) -> None:
        self.id = uid
        self.label = label
        self.kind = kind
        self.weights: dict[str, int] = {}
        self.recursive_relation = ""
        self.tuple_cycle = False

    def __repr__(self) -> str:
        return f"Node({self.id}, {self.weights}, rec={self.recursive_relation!r}, tc={self.tuple_cycle})"


class Edge:
    __slots__ = ("src", "dst", "kind", "tupleset", "weights", "recursive_relation", "tuple_cycle")

    def __init__(self, src: Node, dst: Node, kind: int, tupleset: str = "") -> None:
        self.src = src
        self.dst = dst
        self.kind = kind
        self.tupleset = tupleset
        self.weights: dict[str, int] = {}
        self.recursive_relation = ""
        self.tuple_cycle = False

    def __repr__(self) -> str:
        return f"Edge({self.src.id} -> {self.dst.id}, kind={self.kind}, {self.weights})"


class WeightedGraph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: dict[str, list[Edge]] = {}

    def node(self, uid: str, label: str, kind: int) -> Node:
        n = self.nodes.get(uid)
        if n is None:
            n = self.nodes[uid] = Node(uid, label, kind)
        return n

    def add_edge(self, src: Node, dst: Node, kind: int, tupleset: str = "") -> None:
        self.edges.setdefault(src.id, []).append(Edge(src, dst, kind, tupleset))

    def has_edge(self, src: Node, dst: Node, kind: int, tupleset: str) -> bool:
        return any(e.dst.id == dst.id and e.kind == kind and e.tupleset == tupleset
                   for e in self.edges.get(src.id, ()))

    def upsert_edge(self, src: Node, dst: Node, kind: int, tupleset: str = "") -> None:
        # conditions are merged onto one edge; the strategy choice never reads them
        if not self.has_edge(src, dst, kind, tupleset):
            self.add_edge(src, dst, kind, tupleset)

    def out(self, node: Node) -> list[Edge]:
        return self.edges.get(node.id, [])


# --- building (weighted_graph_builder.go) ----------------------------------------------------------------------------

def build(model: Mapping[str, Any]) -> WeightedGraph | None:
    """The weighted graph of a JSON model, or None when OpenFGA's builder fails on it."""
    try:
        return _build(model)
    except GraphBuildError:
        return None


def _build(model: Mapping[str, Any]) -> WeightedGraph:
    g = WeightedGraph()
    tds = sorted(model.get("type_definitions") or [], key=lambda td: td["type"])
    relations_of = {td["type"]: (td.get("relations") or {}) for td in tds}
    for td in tds:
        tname = td["type"]
        g.node(tname, tname, SPECIFIC_TYPE)
        for rname in sorted(td.get("relations") or {}):
            label = f"{tname}#{rname}"
            parent = g.node(label, label, SPECIFIC_TYPE_AND_RELATION)
            counter = [0]
            _parse(g, parent, relations_of, td["relations"][rname], td, rname, counter)
    _assign_weights(g)
    return g


def _metadata(td: Mapping[str, Any], relation: str) -> Mapping[str, Any] | None:
    return ((td.get("metadata") or {}).get("relations") or {}).get(relation)


def _parse(g: WeightedGraph, parent: Node, relations_of: Mapping[str, Mapping[str, Any]], rw: Mapping[str, Any],
           td: Mapping[str, Any], relation: str, counter: list[int]) -> None:
    tname = td["type"]
    rel_label = f"{tname}#{relation}"
    if "this" in rw:
        _parse_this(g, parent, td, relation, rel_label)
        return
    if "computedUserset" in rw:
        target = f"{tname}#{rw['computedUserset']['relation']}"
        dst = g.node(target, target, SPECIFIC_TYPE_AND_RELATION)
        kind = COMPUTED_EDGE if parent.kind == SPECIFIC_TYPE_AND_RELATION else REWRITE_EDGE
        g.add_edge(parent, dst, kind)
        return
    if "tupleToUserset" in rw:
        _parse_ttu(g, parent, relations_of, td, rw["tupleToUserset"])
        return
    if "union" in rw:
        op, children = UNION, list(rw["union"].get("child") or [])
    elif "intersection" in rw:
        op, children = INTERSECTION, list(rw["intersection"].get("child") or [])
    elif "difference" in rw:
        op, children = EXCLUSION, [rw["difference"]["base"], rw["difference"]["subtract"]]
    else:
        raise GraphBuildError(f"{rel_label}: unknown rewrite")
    uid = f"{rel_label}:{op}:{counter[0]}"
    counter[0] += 1
    op_node = g.node(uid, op, OPERATOR)
    g.add_edge(parent, op_node, REWRITE_EDGE)
    for child in children:
        _parse(g, op_node, relations_of, child, td, relation, counter)


def _parse_this(g: WeightedGraph, parent: Node, td: Mapping[str, Any], relation: str, rel_label: str) -> None:
    meta = _metadata(td, relation)
    refs = list((meta or {}).get("directly_related_user_types") or [])
    node = parent
    if parent.kind != SPECIFIC_TYPE_AND_RELATION and len(refs) > 1:
        uid = f"{td['type']}#direct:{relation}"
        logical = g.node(uid, uid, LOGICAL_DIRECT)
        g.add_edge(parent, logical, DIRECT_LOGICAL_EDGE)
        node = logical
    if rel_label not in g.nodes:
        raise GraphBuildError(f"parent relation node {rel_label} not found")
    for ref in refs:
        rtype = ref.get("type") or ""
        if not rtype or ":" in rtype or "#" in rtype:
            continue
        if "wildcard" in ref:
            label, kind = rtype + ":*", WILDCARD
        elif ref.get("relation"):
            label, kind = f"{rtype}#{ref['relation']}", SPECIFIC_TYPE_AND_RELATION
        else:
            label, kind = rtype, SPECIFIC_TYPE
        g.upsert_edge(node, g.node(label, label, kind), DIRECT_EDGE)


def _parse_ttu(g: WeightedGraph, parent: Node, relations_of: Mapping[str, Mapping[str, Any]],
               td: Mapping[str, Any], ttu: Mapping[str, Any]) -> None:
    tupleset = ttu["tupleset"]["relation"]
    computed = ttu["computedUserset"]["relation"]
    meta = _metadata(td, tupleset)
    if meta is None:
        raise GraphBuildError(f"{tupleset} invalid tupleset relation")
    refs = list(meta.get("directly_related_user_types") or [])
    if not refs:
        raise GraphBuildError(f"no type for tupleset relation {tupleset}")
    tupleset_label = f"{td['type']}#{tupleset}"
    node = parent
    if parent.kind != SPECIFIC_TYPE_AND_RELATION and len(refs) > 1:
        uid = f"{td['type']}#ttu:{tupleset}#{computed}"
        logical = g.node(uid, uid, LOGICAL_TTU)
        g.add_edge(parent, logical, TTU_LOGICAL_EDGE, tupleset_label)
        node = logical
    for ref in refs:
        ptype = ref.get("type") or ""
        if computed not in relations_of.get(ptype, {}):
            raise GraphBuildError(f"{ptype} type does not have defined {computed} relation")
        label = f"{ptype}#{computed}"
        dst = g.node(label, label, SPECIFIC_TYPE_AND_RELATION)
        if g.has_edge(node, dst, TTU_EDGE, tupleset_label):
            continue  # deduplicated: `X from p but not X from p` leaves the exclusion one edge
        g.upsert_edge(node, dst, TTU_EDGE, tupleset_label)


# --- weights (weighted_graph.go: AssignWeights and what it calls) ----------------------------------------------------

def _is_logical(node: Node) -> bool:
    return node.kind in (OPERATOR, LOGICAL_TTU, LOGICAL_DIRECT)


def _is_logical_union(node: Node) -> bool:
    return (node.kind == OPERATOR and node.label == UNION) or node.kind in (LOGICAL_TTU, LOGICAL_DIRECT)


class _Weigher:
    def __init__(self, g: WeightedGraph) -> None:
        self.g = g
        self.visited: set[str] = set()
        self.deps: dict[str, list[Edge]] = {}

    def run(self) -> None:
        for uid, node in list(self.g.nodes.items()):
            if _is_logical(node) or uid in self.visited:
                continue
            cycles = self.node_weight(uid, [])
            if cycles:
                raise GraphBuildError(f"{len(cycles)} tuple cycles found without resolution")

    def node_weight(self, uid: str, ancestors: list[Edge]) -> list[str]:
        if uid in self.visited:
            return []
        node = self.g.nodes[uid]
        if node.kind in (SPECIFIC_TYPE, WILDCARD):
            return []
        self.visited.add(uid)
        cycles: list[str] = []
        for edge in self.g.edges.get(uid, []):
            if edge.weights:
                continue
            if edge.dst.kind in (SPECIFIC_TYPE, WILDCARD):
                key = edge.dst.id[:-2] if edge.dst.kind == WILDCARD else edge.dst.id
                edge.weights = {key: 1}
                continue
            cycles.extend(self.edge_weight(edge, ancestors))
        return self.from_edges(uid, cycles)

    def edge_weight(self, edge: Edge, ancestors: list[Edge]) -> list[str]:
        deps = self.deps
        if edge.src.id == edge.dst.id:
            edge.weights = {"R#" + edge.dst.id: INFINITE}
            deps.setdefault(edge.dst.id, []).append(edge)
            _mark_recursive([edge], edge.src.id)
            return [edge.src.id]
        path = ancestors + [edge]
        cycle = self.node_weight(edge.dst.id, path)
        if not edge.dst.weights:
            if _is_tuple_cycle(edge.dst.id, path):
                edge.weights = {"R#" + edge.dst.id: INFINITE}
                deps.setdefault(edge.dst.id, []).append(edge)
                return cycle + [edge.dst.id]
            raise GraphBuildError("model cycle")
        in_cycle = len(cycle) > 0
        for nid in cycle:
            deps.setdefault(nid, []).append(edge)
        weights = {}
        for key, value in edge.dst.weights.items():
            if not in_cycle and key.startswith("R#"):
                dep = key[2:]
                deps.setdefault(dep, []).append(edge)
                cycle = cycle + [dep]
            weights[key] = value
        if edge.kind in (TTU_EDGE, DIRECT_EDGE):
            weights = {k: (v if v == INFINITE else v + 1) for k, v in weights.items()}
        edge.weights = weights
        return cycle

    def from_edges(self, uid: str, cycles: list[str]) -> list[str]:
        node = self.g.nodes[uid]
        if not cycles:
            if node.kind != OPERATOR or node.label == UNION:
                self.max_strategy(uid)
            elif node.label == INTERSECTION:
                self.enforce_strategy(uid)
            else:
                self.mixed_strategy(uid)
            return cycles
        if node.kind == SPECIFIC_TYPE_AND_RELATION and uid in cycles:
            self.fix_dependencies(uid, cycles)
            return [c for c in cycles if c != uid]
        if not _is_logical(node):
            self.max_strategy(uid)
            return cycles
        if _is_logical_union(node):
            if uid in cycles:
                self.fix_dependencies(uid, cycles)
                return [c for c in cycles if c != uid]
            self.max_strategy(uid)
            return cycles
        raise GraphBuildError("operands AND or BUT NOT cannot be involved in a cycle")

    def _edges_or_fail(self, uid: str) -> list[Edge]:
        edges = self.g.edges.get(uid, [])
        if not edges:
            raise GraphBuildError(f"{uid} node does not have any terminal type to reach to")
        return edges

    def max_strategy(self, uid: str) -> None:
        weights: dict[str, int] = {}
        for edge in self._edges_or_fail(uid):
            for k, v in edge.weights.items():
                weights[k] = max(weights.get(k, v), v)
        self.g.nodes[uid].weights = weights

    def mixed_strategy(self, uid: str) -> None:
        edges = self._edges_or_fail(uid)
        if len(edges) != 2:
            raise GraphBuildError(f"invalid number of edges for exclusion node {uid}")
        weights = dict(edges[0].weights)
        for k, v in edges[1].weights.items():
            if k in weights:
                weights[k] = max(weights[k], v)
        self.g.nodes[uid].weights = weights

    def enforce_strategy(self, uid: str) -> None:
        edges = self._edges_or_fail(uid)
        weights = dict(edges[0].weights)
        for edge in edges[1:]:
            for k in list(weights):
                if k in edge.weights:
                    weights[k] = max(edge.weights[k], weights[k])
                else:
                    del weights[k]
        self.g.nodes[uid].weights = weights
        if not weights:
            raise GraphBuildError(f"not all paths return the same type for the node {uid}")

    def fix_dependencies(self, uid: str, cycles: list[str]) -> None:
        node = self.g.nodes[uid]
        ref = "R#" + uid
        if node.kind != SPECIFIC_TYPE_AND_RELATION and not _is_logical_union(node):
            raise GraphBuildError(f"invalid reference node {uid}")
        edges = self._edges_or_fail(uid)
        branches = sum(1 for c in cycles if c == uid)
        references: list[str] = []
        weights: dict[str, int] = {}
        for edge in edges:
            for key in edge.weights:
                if key == ref:
                    continue
                if key.startswith("R#"):
                    references.append(key)
                weights[key] = INFINITE
        node.weights = weights
        deps = self.deps
        tuple_cycle = node.tuple_cycle
        # fixDependantEdgesWeight
        for edge in list(deps.get(uid, [])):
            new: dict[str, int] = {}
            for k1, v1 in edge.weights.items():
                if k1 == ref:
                    for k2, v2 in node.weights.items():
                        if k2 not in new:
                            new[k2] = v2
                            if references and k2.startswith("R#"):
                                deps.setdefault(k2[2:], []).append(edge)
                        else:
                            new[k2] = max(new[k2], v2)
                else:
                    new[k1] = max(new.get(k1, v1), v1)
            edge.weights = new
            if tuple_cycle:
                edge.tuple_cycle = True
        # fixDependantNodesWeight
        for edge in list(deps.get(uid, [])):
            src = self.g.nodes[edge.src.id]
            new = {}
            for k1, v1 in src.weights.items():
                if k1 == ref:
                    for k2, v2 in node.weights.items():
                        new[k2] = max(new.get(k2, v2), v2)
                else:
                    new[k1] = max(new.get(k1, v1), v1)
            src.weights = new
            if tuple_cycle:
                src.tuple_cycle = True
        if branches > 1:
            node.tuple_cycle = True
            for edge in deps.get(uid, []):
                edge.tuple_cycle = edge.src.tuple_cycle = edge.dst.tuple_cycle = True
        deps.pop(uid, None)


def _mark_recursive(edges: list[Edge], relation: str) -> None:
    for e in edges:
        e.src.recursive_relation = relation
        e.dst.recursive_relation = relation
        e.recursive_relation = relation


def _is_tuple_cycle(uid: str, ancestors: list[Edge]) -> bool:
    """isTupleCycle: the path back to ``uid`` passes a tuple-to-userset or userset edge (else a model cycle)."""
    tracking = False
    tuple_cycle = False
    recursive = ""
    recursion = True
    path: list[Edge] = []
    for e in ancestors:
        if not tracking and e.src.id == uid:
            tracking = True
            if e.src.kind == SPECIFIC_TYPE_AND_RELATION:
                recursive = uid
        if tracking:
            path.append(e)
            if e.kind == TTU_EDGE or (e.kind == DIRECT_EDGE and e.dst.kind == SPECIFIC_TYPE_AND_RELATION):
                tuple_cycle = True
            if e.dst.kind == SPECIFIC_TYPE_AND_RELATION:
                if not recursive:
                    recursive = e.dst.id
                elif e.dst.id != recursive:
                    recursion = False
    if tuple_cycle:
        if recursion:
            _mark_recursive(path, recursive)
        else:
            for e in path:
                e.src.tuple_cycle = e.dst.tuple_cycle = e.tuple_cycle = True
    return tuple_cycle


def _assign_weights(g: WeightedGraph) -> None:
    _Weigher(g).run()
