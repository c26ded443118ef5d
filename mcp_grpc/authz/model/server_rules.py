"""What an OpenFGA server refuses on model write beyond the language validator: ``typesystem.NewAndValidate``.

A port of openfga pkg/typesystem/typesystem.go (v1.22): for every relation, types and relations in name order, the
first of these to fail is the server's answer (it reports one error):

1. ``isUsersetRewriteValid``: a computed userset naming its own relation anywhere in the rewrite (not through
   ``from``) is "invalid userset rewrite definition";
2. ``hasEntrypoints``: can a tuple ever make the relation true? "no entrypoints defined", or "potential loop" when the
   search met a computed userset it was already resolving. Its bookkeeping is reproduced as written, because the
   answers depend on it: each call clones the visited map *shallowly* (the per-type inner maps stay shared with the
   caller, so marks made inside one branch are seen by its siblings), set operations pass their *caller's* map to
   their operands, and an exclusion needs both base and subtract to have entrypoints;
3. ``HasCycle``: a cycle through computed usersets, under any operator, is "an authorization model cannot contain a
   cycle" (``r0: [user] or r1; r1: [user] and r0``). A diamond (``r2: r0 and r1; r1: r0``) is not one: each
   operand gets its own copy of the path.

:func:`first_server_error` returns ``(type, relation, message)`` for the first failure, or None.
"""

from __future__ import annotations

from typing import Any, Mapping

__all__ = ["first_server_error"]

INVALID_REWRITE = "invalid userset rewrite definition"
NO_ENTRYPOINTS = "no entrypoints defined"
POTENTIAL_LOOP = "potential loop"
CYCLE = "an authorization model cannot contain a cycle"


class _Undefined(Exception):
    """A name the model does not define: the language checks report it first; nothing to add here."""


class _Model:
    def __init__(self, model: Mapping[str, Any]) -> None:
        self.rewrites: dict[str, dict[str, Mapping[str, Any]]] = {}
        self.related: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for td in model.get("type_definitions") or []:
            tname = td.get("type", "")
            self.rewrites[tname] = dict(td.get("relations") or {})
            meta = ((td.get("metadata") or {}).get("relations")) or {}
            for rname in self.rewrites[tname]:
                self.related[(tname, rname)] = list((meta.get(rname) or {}).get("directly_related_user_types") or [])

    def rewrite(self, tname: str, rname: str) -> Mapping[str, Any]:
        rw = self.rewrites.get(tname, {}).get(rname)
        if rw is None:
            raise _Undefined(f"{tname}#{rname}")
        return rw


def _children(rw: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    if "union" in rw:
        return list(rw["union"].get("child") or [])
    if "intersection" in rw:
        return list(rw["intersection"].get("child") or [])
    if "difference" in rw:
        return [rw["difference"].get("base") or {}, rw["difference"].get("subtract") or {}]
    return None


def _rewrite_names_itself(rw: Mapping[str, Any], relation: str) -> bool:
    if "computedUserset" in rw:
        return (rw["computedUserset"] or {}).get("relation") == relation
    return any(_rewrite_names_itself(c, relation) for c in _children(rw) or ())


def _has_entrypoints(m: _Model, tname: str, rname: str, rw: Mapping[str, Any],
                     visited: dict[str, dict[str, bool]]) -> tuple[bool, bool]:
    v = dict(visited)  # maps.Clone: the inner maps are shared
    if tname in v:
        v[tname][rname] = False
    else:
        v[tname] = {rname: False}
    m.rewrite(tname, rname)
    if "this" in rw:
        for ref in m.related.get((tname, rname), ()):
            if not ref.get("relation") or "wildcard" in ref:
                v[tname][rname] = True
                return True, False
            atype, arel = ref.get("type", ""), ref["relation"]
            target = m.rewrite(atype, arel)
            if arel in v.get(atype, {}):
                continue
            if _has_entrypoints(m, atype, arel, target, v)[0]:
                return True, False
        return False, False
    if "computedUserset" in rw:
        crel = (rw["computedUserset"] or {}).get("relation", "")
        target = m.rewrite(tname, crel)
        if crel in v.get(tname, {}):
            return v[tname][crel], True
        return _has_entrypoints(m, tname, crel, target, v)
    if "tupleToUserset" in rw:
        ttu = rw["tupleToUserset"]
        tupleset = (ttu.get("tupleset") or {}).get("relation", "")
        crel = (ttu.get("computedUserset") or {}).get("relation", "")
        m.rewrite(tname, tupleset)
        for ref in m.related.get((tname, tupleset), ()):
            atype = ref.get("type", "")
            target = m.rewrites.get(atype, {}).get(crel)
            if target is None:
                continue
            if crel in v.get(atype, {}):
                if v[atype][crel]:
                    return True, False
                continue
            if _has_entrypoints(m, atype, crel, target, v)[0]:
                return True, False
        return False, False
    if "union" in rw:
        loop = False
        for child in rw["union"].get("child") or []:
            entry, child_loop = _has_entrypoints(m, tname, rname, child, visited)
            if entry:
                return True, False
            loop = loop or child_loop
        return False, loop
    children = _children(rw)
    if children is None:
        raise _Undefined(f"{tname}#{rname}: unknown rewrite")
    for child in children:  # intersection and exclusion: every operand needs an entrypoint
        entry, child_loop = _has_entrypoints(m, tname, rname, child, visited)
        if not entry:
            return False, child_loop
    return True, False


def _has_cycle(m: _Model, tname: str, rname: str, rw: Mapping[str, Any], visited: set[str]) -> bool:
    visited.add(f"{tname}#{rname}")
    copy = set(visited)
    if "computedUserset" in rw:
        crel = (rw["computedUserset"] or {}).get("relation", "")
        if f"{tname}#{crel}" in visited:
            return True
        return _has_cycle(m, tname, crel, m.rewrite(tname, crel), copy)
    return any(_has_cycle(m, tname, rname, child, copy) for child in _children(rw) or ())


def first_server_error(model: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """The first relation OpenFGA's server refuses (type, relation, its message), in OpenFGA's order; None if none.

    Run after the language checks: names they report as undefined are skipped here."""
    m = _Model(model)
    for tname in sorted(m.rewrites):
        for rname in sorted(m.rewrites[tname]):
            rw = m.rewrites[tname][rname]
            cause = None
            try:
                if _rewrite_names_itself(rw, rname):
                    cause = INVALID_REWRITE
                else:
                    entry, loop = _has_entrypoints(m, tname, rname, rw, {})
                    if not entry:
                        cause = POTENTIAL_LOOP if loop else NO_ENTRYPOINTS
                    elif _has_cycle(m, tname, rname, rw, set()):
                        cause = CYCLE
            except (_Undefined, RecursionError):
                continue
            if cause is not None:
                return tname, rname, (f"the definition of relation '{rname}' in object type '{tname}' is invalid: "
                                      f"{cause}")
    return None
