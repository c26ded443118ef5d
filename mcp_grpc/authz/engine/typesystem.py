"""The type system of one authorization model: relation lookups, type restrictions, pruning and tuple validation.

Built once per model version from the JSON model (OpenFGA API form) and immutable afterwards. Rewrites are compiled
into small tuples the resolver dispatches on:

- ``(THIS,)`` direct relationships, ``(COMPUTED, relation)``, ``(TTU, tupleset, computed_relation)``,
- ``(UNION, children)``, ``(INTERSECTION, children)``, ``(DIFFERENCE, base, subtract)``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping

from .conditions import CompiledCondition, ConditionError, compile_condition
from .strategy import Strategies
from .errors import (
    FgaError,
    INVALID_TUPLE,
    RELATION_NOT_FOUND,
    TYPE_NOT_FOUND,
    VALIDATION_ERROR,
)
from .tuples import Tuple, UserRef, parse_object, parse_user

__all__ = ["TypeSystem", "RelationRef", "THIS", "COMPUTED", "TTU", "UNION", "INTERSECTION", "DIFFERENCE"]

THIS, COMPUTED, TTU, UNION, INTERSECTION, DIFFERENCE = range(6)
REWRITE_NAMES = {THIS: "direct", COMPUTED: "computed userset", TTU: "tuple to userset", UNION: "union",
                 INTERSECTION: "intersection", DIFFERENCE: "exclusion"}


@dataclasses.dataclass(frozen=True, slots=True)
class RelationRef:
    """One entry of ``directly_related_user_types``: ``user``, ``user:*``, ``group#member``, each maybe ``with cond``."""

    type: str
    relation: str | None = None
    wildcard: bool = False
    condition: str | None = None

    def __str__(self) -> str:
        text = self.type + (":*" if self.wildcard else "") + (f"#{self.relation}" if self.relation else "")
        return text + (f" with {self.condition}" if self.condition else "")


def _compile_rewrite(rw: Mapping[str, Any], where: str) -> tuple:
    if not isinstance(rw, Mapping) or len(rw) == 0:
        raise FgaError(VALIDATION_ERROR, f"{where}: empty rewrite")
    if "this" in rw:
        return (THIS,)
    if "computedUserset" in rw:
        return (COMPUTED, rw["computedUserset"]["relation"])
    if "tupleToUserset" in rw:
        ttu = rw["tupleToUserset"]
        return (TTU, ttu["tupleset"]["relation"], ttu["computedUserset"]["relation"])
    if "union" in rw:
        return (UNION, tuple(_compile_rewrite(c, where) for c in rw["union"]["child"]))
    if "intersection" in rw:
        return (INTERSECTION, tuple(_compile_rewrite(c, where) for c in rw["intersection"]["child"]))
    if "difference" in rw:
        diff = rw["difference"]
        return (DIFFERENCE, _compile_rewrite(diff["base"], where), _compile_rewrite(diff["subtract"], where))
    raise FgaError(VALIDATION_ERROR, f"{where}: unknown rewrite {sorted(rw)!r}")


def _walk(rewrite: tuple) -> Iterable[tuple]:
    yield rewrite
    kind = rewrite[0]
    if kind in (UNION, INTERSECTION):
        for child in rewrite[1]:
            yield from _walk(child)
    elif kind == DIFFERENCE:
        yield from _walk(rewrite[1])
        yield from _walk(rewrite[2])


@dataclasses.dataclass(frozen=True, slots=True)
class RelationInfo:
    """Everything the resolver needs about one relation, precomputed: one dict lookup per resolution step."""

    relation: str
    rewrite: tuple
    plain_types: frozenset[str]
    """Types allowed as plain users (``user``)."""
    wildcard_types: frozenset[str]
    """Types allowed as a public wildcard (``user:*``)."""
    usersets: frozenset[tuple[str, str]]
    """Usersets allowed (``group#member`` as ``("group", "member")``)."""
    reachable_user_types: frozenset[str] = frozenset()
    """Type pruning: user types (plain or wildcard) that can ever be related through this relation."""
    reachable_nodes: frozenset[tuple[str, str]] = frozenset()
    """Type pruning for userset users: every ``type#relation`` this relation can reach."""
    may_cycle: bool = True
    """Whether this relation lies on a cycle of the model's relation graph. Only then can a resolution path come
    back to the same ``object#relation@user``, so only then does the resolver track it for cycle detection."""
    fast_usersets: frozenset[str] = frozenset()
    """User types for which OpenFGA answers this relation's usersets by its weight2 or recursive strategy
    (:mod:`.strategy`); for the others the resolver dispatches into each userset."""


class TypeSystem:
    """Everything the engine asks of a model. Construct with :meth:`from_model`."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        self.model = model
        self.schema_version = str(model.get("schema_version", "1.1"))
        self.rewrites: dict[str, dict[str, tuple]] = {}
        self.direct_types: dict[tuple[str, str], tuple[RelationRef, ...]] = {}
        for td in model.get("type_definitions") or []:
            tname = td["type"]
            rels: dict[str, tuple] = {}
            meta = ((td.get("metadata") or {}).get("relations")) or {}
            for rname, rw in (td.get("relations") or {}).items():
                rels[rname] = _compile_rewrite(rw, f"{tname}#{rname}")
                refs = []
                for ref in (meta.get(rname) or {}).get("directly_related_user_types") or []:
                    refs.append(RelationRef(
                        type=ref["type"],
                        relation=ref.get("relation") or None,
                        wildcard="wildcard" in ref,
                        condition=ref.get("condition") or None,
                    ))
                self.direct_types[(tname, rname)] = tuple(refs)
            self.rewrites[tname] = rels
        self.conditions: dict[str, CompiledCondition] = {}
        for cname, spec in (model.get("conditions") or {}).items():
            try:
                self.conditions[cname] = compile_condition(cname, spec)
            except ConditionError as exc:
                raise FgaError(VALIDATION_ERROR, str(exc)) from None
        # Per (type, relation): relations used as a tupleset by some TTU on that type.
        self._tuplesets: set[tuple[str, str]] = set()
        for tname, rels in self.rewrites.items():
            for rewrite in rels.values():
                for node in _walk(rewrite):
                    if node[0] == TTU:
                        self._tuplesets.add((tname, node[1]))
        # Precomputed direct-restriction lookups used on every check.
        self._direct_plain: dict[tuple[str, str], frozenset[str]] = {}
        self._direct_wild: dict[tuple[str, str], frozenset[str]] = {}
        self._direct_usersets: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
        for key, refs in self.direct_types.items():
            self._direct_plain[key] = frozenset(r.type for r in refs if not r.wildcard and not r.relation)
            self._direct_wild[key] = frozenset(r.type for r in refs if r.wildcard)
            seen: dict[tuple[str, str], None] = {}
            for r in refs:
                if r.relation:
                    seen[(r.type, r.relation)] = None
            self._direct_usersets[key] = tuple(seen)
        # Reverse edges for ListObjects: which relations are computed from (type, relation), and which
        # (parent type, tupleset, relation) tuple-to-usersets read (type, relation) on a parent of that type.
        computed_parents: dict[tuple[str, str], set[str]] = {}
        ttu_parents: dict[tuple[str, str], set[tuple[str, str, str]]] = {}
        for tname, rels in self.rewrites.items():
            for rname, rewrite in rels.items():
                for node in _walk(rewrite):
                    if node[0] == COMPUTED:
                        computed_parents.setdefault((tname, node[1]), set()).add(rname)
                    elif node[0] == TTU:
                        for child_type in self._direct_plain.get((tname, node[1]), ()):
                            ttu_parents.setdefault((child_type, node[2]), set()).add((tname, node[1], rname))
        self._computed_parents = {k: tuple(sorted(v)) for k, v in computed_parents.items()}
        self._ttu_parents = {k: tuple(sorted(v)) for k, v in ttu_parents.items()}
        self._reachable: dict[tuple[str, str], frozenset[tuple[str, str]]] = {}
        self._reachable_user_types: dict[tuple[str, str], frozenset[str]] = {}
        self.target_cache: dict[tuple[str, str, str], tuple[UserRef, str]] = {}
        """Validated Check targets (user, relation, object) -> (parsed user, object type); owned by the engine."""
        self.strategies = Strategies(model)
        """OpenFGA's check strategy per relation and user type (weight2, recursive, default)."""
        self.relation_info: dict[tuple[str, str], RelationInfo] = {}
        for tname, rels in self.rewrites.items():
            for rname, rewrite in rels.items():
                nodes = self.reachable_relations(tname, rname)
                self.relation_info[(tname, rname)] = RelationInfo(
                    rname, rewrite,
                    self._direct_plain.get((tname, rname), frozenset()),
                    self._direct_wild.get((tname, rname), frozenset()),
                    frozenset(self._direct_usersets.get((tname, rname), ())),
                    frozenset(ut for node in nodes for ut in self._direct_plain.get(node, frozenset())
                              | self._direct_wild.get(node, frozenset())),
                    nodes,
                    any((tname, rname) in self.reachable_relations(*succ)
                        for succ in self._successors(tname, rname)),
                    self.strategies.fast_userset_types(tname, rname),
                )

    @classmethod
    def from_model(cls, model: Mapping[str, Any]) -> "TypeSystem":
        return cls(model)

    # --- lookups -------------------------------------------------------------------------------------------------

    def has_type(self, type_name: str) -> bool:
        return type_name in self.rewrites

    def rewrite(self, type_name: str, relation: str) -> tuple | None:
        rels = self.rewrites.get(type_name)
        return None if rels is None else rels.get(relation)

    def relations(self, type_name: str) -> dict[str, tuple]:
        return self.rewrites.get(type_name, {})

    def directly_related(self, type_name: str, relation: str) -> tuple[RelationRef, ...]:
        return self.direct_types.get((type_name, relation), ())

    def direct_plain_types(self, type_name: str, relation: str) -> frozenset[str]:
        return self._direct_plain.get((type_name, relation), frozenset())

    def direct_wildcard_types(self, type_name: str, relation: str) -> frozenset[str]:
        return self._direct_wild.get((type_name, relation), frozenset())

    def direct_usersets(self, type_name: str, relation: str) -> tuple[tuple[str, str], ...]:
        return self._direct_usersets.get((type_name, relation), ())

    def computed_parents(self, type_name: str, relation: str) -> tuple[str, ...]:
        """Relations of ``type_name`` whose rewrite includes ``relation`` as a computed userset."""
        return self._computed_parents.get((type_name, relation), ())

    def ttu_parents(self, type_name: str, relation: str) -> tuple[tuple[str, str, str], ...]:
        """(parent type, tupleset relation, relation) for every ``relation from tupleset`` on a parent type whose
        tupleset may point at an object of ``type_name``."""
        return self._ttu_parents.get((type_name, relation), ())

    def is_tupleset(self, type_name: str, relation: str) -> bool:
        return (type_name, relation) in self._tuplesets

    # --- pruning ---------------------------------------------------------------------------------------------------

    def reachable_relations(self, type_name: str, relation: str) -> frozenset[tuple[str, str]]:
        """Every (type, relation) node reachable from ``type#relation`` through rewrites and userset restrictions."""
        key = (type_name, relation)
        cached = self._reachable.get(key)
        if cached is not None:
            return cached
        seen: set[tuple[str, str]] = set()
        stack = [key]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            rewrite = self.rewrite(*node)
            if rewrite is None:
                continue
            seen.add(node)
            ntype = node[0]
            for part in _walk(rewrite):
                kind = part[0]
                if kind == THIS:
                    stack.extend(self.direct_usersets(*node))
                elif kind == COMPUTED:
                    stack.append((ntype, part[1]))
                elif kind == TTU:
                    for parent_type in self.direct_plain_types(ntype, part[1]):
                        stack.append((parent_type, part[2]))
        result = frozenset(seen)
        self._reachable[key] = result
        return result

    def _successors(self, type_name: str, relation: str) -> set[tuple[str, str]]:
        """The relation-graph edges out of type#relation: usersets, computed usersets, tuple-to-userset parents."""
        out: set[tuple[str, str]] = set()
        rewrite = self.rewrite(type_name, relation)
        if rewrite is None:
            return out
        for part in _walk(rewrite):
            if part[0] == THIS:
                out.update(self.direct_usersets(type_name, relation))
            elif part[0] == COMPUTED:
                out.add((type_name, part[1]))
            elif part[0] == TTU:
                out.update((ptype, part[2]) for ptype in self.direct_plain_types(type_name, part[1]))
        return out

    def path_exists(self, user: UserRef, relation: str, object_type: str) -> bool:
        """Type pruning: can a user of this shape ever be related to ``object_type#relation``?"""
        nodes = self.reachable_relations(object_type, relation)
        if user.relation is not None:
            return (user.type, user.relation) in nodes
        key = (object_type, relation)
        types = self._reachable_user_types.get(key)
        if types is None:
            acc: set[str] = set()
            for node in nodes:
                acc.update(self.direct_plain_types(*node))
                acc.update(self.direct_wildcard_types(*node))
            types = frozenset(acc)
            self._reachable_user_types[key] = types
        return user.type in types

    # --- validation ------------------------------------------------------------------------------------------------

    def check_type(self, type_name: str, code: int = TYPE_NOT_FOUND) -> None:
        if type_name not in self.rewrites:
            raise FgaError(code, f"type {type_name!r} not found")

    def check_relation(self, type_name: str, relation: str, code: int = RELATION_NOT_FOUND) -> None:
        self.check_type(type_name, code if code != RELATION_NOT_FOUND else TYPE_NOT_FOUND)
        if relation not in self.rewrites[type_name]:
            raise FgaError(code, f"relation {type_name}#{relation} not found")

    def validate_user(self, user: UserRef, code: int = VALIDATION_ERROR) -> None:
        """A request's user: its type (and userset relation) must exist in the model."""
        if user.type not in self.rewrites:
            raise FgaError(code, f"type {user.type!r} of user {user} not found")
        if user.relation is not None and user.relation not in self.rewrites[user.type]:
            raise FgaError(code, f"relation {user.type}#{user.relation} of user {user} not found")

    def tuple_error(self, t: Tuple) -> str | None:
        """Why ``t`` cannot be written under this model (None when it can): OpenFGA's write-time rules."""
        try:
            otype, _ = parse_object(t.object)
            user = parse_user(t.user)
        except FgaError as exc:
            return exc.message
        rels = self.rewrites.get(otype)
        if rels is None:
            return f"type {otype!r} not found"
        if t.relation not in rels:
            return f"relation {otype}#{t.relation} not found"
        if user.type not in self.rewrites:
            return f"type {user.type!r} of user {t.user} not found"
        if user.relation is not None and user.relation not in self.rewrites[user.type]:
            return f"relation {user.type}#{user.relation} of user {t.user} not found"
        if self.is_tupleset(otype, t.relation) and (user.is_userset or user.is_wildcard):
            return f"{otype}#{t.relation} is used as a tupleset: its users must be objects, not {t.user}"
        refs = self.directly_related(otype, t.relation)
        if not refs:
            return f"{otype}#{t.relation} has no direct relationships; tuples cannot be written to it"
        matched = [
            r for r in refs
            if r.type == user.type
            and r.wildcard == user.is_wildcard
            and r.relation == user.relation
        ]
        if not matched:
            allowed = ", ".join(str(r) for r in refs)
            return f"user {t.user} is not allowed for {otype}#{t.relation} (allowed: {allowed})"
        if t.condition_name:
            if t.condition_name not in self.conditions:
                return f"condition {t.condition_name!r} not found"
            if not any(r.condition == t.condition_name for r in matched):
                return f"condition {t.condition_name!r} is not allowed for {t.user} on {otype}#{t.relation}"
            params = self.conditions[t.condition_name].parameters
            for pname, value in (t.condition_context or {}).items():
                if pname not in params:
                    return f"condition {t.condition_name!r} has no parameter {pname!r}"
                try:
                    params[pname].convert(value)
                except ConditionError as exc:
                    return f"condition {t.condition_name!r} parameter {pname!r} is not a valid {params[pname]}: {exc}"
        elif not any(r.condition is None for r in matched):
            return f"user {t.user} on {otype}#{t.relation} requires a condition"
        return None

    def validate_tuple(self, t: Tuple, code: int = INVALID_TUPLE) -> None:
        """Raise FgaError(code) when ``t`` breaks the model's rules (used for writes and contextual tuples)."""
        reason = self.tuple_error(t)
        if reason is not None:
            raise FgaError(code, f"invalid tuple {t}: {reason}")

    def is_valid_tuple(self, t: Tuple) -> bool:
        """Read-time filter: stored tuples invalid under this model are ignored."""
        return self.tuple_error(t) is None
