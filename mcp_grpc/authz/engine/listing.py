"""ListObjects and ListUsers on top of Check.

Both find candidates by walking the tuples the way OpenFGA's list APIs expand, then decide each candidate with the
same resolver as Check, so a listed item is exactly one for which Check says allowed (OpenFGA promises the same).

- ListObjects walks backwards from the user (reverse expansion): tuples naming the user, its public wildcard or a
  userset it belongs to, up through computed usersets and tuple-to-usersets, only along relations that can lead to
  the requested ``type#relation``. Candidates are the objects reached at that relation (plus the user's own object
  when the user is a userset of that type, which is related to itself).
- ListUsers walks forwards from the object: its rewrites and tuples, collecting the users, wildcards and usersets
  that match a filter (and every visited ``object#relation`` that itself matches a ``type#relation`` filter). A
  user covered only by a public wildcard is not listed on its own: ``type:*`` is listed instead, as OpenFGA does.
  Userset and tuple-to-userset hops are taken only towards relations that can reach a filter (type pruning by
  edge); computed usersets and set operands on the same object are always expanded.

Errors, as OpenFGA reports them: a condition that cannot be evaluated on a tuple met during the walk fails the whole
list, even when another path would grant (unlike Check, where a true operand of a union hides an error); so does a
candidate whose Check ends in an error.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from .index import Lookups
from .list_pruning import candidate_edges
from .resolver import Failure, Resolver
from .tuples import UserRef, parse_user
from .typesystem import COMPUTED, THIS, TTU, TypeSystem
from .typesystem import _walk as walk_rewrite

__all__ = ["list_objects", "list_users", "user_candidates"]

ResolverFactory = Callable[[], Resolver]


def list_objects(
    ts: TypeSystem,
    lookups: Lookups,
    context: Mapping[str, Any] | None,
    user: UserRef,
    relation: str,
    object_type: str,
) -> list[str] | Failure:
    probe = Resolver(ts, lookups.tuples_of, lookups.usersets_of, context, lookups.tuples_with_user)
    candidates = object_candidates(ts, lookups, user, relation, object_type, probe.condition)
    if isinstance(candidates, Failure):
        return candidates
    user_str = str(user)
    found = []
    for obj in sorted(candidates):
        resolver = Resolver(ts, lookups.tuples_of, lookups.usersets_of, context, lookups.tuples_with_user)
        r = resolver.resolve(obj, object_type, relation, user, user_str, 0)
        if r is True:
            found.append(obj)
        elif isinstance(r, Failure):
            return r
    return found


def object_candidates(
    ts: TypeSystem,
    lookups: Lookups,
    user: UserRef,
    relation: str,
    object_type: str,
    condition: Callable[[Any], Any] | None = None,
) -> set[str] | Failure:
    """Objects of ``object_type`` whose ``relation`` the user can reach, walking tuples backwards from the user as
    OpenFGA's reverse expansion does. Only tuples on relations that can lead to ``object_type#relation`` are
    followed, so a condition on a tuple no path from this user reaches is never evaluated. With ``condition``, a
    tuple whose condition is false is not followed and one whose condition cannot be evaluated fails the whole list
    (OpenFGA's ListObjects reports that error even when another path grants the object)."""
    edges = candidate_edges(ts)
    relevant = edges.relevant(object_type, relation)
    user_str = str(user)
    stack: list[tuple[str, str]] = []

    def follow(t: Any, node: tuple[str, str], leaf: tuple = ("this",)) -> Any:
        if node not in relevant or not edges.follows(node, leaf):
            return False
        if condition is None or t.condition_name is None:
            return True
        return condition(t)

    subjects = [user_str]
    if user.relation is not None:
        stack.append((user.object, user.relation))
    elif user.id != "*":
        subjects.append(f"{user.type}:*")
    for subject in subjects:
        for t in lookups.tuples_with_user(subject):
            f = follow(t, (t.object.partition(":")[0], t.relation))
            if isinstance(f, Failure):
                return f
            if f is True:
                stack.append((t.object, t.relation))
    seen: set[tuple[str, str]] = set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        o, r = node
        otype = o.partition(":")[0]
        for t in lookups.tuples_with_user(f"{o}#{r}"):
            f = follow(t, (t.object.partition(":")[0], t.relation))
            if isinstance(f, Failure):
                return f
            if f is True:
                stack.append((t.object, t.relation))
        for r2 in ts.computed_parents(otype, r):
            if (otype, r2) in relevant and edges.follows((otype, r2), ("computed", r)):
                stack.append((o, r2))
        parents = ts.ttu_parents(otype, r)
        if parents:
            pointing = lookups.tuples_with_user(o)
            for ptype, tupleset, r2 in parents:
                for t in pointing:
                    if t.relation == tupleset and t.object.partition(":")[0] == ptype:
                        f = follow(t, (ptype, r2), ("ttu", tupleset, r))
                        if isinstance(f, Failure):
                            return f
                        if f is True:
                            stack.append((t.object, r2))
    return {o for (o, r) in seen if r == relation and o.partition(":")[0] == object_type}


def user_candidates(
    ts: TypeSystem,
    lookups: Lookups,
    obj: str,
    relation: str,
    filters: Iterable[tuple[str, str | None]],
    condition: Callable[[Any], Any] | None = None,
) -> set[str] | Failure:
    """Users matching ``filters`` reachable from ``obj#relation`` through rewrites and tuples.

    With ``condition`` (a tuple -> True/False/Failure function), a tuple whose condition is false is not followed,
    and one whose condition cannot be evaluated fails the whole expansion, as in OpenFGA's ListUsers (which, unlike
    Check, does not let another path's success hide the error)."""
    wanted = set(filters)
    userset_filters = {f for f in wanted if f[1] is not None}
    candidates: set[str] = set()
    seen: set[tuple[str, str]] = set()
    stack = [(obj, relation)]

    reach_cache: dict[tuple[str, str], bool] = {}

    def reaches(ntype: str, nrel: str) -> bool:
        """Type pruning: can any filter be found below ntype#nrel? (OpenFGA does not expand other branches.)"""
        key = (ntype, nrel)
        hit = reach_cache.get(key)
        if hit is None:
            if ts.rewrite(ntype, nrel) is None:
                hit = False
            else:
                hit = any(ts.path_exists(UserRef(ft, "_", fr), nrel, ntype) for ft, fr in wanted)
            reach_cache[key] = hit
        return hit

    def holds(t: Any) -> Any:
        if condition is None or t.condition_name is None:
            return True
        return condition(t)

    # Pruning is by edge, as in OpenFGA's ListUsers: nothing is expanded when no candidate edge (union operands, the
    # first intersection operand, the exclusion base) leads from a filter to the request, unless the request is the
    # filter itself; a userset or tuple-to-userset hop is taken only towards a relation that can reach a filter;
    # computed usersets and set operands on the same object are always expanded (their tuples' conditions are
    # evaluated).
    otype = obj.partition(":")[0]
    edges = candidate_edges(ts)
    if not any((otype, relation) == f or edges.has_possible_edges(otype, relation, *f) for f in wanted):
        return candidates
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        o, r = node
        otype = o.partition(":")[0]
        rewrite = ts.rewrite(otype, r)
        if rewrite is None:
            continue
        if (otype, r) in userset_filters:
            candidates.add(f"{o}#{r}")
        for part in walk_rewrite(rewrite):
            kind = part[0]
            if kind == THIS:
                for u, t in (lookups.tuples_of((o, r)) or {}).items():
                    # Every direct tuple of a visited node has its condition evaluated, whatever its user type
                    # (OpenFGA's ListUsers reads and filters them all before matching the filter).
                    c = holds(t)
                    if c is not True:
                        if isinstance(c, Failure):
                            return c
                        continue
                    if "#" in u:
                        uobj, _, urel = u.partition("#")
                        utype = uobj.partition(":")[0]
                        matches = (utype, urel) in wanted
                        if not matches and not reaches(utype, urel):
                            continue
                    else:
                        matches = (u.partition(":")[0], None) in wanted
                        if not matches:
                            continue
                    if matches:
                        candidates.add(u)
                    if "#" in u:
                        stack.append((uobj, urel))
            elif kind == COMPUTED:
                stack.append((o, part[1]))
            elif kind == TTU:
                for parent, t in (lookups.tuples_of((o, part[1])) or {}).items():
                    if "#" in parent or not reaches(parent.partition(":")[0], part[2]):
                        continue
                    c = holds(t)
                    if c is not True:
                        if isinstance(c, Failure):
                            return c
                        continue
                    if "#" not in parent:
                        stack.append((parent, part[2]))
    return candidates


def list_users(
    ts: TypeSystem,
    lookups: Lookups,
    context: Mapping[str, Any] | None,
    obj: str,
    relation: str,
    filters: Iterable[tuple[str, str | None]],
) -> list[str] | Failure:
    otype = obj.partition(":")[0]
    probe = Resolver(ts, lookups.tuples_of, lookups.usersets_of, context, lookups.tuples_with_user)
    candidates = user_candidates(ts, lookups, obj, relation, filters, probe.condition)
    if isinstance(candidates, Failure):
        return candidates
    found = []
    for candidate in sorted(candidates):
        user = parse_user(candidate)
        resolver = Resolver(ts, lookups.tuples_of, lookups.usersets_of, context, lookups.tuples_with_user)
        r = resolver.resolve(obj, otype, relation, user, candidate, 0)
        if r is True:
            found.append(candidate)
        elif isinstance(r, Failure):
            return r
    return found
