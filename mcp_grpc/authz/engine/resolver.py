"""Check resolution, as OpenFGA's LocalChecker does it, in one place.

A resolution step returns one of four values:

- ``True``: allowed;
- ``False``: denied;
- :data:`CYCLE`: denied because the path revisited an ``object#relation@user`` it was already resolving (OpenFGA's
  ``CycleDetected``; it counts as false, but an exclusion whose subtracted side hits a cycle is also false). The
  flag becomes plain false only where OpenFGA takes its recursive strategy for a userset or tuple-to-userset, which
  walks the chain without reporting a cycle; :mod:`.strategy` decides where, per relation and user type, when the
  model loads (not for every self-recursive relation: e.g. never when OpenFGA's weighted graph fails to build);
- a :class:`Failure`: the answer is unknown (depth limit, a condition that cannot be evaluated).

The three set operators combine these exactly as OpenFGA's reducers do (``union``, ``intersection``, ``exclusion``
in internal/graph/check.go): union is true if any operand is true, else an error if any errored, else false;
intersection is false if any operand is false (even over errors), else an error if any errored, else true; exclusion
is false if the base is false or the subtracted side is true, else an error if either errored, else true.

Depth counts only userset and tuple-to-userset hops (a computed userset stays at the same depth); reaching depth 25
is error 2002. Cycle detection is per path: the set of ``object#relation@user`` keys being resolved above this one.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

from .conditions import ConditionError
from .errors import RESOLUTION_TOO_COMPLEX, VALIDATION_ERROR
from . import fastpath
from .strategy import RECURSIVE
from .tuples import Tuple, UserRef
from .typesystem import COMPUTED, DIFFERENCE, INTERSECTION, THIS, TTU, UNION, RelationInfo, TypeSystem

__all__ = ["CYCLE", "Failure", "Resolver", "MAX_RESOLUTION_DEPTH", "combine_union", "combine_intersection",
           "combine_exclusion"]

MAX_RESOLUTION_DEPTH = 25


class _Cycle:
    __slots__ = ()

    def __repr__(self) -> str:
        return "CYCLE"

    def __bool__(self) -> bool:
        return False


CYCLE: Any = _Cycle()
"""Denied because of a cycle (OpenFGA's CycleDetected)."""


class Failure:
    """An unknown answer: ``code`` is OpenFGA's error code, ``message`` says why."""

    __slots__ = ("code", "message")

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"Failure({self.code}, {self.message!r})"

    def __bool__(self) -> bool:
        return False


# --- the three reducers: the only place three-valued logic lives ---------------------------------------------------
# Operands come lazily (a generator), so a decisive operand stops the evaluation of the rest, as OpenFGA's reducers
# cancel their remaining goroutines.

def combine_union(results: Iterable[Any]) -> Any:
    """Any true wins; else the first error; else a cycle if any operand hit one; else false."""
    failure = None
    cycle = False
    for r in results:
        if r is True:
            return True
        if r is CYCLE:
            cycle = True
        elif r is not False and failure is None:
            failure = r
    if failure is not None:
        return failure
    return CYCLE if cycle else False


def combine_intersection(results: Iterable[Any]) -> Any:
    """Any false (or cycle) wins, even over errors; else the first error; else true."""
    failure = None
    for r in results:
        if r is False or r is CYCLE:
            return r
        if r is not True and failure is None:
            failure = r
    return failure if failure is not None else True


def combine_exclusion(base: Any, subtract: Callable[[], Any]) -> Any:
    """False if base is false (or a cycle) or subtract is true (or a cycle); else an error if either errored."""
    if base is False or base is CYCLE:
        return base
    sub = subtract()
    if sub is True:
        return False
    if sub is CYCLE:
        return CYCLE
    if base is not True:
        return base
    if sub is not False:
        return sub
    return True


def filtered_by_condition(failures: list, any_passed: bool) -> Any:
    """OpenFGA's conditions-filtered tuple iterator: a tuple whose condition fails is skipped, and its error counts
    only when no tuple passed its condition, and then it is the last one met. Returns that error (or False)."""
    if not any_passed and failures:
        return failures[-1]
    return False


TupleLookup = Callable[[tuple[str, str]], "Mapping[str, Tuple] | None"]
UsersetLookup = Callable[[tuple[str, str]], "Sequence[tuple[str, str, str, Tuple]] | None"]


class Resolver:
    """Resolves one Check request against one snapshot. Not thread-safe; create one per request (cheap)."""

    __slots__ = ("ts", "tuples_of", "usersets_of", "context", "visited", "relinfo", "strategies", "tuples_with_user",
                 "fast_memo")

    tracing = False
    """Subclasses that record the path (explain) set this; the plain resolver skips the hooks."""

    def __init__(
        self,
        ts: TypeSystem,
        tuples_of: TupleLookup,
        usersets_of: UsersetLookup,
        context: Mapping[str, Any] | None,
        tuples_with_user: Callable[[str], Sequence[Tuple]] | None = None,
    ) -> None:
        """``tuples_with_user`` (a user's tuples in write order) enables OpenFGA's fast strategies (fastpath.py);
        without it every relation takes the default strategy."""
        self.ts = ts
        self.tuples_of = tuples_of
        self.usersets_of = usersets_of
        self.context = context
        self.visited: set[tuple[str, str, str]] = set()
        self.relinfo = ts.relation_info
        self.strategies = ts.strategies
        self.tuples_with_user = tuples_with_user
        self.fast_memo: dict | None = None

    # A request enters here; dispatches (userset, tuple-to-userset) re-enter with depth + 1.
    def resolve(self, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int) -> Any:
        if depth >= MAX_RESOLUTION_DEPTH:
            return Failure(RESOLUTION_TOO_COMPLEX, "resolution too complex: depth limit of 25 reached")
        info = self.relinfo.get((otype, relation))
        if info is None:
            return Failure(VALIDATION_ERROR, f"relation {otype}#{relation} undefined")
        if info.may_cycle:
            key = (obj, relation, user_str)
            if key in self.visited:
                return CYCLE
        # Self-reference: obj#rel is always related to itself.
        urel = user.relation
        if urel is not None and urel == relation and user.object == obj:
            return True
        # Type pruning: no path from this kind of user to otype#relation.
        if urel is None:
            if user.type not in info.reachable_user_types:
                return False
        elif (user.type, urel) not in info.reachable_nodes:
            return False
        rw = info.rewrite
        if not info.may_cycle:
            # Off every cycle of the model: this key cannot come back on this path, nothing to track.
            if rw[0] == THIS and not self.tracing:
                return self.direct(obj, otype, info, user, user_str, depth)
            return self.rewrite(rw, obj, otype, info, user, user_str, depth)
        visited = self.visited
        visited.add(key)
        try:
            if rw[0] == THIS and not self.tracing:
                return self.direct(obj, otype, info, user, user_str, depth)
            return self.rewrite(rw, obj, otype, info, user, user_str, depth)
        finally:
            visited.discard(key)

    def rewrite(self, rw: tuple, obj: str, otype: str, info: RelationInfo, user: UserRef, user_str: str,
                depth: int) -> Any:
        kind = rw[0]
        if kind == THIS:
            return self.direct(obj, otype, info, user, user_str, depth)
        if kind == COMPUTED:
            return self.resolve(obj, otype, rw[1], user, user_str, depth)
        if kind == TTU:
            return self.tuple_to_userset(obj, otype, info.relation, rw[1], rw[2], user, user_str, depth)
        # Operands are evaluated in order and stop at a decisive one, as OpenFGA's reducers cancel the rest.
        # The common operand kinds are dispatched inline (one call less each); tracing goes through rewrite().
        tracing = self.tracing
        if kind == UNION:
            results = None
            plain = user.relation is None
            for child in rw[1]:
                ck = child[0]
                if tracing:
                    r = self.rewrite(child, obj, otype, info, user, user_str, depth)
                elif ck == COMPUTED:
                    # resolve() inlined for its commonest case: a plain user and a relation off every cycle whose
                    # rewrite is direct relationships (same depth, so no depth check; no cycle key to track).
                    cinfo = self.relinfo.get((otype, child[1]))
                    if plain and cinfo is not None and not cinfo.may_cycle and cinfo.rewrite[0] == THIS:
                        if user.type not in cinfo.reachable_user_types:
                            continue  # pruned: a plain denial, which cannot change a union's answer
                        tuples = self.tuples_of((obj, cinfo.relation))
                        if not tuples:
                            continue  # nothing direct (and so no usersets): a plain denial
                        r = self.direct_tuples(tuples, obj, otype, cinfo, user, user_str, depth)
                    else:
                        r = self.resolve(obj, otype, child[1], user, user_str, depth)
                elif ck == THIS:
                    tuples = self.tuples_of((obj, info.relation))
                    if not tuples:
                        continue
                    r = self.direct_tuples(tuples, obj, otype, info, user, user_str, depth)
                elif ck == TTU:
                    r = self.tuple_to_userset(obj, otype, info.relation, child[1], child[2], user, user_str, depth)
                else:
                    r = self.rewrite(child, obj, otype, info, user, user_str, depth)
                if r is True:
                    return True
                if r is not False:  # plain denials are left out: they cannot change a union's answer
                    if results is None:
                        results = [r]
                    else:
                        results.append(r)
            return combine_union(results) if results else False
        if kind == INTERSECTION:
            results = []
            for child in rw[1]:
                r = self.operand(child, obj, otype, info, user, user_str, depth)
                if r is False or r is CYCLE:
                    return r
                results.append(r)
            return combine_intersection(results)
        if kind == DIFFERENCE:
            return combine_exclusion(
                self.rewrite(rw[1], obj, otype, info, user, user_str, depth),
                lambda: self.rewrite(rw[2], obj, otype, info, user, user_str, depth),
            )
        return Failure(VALIDATION_ERROR, f"unknown rewrite on {otype}#{info.relation}")

    def operand(self, rw: tuple, obj: str, otype: str, info: RelationInfo, user: UserRef, user_str: str,
                depth: int) -> Any:
        """One operand of a set operator: the common leaf kinds are dispatched here without going through
        :meth:`rewrite` (one call less per operand); tracing always goes through :meth:`rewrite`."""
        kind = rw[0]
        if self.tracing:
            return self.rewrite(rw, obj, otype, info, user, user_str, depth)
        if kind == COMPUTED:
            return self.resolve(obj, otype, rw[1], user, user_str, depth)
        if kind == THIS:
            return self.direct(obj, otype, info, user, user_str, depth)
        if kind == TTU:
            return self.tuple_to_userset(obj, otype, info.relation, rw[1], rw[2], user, user_str, depth)
        return self.rewrite(rw, obj, otype, info, user, user_str, depth)

    def condition(self, t: Tuple) -> Any:
        """True/False, or a Failure when the tuple's condition cannot be evaluated."""
        name = t.condition_name
        if name is None:
            return True
        cond = self.ts.conditions.get(name)
        if cond is None:
            return Failure(VALIDATION_ERROR, f"condition {name!r} not found")
        try:
            return cond.evaluate(self.context, t.condition_context)
        except ConditionError as exc:
            return Failure(VALIDATION_ERROR, f"tuple {t}: {exc}")

    def direct(self, obj: str, otype: str, info: RelationInfo, user: UserRef, user_str: str, depth: int) -> Any:
        """Direct relationships: the exact tuple, a public wildcard, and usersets (three operands of a union)."""
        tuples = self.tuples_of((obj, info.relation))
        if not tuples:
            # No tuple on obj#relation: no usersets either (they are a subset of the same key's tuples).
            return False
        return self.direct_tuples(tuples, obj, otype, info, user, user_str, depth)

    def direct_tuples(self, tuples: Mapping[str, Tuple], obj: str, otype: str, info: RelationInfo, user: UserRef,
                      user_str: str, depth: int) -> Any:
        """:meth:`direct` once obj#relation's tuples (not empty) are read: callers in a loop read them first and
        skip the call when there are none (most operands of a random check)."""
        results = []
        if True:
            utype = user.type
            # The exact tuple (the user may be an object, a wildcard or a userset).
            if user.relation is None:
                directly = utype in info.plain_types or (user.id == "*" and utype in info.wildcard_types)
            else:
                directly = (utype, user.relation) in info.usersets
            if directly:
                t = tuples.get(user_str)
                if t is not None:
                    r = True if t.condition_name is None else self.condition(t)
                    if self.tracing:
                        r = self.on_direct_tuple(t, r)
                    if r is True:
                        return True
                    results.append(r)
            # A public wildcard ``type:*``.
            if user.relation is None and utype in info.wildcard_types:
                t = tuples.get(utype + ":*")
                if t is not None and t.user != user_str:
                    r = True if t.condition_name is None else self.condition(t)
                    if self.tracing:
                        r = self.on_direct_tuple(t, r)
                    if r is True:
                        return True
                    results.append(r)
        # Usersets ``group:x#member``: dispatch into each, one hop deeper.
        if info.usersets:
            entries = self.usersets_of((obj, info.relation))
            if entries:
                if user.relation is None and user.type in info.fast_usersets and self.tuples_with_user is not None:
                    r = fastpath.usersets(self, entries, user, user_str, depth, otype, info.relation)
                else:
                    r = self.usersets(entries, user, user_str, depth, otype, info.relation)
                if r is True:
                    return True
                results.append(r)
        if not results:
            return False
        return results[0] if len(results) == 1 else combine_union(results)

    def on_direct_tuple(self, t: Tuple, result: Any) -> Any:
        """Tracing hook: a direct or wildcard tuple was read; returns ``result``."""
        return result

    def on_strategy(self, strategy: str, label: str, result: Any) -> None:
        """Tracing hook: a userset or tuple-to-userset answered by OpenFGA's weight2 or recursive strategy."""

    def on_skipped(self, t: Tuple, result: Any) -> None:
        """Tracing hook: a tuple whose condition was false or failed."""

    def dispatch(self, via: Tuple, obj: str, otype: str, relation: str, user: UserRef, user_str: str,
                 depth: int) -> Any:
        """Tracing hook around one userset or tuple-to-userset hop."""
        return self.resolve(obj, otype, relation, user, user_str, depth)

    def usersets(self, entries: Sequence[tuple[str, str, str, Tuple]], user: UserRef, user_str: str,
                 depth: int, otype: str = "", relation: str = "") -> Any:
        # Lists are allocated only when needed: most loops see plain denials only.
        results = failures = None
        passed = False
        tracing = self.tracing
        resolve = self.resolve
        depth += 1
        for uobj, utype, urel, t in entries:
            if t.condition_name is not None:
                c = self.condition(t)
                if c is not True:
                    if c is not False:
                        failures = [c] if failures is None else failures + [c]
                    if tracing:
                        self.on_skipped(t, c)
                    continue
            passed = True
            if tracing:
                r = self.dispatch(t, uobj, utype, urel, user, user_str, depth)
            else:
                r = resolve(uobj, utype, urel, user, user_str, depth)
            if r is True:
                return True
            if r is CYCLE and user.relation is None and self.tuples_with_user is None and \
                    self.strategies.for_usersets(otype, relation, user.type) == RECURSIVE:
                r = False  # no fast path here: OpenFGA's recursive strategy reports no cycle
            if r is not False:
                if results is None:
                    results = [r]
                else:
                    results.append(r)
        if not passed:
            return filtered_by_condition(failures or [], passed)
        # Plain denials were left out of ``results``: they cannot change a union's answer.
        return combine_union(results) if results else False

    def tuple_to_userset(
        self, obj: str, otype: str, relation: str, tupleset: str, computed: str, user: UserRef, user_str: str,
        depth: int,
    ) -> Any:
        tuples = self.tuples_of((obj, tupleset))
        if not tuples:
            return False
        if user.relation is None and self.strategies.ttu and self.tuples_with_user is not None:
            strategy = self.strategies.ttu.get((otype, relation, tupleset, computed, user.type))
            if strategy is not None:
                return fastpath.ttu(self, strategy, obj, otype, tupleset, computed, user, user_str, depth)
        relinfo = self.relinfo
        results = failures = None
        passed = False
        tracing = self.tracing
        resolve = self.resolve
        depth += 1
        for t in tuples.values():
            if t.condition_name is not None:
                c = self.condition(t)
                if c is not True:
                    if c is not False:
                        failures = [c] if failures is None else failures + [c]
                    if tracing:
                        self.on_skipped(t, c)
                    continue
            passed = True
            parent = t.user
            ptype = parent[:parent.index(":")]
            if (ptype, computed) not in relinfo:
                continue  # the parent's type has no such relation: this branch cannot apply
            if tracing:
                r = self.dispatch(t, parent, ptype, computed, user, user_str, depth)
            else:
                r = resolve(parent, ptype, computed, user, user_str, depth)
            if r is True:
                return True
            if r is CYCLE and user.relation is None and self.tuples_with_user is None and self.strategies.for_ttu(
                    otype, relation, tupleset, computed, user.type) == RECURSIVE:
                r = False  # no fast path here: OpenFGA's recursive strategy reports no cycle
            if r is not False:
                if results is None:
                    results = [r]
                else:
                    results.append(r)
        if not passed:
            return filtered_by_condition(failures or [], passed)
        # Plain denials were left out of ``results``: they cannot change a union's answer.
        return combine_union(results) if results else False
