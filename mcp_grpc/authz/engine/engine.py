"""The synchronous engine API: models, tuples, Check, BatchCheck, ListObjects, ListUsers, Explain.

Usage::

    engine = Engine()
    engine.write_model(model_json_or_dsl)
    engine.write([TupleKey("user:anne", "viewer", "document:1")])
    engine.check("user:anne", "viewer", "document:1").allowed          # True
    engine.list_objects("user:anne", "viewer", "document").items        # ("document:1",)
    print(engine.explain("user:anne", "viewer", "document:1").render())

Every query answers with a value, never by raising: ``check`` returns a
:class:`~mcp_grpc.authz.backend.CheckResult` (allowed, denied, or error with OpenFGA's code), the list calls a
:class:`~mcp_grpc.authz.backend.ListResult`. Request validation follows OpenFGA: a malformed or unknown user, object,
type or relation is error 2000 for Check (2021/2022 for an unknown type/relation in ListObjects and ListUsers), an
invalid contextual tuple 2027, more than 100 contextual tuples 2000, depth exhaustion 2002, a condition that cannot
be evaluated 2000. Writes raise :class:`~mcp_grpc.authz.engine.errors.FgaError`.
"""

from __future__ import annotations

import json
import math
from typing import Any, Iterable, Mapping, Sequence

from mcp_grpc.authz.backend import CheckRequest, CheckResult, ListResult, Outcome, TupleKey

from .errors import FgaError, RELATION_NOT_FOUND, TYPE_NOT_FOUND, VALIDATION_ERROR
from .explain import Explanation, TracingResolver
from .index import Lookups
from .listing import list_objects as _list_objects
from .listing import list_users as _list_users
from .resolver import CYCLE, Failure, Resolver
from .store import Snapshot, TupleStore
from .tuples import Tuple, UserRef, parse_object, parse_user, to_tuple
from .typesystem import TypeSystem

__all__ = ["Engine", "MAX_CONTEXTUAL_TUPLES"]

MAX_CONTEXTUAL_TUPLES = 100
_TARGET_CACHE_SIZE = 65536

_SCALARS = frozenset({str, int, bool, type(None)})
_ALLOWED = CheckResult(Outcome.ALLOWED)
_DENIED = CheckResult(Outcome.DENIED)
_DENIED_CYCLE = CheckResult(Outcome.DENIED, cycle=True)


def _error_result(exc: FgaError | Failure) -> CheckResult:
    return CheckResult(Outcome.ERROR, error=exc.message, error_code=exc.code)


def _check_context(context: Any) -> Mapping[str, Any] | None:
    """The request context must be a JSON object of finite values (OpenFGA takes a protobuf Struct)."""
    if not context:
        return None
    if type(context) is dict:
        for v in context.values():
            if type(v) not in _SCALARS:
                break
        else:
            return context  # the common case: flat, no floats
    if not isinstance(context, Mapping):
        raise FgaError(VALIDATION_ERROR, f"context must be an object, got {type(context).__name__}")

    def visit(value: Any, path: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise FgaError(VALIDATION_ERROR, f"context value {path} is not a finite number")
        if isinstance(value, Mapping):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise FgaError(VALIDATION_ERROR, f"context key {k!r} at {path} is not a string")
                visit(v, f"{path}.{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                visit(v, f"{path}[{i}]")

    visit(context, "context")
    return context if context else None


def parse_model(model: Mapping[str, Any] | str) -> Mapping[str, Any]:
    """A JSON model (dict or JSON text) as is; DSL text through the model language parser."""
    if isinstance(model, Mapping):
        return model
    text = str(model)
    if text.lstrip().startswith("{"):
        return json.loads(text)
    from mcp_grpc.authz.model import parse_dsl

    return parse_dsl(text)


class Engine:
    """An embedded OpenFGA store: one :class:`TupleStore` (model versions + tuples) and the queries over it.

    Thread-safe: queries read one immutable snapshot each; writes are serialised by the store.
    """

    def __init__(self, store: TupleStore | None = None) -> None:
        self.store = store if store is not None else TupleStore()

    # --- models and tuples ---------------------------------------------------------------------------------------

    def write_model(self, model: Mapping[str, Any] | str, *, model_id: str | None = None) -> str:
        """Add a model version (JSON dict, JSON text or DSL text) and make it the latest; returns its id."""
        return self.store.write_model(parse_model(model), model_id=model_id)

    @property
    def latest_model_id(self) -> str | None:
        return self.store.snapshot().latest_model_id

    def write(self, writes: Iterable[Any] = (), deletes: Iterable[Any] = (), *, model_id: str | None = None,
              max_tuples: int | None = None) -> int:
        """Write and delete tuples atomically (OpenFGA's rules; see :meth:`TupleStore.write`). Returns the revision.

        ``max_tuples`` caps writes + deletes per call (OpenFGA's API allows 100); None means no cap."""
        return self.store.write(writes, deletes, model_id=model_id, max_tuples=max_tuples)

    def delete(self, deletes: Iterable[Any], *, model_id: str | None = None) -> int:
        return self.store.write((), deletes, model_id=model_id, max_tuples=None)

    def read(self, **filters: str | None) -> list[Tuple]:
        return self.store.read(**filters)

    # --- request preparation -------------------------------------------------------------------------------------

    def _prepare(
        self, model_id: str | None, context: Any, contextual_tuples: Sequence[Any]
    ) -> tuple[Snapshot, str, TypeSystem, Mapping[str, Any] | None, Lookups]:
        snap = self.store.snapshot()
        version = snap.model(model_id)
        ts = version.typesystem
        ctx = _check_context(context)
        lookups = snap.index(version.id).lookups(self._contextual(ts, contextual_tuples))
        return snap, version.id, ts, ctx, lookups

    @staticmethod
    def _contextual(ts: TypeSystem, contextual_tuples: Sequence[Any]) -> list[Tuple]:
        if not contextual_tuples:
            return []
        if len(contextual_tuples) > MAX_CONTEXTUAL_TUPLES:
            raise FgaError(VALIDATION_ERROR,
                           f"at most {MAX_CONTEXTUAL_TUPLES} contextual tuples, got {len(contextual_tuples)}")
        tuples = []
        for raw in contextual_tuples:
            t = to_tuple(raw)
            ts.validate_tuple(t)
            tuples.append(t)
        return tuples

    @staticmethod
    def _check_target(ts: TypeSystem, user: str, relation: str, obj: str) -> tuple[UserRef, str]:
        """The parsed user and the object's type, once the request names things the model has (memoised per
        model: a valid target stays valid for the model's life)."""
        key = (user, relation, obj)
        cache = ts.target_cache
        hit = cache.get(key)
        if hit is not None:
            return hit
        user_ref = parse_user(user)
        otype, _ = parse_object(obj)
        if not ts.has_type(otype):
            raise FgaError(VALIDATION_ERROR, f"type {otype!r} not found")
        if ts.rewrite(otype, relation) is None:
            raise FgaError(VALIDATION_ERROR, f"relation {otype}#{relation} not found")
        ts.validate_user(user_ref, VALIDATION_ERROR)
        if len(cache) >= _TARGET_CACHE_SIZE:
            cache.clear()
        cache[key] = hit = (user_ref, otype)
        return hit

    # --- Check -----------------------------------------------------------------------------------------------------

    def check(
        self,
        user: str | CheckRequest,
        relation: str | None = None,
        object: str | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[Any] = (),
        model_id: str | None = None,
    ) -> CheckResult:
        """Is ``user`` related to ``object`` as ``relation``? Also accepts one :class:`CheckRequest`."""
        if isinstance(user, CheckRequest):
            req = user
            user, relation, object = req.user, req.relation, req.object
            context, contextual_tuples = req.context, req.contextual_tuples
        if type(user) is not str or type(relation) is not str or type(object) is not str:
            return _error_result(FgaError(VALIDATION_ERROR, "user, relation and object must be strings"))
        try:
            if model_id is None and not contextual_tuples:
                # Fast path: the latest model, no contextual tuples (the common case on the call path).
                ts, lookups = self.store.snapshot().latest()
                ctx = _check_context(context)
            else:
                snap, mid, ts, ctx, lookups = self._prepare(model_id, context, contextual_tuples)
            user_ref, otype = self._check_target(ts, user, str(relation), str(object))
        except FgaError as exc:
            return _error_result(exc)
        resolver = Resolver(ts, lookups.tuples_of, lookups.usersets_of, ctx, lookups.tuples_with_user)
        r = resolver.resolve(object, otype, relation, user_ref, user, 0)
        if r is True:
            return _ALLOWED
        if r is False:
            return _DENIED
        if r is CYCLE:
            return _DENIED_CYCLE
        return _error_result(r)

    def batch_check(self, requests: Sequence[CheckRequest], *, model_id: str | None = None) -> list[CheckResult]:
        """Answers in request order. Identical requests are evaluated once; correlation ids must be unique."""
        seen_ids: set[str] = set()
        for req in requests:
            cid = req.correlation_id
            if cid is not None:
                if cid in seen_ids:
                    err = CheckResult(Outcome.ERROR, error=f"duplicate correlation id {cid!r}",
                                      error_code=VALIDATION_ERROR)
                    return [err] * len(requests)
                seen_ids.add(cid)
        answers: dict[str, CheckResult] = {}
        out = []
        for req in requests:
            key = _request_key(req)
            result = answers.get(key)
            if result is None:
                result = self.check(req.user, req.relation, req.object, context=req.context,
                                    contextual_tuples=req.contextual_tuples, model_id=model_id)
                answers[key] = result
            out.append(result)
        return out

    def batch_check_by_id(self, requests: Sequence[CheckRequest], *, model_id: str | None = None
                          ) -> dict[str, CheckResult]:
        """BatchCheck as OpenFGA returns it: answers keyed by correlation id (every request needs one)."""
        missing = [r for r in requests if not r.correlation_id]
        if missing:
            raise FgaError(VALIDATION_ERROR, "every batch check item needs a correlation id")
        results = self.batch_check(requests, model_id=model_id)
        return {str(r.correlation_id): res for r, res in zip(requests, results)}

    # --- lists ---------------------------------------------------------------------------------------------------

    def list_objects(
        self,
        user: str,
        relation: str,
        object_type: str,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[Any] = (),
        model_id: str | None = None,
    ) -> ListResult:
        """Objects of ``object_type`` that ``user`` has ``relation`` with, sorted."""
        if not all(isinstance(v, str) for v in (user, relation, object_type)):
            return ListResult(error="user, relation and object type must be strings", error_code=VALIDATION_ERROR)
        try:
            snap, mid, ts, ctx, lookups = self._prepare(model_id, context, contextual_tuples)
            if not ts.has_type(object_type):
                raise FgaError(TYPE_NOT_FOUND, f"type {object_type!r} not found")
            if ts.rewrite(object_type, relation) is None:
                raise FgaError(RELATION_NOT_FOUND, f"relation {object_type}#{relation} not found")
            user_ref = parse_user(user)
            ts.validate_user(user_ref, VALIDATION_ERROR)
        except FgaError as exc:
            return ListResult(error=exc.message, error_code=exc.code)
        found = _list_objects(ts, lookups, ctx, user_ref, relation, object_type)
        if isinstance(found, Failure):
            return ListResult(error=found.message, error_code=found.code)
        return ListResult(items=tuple(found))

    def list_users(
        self,
        object: str,
        relation: str,
        user_filters: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[Any] = (),
        model_id: str | None = None,
    ) -> ListResult:
        """Users of the filtered types (``type`` or ``type#relation``) that have ``relation`` with ``object``:
        ``type:id``, ``type:*`` (a public wildcard) or ``type:id#relation`` (a userset), sorted."""
        if not all(isinstance(v, str) for v in (object, relation)) or not all(
                isinstance(f, str) for f in ([user_filters] if isinstance(user_filters, str) else user_filters)):
            return ListResult(error="object, relation and user filters must be strings", error_code=VALIDATION_ERROR)
        try:
            snap, mid, ts, ctx, lookups = self._prepare(model_id, context, contextual_tuples)
            otype, _ = parse_object(object)
            if not ts.has_type(otype):
                raise FgaError(TYPE_NOT_FOUND, f"type {otype!r} not found")
            if ts.rewrite(otype, relation) is None:
                raise FgaError(RELATION_NOT_FOUND, f"relation {otype}#{relation} not found")
            if isinstance(user_filters, str):
                user_filters = [user_filters]
            if not user_filters:
                raise FgaError(VALIDATION_ERROR, "at least one user filter is required")
            filters: list[tuple[str, str | None]] = []
            for f in user_filters:
                ftype, _, frel = str(f).partition("#")
                if not ts.has_type(ftype):
                    raise FgaError(TYPE_NOT_FOUND, f"type {ftype!r} of user filter {f!r} not found")
                if frel and ts.rewrite(ftype, frel) is None:
                    raise FgaError(RELATION_NOT_FOUND, f"relation {ftype}#{frel} of user filter {f!r} not found")
                filters.append((ftype, frel or None))
        except FgaError as exc:
            return ListResult(error=exc.message, error_code=exc.code)
        found = _list_users(ts, lookups, ctx, object, relation, filters)
        if isinstance(found, Failure):
            return ListResult(error=found.message, error_code=found.code)
        return ListResult(items=tuple(found))

    # --- explain -------------------------------------------------------------------------------------------------

    def explain(
        self,
        user: str,
        relation: str,
        object: str,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[Any] = (),
        model_id: str | None = None,
    ) -> Explanation:
        """Check, and return the resolution path with the answer (see :class:`Explanation`)."""
        if not all(isinstance(v, str) for v in (user, relation, object)):
            return Explanation(str(user), str(relation), str(object), "error",
                               "user, relation and object must be strings", VALIDATION_ERROR, None)
        try:
            snap, mid, ts, ctx, lookups = self._prepare(model_id, context, contextual_tuples)
            user_ref, otype = self._check_target(ts, user, relation, object)
        except FgaError as exc:
            return Explanation(user, relation, object, "error", exc.message, exc.code, None)
        tracer = TracingResolver(ts, lookups.tuples_of, lookups.usersets_of, ctx, lookups.tuples_with_user)
        r = tracer.resolve(object, otype, relation, user_ref, user, 0)
        outcome = "allowed" if r is True else ("error" if isinstance(r, Failure) else "denied")
        return Explanation(
            user, relation, object, outcome,
            r.message if isinstance(r, Failure) else None,
            r.code if isinstance(r, Failure) else None,
            tracer.root, model_id=mid,
        )


def _request_key(req: CheckRequest) -> Any:
    """Identical requests share one key. The common request (no contextual tuples, a flat context of scalars) gets
    a tuple, each value with its type (``True`` and ``1`` are equal in Python, not in JSON); the rest, JSON text."""
    context = req.context
    if not req.contextual_tuples and (context is None or type(context) is dict) and all(
            type(k) is str for k in (context or ())):
        items = () if not context else tuple(sorted((k, type(v), v) for k, v in context.items()))
        if all(type(v) in _SCALARS for _, _, v in items):
            return (req.user, req.relation, req.object, items)
    return _json_request_key(req)


def _json_request_key(req: CheckRequest) -> str:
    ctx_tuples = [
        (t.user, t.relation, t.object, t.condition_name, t.condition_context) if isinstance(t, TupleKey) else t
        for t in req.contextual_tuples
    ]
    return json.dumps([req.user, req.relation, req.object, req.context, ctx_tuples], sort_keys=True, default=repr)
