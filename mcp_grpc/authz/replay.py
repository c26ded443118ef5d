"""Replay an audit log against a candidate model: who would gain or lose which tool (``mcp-grpc authz diff``).

``read_audit_log`` parses the JSON lines ``serve --audit-log`` writes; a line that is not a record (bad JSON, a
missing or mistyped field) is an ``AuditLogError`` naming ``file:line``. ``replay`` takes every record that carries
checks, groups them by what was decided (principal, kind, target, the checks' relation/object pairs, and the argument
values when the log has them, since conditions read them), and re-checks the latest record of each group for the
principal's FGA user (``agent:<SPIFFE ID without the scheme>``, as ``CallPolicy.user``) with the candidate. The
condition context is rebuilt as the server built it: the argument values (``serve --audit-arguments``), then
``current_time`` (the record's time) and ``peer_ip`` (its peer).

The recorded decision is read from the recorded checks the way ``FgaAuthorizer`` decides: any denied check -> deny,
else any error -> not replayed, else allow. Records without checks (unauthenticated, limited, a List*) are skipped
and counted, and so are decisions the candidate cannot make (an error, e.g. a condition without its argument
values).
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Any, Callable, Iterable, Mapping, Sequence

from mcp_grpc.authz.backend import CheckRequest, CheckResult, Outcome
from mcp_grpc.authz.names import spiffe_id_to_user
from mcp_grpc.authz.policy import CURRENT_TIME_KEY, PEER_IP_KEY, parse_peer_ip

__all__ = ["AuditLogError", "Change", "LoggedDecision", "ReplayReport", "read_audit_log", "replay"]

GAINS = "gains"
LOSES = "loses"


class AuditLogError(ValueError):
    """Lines of an audit log that are not audit records; ``problems`` are ``file:line: what`` strings."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    """One decision the candidate would make differently. ``check`` is the deciding denied check."""

    change: str  # gains | loses
    principal: str
    kind: str
    target: str
    checks: tuple[tuple[str, str], ...]
    before: str  # allow | deny
    after: str
    check: tuple[str, str] | None  # (relation, object): the denial now (loses) or before (gains)
    records: int  # how many records made this decision

    def to_json(self) -> dict[str, Any]:
        return {
            "change": self.change, "principal": self.principal, "kind": self.kind, "target": self.target,
            "before": self.before, "after": self.after,
            "checks": [{"relation": r, "object": o} for r, o in self.checks],
            "denied_by": None if self.check is None else {"relation": self.check[0], "object": self.check[1]},
            "records": self.records,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class ReplayReport:
    changes: tuple[Change, ...]
    records: int  # records read
    decisions: int  # distinct decisions replayed
    skipped_without_checks: int  # records with no checks: unauthenticated, limited, List*, no rule
    skipped_undecided: int  # records whose recorded checks erred
    candidate_errors: int  # distinct decisions the candidate could not make

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [c.to_json() for c in self.changes], "records": self.records, "decisions": self.decisions,
            "skipped_without_checks": self.skipped_without_checks, "skipped_undecided": self.skipped_undecided,
            "candidate_errors": self.candidate_errors,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class LoggedDecision:
    """One audit record as replay reads it: who, what, when, from where, the checks and their results."""

    principal: str | None
    kind: str | None
    target: str | None
    time: str
    peer: str
    checks: tuple[tuple[str, str, str], ...]  # relation, object, result
    arguments: Mapping[str, Any] | None


def read_audit_log(paths: Iterable[str | pathlib.Path]) -> list[LoggedDecision]:
    """Every record of the files, in order. Raises ``AuditLogError`` listing each bad line, OSError for a file."""
    records: list[LoggedDecision] = []
    problems: list[str] = []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    records.append(_parse(line))
                except ValueError as exc:
                    problems.append(f"{path}:{number}: {exc}")
    if problems:
        raise AuditLogError(problems)
    return records


def _parse(line: str) -> LoggedDecision:
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg}, column {exc.colno})") from None
    if not isinstance(raw, dict):
        raise ValueError("not an audit record (a JSON object)")
    for field in ("principal", "kind", "target"):
        if raw.get(field) is not None and not isinstance(raw[field], str):
            raise ValueError(f"{field!r} must be a string or null")
    for field in ("time", "decision"):
        if not isinstance(raw.get(field), str):
            raise ValueError(f"{field!r} is missing or not a string: not an audit record")
    checks = raw.get("checks", [])
    if not isinstance(checks, list):
        raise ValueError("'checks' must be a list")
    parsed = []
    for index, check in enumerate(checks):
        fields = ("relation", "object", "result")
        if not isinstance(check, dict) or not all(isinstance(check.get(k), str) for k in fields):
            raise ValueError(f"checks[{index}] must have string relation, object and result")
        parsed.append((check["relation"], check["object"], check["result"]))
    arguments = raw.get("arguments")
    if arguments is not None and not isinstance(arguments, dict):
        raise ValueError("'arguments' must be an object")
    peer = raw.get("peer") if isinstance(raw.get("peer"), str) else ""
    return LoggedDecision(
        raw.get("principal"), raw.get("kind"), raw.get("target"), raw["time"], peer, tuple(parsed), arguments
    )


def _recorded(checks: Sequence[tuple[str, str, str]]) -> tuple[str | None, tuple[str, str] | None]:
    """The decision the recorded checks made, as ``FgaAuthorizer`` makes it (None: they erred)."""
    for relation, obj, result in checks:
        if result == Outcome.DENIED.value:
            return "deny", (relation, obj)
    if all(result == Outcome.ALLOWED.value for _, _, result in checks):
        return "allow", None
    return None, None


def replay(
    records: Sequence[LoggedDecision], check: Callable[[CheckRequest], CheckResult], *, user_type: str = "agent"
) -> ReplayReport:
    """Re-decide each distinct recorded decision with ``check`` (the candidate's) and list what changes."""
    latest: dict[tuple[Any, ...], LoggedDecision] = {}
    counts: dict[tuple[Any, ...], int] = {}
    without_checks = undecided = 0
    for record in records:
        if not record.checks or record.principal is None:
            without_checks += 1
            continue
        if _recorded(record.checks)[0] is None:
            undecided += 1
            continue
        arguments = json.dumps(record.arguments, sort_keys=True) if record.arguments is not None else None
        key = (record.principal, record.kind or "", record.target or "", tuple(c[:2] for c in record.checks),
               arguments)
        latest[key] = record
        counts[key] = counts.get(key, 0) + 1
    changes: list[Change] = []
    candidate_errors = 0
    for key, record in latest.items():
        before, before_check = _recorded(record.checks)
        user = spiffe_id_to_user(record.principal or "", user_type)
        context = _context(record)
        results = [check(CheckRequest(user, relation, obj, context=context)) for relation, obj, _ in record.checks]
        after, after_check = _recorded(
            [(r, o, result.outcome.value) for (r, o, _), result in zip(record.checks, results)]
        )
        if after is None:
            candidate_errors += 1
            continue
        if after != before:
            change = GAINS if after == "allow" else LOSES
            changes.append(Change(change, key[0], key[1], key[2], key[3], before or "", after,
                                  after_check if change == LOSES else before_check, counts[key]))
    changes.sort(key=lambda c: (c.principal, c.kind, c.target, c.change))
    return ReplayReport(tuple(changes), len(records), len(latest), without_checks, undecided, candidate_errors)


def _context(record: LoggedDecision) -> dict[str, Any]:
    """The condition context the server built for this call, as far as the record tells it."""
    context: dict[str, Any] = dict(record.arguments or {})
    context[CURRENT_TIME_KEY] = record.time
    peer_ip = parse_peer_ip(record.peer)
    if peer_ip is not None:
        context[PEER_IP_KEY] = peer_ip
    else:
        context.pop(PEER_IP_KEY, None)
    return context
