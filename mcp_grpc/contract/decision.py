"""The authorization step (step 3): the decision and the protocol every authorizer implements."""

from __future__ import annotations

import dataclasses
import enum
from typing import Any, Protocol, Sequence

from mcp_grpc.contract.principal import Principal
from mcp_grpc.contract.target import CallTarget, Check, TargetKind

__all__ = ["Authorizer", "CheckOutcome", "Decision", "DecisionStatus", "ShadowVerdict"]


class DecisionStatus(str, enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # -> PERMISSION_DENIED
    UNAVAILABLE = "unavailable"  # backend error or timeout -> UNAVAILABLE (fail closed)


@dataclasses.dataclass(frozen=True, slots=True)
class CheckOutcome:
    relation: str
    object: str
    result: str  # allowed | denied | error


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    status: DecisionStatus
    reason: str = ""  # names the failing relation and object, never the model
    checks: Sequence[CheckOutcome] = ()
    shadow: Any = None
    """An ``asyncio.Future`` of the ``ShadowVerdict`` when a shadow model also decides this call, else None. It is
    never enforced; the server waits for it only to write the audit record."""

    @property
    def allowed(self) -> bool:
        return self.status is DecisionStatus.ALLOW


@dataclasses.dataclass(frozen=True, slots=True)
class ShadowVerdict:
    """What a shadow model said of a call the enforced model decided. ``shadow`` None: it could not decide
    (``reason`` says why: an error, a timeout)."""

    enforced: str  # a DecisionStatus value
    shadow: str | None
    reason: str = ""

    @property
    def disagreement(self) -> str | None:
        """``"allow→deny"`` when the two decisions differ, else None (also when the shadow could not decide)."""
        if self.shadow is None or self.shadow == self.enforced:
            return None
        return f"{self.enforced}→{self.shadow}"


class Authorizer(Protocol):
    """Decides calls (``mcp_grpc.authz.FgaAuthorizer`` is one). The server owns auditing: an authorizer writes none."""

    async def authorize(self, principal: Principal, target: CallTarget) -> Decision:
        """Decide one call. Never raises for a denial; an internal failure must come back as UNAVAILABLE.

        May raise ``InvalidTargetArguments`` when the arguments cannot name the objects to check.
        """
        ...

    async def visible(
        self, principal: Principal, server_name: str, kind: TargetKind, names: Sequence[str]
    ) -> set[str]:
        """The subset of ``names`` (tool/prompt names, resource URIs or templates) the caller may use, for List*."""
        ...

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """Refuse, with ValueError naming the check, declared checks this authorizer can never answer (a relation
        or type its model lacks, a malformed object template). Called once when the server starts."""
        ...
