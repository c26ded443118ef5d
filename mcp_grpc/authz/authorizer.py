"""The ``Authorizer`` the server calls on every request: policy -> one batch check -> decision (fail closed).

``FgaAuthorizer.authorize`` asks the ``CallPolicy`` which (relation, object) checks a call needs, answers what it can
from the ``DecisionCache``, sends every other check in ONE ``batch_check`` bounded by ``timeout``, and decides like
an OpenFGA intersection: any denial -> DENY naming the relation and object (a certain denial wins over errors);
else any error -> UNAVAILABLE; else ALLOW. A backend exception, a timeout or a malformed answer is UNAVAILABLE,
never an allow. A call that maps to no check at all is denied. A missing or malformed argument needed by a check
raises ``CheckArgumentError`` (the server maps it to INVALID_ARGUMENT).

``visible`` filters List* results with the checks that need no argument; an item whose check errors is hidden, and
a backend failure raises ``AuthorizationUnavailable`` (UNAVAILABLE).

Construction::

    authorizer = FgaAuthorizer.from_authz_dir("authz/")          # embedded engine, reloads on file changes
    authorizer = FgaAuthorizer.from_openfga("http://openfga:8080", "01HV...STORE", api_token="...")
    authorizer = FgaAuthorizer(backend, CallPolicy(), cache=DecisionCache(ttl=5))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import time
from typing import Any, Callable, Mapping, Sequence

from mcp_grpc.authz.backend import AuthorizationBackend, CheckRequest, CheckResult, Outcome
from mcp_grpc.authz.cache import DecisionCache, ModelIndex
from mcp_grpc.authz.directory import AuthzDirectory
from mcp_grpc.authz.policy import CallPolicy, CheckArgumentError, PlannedCheck
from mcp_grpc.authz.telemetry import AuthzTelemetry
from mcp_grpc.contract import CallTarget, Check, CheckOutcome, Decision, DecisionStatus, Principal, TargetKind
from mcp_grpc.contract.bounds import clip

__all__ = ["AuthorizationUnavailable", "FgaAuthorizer"]

log = logging.getLogger(__name__)

LIST_BATCH = "batch"
LIST_OBJECTS = "list_objects"
LIST_AUTO = "auto"
#: With "auto", lists this long use ListObjects. Measured on the embedded engine (1,000 tools, see
#: tests/authz/callpath/measure_visible.py): batch wins below about 100 names, ListObjects above (1,000 names: 63 ms
#: batch vs 21 ms ListObjects; 10 names: 0.7 ms vs 11 ms).
AUTO_LIST_OBJECTS_FROM = 100

#: At most this many ALLOW decisions are remembered for reuse (then they are all forgotten: callers choose names).
_ALLOWED_MEMO_ENTRIES = 1024

#: The span of a decision while no tracer provider records any (reusable: it holds no state).
_NO_SPAN = contextlib.nullcontext()


#: How long, at most, a List* filtering result is reused for the same caller and names (bounded by the cache's ttl,
#: and dropped at once by any write or reload).
VISIBLE_MEMO_SECONDS = 1.0
VISIBLE_MEMO_ENTRIES = 4096


class AuthorizationUnavailable(Exception):
    """The backend could not answer (error, timeout, unreachable). Maps to UNAVAILABLE."""


class _Unavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FgaAuthorizer:
    """An ``Authorizer`` (``mcp_grpc.contract``) over any ``AuthorizationBackend``.

    - ``backend``: the embedded engine or ``OpenFgaBackend``.
    - ``policy``: the ``CallPolicy`` (defaults: ``can_call tool:<server>/<tool>`` and so on).
    - ``cache``: a ``DecisionCache`` or None (no caching).
    It writes no audit record: the server's pipeline writes the one record of each call, whatever decided it.
    - ``timeout``: seconds for one backend round trip; past it the call is UNAVAILABLE.
    - ``list_strategy``: ``"batch"`` (one BatchCheck for all listed items), ``"list_objects"`` (one ListObjects per
      (relation, type)) or ``"auto"`` (ListObjects from ``AUTO_LIST_OBJECTS_FROM`` names on, the default).
    """

    def __init__(
        self,
        backend: AuthorizationBackend,
        policy: CallPolicy | None = None,
        *,
        cache: DecisionCache | None = None,
        timeout: float = 1.0,
        telemetry: AuthzTelemetry | None = None,
        list_strategy: str = LIST_AUTO,
        reloader: Callable[[], Any] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        if list_strategy not in (LIST_BATCH, LIST_OBJECTS, LIST_AUTO):
            raise ValueError(f"list_strategy must be {LIST_BATCH!r}, {LIST_OBJECTS!r} or {LIST_AUTO!r}")
        self.backend = backend
        self.policy = policy or CallPolicy()
        self.cache = cache
        self.timeout = timeout
        self.telemetry = telemetry or AuthzTelemetry(cache=cache)
        if self.telemetry.cache is None:
            self.telemetry.cache = cache
        self.list_strategy = list_strategy
        self._reloader = reloader
        self._visible_memo: dict[tuple[Any, ...], tuple[int, float, set[str]]] = {}
        #: ``id(plan.checks) -> (plan.checks, its ALLOW decision)``: the policy hands out the same tuple of checks for a
        #: target whose objects use no argument, and a Decision is immutable, so an allowed call reuses it.
        self._allowed: dict[int, tuple[tuple[PlannedCheck, ...], Decision]] = {}
        self._index_task: asyncio.Task[None] | None = None
        self._index_retry_at = 0.0

    # -- construction helpers ----------------------------------------------------------------------------------

    @classmethod
    def from_authz_dir(
        cls,
        path: str | os.PathLike[str],
        *,
        policy: CallPolicy | None = None,
        cache: DecisionCache | None | bool = True,
        timeout: float = 1.0,
        reload_interval: float = 1.0,
        list_strategy: str = LIST_AUTO,
        telemetry: AuthzTelemetry | None = None,
    ) -> FgaAuthorizer:
        """The embedded engine over an ``authz/`` folder (``model.fga`` or ``fga.mod``, tuple files), reloaded when
        any file changes (checked at most every ``reload_interval`` seconds). ``cache=True`` builds a default cache
        whose entries are invalidated exactly by writes through the engine."""
        decision_cache = DecisionCache() if cache is True else (cache or None)
        directory = AuthzDirectory(pathlib.Path(path), reload_interval=reload_interval, cache=decision_cache)
        return cls(
            directory,
            policy,
            cache=decision_cache,
            timeout=timeout,
            list_strategy=list_strategy,
            reloader=directory.maybe_reload,
            telemetry=telemetry,
        )

    @classmethod
    def from_openfga(
        cls,
        api_url: str,
        store_id: str,
        *,
        model_id: str | None = None,
        api_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        api_issuer: str | None = None,
        api_audience: str | None = None,
        consistency: str | None = None,
        timeout: float = 1.0,
        policy: CallPolicy | None = None,
        cache: DecisionCache | None | bool = True,
        list_strategy: str = LIST_BATCH,
        headers: Mapping[str, str] | None = None,
        telemetry: AuthzTelemetry | None = None,
    ) -> FgaAuthorizer:
        """A remote OpenFGA server. ``cache=True`` keeps answers 1 s: writes made directly on the server are seen
        after at most that long (there is no write feed to invalidate on). With ``model_id`` pinned, the model is
        read once in the background so the cache can leave the context out of unconditional relations' keys.
        List filtering defaults to BatchCheck: OpenFGA caps ListObjects results (1,000 by default), which would
        silently hide tools."""
        from mcp_grpc.authz.remote import OpenFgaBackend

        backend = OpenFgaBackend(
            api_url,
            store_id,
            model_id=model_id,
            api_token=api_token,
            client_id=client_id,
            client_secret=client_secret,
            api_issuer=api_issuer,
            api_audience=api_audience,
            consistency=consistency,
            timeout=timeout,
            headers=headers,
        )
        decision_cache = DecisionCache(ttl=1.0) if cache is True else (cache or None)
        authorizer = cls(
            backend, policy, cache=decision_cache, timeout=timeout, list_strategy=list_strategy, telemetry=telemetry
        )
        if model_id and decision_cache is not None:
            # A pinned model never changes, so its index is exact: fetch it in the background on first use.
            authorizer._reloader = authorizer._fetch_index_once
        return authorizer

    async def _fetch_index_once(self) -> None:
        """Start one background ``load_model_index``; retry at most every 30 s while it fails. Never blocks a call."""
        now = time.monotonic()
        if self._index_task is not None or now < self._index_retry_at:
            return
        self._index_retry_at = now + 30.0

        async def fetch() -> None:
            loaded = await self.load_model_index()
            self._index_task = None
            if loaded:
                self._reloader = None

        self._index_task = asyncio.get_running_loop().create_task(fetch())

    async def load_model_index(self) -> bool:
        """Fetch the model from a backend that can read it (``read_authorization_model``) and give the cache its
        ``ModelIndex`` (context-free keys for unconditional relations, exact invalidation). False when unavailable."""
        read = getattr(self.backend, "read_authorization_model", None)
        if self.cache is None or read is None:
            return False
        try:
            model = await asyncio.wait_for(read(), self.timeout)
            self.cache.set_model_index(ModelIndex(model))
            return True
        except Exception:  # noqa: BLE001 - without an index the cache is merely less effective
            log.warning("could not read the authorization model for the decision cache", exc_info=True)
            return False

    async def close(self) -> None:
        if self._index_task is not None:
            self._index_task.cancel()
        await self.backend.close()

    # -- the Authorizer protocol -------------------------------------------------------------------------------

    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        """Decide one call. Raises CheckArgumentError for a bad argument; any other failure is UNAVAILABLE."""
        started = time.perf_counter()
        telemetry = self.telemetry
        if telemetry.tracing():  # the span's attributes only when a span is recorded
            span = telemetry.span(
                "authz.authorize", kind=target.kind.value, target=clip(target.name), server=target.server_name
            )
        else:
            span = _NO_SPAN
        with span:
            try:
                decision = await self._authorize(principal, target)
            except CheckArgumentError as exc:
                self._finish(target, started, "invalid_argument")
                raise
            except Exception as exc:  # noqa: BLE001 - fail closed on anything unexpected
                # the caller's name: bounded in logs
                log.exception("authorization failed for %s %r", target.kind.value, clip(target.name))
                decision = Decision(DecisionStatus.UNAVAILABLE, f"authorization unavailable: {type(exc).__name__}")
            self._finish(target, started, decision.status.value)
            return decision

    async def _authorize(self, principal: Principal, target: CallTarget) -> Decision:
        if self._reloader is not None:
            await self._reloader()
        plan = self.policy.plan(principal, target)
        if not plan.checks:
            return Decision(
                DecisionStatus.DENY, f"no authorization rule applies to {target.kind.value} {clip(target.name)!r}"
            )
        try:
            results = await self._decide(plan.user, plan.checks, plan.context, target.consistency)
        except _Unavailable as exc:  # no answer at all: every check is recorded as an error
            errors = tuple(CheckOutcome(c.relation, c.object, Outcome.ERROR.value) for c in plan.checks)
            return Decision(DecisionStatus.UNAVAILABLE, exc.reason, errors)
        checks = plan.checks
        memo = self._allowed.get(id(checks))
        if memo is not None and memo[0] is checks:  # the same planned checks (a target whose objects use no argument)
            for result in results:
                if result.outcome is not Outcome.ALLOWED:
                    break
            else:
                return memo[1]  # all allowed again: the same decision, built once
        outcomes = tuple([CheckOutcome(c.relation, c.object, r.outcome.value) for c, r in zip(checks, results)])
        for check, result in zip(plan.checks, results):
            if result.outcome is Outcome.DENIED:
                reason = f"permission denied: requires {check.relation} on {check.object}"
                return Decision(DecisionStatus.DENY, reason, outcomes)
        for check, result in zip(plan.checks, results):
            if result.outcome is not Outcome.ALLOWED:
                log.warning(
                    "check %s on %s for %s could not be evaluated: %s (code %s)",
                    check.relation, check.object, plan.user, result.error, result.error_code,
                )
                return Decision(
                    DecisionStatus.UNAVAILABLE,
                    f"authorization unavailable: check {check.relation} on {check.object} could not be evaluated",
                    outcomes,
                )
        decision = Decision(DecisionStatus.ALLOW, "", outcomes)
        if len(self._allowed) >= _ALLOWED_MEMO_ENTRIES:
            self._allowed.clear()
        self._allowed[id(checks)] = (checks, decision)  # holding ``checks`` keeps its id from being reused
        return decision

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """Refuse declared checks the policy can never form (a malformed template); ValueError names the check."""
        self.policy.validate_declared(checks)

    async def visible(
        self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]
    ) -> set[str]:
        """The names the caller may use. Raises AuthorizationUnavailable when the backend cannot answer.

        With a decision cache, the answer for the same caller and names is remembered for at most a second and only
        while the cache's epoch stands (any write, reload or clear moves it), so paging through a long list costs
        one filtering, not one per page.
        """
        if self._reloader is not None:
            await self._reloader()
        user = self.policy.user(principal)
        cache = self.cache
        if cache is None:
            return await self._visible(user, server_name, kind, names)
        key = (user, server_name, kind, tuple(names))
        now = time.monotonic()
        remembered = self._visible_memo.get(key)
        if remembered is not None and remembered[0] == cache.epoch and remembered[1] > now:
            return remembered[2]
        epoch = cache.epoch
        allowed = await self._visible(user, server_name, kind, names)
        if len(self._visible_memo) >= VISIBLE_MEMO_ENTRIES:
            self._visible_memo.clear()
        self._visible_memo[key] = (epoch, now + min(cache.ttl, VISIBLE_MEMO_SECONDS), allowed)
        return allowed

    async def _visible(self, user: str, server_name: str, kind: TargetKind, names: Sequence[str]) -> set[str]:
        per_name: dict[str, tuple[PlannedCheck, ...]] = {}
        for name in names:
            try:
                checks = self.policy.default_check(server_name, kind, name)
            except CheckArgumentError:
                continue
            if checks:  # nothing checkable without arguments -> hidden (fail closed)
                per_name[name] = checks
        if not per_name:
            return set()
        with self.telemetry.span("authz.visible", kind=kind.value, server=server_name, items=len(per_name)):
            context = self.policy.context({}, "")
            strategy = self.list_strategy
            if strategy == LIST_AUTO:
                strategy = LIST_OBJECTS if len(per_name) >= AUTO_LIST_OBJECTS_FROM else LIST_BATCH
            if strategy == LIST_OBJECTS:
                allowed = await self._allowed_by_list_objects(user, per_name, context)
            else:
                unique = list(dict.fromkeys(c for checks in per_name.values() for c in checks))
                try:
                    results = await self._decide(user, unique, context, None)
                except _Unavailable as exc:
                    raise AuthorizationUnavailable(exc.reason) from None
                if all(r.outcome is Outcome.ERROR for r in results):
                    # Nothing could be decided (backend unreachable, 5xx): say so rather than answer an empty list.
                    raise AuthorizationUnavailable(f"authorization unavailable: {results[0].error or 'error'}")
                allowed = {c for c, r in zip(unique, results) if r.outcome is Outcome.ALLOWED}
        return {name for name, checks in per_name.items() if all(c in allowed for c in checks)}

    # -- internals ---------------------------------------------------------------------------------------------

    async def _decide(
        self,
        user: str,
        checks: Sequence[PlannedCheck],
        context: Mapping[str, Any],
        consistency: str | None,
    ) -> list[CheckResult]:
        """Answers for ``checks`` in order: cache first, then one batch_check for the rest. Raises _Unavailable."""
        cache = self.cache if self.cache is not None and not DecisionCache.bypass(consistency) else None
        results: list[CheckResult | None] = [None] * len(checks)
        keys: list[Any] = [None] * len(checks)
        missing: list[int] = []
        hits = 0
        for i, check in enumerate(checks):
            if cache is not None:
                keys[i] = cache.key(user, check.relation, check.object, context)
                cached = cache.get(keys[i])
                if cached is not None:
                    results[i] = cached
                    hits += 1
                    continue
            missing.append(i)
        if cache is not None:
            self.telemetry.cache_lookups(hits, len(missing))
            epoch = cache.epoch
        if missing:
            requests = [
                CheckRequest(user, checks[i].relation, checks[i].object, context=context, correlation_id=str(n))
                for n, i in enumerate(missing)
            ]
            try:
                answers = await asyncio.wait_for(
                    self.backend.batch_check(requests, consistency=consistency), self.timeout
                )
            except (asyncio.TimeoutError, TimeoutError):
                raise _Unavailable(f"authorization unavailable: backend timed out after {self.timeout:g}s") from None
            except Exception as exc:  # noqa: BLE001 - fail closed
                log.warning("authorization backend failed: %r", exc)
                raise _Unavailable(f"authorization unavailable: backend error ({type(exc).__name__})") from None
            if not isinstance(answers, list) or len(answers) != len(requests):
                raise _Unavailable("authorization unavailable: backend returned a malformed answer")
            for i, answer in zip(missing, answers):
                if not isinstance(answer, CheckResult):
                    raise _Unavailable("authorization unavailable: backend returned a malformed answer")
                results[i] = answer
                if cache is not None:
                    cache.put(keys[i], answer, epoch)
        return results  # type: ignore[return-value]

    async def _allowed_by_list_objects(
        self, user: str, per_name: Mapping[str, tuple[PlannedCheck, ...]], context: Mapping[str, Any]
    ) -> set[PlannedCheck]:
        groups = {(c.relation, c.object.partition(":")[0]) for checks in per_name.values() for c in checks}
        allowed: set[PlannedCheck] = set()
        for relation, object_type in sorted(groups):
            try:
                answer = await asyncio.wait_for(
                    self.backend.list_objects(user, relation, object_type, context=context), self.timeout
                )
            except (asyncio.TimeoutError, TimeoutError):
                raise AuthorizationUnavailable(f"authorization unavailable: backend timed out after {self.timeout:g}s")
            except Exception as exc:  # noqa: BLE001 - fail closed
                raise AuthorizationUnavailable(f"authorization unavailable: backend error ({type(exc).__name__})")
            if answer.error is not None:
                raise AuthorizationUnavailable("authorization unavailable: list objects failed")
            allowed.update(PlannedCheck(relation, obj) for obj in answer.items)
        return allowed

    def _finish(self, target: CallTarget, started: float, outcome: str) -> None:
        telemetry = self.telemetry
        if telemetry.metering():  # else the instruments would drop it: skip the arithmetic and the lookups too
            telemetry.decision(outcome, target.kind.value, (time.perf_counter() - started) * 1000.0)
