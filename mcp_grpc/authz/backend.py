"""The interface every authorization backend implements: the embedded engine and the remote OpenFGA client.

Every method is async and returns a three-valued answer. A denial is a value, never an exception; an error
(backend unreachable, timeout, resolution too complex, missing condition parameter) is also a value, and the
call path turns it into a denial with UNAVAILABLE (fail closed).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable


class Outcome(str, enum.Enum):
    ALLOWED = "allowed"
    DENIED = "denied"
    ERROR = "error"


@dataclasses.dataclass(frozen=True, slots=True)
class TupleKey:
    """One relationship tuple, in OpenFGA's string form (``user`` may be ``type:id``, ``type:*`` or ``type:id#rel``)."""

    user: str
    relation: str
    object: str
    condition_name: str | None = None
    condition_context: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class CheckRequest:
    user: str
    relation: str
    object: str
    context: Mapping[str, Any] | None = None
    contextual_tuples: Sequence[TupleKey] = ()
    correlation_id: str | None = None
    """Used by batch_check to match answers to requests."""


@dataclasses.dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: Outcome
    error: str | None = None
    """For ERROR: a precise reason (no model details leak to callers; the audit log gets this text)."""
    error_code: int | None = None
    """OpenFGA's numeric error code where one applies (2000 validation, 2002 too complex, 2027 invalid tuple...)."""
    cycle: bool = False
    """DENIED with OpenFGA's cycle flag: the evaluation met a cycle and the denial is indeterminate (a caller gets a
    denial, but it is never cached, as OpenFGA never caches it). Only the embedded engine can say so; OpenFGA's Check
    API does not expose the flag."""

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.ALLOWED


@dataclasses.dataclass(frozen=True, slots=True)
class ListResult:
    """ListObjects / ListUsers answer: the items, or an error."""

    items: tuple[str, ...] = ()
    error: str | None = None
    error_code: int | None = None


@runtime_checkable
class AuthorizationBackend(Protocol):
    """What the call path needs from an authorization service."""

    async def check(self, request: CheckRequest, *, consistency: str | None = None) -> CheckResult: ...

    async def batch_check(
        self, requests: Sequence[CheckRequest], *, consistency: str | None = None
    ) -> list[CheckResult]:
        """Answers in the order of ``requests``."""
        ...

    async def list_objects(
        self,
        user: str,
        relation: str,
        object_type: str,
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult: ...

    async def list_users(
        self,
        object: str,
        relation: str,
        user_filters: Sequence[str],
        *,
        context: Mapping[str, Any] | None = None,
        contextual_tuples: Sequence[TupleKey] = (),
    ) -> ListResult:
        """``user_filters`` are ``type`` or ``type#relation``; results are ``type:id``, ``type:*`` or ``type:id#rel``."""
        ...

    async def close(self) -> None: ...
