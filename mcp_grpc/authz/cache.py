"""Decision cache: remembers allowed/denied answers for a short TTL, keyed by exactly what decides them.

Key: ``(user, relation, object, context digest)``. The digest is a BLAKE2b hash of the canonical JSON of the
condition context and the contextual tuples. Errors are never cached, nor denials carrying OpenFGA's cycle flag
(``CheckResult.cycle``: indeterminate, and OpenFGA does not cache them either). Entries live ``ttl`` seconds; the
cache holds at most ``max_entries`` (oldest dropped first). It is bypassed when the caller asks for
``HIGHER_CONSISTENCY``.

The request time. Every call's context carries ``current_time``, which would make every key unique. Two measures
keep the cache useful without ever answering from a different context than the one that would be evaluated:
1. ``CallPolicy`` truncates ``current_time`` to ``time_resolution`` (1 s by default), and that truncated time is what
   the backend sees too.
2. When the authorization model is known (``ModelIndex``), a relation that can never reach a conditional tuple
   does not depend on the context at all, so its key leaves the context out (only contextual tuples are hashed).
   Without a model index every relation is treated as conditional (correct, just fewer hits).

Invalidation on writes. The embedded engine's store calls ``DecisionCache.on_tuples_changed(writes, deletes)``
(sequences of ``TupleKey``) after each committed write, before the write returns. With a ``ModelIndex`` the cache
drops exactly the entries the written tuples can affect:
- a tuple ``U R O`` where ``U`` is a concrete user and only same-object computed relations depend on ``R``: the
  entries for user ``U`` on object ``O`` with ``R`` or a relation computed from it;
- a wildcard or userset ``U``, or a relation used as a tuple-to-userset tupleset: every entry on ``O`` for those
  relations;
- a relation reached through a userset or from another object: every entry of the affected (type, relation)s.
Without a model index any write clears the cache. A model change must call ``clear()`` (the authorizer does).
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import json
import threading
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from mcp_grpc.authz.backend import CheckResult, Outcome, TupleKey

__all__ = ["CacheStats", "DecisionCache", "ModelIndex", "context_digest"]

HIGHER_CONSISTENCY = "HIGHER_CONSISTENCY"

# How a relation depends on another: ordered from the narrowest to the widest invalidation.
_SAME_USER = 0  # computed userset on the same object: same user, same object
_SAME_OBJECT = 1  # tuple-to-userset tupleset on the same object: any user, same object
_CROSS = 2  # through a userset or another object: any object of the type


class ModelIndex:
    """What the cache needs to know about an authorization model (OpenFGA's JSON form, as ``fga model transform``
    prints it or ``ReadAuthorizationModel`` returns it): which relations may depend on a condition, and which
    relations a write to (type, relation) can change."""

    def __init__(self, model: Mapping[str, Any]) -> None:
        self._dependents: dict[tuple[str, str], list[tuple[tuple[str, str], int]]] = collections.defaultdict(list)
        self._conditional_direct: set[tuple[str, str]] = set()
        self._relations: set[tuple[str, str]] = set()
        type_defs = model.get("type_definitions") or []
        directly: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
        for type_def in type_defs:
            type_name = type_def["type"]
            meta = ((type_def.get("metadata") or {}).get("relations")) or {}
            for relation in (type_def.get("relations") or {}):
                self._relations.add((type_name, relation))
                refs = (meta.get(relation) or {}).get("directly_related_user_types") or []
                directly[(type_name, relation)] = refs
                if any(ref.get("condition") for ref in refs):
                    self._conditional_direct.add((type_name, relation))
        for type_def in type_defs:
            type_name = type_def["type"]
            for relation, rewrite in (type_def.get("relations") or {}).items():
                self._walk(type_name, relation, rewrite, directly)
        self._conditional = self._close_conditional()

    def _depends(self, node: tuple[str, str], on: tuple[str, str], kind: int) -> None:
        self._dependents[on].append((node, kind))

    def _walk(self, type_name: str, relation: str, rewrite: Mapping[str, Any], directly: Mapping) -> None:
        node = (type_name, relation)
        if "this" in rewrite:
            for ref in directly.get(node, ()):
                if ref.get("relation"):
                    self._depends(node, (ref["type"], ref["relation"]), _CROSS)
        if "computedUserset" in rewrite:
            self._depends(node, (type_name, rewrite["computedUserset"].get("relation", "")), _SAME_USER)
        if "tupleToUserset" in rewrite:
            ttu = rewrite["tupleToUserset"]
            tupleset = ttu["tupleset"]["relation"]
            computed = ttu["computedUserset"]["relation"]
            self._depends(node, (type_name, tupleset), _SAME_OBJECT)
            for ref in directly.get((type_name, tupleset), ()):
                self._depends(node, (ref["type"], computed), _CROSS)
        for op in ("union", "intersection"):
            if op in rewrite:
                for child in rewrite[op].get("child", ()):
                    self._walk(type_name, relation, child, directly)
        if "difference" in rewrite:
            self._walk(type_name, relation, rewrite["difference"]["base"], directly)
            self._walk(type_name, relation, rewrite["difference"]["subtract"], directly)

    def _close_conditional(self) -> frozenset[tuple[str, str]]:
        conditional = set(self._conditional_direct)
        frontier = list(conditional)
        while frontier:
            node = frontier.pop()
            for dependent, _ in self._dependents.get(node, ()):
                if dependent not in conditional:
                    conditional.add(dependent)
                    frontier.append(dependent)
        return frozenset(conditional)

    def is_conditional(self, object_type: str, relation: str) -> bool:
        """True when answering this relation may evaluate a condition (so the context matters). Unknown -> True."""
        if (object_type, relation) not in self._relations:
            return True
        return (object_type, relation) in self._conditional

    def affected_by(self, object_type: str, relation: str) -> dict[tuple[str, str], int]:
        """Every (type, relation) a tuple on (object_type, relation) can change, with the widest dependency kind."""
        widest: dict[tuple[str, str], int] = {(object_type, relation): _SAME_USER}
        frontier = [(object_type, relation)]
        for _ in range(100_000):  # bounded: each node is re-queued only when its kind widens (at most 3 times)
            if not frontier:
                break
            node = frontier.pop()
            for dependent, kind in self._dependents.get(node, ()):
                level = max(widest[node], kind)
                if widest.get(dependent, -1) < level:
                    widest[dependent] = level
                    frontier.append(dependent)
        return widest


def context_digest(context: Mapping[str, Any] | None, contextual_tuples: Sequence[TupleKey] = ()) -> str:
    """A stable hash of a condition context and contextual tuples ('' when both are empty)."""
    if not context and not contextual_tuples:
        return ""
    payload = {
        "c": context or {},
        "t": [
            [t.user, t.relation, t.object, t.condition_name, dict(t.condition_context or {})]
            for t in contextual_tuples
        ],
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class CacheStats:
    hits: int
    misses: int
    entries: int
    invalidations: int

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


_Key = tuple[str, str, str, str]  # user, relation, object, digest


class DecisionCache:
    """A bounded TTL cache of check answers. Thread-safe (the engine may call ``on_tuples_changed`` from a thread)."""

    def __init__(
        self,
        *,
        ttl: float = 5.0,
        max_entries: int = 100_000,
        model_index: ModelIndex | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be > 0")
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self.model_index = model_index
        self._clock = clock
        self._entries: collections.OrderedDict[_Key, tuple[float, CheckResult]] = collections.OrderedDict()
        self._by_type_relation: dict[tuple[str, str], set[_Key]] = collections.defaultdict(set)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.invalidations = 0
        self.epoch = 0
        """Bumped by every invalidation. Read it before asking the backend and pass it to ``put``: an answer computed
        before a write or reload is then not cached after the invalidation it raced with."""

    # -- keys ----------------------------------------------------------------------------------------------------

    def key(
        self,
        user: str,
        relation: str,
        object: str,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> _Key:
        """The cache key of one check; the context counts only when the relation may be conditional."""
        object_type = object.partition(":")[0]
        if self.model_index is not None and not self.model_index.is_conditional(object_type, relation):
            context = None
        return (user, relation, object, context_digest(context, contextual_tuples))

    @staticmethod
    def bypass(consistency: str | None) -> bool:
        """True when the caller asked for an answer fresher than any cache can promise."""
        return consistency == HIGHER_CONSISTENCY

    # -- lookups -------------------------------------------------------------------------------------------------

    def get(self, key: _Key) -> CheckResult | None:
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return None
            expires, result = entry
            if now >= expires:
                self._remove(key)
                self.misses += 1
                return None
            self.hits += 1
            return result

    def put(self, key: _Key, result: CheckResult, epoch: int | None = None) -> None:
        """Remember an allowed or denied answer; errors and cycle-flagged denials are never cached, nor answers older
        than ``epoch``."""
        if result.outcome is Outcome.ERROR or result.cycle:
            return
        expires = self._clock() + self.ttl
        with self._lock:
            if epoch is not None and epoch != self.epoch:
                return
            if key in self._entries:
                self._entries.move_to_end(key)
            self._entries[key] = (expires, result)
            self._by_type_relation[(key[2].partition(":")[0], key[1])].add(key)
            while len(self._entries) > self.max_entries:
                oldest = next(iter(self._entries))
                self._remove(oldest)

    def _remove(self, key: _Key) -> None:
        self._entries.pop(key, None)
        bucket = self._by_type_relation.get((key[2].partition(":")[0], key[1]))
        if bucket is not None:
            bucket.discard(key)

    # -- invalidation --------------------------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self.epoch += 1
            self.invalidations += len(self._entries)
            self._entries.clear()
            self._by_type_relation.clear()

    def set_model_index(self, model_index: ModelIndex | None) -> None:
        """A new model: forget everything (answers and key shapes may change)."""
        with self._lock:
            self.model_index = model_index
        self.clear()

    def on_tuples_changed(self, writes: Iterable[TupleKey] = (), deletes: Iterable[TupleKey] = ()) -> int:
        """Drop every entry the written or deleted tuples can affect. Returns how many entries were dropped."""
        changed = [*writes, *deletes]
        if not changed:
            return 0
        if self.model_index is None:
            with self._lock:
                dropped = len(self._entries)
            self.clear()
            return dropped
        dropped = 0
        with self._lock:
            self.epoch += 1
            for tuple_key in changed:
                dropped += self._invalidate_one(tuple_key)
            self.invalidations += dropped
        return dropped

    def _invalidate_one(self, tuple_key: TupleKey) -> int:
        assert self.model_index is not None
        object_type = tuple_key.object.partition(":")[0]
        user_is_concrete = "#" not in tuple_key.user and not tuple_key.user.endswith(":*")
        doomed: list[_Key] = []
        for (type_name, relation), kind in self.model_index.affected_by(object_type, tuple_key.relation).items():
            for key in self._by_type_relation.get((type_name, relation), ()):
                if kind == _CROSS:
                    doomed.append(key)
                elif key[2] == tuple_key.object and (
                    kind == _SAME_OBJECT or not user_is_concrete or key[0] == tuple_key.user
                ):
                    doomed.append(key)
        for key in doomed:
            self._remove(key)
        return len(doomed)

    # -- metrics -------------------------------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self.hits, self.misses, len(self._entries), self.invalidations)
