"""Shadow models: a candidate model decides every call beside the enforced one, and is never enforced.

``ShadowAuthorizer(enforced, shadow)`` is an ``Authorizer``. ``authorize`` returns the enforced decision as soon as
it is made; only then is the same call decided by ``shadow``, in a task of its own bounded by ``timeout``, so the
shadow model can neither delay, change nor fail a call. The decision carries that task as ``Decision.shadow`` (a
future of a ``ShadowVerdict``); the server writes the call's audit record when it is done, with
``"shadow": "allow→deny"`` (and ``shadow_reason``) when the two disagree, or ``shadow_error`` when the shadow model
could not decide (an error, a timeout, a bad argument, too many shadow decisions pending).

Metrics (meter ``mcp_grpc.authz``): ``mcp_grpc.authz.shadow.disagreements`` (counter, attributes ``from``, ``to``,
``kind``) and ``mcp_grpc.authz.shadow.errors`` (counter, attribute ``kind``).

List* filtering (``visible``) and ``validate_declared`` use the enforced authorizer only: a shadow model that lacks
a declared relation must not stop the server from starting.

Usage::

    authorizer = ShadowAuthorizer(
        FgaAuthorizer.from_authz_dir("authz/"), FgaAuthorizer.from_authz_dir("authz-next/", telemetry=quiet_telemetry())
    )
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import Any, Sequence

from opentelemetry import metrics

from mcp_grpc.contract import (
    Authorizer,
    CallTarget,
    Check,
    Decision,
    DecisionStatus,
    InvalidTargetArguments,
    Principal,
    ShadowVerdict,
    TargetKind,
)
from mcp_grpc.authz.telemetry import AuthzTelemetry
from mcp_grpc.contract.bounds import clip

__all__ = ["MAX_PENDING_SHADOWS", "ShadowAuthorizer", "ShadowTelemetry", "quiet_telemetry"]

log = logging.getLogger(__name__)

#: Shadow decisions in flight at most; past it a call's shadow decision is skipped (and recorded as an error).
MAX_PENDING_SHADOWS = 1000


def quiet_telemetry() -> AuthzTelemetry:
    """Telemetry that records nothing, for the shadow model's own ``FgaAuthorizer``: its decisions must not be
    counted as the server's (``mcp_grpc.authz.decisions``) nor traced as its ``authz.authorize`` spans."""
    telemetry = AuthzTelemetry(meter_provider=metrics.NoOpMeterProvider())
    telemetry._next_tracing_check = float("inf")  # tracing() stays False: no span is even started
    return telemetry


class ShadowTelemetry:
    """The shadow model's counters. Pass a meter provider to use another than the global one (tests do)."""

    def __init__(self, *, meter_provider: metrics.MeterProvider | None = None) -> None:
        meter = (meter_provider or metrics.get_meter_provider()).get_meter("mcp_grpc.authz")
        self._disagreements = meter.create_counter(
            "mcp_grpc.authz.shadow.disagreements",
            unit="{decision}",
            description="Calls the shadow model decided otherwise than the enforced one",
        )
        self._errors = meter.create_counter(
            "mcp_grpc.authz.shadow.errors", unit="{decision}", description="Calls the shadow model could not decide"
        )

    def verdict(self, verdict: ShadowVerdict, kind: str) -> None:
        if verdict.shadow is None:
            self._errors.add(1, {"kind": kind})
        elif verdict.shadow != verdict.enforced:
            self._disagreements.add(1, {"from": verdict.enforced, "to": verdict.shadow, "kind": kind})


class ShadowAuthorizer:
    """An ``Authorizer`` enforcing ``enforced`` while ``shadow`` decides every call too, for the audit record only.

    - ``timeout``: seconds the shadow model gets per call (after which the record says it timed out).
    - ``telemetry``: a ``ShadowTelemetry`` (default: the global meter provider).
    """

    def __init__(
        self,
        enforced: Authorizer,
        shadow: Authorizer,
        *,
        timeout: float = 1.0,
        telemetry: ShadowTelemetry | None = None,
        max_pending: int = MAX_PENDING_SHADOWS,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be > 0")
        self.enforced = enforced
        self.shadow = shadow
        self.shadow_timeout = timeout
        self.telemetry = telemetry or ShadowTelemetry()
        self.max_pending = max_pending
        self._pending: set[asyncio.Task[ShadowVerdict]] = set()

    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        """The enforced decision; its ``shadow`` is the shadow model's verdict, still being made."""
        decision = await self.enforced.authorize(principal, target)
        if len(self._pending) >= self.max_pending:
            verdict = ShadowVerdict(decision.status.value, None, "skipped: too many shadow decisions pending")
            self.telemetry.verdict(verdict, target.kind.value)
            done: asyncio.Future[ShadowVerdict] = asyncio.get_running_loop().create_future()
            done.set_result(verdict)
            return dataclasses.replace(decision, shadow=done)
        task = asyncio.get_running_loop().create_task(self._shadow(principal, target, decision.status))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return dataclasses.replace(decision, shadow=task)

    async def _shadow(self, principal: Principal, target: CallTarget, enforced: DecisionStatus) -> ShadowVerdict:
        """The shadow model's verdict; never raises (an error becomes the verdict's reason)."""
        try:
            decision = await asyncio.wait_for(self.shadow.authorize(principal, target), self.shadow_timeout)
        except (asyncio.TimeoutError, TimeoutError):
            verdict = ShadowVerdict(enforced.value, None, f"timed out after {self.shadow_timeout:g}s")
        except InvalidTargetArguments as exc:
            verdict = ShadowVerdict(enforced.value, None, f"invalid argument: {clip(str(exc))}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the shadow model must never fail a call
            log.warning("the shadow authorizer raised for %s %r: %r", target.kind.value, clip(target.name), exc)
            verdict = ShadowVerdict(enforced.value, None, f"error: {type(exc).__name__}")
        else:
            if decision.status is DecisionStatus.UNAVAILABLE:
                verdict = ShadowVerdict(enforced.value, None, decision.reason or "unavailable")
            else:
                verdict = ShadowVerdict(enforced.value, decision.status.value, decision.reason)
        try:
            self.telemetry.verdict(verdict, target.kind.value)
        except Exception:  # noqa: BLE001 - metrics must not lose the verdict
            log.exception("shadow telemetry failed")
        return verdict

    async def visible(
        self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]
    ) -> set[str]:
        """The enforced model's answer (List* filtering is not shadowed)."""
        return await self.enforced.visible(principal, server_name, kind, names)

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """The enforced model's check only."""
        self.enforced.validate_declared(checks)

    async def settle(self, timeout: float | None = None) -> None:
        """Wait for the shadow decisions in flight (at most ``timeout``, default the shadow timeout), and for the
        callbacks they run when done (the calls' audit records) to have run."""
        pending = list(self._pending)
        if pending:
            await asyncio.wait(pending, timeout=self.shadow_timeout if timeout is None else timeout)
            await asyncio.sleep(0)  # done callbacks are scheduled with call_soon: let them run

    async def close(self) -> None:
        """Let pending shadow decisions end (they are bounded by the timeout), then close both authorizers."""
        await self.settle()
        for task in list(self._pending):
            task.cancel()
        for authorizer in (self.enforced, self.shadow):
            close = getattr(authorizer, "close", None)
            if close is not None:
                try:
                    await close()
                except Exception:  # noqa: BLE001 - closing one must not keep the other open
                    log.exception("closing %s failed", type(authorizer).__name__)

    def __getattr__(self, name: str) -> Any:
        # Attributes the server reads of its authorizer (cache, backend, load_model_index ...) are the enforced one's.
        if name in ("enforced", "shadow"):
            raise AttributeError(name)
        return getattr(self.enforced, name)
