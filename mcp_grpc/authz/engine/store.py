"""The tuple store: model versions, tuples, and atomic immutable snapshots.

Every change (a model write, a tuple write/delete, a bulk reload) builds a new immutable :class:`Snapshot` and swaps
one reference; a concurrent check holds the snapshot it started with and never sees a half-applied change. Writers
are serialised by a lock; readers take no lock.

Persistence (SQLite, files) wraps this interface rather than living in it: a persistence layer loads models and
tuples with :meth:`TupleStore.load` at start-up and mirrors every committed change it hears about through
:meth:`TupleStore.add_listener` (or calls :meth:`write` itself and stores what succeeded). The listener hook is
also what a decision cache uses to invalidate exactly on writes.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from mcp_grpc.authz.backend import TupleKey

from .errors import (
    AUTHORIZATION_MODEL_NOT_FOUND,
    CANNOT_ALLOW_DUPLICATE_TUPLES_IN_ONE_REQUEST,
    FgaError,
    INVALID_WRITE_INPUT,
    LATEST_AUTHORIZATION_MODEL_NOT_FOUND,
    WRITE_FAILED_DUE_TO_INVALID_INPUT,
)
from .index import TupleIndex
from .tuples import Tuple, to_tuple
from .typesystem import TypeSystem

__all__ = ["ChangeEvent", "ModelVersion", "Snapshot", "TupleStore", "new_ulid", "MAX_TUPLES_PER_WRITE"]

MAX_TUPLES_PER_WRITE = 100
"""OpenFGA's default limit on writes + deletes in one Write call; ``load`` has no limit."""

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ulid_lock = threading.Lock()
_ulid_last = [0, 0]


def new_ulid() -> str:
    """A ULID (48-bit millisecond time + 80 random bits, Crockford base32), monotonic within this process."""
    with _ulid_lock:
        ms = int(time.time() * 1000)
        if ms <= _ulid_last[0]:
            ms = _ulid_last[0]
            rand = (_ulid_last[1] + 1) & ((1 << 80) - 1)
        else:
            rand = int.from_bytes(os.urandom(10), "big")
        _ulid_last[0], _ulid_last[1] = ms, rand
    value = (ms << 80) | rand
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in range(25, -1, -1))


@dataclasses.dataclass(frozen=True, slots=True)
class ModelVersion:
    id: str
    model: Mapping[str, Any]
    typesystem: TypeSystem = dataclasses.field(repr=False, compare=False)


@dataclasses.dataclass(frozen=True, slots=True)
class ChangeEvent:
    """What a listener hears after a change is committed. ``kind`` is ``write``, ``model`` or ``load``."""

    kind: str
    revision: int
    writes: tuple[Tuple, ...] = ()
    deletes: tuple[Tuple, ...] = ()
    model_id: str | None = None

    @property
    def write_keys(self) -> tuple[TupleKey, ...]:
        """``writes`` as backend ``TupleKey``s (what ``DecisionCache.on_tuples_changed`` takes)."""
        return tuple(t.to_key() for t in self.writes)

    @property
    def delete_keys(self) -> tuple[TupleKey, ...]:
        return tuple(t.to_key() for t in self.deletes)


class Snapshot:
    """One consistent view: the model versions and the tuples at one revision, with indexes per model version.

    The index for the latest model is built eagerly; an older model's index is built on first use and memoised.
    """

    __slots__ = ("revision", "models", "model_order", "tuples", "_indexes", "_lock", "_latest")

    def __init__(
        self,
        revision: int,
        models: Mapping[str, ModelVersion],
        model_order: tuple[str, ...],
        tuples: Mapping[tuple[str, str, str], Tuple],
        indexes: dict[str, TupleIndex],
    ) -> None:
        self.revision = revision
        self.models = models
        self.model_order = model_order
        self.tuples = tuples
        self._indexes = indexes
        self._lock = threading.Lock()
        self._latest: tuple[TypeSystem, Any] | None = None

    def latest(self) -> tuple[TypeSystem, Any]:
        """(type system, lookups) of the latest model without contextual tuples: the Check fast path."""
        latest = self._latest
        if latest is None:
            version = self.model(None)
            latest = self._latest = (version.typesystem, self.index(version.id).lookups(()))
        return latest

    @property
    def latest_model_id(self) -> str | None:
        return self.model_order[-1] if self.model_order else None

    def model(self, model_id: str | None = None) -> ModelVersion:
        """The named model version, or the latest one."""
        if model_id is None:
            if not self.model_order:
                raise FgaError(LATEST_AUTHORIZATION_MODEL_NOT_FOUND, "no authorization model has been written")
            model_id = self.model_order[-1]
        version = self.models.get(model_id)
        if version is None:
            raise FgaError(AUTHORIZATION_MODEL_NOT_FOUND, f"authorization model {model_id!r} not found")
        return version

    def index(self, model_id: str | None = None) -> TupleIndex:
        """The index of tuples valid under the named (or latest) model."""
        version = self.model(model_id)
        index = self._indexes.get(version.id)
        if index is None:
            with self._lock:
                index = self._indexes.get(version.id)
                if index is None:
                    index = TupleIndex.build(version.typesystem, self.tuples.values())
                    self._indexes[version.id] = index
        return index


Listener = Callable[[ChangeEvent], None]


class TupleStore:
    """Model versions and tuples, with OpenFGA's write rules and atomic snapshot swaps.

    - :meth:`write_model` adds a model version (ULID id) and makes it the latest.
    - :meth:`write` applies writes and deletes all-or-nothing: each write is validated against the model, writing an
      existing tuple or deleting a missing one is an error, as is naming the same tuple twice in one call.
    - :meth:`read` lists stored tuples by filter; :meth:`snapshot` returns the current immutable view.
    - :meth:`load` replaces everything at once (start-up or reload), atomically.
    """

    def __init__(self) -> None:
        self._write_lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._snapshot = Snapshot(0, {}, (), {}, {})

    # --- reads ---------------------------------------------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        """The current view; hold it for the duration of one request."""
        return self._snapshot

    def read(self, *, object: str | None = None, relation: str | None = None, user: str | None = None) -> list[Tuple]:
        """Stored tuples matching every given field (``object`` may be a bare ``type:`` to match a whole type)."""
        out = []
        for t in self._snapshot.tuples.values():
            if object is not None:
                if object.endswith(":"):
                    if not t.object.startswith(object):
                        continue
                elif t.object != object:
                    continue
            if relation is not None and t.relation != relation:
                continue
            if user is not None and t.user != user:
                continue
            out.append(t)
        return out

    def models(self) -> list[ModelVersion]:
        """Every model version, oldest first (the last one is what checks use unless they name another)."""
        snap = self._snapshot
        return [snap.models[mid] for mid in snap.model_order]

    def __iter__(self) -> Iterator[Tuple]:
        return iter(list(self._snapshot.tuples.values()))

    def __len__(self) -> int:
        return len(self._snapshot.tuples)

    # --- listeners -----------------------------------------------------------------------------------------------

    def add_listener(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(event)`` after every committed change; returns a function that removes it.

        Listeners run synchronously in the writer's thread after the swap; an exception in one is not propagated
        (the change is already committed) but does not stop the others.
        """
        with self._write_lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._write_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def _notify(self, event: ChangeEvent) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a listener must not undo a committed change
                pass

    # --- writes --------------------------------------------------------------------------------------------------

    def write_model(self, model: Mapping[str, Any], *, model_id: str | None = None) -> str:
        """Add a model version and make it the latest; returns its id. The model must already be validated JSON."""
        ts = TypeSystem.from_model(model)
        with self._write_lock:
            old = self._snapshot
            mid = model_id or new_ulid()
            version = ModelVersion(mid, model, ts)
            models = dict(old.models)
            models[mid] = version
            order = tuple(m for m in old.model_order if m != mid) + (mid,)
            index = TupleIndex.build(ts, old.tuples.values())
            new = Snapshot(old.revision + 1, models, order, old.tuples, {mid: index})
            self._snapshot = new
        self._notify(ChangeEvent("model", new.revision, model_id=mid))
        return mid

    def write(
        self,
        writes: Iterable[Any] = (),
        deletes: Iterable[Any] = (),
        *,
        model_id: str | None = None,
        max_tuples: int | None = MAX_TUPLES_PER_WRITE,
    ) -> int:
        """Apply ``writes`` and ``deletes`` atomically; returns the new revision. Raises FgaError and changes
        nothing when any tuple is invalid under the model, already exists (write), is missing (delete), or appears
        twice in the call."""
        w = tuple(to_tuple(t) for t in writes)
        d = tuple(to_tuple(t) for t in deletes)
        if not w and not d:
            raise FgaError(INVALID_WRITE_INPUT, "a write call needs at least one write or delete")
        if max_tuples is not None and len(w) + len(d) > max_tuples:
            raise FgaError(INVALID_WRITE_INPUT,
                           f"a write call takes at most {max_tuples} tuples, got {len(w) + len(d)}")
        seen: set[tuple[str, str, str]] = set()
        for t in w + d:
            if t.key in seen:
                raise FgaError(CANNOT_ALLOW_DUPLICATE_TUPLES_IN_ONE_REQUEST,
                               f"duplicate tuple in one write call: {t.object}#{t.relation}@{t.user}")
            seen.add(t.key)
        with self._write_lock:
            old = self._snapshot
            version = old.model(model_id)
            for t in w:
                version.typesystem.validate_tuple(t)
            for t in d:
                # Deletes are validated for shape only: a tuple stored under an older model can still be deleted.
                if t.key not in old.tuples:
                    raise FgaError(WRITE_FAILED_DUE_TO_INVALID_INPUT,
                                   f"cannot delete a tuple which does not exist: {t.object}#{t.relation}@{t.user}")
            for t in w:
                if t.key in old.tuples:
                    raise FgaError(WRITE_FAILED_DUE_TO_INVALID_INPUT,
                                   f"cannot write a tuple which already exists: {t.object}#{t.relation}@{t.user}")
            tuples = dict(old.tuples)
            stored_deletes = tuple(tuples.pop(t.key) for t in d)
            for t in w:
                tuples[t.key] = t
            indexes = {}
            latest = old.latest_model_id
            if latest is not None:
                base = old.index(latest)
                indexes[latest] = base.with_changes(old.models[latest].typesystem, w, stored_deletes,
                                                    writes_valid=version.id == latest)
            new = Snapshot(old.revision + 1, old.models, old.model_order, tuples, indexes)
            self._snapshot = new
        self._notify(ChangeEvent("write", new.revision, writes=w, deletes=stored_deletes))
        return new.revision

    def delete(self, deletes: Iterable[Any], *, model_id: str | None = None) -> int:
        return self.write((), deletes, model_id=model_id)

    def load(
        self,
        tuples: Iterable[Any] = (),
        *,
        models: Sequence[Mapping[str, Any] | tuple[str, Mapping[str, Any]]] | None = None,
    ) -> int:
        """Replace all tuples (and, when given, all model versions, oldest first, each a model or an (id, model)
        pair) in one atomic swap. Tuples are not validated: ones invalid under the model are kept and ignored, as
        OpenFGA ignores stored tuples a later model no longer allows."""
        loaded: dict[tuple[str, str, str], Tuple] = {}
        for raw in tuples:
            t = to_tuple(raw)
            loaded[t.key] = t
        with self._write_lock:
            old = self._snapshot
            if models is None:
                mv, order = old.models, old.model_order
            else:
                mv, order_list = {}, []
                for entry in models:
                    mid, model = entry if isinstance(entry, tuple) else (new_ulid(), entry)
                    mv[mid] = ModelVersion(mid, model, TypeSystem.from_model(model))
                    order_list.append(mid)
                order = tuple(order_list)
            indexes = {}
            if order:
                indexes[order[-1]] = TupleIndex.build(mv[order[-1]].typesystem, loaded.values())
            new = Snapshot(old.revision + 1, mv, order, loaded, indexes)
            self._snapshot = new
        self._notify(ChangeEvent("load", new.revision, model_id=new.latest_model_id))
        return new.revision
