"""The limiter the pipeline asks about every tool call, after authentication and before authorization.

The limits of a call are those of the limits file (``mcp_grpc.authz.limits``, reloaded when it changes) and those
declared on the tool (``@app.tool(limits=[...])``); every one that matches must admit it. Concurrency caps are
counted in this process; rate limits in the ``GcraStore`` (``MemoryGcra``, or ``RedisGcra`` for a fleet).

Over a limit: RESOURCE_EXHAUSTED, audited ``limited``, with ``retry-after`` (whole seconds) and
``grpc-retry-pushback-ms`` in the trailing metadata. A store that cannot answer: a read-only tool's call goes on
(the audit record says the limits were not checked) and any other tool's call is refused with UNAVAILABLE, as the
file's ``when_store_unavailable`` says. Team limits ask the authorizer's backend whether the caller is a member
(``team:finance#member``), cached for ``membership_ttl`` seconds; a check that cannot answer counts the caller as a
member (the stricter answer), and without an authorizer every caller counts as one.

Metric (meter ``mcp_grpc.server``): ``mcp_grpc.server.limits`` (counter), attributes ``limit`` (the limit's name)
and ``outcome`` (``limited``, ``store_unavailable_allowed``, ``store_unavailable_refused``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
import time
from typing import Any, Awaitable, Callable, Sequence

import grpc
from opentelemetry import metrics

from mcp_grpc.authz.limits import LimitPolicy, LimitsFile
from mcp_grpc.contract import AuditDecision, ConcurrencyLimit, LimitScope, Principal, RateLimit
from mcp_grpc.contract.bounds import clip
from mcp_grpc.server.call import Rejected
from mcp_grpc.server.in_flight import InFlight
from mcp_grpc.server.limits.gcra import Bucket, GcraStore, MemoryGcra, StoreUnavailable

__all__ = ["Admission", "Limiter", "Membership", "authorizer_membership"]

log = logging.getLogger("mcp_grpc.server.limits")

#: Whether a principal is a member of an FGA userset (``team:finance#member``); None: could not tell.
Membership = Callable[[Principal, str], Awaitable["bool | None"]]

_MAX_MEMBERSHIPS = 10_000
#: The retry-after of a concurrency cap: nothing says when a call in flight ends.
CONCURRENCY_RETRY_AFTER = 1.0


class Admission:
    """An admitted call: ``release`` (concurrency caps held, or None) and the ``note`` its audit record carries."""

    __slots__ = ("release", "note")

    def __init__(self, release: Callable[[], None] | None, note: str = "") -> None:
        self.release = release
        self.note = note


def authorizer_membership(authorizer: Any, timeout: float | None = None) -> Membership | None:
    """Team membership through the check API of an ``FgaAuthorizer``'s backend; None when it has none."""
    backend = getattr(authorizer, "backend", None)
    check = getattr(backend, "check", None)
    if check is None:
        return None
    from mcp_grpc.authz.backend import CheckRequest, Outcome
    from mcp_grpc.authz.names import spiffe_id_to_user

    user_type = getattr(getattr(authorizer, "policy", None), "user_type", "agent")
    seconds = timeout if timeout is not None else getattr(authorizer, "timeout", 1.0)

    async def member(principal: Principal, team: str) -> bool | None:
        team_object, _, relation = team.partition("#")
        request = CheckRequest(spiffe_id_to_user(principal.spiffe_id, user_type), relation, team_object)
        try:
            result = await asyncio.wait_for(check(request), seconds)
        except Exception as exc:  # noqa: BLE001 - unknown membership: the caller counts as a member
            log.warning("team membership check %s failed: %s", clip(team), type(exc).__name__)
            return None
        if result.outcome is Outcome.ALLOWED:
            return True
        return False if result.outcome is Outcome.DENIED else None

    return member


class Limiter:
    """Rate limits and concurrency caps of tool calls (see the module). ``limits``: a limits file's path, a
    ``LimitsFile``, a ``LimitPolicy`` or None (only the limits declared on tools)."""

    def __init__(
        self,
        limits: str | os.PathLike[str] | LimitsFile | LimitPolicy | None = None,
        *,
        store: GcraStore | None = None,
        membership: Membership | None = None,
        membership_ttl: float = 30.0,
        meter_provider: metrics.MeterProvider | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if isinstance(limits, (str, os.PathLike)):
            limits = LimitsFile(limits)
        self.file = limits if isinstance(limits, LimitsFile) else None
        self._policy = limits if isinstance(limits, LimitPolicy) else LimitPolicy()
        self.store: GcraStore = store if store is not None else MemoryGcra()
        self.prefix = "mcp_grpc"
        self._membership = membership
        self.membership_ttl = membership_ttl
        self._clock = clock
        self._members: dict[tuple[str, str], tuple[float, bool]] = {}
        self._in_flight = InFlight()
        self._tallies: dict[tuple[str, str], int] = {}
        self._tallies_lock = threading.Lock()
        meter = (meter_provider or metrics.get_meter_provider()).get_meter("mcp_grpc.server")
        meter.create_observable_counter(
            "mcp_grpc.server.limits", callbacks=[self._observe], unit="{call}",
            description="Tool calls refused by a limit, or let through while the limit store was unavailable",
        )

    @property
    def policy(self) -> LimitPolicy:
        return self.file.policy if self.file is not None else self._policy

    def attach(self, server_name: str, authorizer: Any) -> None:
        """Called by the server: bucket keys name the server; team membership asks its authorizer."""
        self.prefix = f"mcp_grpc:{server_name}"
        if self._membership is None and authorizer is not None:
            self._membership = authorizer_membership(authorizer)

    def applies(self, entry: Any) -> bool:
        """Whether a call of ``entry`` (None: an unknown tool) may be limited at all (cheap)."""
        if self.file is not None or self._policy.rates or self._policy.concurrency:
            return True
        return bool(getattr(entry, "limits", ()))

    # -- a call --------------------------------------------------------------------------------------------------

    async def admit(self, principal: Principal, tool: str, entry: Any) -> Admission:
        """Admit a call of ``tool`` (``entry`` its registry entry, None when there is none) or raise ``Rejected``."""
        if self.file is not None:
            await self.file.maybe_reload()
        policy = self.policy
        declared: Sequence[Any] = getattr(entry, "limits", ()) if entry is not None else ()
        spiffe_id = principal.spiffe_id
        release = self._hold(spiffe_id, tool, [*policy.concurrency, *(c for c in declared if isinstance(c, ConcurrencyLimit))])
        try:
            buckets: list[Bucket] = []
            names: list[str] = []
            for rule in (*policy.rates, *(r for r in declared if isinstance(r, RateLimit))):
                if not await self._matches(rule, principal, tool, entry):
                    continue
                buckets.append(Bucket(self._key(rule, spiffe_id, tool), rule.interval, rule.burst))  # type: ignore[arg-type]
                names.append(rule.name)
            note = ""
            if buckets:
                try:
                    verdict = await self.store.take(buckets)
                except StoreUnavailable as exc:
                    note = self._store_unavailable(policy, tool, entry, exc.reason)
                else:
                    if not verdict.allowed:
                        raise self._limited(names[verdict.index], verdict.retry_after, "rate limit")
        except BaseException:
            if release is not None:
                release()
            raise
        return Admission(release, note)

    async def _matches(self, rule: RateLimit, principal: Principal, tool: str, entry: Any) -> bool:
        if rule.principal is not None and rule.principal != principal.spiffe_id:
            return False
        if rule.tool is not None:
            if rule.tool != tool:
                return False
        elif entry is None and rule.per in (LimitScope.TOOL, LimitScope.PRINCIPAL_TOOL):
            return False  # no bucket per name a caller makes up
        if rule.team is not None:
            return await self._member(principal, rule.team)
        return True

    def _key(self, rule: RateLimit, spiffe_id: str, tool: str) -> str:
        per = rule.per
        if per is LimitScope.PRINCIPAL:
            part = spiffe_id
        elif per is LimitScope.TOOL:
            part = tool
        elif per is LimitScope.PRINCIPAL_TOOL:
            part = f"{spiffe_id}|{tool}"
        else:
            part = rule.team or ""
        return f"{self.prefix}:{rule.name}:{part}"

    async def _member(self, principal: Principal, team: str) -> bool:
        key = (principal.spiffe_id, team)
        now = self._clock()
        cached = self._members.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        answer = None if self._membership is None else await self._membership(principal, team)
        if answer is None:
            return True  # cannot tell: the stricter answer, not cached
        if len(self._members) >= _MAX_MEMBERSHIPS:
            self._members.clear()
        self._members[key] = (now + self.membership_ttl, answer)
        return answer

    def _hold(self, spiffe_id: str, tool: str, caps: Sequence[ConcurrencyLimit]) -> Callable[[], None] | None:
        """Take one slot of every matching cap, or none (raises ``Rejected``)."""
        in_flight = self._in_flight
        keys = []
        for cap in caps:
            if (cap.principal is not None and cap.principal != spiffe_id) or (cap.tool is not None and cap.tool != tool):
                continue
            key = (cap.name, spiffe_id)
            if in_flight.held(key) >= cap.max:
                raise self._limited(cap.name, CONCURRENCY_RETRY_AFTER, "concurrency cap", cap.max)
            keys.append(key)
        if not keys:
            return None
        for key in keys:
            in_flight.acquire(key)  # unbounded here: each cap's own bound was checked above
        released = False

        def release() -> None:
            nonlocal released
            if released:
                return
            released = True
            for key in keys:
                in_flight.release(key)

        return release

    def in_flight(self, name: str, spiffe_id: str) -> int:
        """Calls in flight counted by the concurrency cap ``name`` for one caller."""
        return self._in_flight.held((name, spiffe_id))

    def _limited(self, name: str, retry_after: float, what: str, cap: int | None = None) -> Rejected:
        self._count(name, "limited")
        seconds = max(1, math.ceil(retry_after))
        if cap is not None:
            reason = f"{what} {clip(name)!r} reached: at most {cap} calls in flight; retry after {seconds} s"
        else:
            reason = f"{what} {clip(name)!r} exceeded; retry after {retry_after:.3f} s"
        trailing = (("retry-after", str(seconds)), ("grpc-retry-pushback-ms", str(max(1, math.ceil(retry_after * 1000)))))
        return Rejected(grpc.StatusCode.RESOURCE_EXHAUSTED, reason, AuditDecision.LIMITED, trailing=trailing)

    def _store_unavailable(self, policy: LimitPolicy, tool: str, entry: Any, reason: str) -> str:
        """Let the call go on (returns the audit note) or raise ``Rejected`` UNAVAILABLE, by the tool's readOnlyHint."""
        read_only = getattr(getattr(entry, "annotations", None), "read_only", None) is True
        if policy.read_only_open if read_only else policy.other_open:
            self._count("store", "store_unavailable_allowed")
            return f"rate limits not checked: {reason}"
        self._count("store", "store_unavailable_refused")
        kind = "read-only" if read_only else "not marked read-only"
        raise Rejected(
            grpc.StatusCode.UNAVAILABLE,
            f"rate limits unavailable: {reason}; tool {clip(tool)!r} is {kind}, so the call is refused (fail closed)",
            AuditDecision.UNAVAILABLE,
        )

    # -- metrics and the end ------------------------------------------------------------------------------------

    def _count(self, name: str, outcome: str) -> None:
        key = (clip(name), outcome)
        with self._tallies_lock:
            self._tallies[key] = self._tallies.get(key, 0) + 1

    def counts(self) -> dict[tuple[str, str], int]:
        """(limit name, outcome) -> calls so far (what the metric reports)."""
        with self._tallies_lock:
            return dict(self._tallies)

    def _observe(self, _options: Any) -> list[metrics.Observation]:
        return [metrics.Observation(count, {"limit": name, "outcome": outcome})
                for (name, outcome), count in self.counts().items()]

    async def close(self) -> None:
        await self.store.close()
