"""``EmbeddedBackend``: the :class:`~mcp_grpc.authz.backend.AuthorizationBackend` over an in-process :class:`Engine`.

Evaluation is synchronous and takes microseconds, so it runs inline on the event loop; a list call over a large
store (or any call when ``offload=True``) runs in the default thread pool instead so it never stalls other calls.
Errors are values: a validation or resolution problem comes back as ``Outcome.ERROR`` with OpenFGA's code.
"""

from __future__ import annotations

import asyncio
from typing import Any, Mapping, Sequence

from mcp_grpc.authz.backend import CheckRequest, CheckResult, ListResult, Outcome, TupleKey

from .engine import Engine

__all__ = ["EmbeddedBackend"]

#: A list call over a store with more tuples than this runs in a worker thread.
OFFLOAD_TUPLE_THRESHOLD = 5000


class EmbeddedBackend:
    """The default authorization backend. ``consistency`` is accepted and ignored (the store is always current)."""

    def __init__(self, engine: Engine | None = None, *, model_id: str | None = None, offload: bool = False) -> None:
        self.engine = engine if engine is not None else Engine()
        self.model_id = model_id
        """Pin every query to one model version; None means the latest."""
        self.offload = offload

    async def _run(self, fn: Any, *args: Any, heavy: bool = False, **kwargs: Any) -> Any:
        if self.offload or (heavy and len(self.engine.store) > OFFLOAD_TUPLE_THRESHOLD):
            return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))
        return fn(*args, **kwargs)

    async def check(self, request: CheckRequest, *, consistency: str | None = None) -> CheckResult:
        try:
            return await self._run(self.engine.check, request.user, request.relation, request.object,
                                   context=request.context, contextual_tuples=request.contextual_tuples,
                                   model_id=self.model_id)
        except Exception as exc:  # fail closed: an unexpected failure is an error answer, never an exception
            return CheckResult(Outcome.ERROR, error=f"embedded engine failure: {exc!r}")

    async def batch_check(
        self, requests: Sequence[CheckRequest], *, consistency: str | None = None
    ) -> list[CheckResult]:
        try:
            return await self._run(self.engine.batch_check, list(requests), model_id=self.model_id)
        except Exception as exc:
            err = CheckResult(Outcome.ERROR, error=f"embedded engine failure: {exc!r}")
            return [err] * len(requests)

    async def list_objects(
        self,
        user: str,
        relation: str,
        object_type: str,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult:
        try:
            return await self._run(self.engine.list_objects, user, relation, object_type, context=context,
                                   contextual_tuples=contextual_tuples, model_id=self.model_id, heavy=True)
        except Exception as exc:
            return ListResult(error=f"embedded engine failure: {exc!r}")

    async def list_users(
        self,
        object: str,
        relation: str,
        user_filters: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult:
        try:
            return await self._run(self.engine.list_users, object, relation, list(user_filters), context=context,
                                   contextual_tuples=contextual_tuples, model_id=self.model_id, heavy=True)
        except Exception as exc:
            return ListResult(error=f"embedded engine failure: {exc!r}")

    async def close(self) -> None:
        return None
