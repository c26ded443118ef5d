"""Check resolution, as OpenFGA's LocalChecker does it, in one place.

A resolution step returns one of four values:

- ``True``: allowed;
- ``False``: denied;
- :data:`CYCLE`: denied because the path revisited an ``object#relation@user`` it was already resolving (OpenFGA's
  ``CycleDetected``; it counts as false, but an exclusion whose subtracted side hits a cycle is also false);
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
from .tuples import Tuple, UserRef
from .typesystem import COMPUTED, DIFFERENCE, INTERSECTION, THIS, TTU, UNION, TypeSystem

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


def filtered_by_condition(failures: list, any_passed: list) -> Any:
    """OpenFGA's conditions-filtered tuple iterator: a tuple whose condition fails is skipped, and its error counts
    only when no tuple passed its condition. Returns the error to report (or False)."""
    if not any_passed and failures:
        return failures[0]
    return False


TupleLookup = Callable[[tuple[str, str]], "Mapping[str, Tuple] | None"]
UsersetLookup = Callable[[tuple[str, str]], "Sequence[tuple[str, str, str, Tuple]]"]


class Resolver:
    """Resolves one Check request against one snapshot. Not thread-safe; create one per request (cheap)."""

    __slots__ = ("ts", "tuples_of", "usersets_of", "context", "visited")

    def __init__(
        self,
        ts: TypeSystem,
        tuples_of: TupleLookup,
        usersets_of: UsersetLookup,
        context: Mapping[str, Any] | None,
    ) -> None:
        self.ts = ts
        self.tuples_of = tuples_of
        self.usersets_of = usersets_of
        self.context = context
        self.visited: set[tuple[str, str, str]] = set()

    # A request enters here; dispatches (userset, tuple-to-userset) re-enter with depth + 1.
    def resolve(self, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int) -> Any:
        if depth >= MAX_RESOLUTION_DEPTH:
            return Failure(RESOLUTION_TOO_COMPLEX, "resolution too complex: depth limit of 25 reached")
        key = (obj, relation, user_str)
        visited = self.visited
        if key in visited:
            return CYCLE
        visited.add(key)
        try:
            # Self-reference: obj#rel is always related to itself.
            if user.relation == relation and user.relation is not None and user.object == obj:
                return True
            rewrite = self.ts.rewrite(otype, relation)
            if rewrite is None:
                return Failure(VALIDATION_ERROR, f"relation {otype}#{relation} undefined")
            if not self.ts.path_exists(user, relation, otype):
                return False
            return self.rewrite(rewrite, obj, otype, relation, user, user_str, depth)
        finally:
            visited.discard(key)

    def rewrite(
        self, rw: tuple, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int
    ) -> Any:
        kind = rw[0]
        if kind == THIS:
            return self.direct(obj, otype, relation, user, user_str, depth)
        if kind == COMPUTED:
            return self.resolve(obj, otype, rw[1], user, user_str, depth)
        if kind == TTU:
            return self.tuple_to_userset(obj, otype, rw[1], rw[2], user, user_str, depth)
        if kind == UNION:
            return combine_union(self.rewrite(c, obj, otype, relation, user, user_str, depth) for c in rw[1])
        if kind == INTERSECTION:
            return combine_intersection(
                self.rewrite(c, obj, otype, relation, user, user_str, depth) for c in rw[1])
        if kind == DIFFERENCE:
            return combine_exclusion(
                self.rewrite(rw[1], obj, otype, relation, user, user_str, depth),
                lambda: self.rewrite(rw[2], obj, otype, relation, user, user_str, depth),
            )
        return Failure(VALIDATION_ERROR, f"unknown rewrite on {otype}#{relation}")

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

    def direct(self, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int) -> Any:
        """Direct relationships: the exact tuple, a public wildcard, and usersets (three operands of a union)."""
        return combine_union(self._direct_operands(obj, otype, relation, user, user_str, depth))

    def _direct_operands(
        self, obj: str, otype: str, relation: str, user: UserRef, user_str: str, depth: int
    ) -> Iterable[Any]:
        ts = self.ts
        key = (obj, relation)
        tuples = self.tuples_of(key)
        if tuples:
            # The exact tuple (the user may be an object, a wildcard or a userset).
            if user.relation is None:
                directly = user.type in ts.direct_plain_types(otype, relation) or (
                    user.id == "*" and user.type in ts.direct_wildcard_types(otype, relation))
            else:
                directly = (user.type, user.relation) in ts.direct_usersets(otype, relation)
            if directly:
                t = tuples.get(user_str)
                if t is not None:
                    yield self.on_direct_tuple(t, self.condition(t))
            # A public wildcard ``type:*``.
            if user.relation is None and user.type in ts.direct_wildcard_types(otype, relation):
                t = tuples.get(user.type + ":*")
                if t is not None and t.user != user_str:
                    yield self.on_direct_tuple(t, self.condition(t))
        # Usersets ``group:x#member``: dispatch into each, one hop deeper.
        if ts.direct_usersets(otype, relation):
            yield self.usersets(key, user, user_str, depth)

    def on_direct_tuple(self, t: Tuple, result: Any) -> Any:
        """Hook for tracing; returns ``result``."""
        return result

    def usersets(self, key: tuple[str, str], user: UserRef, user_str: str, depth: int) -> Any:
        failures: list = []
        passed: list = []
        r = combine_union(self._userset_operands(key, user, user_str, depth, failures, passed))
        return filtered_by_condition(failures, passed) if r is False else r

    def _userset_operands(self, key, user, user_str, depth, failures, passed) -> Iterable[Any]:
        for uobj, utype, urel, t in self.usersets_of(key):
            if t.condition_name is not None:
                c = self.condition(t)
                if c is not True:
                    if c is not False:
                        failures.append(c)
                    self.on_skipped(t, c)
                    continue
            passed.append(True)
            yield self.dispatch(t, uobj, utype, urel, user, user_str, depth + 1)

    def dispatch(self, via: Tuple, obj: str, otype: str, relation: str, user: UserRef, user_str: str,
                 depth: int) -> Any:
        """One userset or tuple-to-userset hop (hook for tracing)."""
        return self.resolve(obj, otype, relation, user, user_str, depth)

    def on_skipped(self, t: Tuple, result: Any) -> None:
        """Hook for tracing: a tuple whose condition was false or failed."""

    def tuple_to_userset(
        self, obj: str, otype: str, tupleset: str, computed: str, user: UserRef, user_str: str, depth: int
    ) -> Any:
        tuples = self.tuples_of((obj, tupleset))
        if not tuples:
            return False
        failures: list = []
        passed: list = []
        r = combine_union(self._ttu_operands(tuples, computed, user, user_str, depth, failures, passed))
        return filtered_by_condition(failures, passed) if r is False else r

    def _ttu_operands(self, tuples, computed, user, user_str, depth, failures, passed) -> Iterable[Any]:
        rewrite = self.ts.rewrite
        for t in tuples.values():
            if t.condition_name is not None:
                c = self.condition(t)
                if c is not True:
                    if c is not False:
                        failures.append(c)
                    self.on_skipped(t, c)
                    continue
            passed.append(True)
            parent = t.user
            ptype = parent.partition(":")[0]
            if rewrite(ptype, computed) is None:
                continue  # the parent's type has no such relation: this branch cannot apply
            yield self.dispatch(t, parent, ptype, computed, user, user_str, depth + 1)
