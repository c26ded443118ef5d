"""OpenFGA's two fast check strategies, weight2 and recursive, as their answers (not their concurrency).

Both start from the user: "on which objects of type T does the user have relation R through direct tuples?"
(``fastPathRewrite`` in openfga internal/graph/weight_two_resolver.go), then meet the object's side:

- **weight2** (``weight2TTU``, ``weight2Userset``): right = the object's tupleset tuples (or its usersets of one
  type), condition-filtered; none → denied; none passed and one errored → error. Left = the user's objects for the
  computed relation on every possible parent type. Allowed if they meet, else an error if a left side failed,
  else denied;
- **recursive** (``recursiveFastPath`` and ``breadthFirstRecursiveMatch`` in recursive_resolver.go): right as
  above (none → denied); left = the user's objects through the non-recursive operands (error → error, none →
  denied); then a breadth-first walk up the parents, level by level (each level one hop of depth): allowed on a
  hit, an error if some level failed to read and nothing was found, denied otherwise. Never the cycle flag.

The user side (:func:`user_objects`) reads the user's tuples on *all* objects, so a condition that cannot be
evaluated on a tuple off the checked path can still make the answer an error, exactly as in OpenFGA; and it reads
the user's tuple and the ``type:*`` tuple on one object as one, the first written winning before its condition is
evaluated (OpenFGA's ReadStartingWithUser merge). A direct read fails only when no tuple passed its condition. In
the set operations the operand order matters as in ``fastPathIntersection`` / ``fastPathDifference``: the first
operand (in order) that fails gives an error, unless an earlier one was empty, which decides; a union fails if
any operand fails; a tuple-to-userset inside contributes nothing (``fastPathNoop``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

from . import resolver as _resolver  # circular (the resolver calls in here): attributes are read at call time
from .errors import RESOLUTION_TOO_COMPLEX
from .strategy import RECURSIVE, WEIGHT2
from .typesystem import COMPUTED, DIFFERENCE, INTERSECTION, THIS, TTU, UNION

if TYPE_CHECKING:
    from .resolver import Resolver
    from .tuples import UserRef

__all__ = ["user_objects", "weight2", "recursive"]

_EMPTY: frozenset[str] = frozenset()


def user_objects(res: "Resolver", otype: str, relation: str, user: "UserRef", user_str: str) -> Any:
    """Objects of ``otype`` on which the (plain) user has ``relation`` by direct tuples: a frozenset or a Failure."""
    return _objects(res, otype, relation, user, user_str)[0]


def _objects(res: "Resolver", otype: str, relation: str, user: "UserRef", user_str: str) -> tuple[Any, bool]:
    """(frozenset or Failure, whether it comes as a channel message): a set operation's error is a message, which
    its parent's stream setup (``Streams.CleanDone``) meets before looking at any operand's head; a direct read's
    error shows only at its head, in operand order."""
    memo = res.fast_memo
    if memo is None:
        memo = res.fast_memo = {}
    key = (otype, relation)
    hit = memo.get(key)
    if hit is None:
        info = res.relinfo.get(key)
        hit = (_EMPTY, True) if info is None else _rewrite(res, otype, info, info.rewrite, user, user_str)
        memo[key] = hit
    return hit


def _rewrite(res: "Resolver", otype: str, info: Any, rw: tuple, user: "UserRef", user_str: str) -> tuple[Any, bool]:
    Failure = _resolver.Failure
    kind = rw[0]
    if kind == THIS:
        return _direct(res, otype, info, user, user_str), False
    if kind == COMPUTED:
        return _objects(res, otype, rw[1], user, user_str)
    if kind == TTU:
        return _EMPTY, True  # fastPathNoop: a closed channel
    if kind == UNION:  # fastPathUnion: every head is read in the end, so any failure fails it
        out: set[str] = set()
        for child in rw[1]:
            r = _rewrite(res, otype, info, child, user, user_str)[0]
            if isinstance(r, Failure):
                return r, True
            out |= r
        return frozenset(out), True
    if kind == INTERSECTION:  # fastPathIntersection
        results = [_rewrite(res, otype, info, child, user, user_str) for child in rw[1]]
        for r, message in results:
            if message and isinstance(r, Failure):
                return r, True
        for r, message in results:
            if message and not r:
                return _EMPTY, True
        for r, _ in results:  # heads, in operand order: the first failure or empty one decides
            if isinstance(r, Failure) or not r:
                return r, True
        return frozenset.intersection(*(r for r, _ in results)), True
    if kind == DIFFERENCE:  # fastPathDifference
        (base, base_msg), (sub, sub_msg) = (_rewrite(res, otype, info, rw[1], user, user_str),
                                            _rewrite(res, otype, info, rw[2], user, user_str))
        if base_msg and isinstance(base, Failure):
            return base, True
        if sub_msg and isinstance(sub, Failure):
            return sub, True
        if (base_msg and not base) or isinstance(base, Failure) or not base:
            return base, True
        if sub_msg and not sub:
            return base, True
        if isinstance(sub, Failure):
            return sub, True
        return base - sub, True
    return _EMPTY, True


def _direct(res: "Resolver", otype: str, info: Any, user: "UserRef", user_str: str) -> Any:
    relation = info.relation
    prefix = otype + ":"
    if user.type not in info.wildcard_types:  # no wildcard to merge: the user's own tuples are the answer
        passed: set[str] = set()
        failures = None
        for t in res.tuples_with_user(user_str):
            if t.relation != relation or not t.object.startswith(prefix):
                continue
            c = True if t.condition_name is None else res.condition(t)
            if c is True:
                passed.add(t.object)
            elif c is not False:
                failures = [c] if failures is None else failures + [c]
        if not passed and failures:
            return failures[-1]
        return frozenset(passed)
    wildcard = user.type + ":*"
    candidates: dict[str, None] = {}
    for subject in (user_str, wildcard):
        for t in res.tuples_with_user(subject):
            if t.relation == relation and t.object.startswith(prefix):
                candidates[t.object] = None
    passed = set()
    failures = []
    for obj in candidates:
        tuples = res.tuples_of((obj, relation)) or {}
        for u, t in tuples.items():  # write order: the first of the user's and the wildcard's tuple wins
            if u == user_str or u == wildcard:
                break
        else:
            continue
        c = True if t.condition_name is None else res.condition(t)
        if c is True:
            passed.add(obj)
        elif c is not False:
            failures.append(c)
    if not passed and failures:
        return failures[-1]
    return frozenset(passed)


def tuple_targets(res: "Resolver", tuples: Iterable[Any]) -> Any:
    """Condition-filtered read of tupleset tuples: the parents of those that passed, or the last error when none
    passed."""
    out: list[str] = []
    failures = None
    for t in tuples:
        c = True if t.condition_name is None else res.condition(t)
        if c is True:
            out.append(t.user)
        elif c is not False:
            failures = [c] if failures is None else failures + [c]
    return failures[-1] if failures and not out else out


def userset_targets(res: "Resolver", entries: Iterable[Any]) -> Any:
    """Condition-filtered read of userset entries ``(object, type, relation, tuple)``: the objects of those that
    passed, or the last error when none passed."""
    out: list[str] = []
    failures = None
    for e in entries:
        t = e[3]
        c = True if t.condition_name is None else res.condition(t)
        if c is True:
            out.append(e[0])
        elif c is not False:
            failures = [c] if failures is None else failures + [c]
    return failures[-1] if failures and not out else out


def _left(res: "Resolver", parents: Sequence[tuple[str, str]], user: "UserRef", user_str: str) -> Any:
    """The union of the user's objects over (type, relation) pairs; a Failure if one failed and none met."""
    Failure = _resolver.Failure
    left: set[str] = set()
    failure = None
    relinfo = res.relinfo
    for key in parents:
        if key not in relinfo:
            continue
        r = _objects(res, key[0], key[1], user, user_str)[0]
        if isinstance(r, Failure):
            failure = failure or r
        elif len(parents) == 1:
            return r, None
        else:
            left |= r
    return left, failure


def weight2(res: "Resolver", right: Any, parents: Sequence[tuple[str, str]], user: "UserRef", user_str: str) -> Any:
    """``right``: the object's side, read by :func:`tuple_targets` or :func:`userset_targets`."""
    Failure = _resolver.Failure
    if isinstance(right, Failure):
        return right
    if not right:
        return False
    left, failure = _left(res, parents, user, user_str)
    for r in right:
        if r in left:
            if res.tracing:
                res.fast_match = r
            return True
    return failure if failure is not None else False


def recursive(res: "Resolver", right: Any, read_level, parents: Sequence[tuple[str, str]], user: "UserRef",
              user_str: str, depth: int) -> Any:
    """``right`` as for :func:`weight2`; ``read_level(obj)`` reads the next level the same way for ``obj`` (its
    tupleset tuples, or its usersets)."""
    Failure = _resolver.Failure
    if isinstance(right, Failure):
        return right
    if not right:
        return False
    left, failure = _left(res, parents, user, user_str)
    if any(r in left for r in right):
        return True
    if failure is not None:
        return failure
    if not left:
        return False
    visited: set[str] = set()
    level = set(right)
    error = None
    while True:
        depth += 1  # as breadthFirstRecursiveMatch: the depth is counted before an empty level ends the walk
        if depth >= _resolver.MAX_RESOLUTION_DEPTH:
            return Failure(RESOLUTION_TOO_COMPLEX, "resolution too complex: depth limit of 25 reached")
        if not level:
            break
        nxt: set[str] = set()
        for obj in (sorted(level) if len(level) > 1 else level):
            if obj in visited:
                continue
            visited.add(obj)
            found = read_level(obj)
            if isinstance(found, Failure):
                error = found
                continue
            for p in found:
                if p in left:
                    return True
                nxt.add(p)
        level = nxt
    return error if error is not None else False


# --- the strategy dispatch the resolver calls ---------------------------------------------------------------------

def ttu(res: "Resolver", strategy: str, obj: str, otype: str, tupleset: str, computed: str, user: "UserRef",
        user_str: str, depth: int) -> Any:
    """``computed from tupleset`` on ``obj`` under the weight2 or recursive strategy (checkTTU)."""
    tuples = (res.tuples_of((obj, tupleset)) or {}).values()
    parents = [(ptype, computed) for ptype in sorted(res.ts.direct_plain_types(otype, tupleset))]
    if strategy == WEIGHT2:
        r = weight2(res, tuple_targets(res, tuples), parents, user, user_str)
    else:
        r = recursive(res, tuple_targets(res, tuples),
                      lambda o: tuple_targets(res, (res.tuples_of((o, tupleset)) or {}).values()), parents,
                      user, user_str, depth)
    if res.tracing:
        via = f" (via {obj}#{tupleset}@{res.fast_match})" if r is True and strategy == WEIGHT2 else ""
        res.on_strategy(strategy, f"{computed} from {tupleset} on {obj}{via}", r)
    return r


def usersets(res: "Resolver", entries, user: "UserRef", user_str: str, depth: int, otype: str, relation: str) -> Any:
    """The usersets of ``obj#relation`` (checkDirectUsersetTuples): recursive for all of them, or weight2 per
    userset type where it applies and the default strategy for the rest, as one union."""
    strat = res.strategies
    utype = user.type
    key = (otype, relation, utype)
    if strat.userset.get(key) == RECURSIVE:
        r = recursive(res, userset_targets(res, entries),
                      lambda o: userset_targets(res, res.usersets_of((o, relation)) or ()), [key[:2]],
                      user, user_str, depth)
        if res.tracing:
            res.on_strategy(RECURSIVE, f"usersets of {otype}#{relation}", r)
        return r
    weight2_types = strat.weight2_usersets.get(key)
    if weight2_types is None:
        return res.usersets(entries, user, user_str, depth, otype, relation)
    results = []
    for us in weight2_types:
        r = weight2(res, userset_targets(res, [e for e in entries if (e[1], e[2]) == us]), [us], user, user_str)
        if res.tracing:
            via = f" (via userset {res.fast_match}#{us[1]})" if r is True else ""
            res.on_strategy(WEIGHT2, f"usersets {us[0]}#{us[1]}{via}", r)
        if r is True:
            return True
        results.append(r)
    rest = [e for e in entries if (e[1], e[2]) not in weight2_types]
    if rest:
        r = res.usersets(rest, user, user_str, depth, otype, relation)
        if r is True:
            return True
        results.append(r)
    return _resolver.combine_union(results)
