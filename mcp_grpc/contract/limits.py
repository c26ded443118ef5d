"""Rate limits and concurrency caps on tool calls, as declared beside a tool or in the security team's limits.yaml.

Plain data: ``mcp_grpc.authz.limits`` parses the file into these, ``mcp_grpc.server.limits`` enforces them (after
authentication, before authorization). A rate limit is a GCRA token bucket: ``rate`` tokens per second, at most
``burst`` at once; each call takes one token.
"""

from __future__ import annotations

import dataclasses
import enum
import math

__all__ = ["ConcurrencyLimit", "LimitScope", "RateLimit"]


class LimitScope(str, enum.Enum):
    """What one bucket of a rate limit counts (each distinct value has its own bucket)."""

    PRINCIPAL = "principal"  # each caller (SPIFFE ID), over every tool the limit matches
    TOOL = "tool"  # each tool, over every caller
    PRINCIPAL_TOOL = "principal_tool"  # each (caller, tool) pair
    TEAM = "team"  # one bucket shared by the members of ``team`` (needs ``team``)


@dataclasses.dataclass(frozen=True, slots=True)
class RateLimit:
    """``rate`` tokens per second, ``burst`` at most, one bucket per ``per`` value among the calls it matches.

    ``principal`` (a SPIFFE ID), ``tool`` (a tool name) and ``team`` (an FGA userset ``team:finance#member``) narrow
    the calls it applies to; None matches every one. ``name`` names it in audit records and metrics.
    Declared on a tool (``@app.tool(limits=[...])``) ``tool`` is that tool and ``per`` defaults to PRINCIPAL, so a
    bucket counts one caller's calls of that tool.
    """

    rate: float
    burst: int | None = None
    """None: ``ceil(rate)``, at least 1."""
    per: LimitScope | str = LimitScope.PRINCIPAL
    principal: str | None = None
    tool: str | None = None
    team: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        per = LimitScope(self.per)
        object.__setattr__(self, "per", per)
        if isinstance(self.rate, bool) or not isinstance(self.rate, (int, float)) or not (
            math.isfinite(self.rate) and self.rate > 0
        ):
            raise ValueError(f"rate must be a number of tokens per second > 0, not {self.rate!r}")
        if self.burst is None:
            object.__setattr__(self, "burst", max(1, math.ceil(self.rate)))
        elif isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"burst must be a whole number >= 1, not {self.burst!r}")
        if per is LimitScope.TEAM and not self.team:
            raise ValueError("a limit per team needs team: an FGA userset such as team:finance#member")
        if self.team is not None:
            team_object, _, relation = self.team.partition("#")
            type_name, _, team_id = team_object.partition(":")
            if not (type_name and team_id and relation) or " " in self.team:
                raise ValueError(f"team must be an FGA userset type:id#relation, not {self.team!r}")

    @property
    def interval(self) -> float:
        """Seconds between two tokens (GCRA's emission interval)."""
        return 1.0 / self.rate

    def bound_to(self, tool: str, index: int) -> "RateLimit":
        """This limit as declared on ``tool`` (its ``index``-th): PRINCIPAL becomes PRINCIPAL_TOOL."""
        per = LimitScope.PRINCIPAL_TOOL if self.per is LimitScope.PRINCIPAL else self.per
        name = self.name or f"{tool}#{index}"
        return dataclasses.replace(self, per=per, tool=tool, name=name)


@dataclasses.dataclass(frozen=True, slots=True)
class ConcurrencyLimit:
    """At most ``max`` calls in flight per caller, among the calls of ``tool`` (None: every tool) it matches.

    Counted in this server process (not across replicas)."""

    max: int
    principal: str | None = None
    tool: str | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.max, bool) or not isinstance(self.max, int) or self.max < 1:
            raise ValueError(f"max must be a whole number >= 1, not {self.max!r}")

    def bound_to(self, tool: str, index: int) -> "ConcurrencyLimit":
        return dataclasses.replace(self, tool=tool, name=self.name or f"{tool}#concurrency{index}")
