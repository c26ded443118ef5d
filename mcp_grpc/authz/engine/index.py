"""Immutable in-memory indexes over the tuples that are valid under one model.

An index is never mutated after it is built: a write produces a new index that shares every untouched entry with
the old one (copy-on-write of the affected ``object#relation`` entries only), so a reader holding the old one keeps
a consistent view.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from .tuples import Tuple
from .typesystem import TypeSystem

__all__ = ["TupleIndex", "Lookups", "contextual_lookups"]

UsersetEntry = tuple[str, str, str, Tuple]
"""(userset object ``group:x``, its type ``group``, its relation ``member``, the tuple)."""

_EMPTY: Mapping[str, Tuple] = {}


def _userset_entry(t: Tuple) -> UsersetEntry | None:
    user = t.user
    if "#" not in user:
        return None
    obj, _, rel = user.partition("#")
    return (obj, obj.partition(":")[0], rel, t)


class TupleIndex:
    """Tuples valid under one model, indexed for Check (by ``object#relation``) and ListObjects (by object type)."""

    __slots__ = ("by_key", "usersets", "objects_by_type", "by_user", "ignored", "_plain_lookups")

    def __init__(
        self,
        by_key: dict[tuple[str, str], dict[str, Tuple]],
        usersets: dict[tuple[str, str], tuple[UsersetEntry, ...]],
        objects_by_type: dict[str, frozenset[str]],
        by_user: dict[str, tuple[Tuple, ...]],
        ignored: int,
    ) -> None:
        self.by_key = by_key
        self.usersets = usersets
        self.objects_by_type = objects_by_type
        self.by_user = by_user
        """Reverse index for ListObjects: the tuples naming each user string (object, wildcard or userset)."""
        self.ignored = ignored
        self._plain_lookups: "Lookups | None" = None

    def lookups(self, contextual: Sequence[Tuple] = ()) -> "Lookups":
        """The resolver's reads over this index (shared when there are no contextual tuples)."""
        if contextual:
            return Lookups(self, contextual)
        plain = self._plain_lookups
        if plain is None:
            plain = self._plain_lookups = Lookups(self)
        return plain
        """How many stored tuples are invalid under the model and therefore ignored."""

    @classmethod
    def build(cls, ts: TypeSystem | None, tuples: Iterable[Tuple], *, valid: bool = False) -> "TupleIndex":
        """The index of ``tuples`` (``valid``: each is known to be valid under ``ts``, so none is checked)."""
        by_key: dict[tuple[str, str], dict[str, Tuple]] = {}
        usersets: dict[tuple[str, str], list[UsersetEntry]] = {}
        objects: dict[str, set[str]] = {}
        by_user: dict[str, list[Tuple]] = {}
        ignored = 0
        for t in tuples:
            if ts is None or not (valid or ts.is_valid_tuple(t)):
                ignored += 1
                continue
            key = (t.object, t.relation)
            by_key.setdefault(key, {})[t.user] = t
            entry = _userset_entry(t)
            if entry is not None:
                usersets.setdefault(key, []).append(entry)
            objects.setdefault(t.object.partition(":")[0], set()).add(t.object)
            by_user.setdefault(t.user, []).append(t)
        return cls(
            by_key,
            {k: tuple(v) for k, v in usersets.items()},
            {k: frozenset(v) for k, v in objects.items()},
            {k: tuple(v) for k, v in by_user.items()},
            ignored,
        )

    def with_changes(self, ts: TypeSystem | None, writes: Sequence[Tuple], deletes: Sequence[Tuple], *,
                     writes_valid: bool = False) -> "TupleIndex":
        """A new index with ``deletes`` removed and ``writes`` added; this one is left untouched.

        ``writes_valid``: the caller has validated every write under ``ts`` already (skips a second check)."""
        if not self.by_key and not deletes:
            # The first write into an empty store (a bulk load): build the index at once, without copy-on-write
            # bookkeeping per key; same entries in the same (write) order. Objects whose tuples were all deleted
            # are kept as ListObjects candidates, as below.
            built = TupleIndex.build(ts, writes, valid=writes_valid)
            merged = dict(self.objects_by_type)
            for otype, objs in built.objects_by_type.items():
                known = merged.get(otype)
                merged[otype] = objs if known is None else known | objs
            return TupleIndex(built.by_key, built.usersets, merged, built.by_user, self.ignored + built.ignored)
        by_key = dict(self.by_key)
        usersets = dict(self.usersets)
        objects = dict(self.objects_by_type)
        by_user = dict(self.by_user)
        ignored = self.ignored
        touched: set[tuple[str, str]] = set()
        copied: set[tuple[str, str]] = set()

        def entry_for(key: tuple[str, str]) -> dict[str, Tuple]:
            if key not in copied:
                by_key[key] = dict(by_key.get(key, _EMPTY))
                copied.add(key)
            return by_key[key]

        # Per-user and per-type changes are gathered first and applied once each: appending to an immutable tuple
        # or frozenset per written tuple would copy it every time (quadratic for a bulk write: 100,000 tuples
        # onto one type took 40 s).
        removed_by_user: dict[str, set[tuple[str, str, str]]] = {}
        for t in deletes:
            key = (t.object, t.relation)
            current = by_key.get(key)
            if current is None or t.user not in current:
                ignored -= 1  # it was stored but ignored as invalid
                continue
            del entry_for(key)[t.user]
            touched.add(key)
            removed_by_user.setdefault(t.user, set()).add(t.key)
        for user, keys in removed_by_user.items():
            remaining = tuple(x for x in by_user.get(user, ()) if x.key not in keys)
            if remaining:
                by_user[user] = remaining
            else:
                by_user.pop(user, None)
        added_by_user: dict[str, list[Tuple]] = {}
        added_objects: dict[str, set[str]] = {}
        for t in writes:
            if ts is None or not (writes_valid or ts.is_valid_tuple(t)):
                ignored += 1
                continue
            key = (t.object, t.relation)
            entry_for(key)[t.user] = t
            touched.add(key)
            added_by_user.setdefault(t.user, []).append(t)
            added_objects.setdefault(t.object.partition(":")[0], set()).add(t.object)
        for user, added in added_by_user.items():
            by_user[user] = by_user.get(user, ()) + tuple(added)
        for otype, new_objects in added_objects.items():
            known = objects.get(otype, frozenset())
            if not new_objects <= known:
                objects[otype] = known | new_objects
        for key in touched:
            entry = by_key[key]
            if not entry:
                del by_key[key]
                usersets.pop(key, None)
                continue
            us = tuple(e for e in (_userset_entry(t) for t in entry.values()) if e is not None)
            if us:
                usersets[key] = us
            else:
                usersets.pop(key, None)
        # Objects whose last tuple was deleted stay as ListObjects candidates; a check on them is simply false.
        return TupleIndex(by_key, usersets, objects, by_user, ignored)

    @property
    def tuple_count(self) -> int:
        return sum(len(v) for v in self.by_key.values())


class Lookups:
    """The two reads the resolver makes, over an index plus (optionally) a request's contextual tuples.

    A contextual tuple with the same ``object#relation@user`` as a stored one takes its place for this request.
    """

    __slots__ = ("tuples_of", "usersets_of", "objects_of_type", "tuples_with_user", "_ctx_by_key", "_merged",
                 "_index")

    def __init__(self, index: TupleIndex, contextual: Sequence[Tuple] = ()) -> None:
        self._index = index
        if not contextual:
            by_key = index.by_key
            us = index.usersets
            self.tuples_of = by_key.get
            self.usersets_of = us.get  # None when absent
            self.objects_of_type = lambda otype: index.objects_by_type.get(otype, frozenset())
            self.tuples_with_user = lambda user: index.by_user.get(user, ())
            return
        ctx_by_key: dict[tuple[str, str], dict[str, Tuple]] = {}
        for t in contextual:
            ctx_by_key.setdefault((t.object, t.relation), {})[t.user] = t
        self._ctx_by_key = ctx_by_key
        self._merged: dict[tuple[str, str], tuple[dict[str, Tuple], tuple[UsersetEntry, ...]]] = {}
        self.tuples_of = self._tuples_of
        self.usersets_of = self._usersets_of
        extra_objects: dict[str, set[str]] = {}
        for t in contextual:
            extra_objects.setdefault(t.object.partition(":")[0], set()).add(t.object)
        self.objects_of_type = lambda otype: index.objects_by_type.get(otype, frozenset()) | extra_objects.get(
            otype, set())
        ctx_by_user: dict[str, list[Tuple]] = {}
        for t in contextual:
            ctx_by_user.setdefault(t.user, []).append(t)

        def tuples_with_user(user: str) -> Sequence[Tuple]:
            extra = ctx_by_user.get(user)
            base = index.by_user.get(user, ())
            if not extra:
                return base
            keys = {t.key for t in extra}
            return [t for t in base if t.key not in keys] + extra

        self.tuples_with_user = tuples_with_user

    def _merge(self, key: tuple[str, str]) -> tuple[dict[str, Tuple], tuple[UsersetEntry, ...]]:
        merged = self._merged.get(key)
        if merged is None:
            base = self._index.by_key.get(key)
            extra = self._ctx_by_key.get(key)
            if extra is None:
                tuples = base or {}
                us = self._index.usersets.get(key, ())
            else:
                tuples = {**base, **extra} if base else extra
                us = tuple(e for e in (_userset_entry(t) for t in tuples.values()) if e is not None)
            merged = (tuples, us)
            self._merged[key] = merged
        return merged

    def _tuples_of(self, key: tuple[str, str]) -> Mapping[str, Tuple] | None:
        return self._merge(key)[0] or None

    def _usersets_of(self, key: tuple[str, str]) -> tuple[UsersetEntry, ...]:
        return self._merge(key)[1]


def contextual_lookups(index: TupleIndex, contextual: Sequence[Tuple]) -> Lookups:
    return Lookups(index, contextual)
