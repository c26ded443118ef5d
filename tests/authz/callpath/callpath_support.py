"""Test helpers for the call path: a small honest backend over direct tuples.

``TupleBackend`` implements ``AuthorizationBackend`` over a set of direct tuples only (no usersets, no rewrites),
with conditions given as Python predicates over the merged context (tuple context wins, as OpenFGA does; a missing
parameter is an error). It also counts calls and can be told to fail or stall, so the authorizer's fail-closed paths
are exercised against real behaviour. The embedded engine replaces it where the engine is available.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Callable, Mapping, Sequence

from mcp_grpc.authz.backend import CheckRequest, CheckResult, ListResult, Outcome, TupleKey


@dataclasses.dataclass
class Condition:
    params: tuple[str, ...]
    predicate: Callable[[Mapping[str, Any]], bool]


class TupleBackend:
    def __init__(
        self,
        tuples: Sequence[TupleKey] = (),
        conditions: Mapping[str, Condition] | None = None,
    ) -> None:
        self.tuples: list[TupleKey] = list(tuples)
        self.conditions = dict(conditions or {})
        self.batch_calls: list[list[CheckRequest]] = []
        self.consistencies: list[str | None] = []
        self.list_calls: list[tuple[str, str, str]] = []
        self.fail_with: BaseException | None = None
        self.stall: float = 0.0
        self.closed = False

    def _evaluate(self, request: CheckRequest) -> CheckResult:
        errors = []
        for t in self.tuples:
            if (t.user, t.relation, t.object) != (request.user, request.relation, request.object):
                continue
            if t.condition_name is None:
                return CheckResult(Outcome.ALLOWED)
            condition = self.conditions[t.condition_name]
            merged = {**(request.context or {}), **(t.condition_context or {})}
            missing = [p for p in condition.params if p not in merged]
            if missing:
                errors.append(f"condition {t.condition_name}: missing parameters {missing}")
                continue
            if condition.predicate(merged):
                return CheckResult(Outcome.ALLOWED)
        if errors:
            return CheckResult(Outcome.ERROR, errors[0], 2000)
        return CheckResult(Outcome.DENIED)

    async def _maybe_fail(self) -> None:
        if self.stall:
            await asyncio.sleep(self.stall)
        if self.fail_with is not None:
            raise self.fail_with

    async def check(self, request: CheckRequest, *, consistency: str | None = None) -> CheckResult:
        return (await self.batch_check([request], consistency=consistency))[0]

    async def batch_check(self, requests: Sequence[CheckRequest], *, consistency: str | None = None) -> list[CheckResult]:
        self.batch_calls.append(list(requests))
        self.consistencies.append(consistency)
        await self._maybe_fail()
        return [self._evaluate(r) for r in requests]

    async def list_objects(self, user, relation, object_type, *, context=None, contextual_tuples=()) -> ListResult:
        self.list_calls.append((user, relation, object_type))
        await self._maybe_fail()
        objects = sorted(
            {t.object for t in self.tuples if t.object.startswith(object_type + ":")}
        )
        allowed = [o for o in objects if self._evaluate(CheckRequest(user, relation, o, context=context)).allowed]
        return ListResult(items=tuple(allowed))

    async def list_users(self, object, relation, user_filters, *, context=None, contextual_tuples=()) -> ListResult:
        await self._maybe_fail()
        types = {f.partition("#")[0] for f in user_filters}
        users = sorted(
            {t.user for t in self.tuples if t.object == object and t.relation == relation and t.user.partition(":")[0] in types}
        )
        return ListResult(items=tuple(users))

    async def write(self, writes: Sequence[TupleKey] = (), deletes: Sequence[TupleKey] = ()) -> None:
        for t in deletes:
            self.tuples = [x for x in self.tuples if (x.user, x.relation, x.object) != (t.user, t.relation, t.object)]
        self.tuples.extend(writes)

    async def close(self) -> None:
        self.closed = True
