"""The security team's ``limits.yaml``: rate limits and concurrency caps on tool calls, parsed strictly.

    rate_limits:
      - name: every-caller           # optional; names the limit in audit records and metrics
        per: principal               # principal | tool | principal_tool | team
        rate: 20                     # tokens per second (each call takes one)
        burst: 40                    # at most this many at once (default: ceil(rate))
      - per: principal_tool
        tool: transfer_funds         # only calls of this tool
        principal: spiffe://example.org/ns/prod/sa/billing   # only this caller
        rate: 0.5
        burst: 1
      - per: team
        team: team:finance#member    # one bucket shared by the members (an FGA check, cached)
        rate: 10
    concurrency:
      - max: 4                       # calls in flight per caller (optional tool / principal / name)
    when_store_unavailable:          # a shared (Redis) store that cannot answer: allow or refuse the call
      read_only: allow               # tools annotated readOnlyHint
      other: refuse                  # every other tool (default: refuse: fail closed)

Every error names the file, the line and what is wrong (``LimitsFileError``, a ``FileFormatError``). ``LimitsFile``
loads a file and reloads it when it changes, keeping the last good version when a reload fails (like the model and
tuples of ``AuthzDirectory``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import pathlib
import time
from typing import Any, Callable, Mapping

from mcp_grpc.authz.files.errors import FileFormatError, kind_of, read_text
from mcp_grpc.authz.files.located_yaml import line_of, located_yaml_load
from mcp_grpc.contract.limits import ConcurrencyLimit, LimitScope, RateLimit

__all__ = ["LIMITS_FILE_NAME", "LimitPolicy", "LimitsFile", "LimitsFileError", "load_limits", "parse_limits"]

log = logging.getLogger("mcp_grpc.authz.limits")

#: The limits file an ``authz/`` folder may hold.
LIMITS_FILE_NAME = "limits.yaml"

_TOP_KEYS = ("rate_limits", "concurrency", "when_store_unavailable")
_RATE_KEYS = ("name", "per", "rate", "burst", "principal", "tool", "team")
_CONCURRENCY_KEYS = ("name", "max", "principal", "tool")
_UNAVAILABLE_KEYS = ("read_only", "other")
_CHOICES = {"allow": True, "refuse": False}


class LimitsFileError(FileFormatError):
    """A limits file that cannot be used; ``str()`` is ``file:line: where: reason``."""


@dataclasses.dataclass(frozen=True, slots=True)
class LimitPolicy:
    """Everything a limits file says. ``read_only_open``/``other_open``: whether a call goes on while the shared
    store cannot answer (by the tool's readOnlyHint)."""

    rates: tuple[RateLimit, ...] = ()
    concurrency: tuple[ConcurrencyLimit, ...] = ()
    read_only_open: bool = True
    other_open: bool = False

    def __post_init__(self) -> None:
        """Unnamed limits are named by their place (``rate_limits[0]``), as the file's are: names key the buckets."""
        object.__setattr__(self, "rates", tuple(
            rule if rule.name else dataclasses.replace(rule, name=f"rate_limits[{i}]")
            for i, rule in enumerate(self.rates)
        ))
        object.__setattr__(self, "concurrency", tuple(
            cap if cap.name else dataclasses.replace(cap, name=f"concurrency[{i}]")
            for i, cap in enumerate(self.concurrency)
        ))


def load_limits(path: str | os.PathLike[str]) -> LimitPolicy:
    """Parse a limits file; raises ``LimitsFileError``."""
    file = pathlib.Path(path)
    return parse_limits(read_text(file, LimitsFileError), file)


def parse_limits(text: str, path: str | os.PathLike[str] = "<limits>") -> LimitPolicy:
    """Parse the text of a limits file (``path`` names it in errors); raises ``LimitsFileError``."""
    try:
        document = located_yaml_load(text, path)
    except FileFormatError as exc:
        raise LimitsFileError(path, exc.reason, line=exc.line) from None
    if document is None:
        return LimitPolicy()
    if not isinstance(document, Mapping):
        raise LimitsFileError(path, f"expected a mapping of {', '.join(_TOP_KEYS)}, found {kind_of(document)}", line=1)
    _unknown_keys(path, document, _TOP_KEYS, None)
    rate_items, cap_items = _list(path, document, "rate_limits"), _list(path, document, "concurrency")
    rates = tuple(_rate(path, entry, f"rate_limits[{i}]", line_of(rate_items, i)) for i, entry in enumerate(rate_items))
    caps = tuple(
        _concurrency(path, entry, f"concurrency[{i}]", line_of(cap_items, i)) for i, entry in enumerate(cap_items)
    )
    names: dict[str, str] = {}
    for section, items, limits in (("rate_limits", rate_items, rates), ("concurrency", cap_items, caps)):
        for i, limit in enumerate(limits):
            where = f"{section}[{i}]"
            if limit.name in names:
                raise LimitsFileError(path, f"the name {limit.name[:64]!r} is also the name of {names[limit.name]}",
                                      where=where, line=line_of(items, i))
            names[limit.name] = where
    read_only_open, other_open = _unavailable(path, document)
    return LimitPolicy(rates, caps, read_only_open, other_open)


def _unknown_keys(path: Any, mapping: Mapping[str, Any], allowed: tuple[str, ...], where: str | None) -> None:
    for key in mapping:
        if key not in allowed:
            raise LimitsFileError(
                path, f"unknown key {str(key)[:64]!r}; expected {', '.join(allowed)}", where=where,
                line=line_of(mapping, key),
            )


def _list(path: Any, document: Mapping[str, Any], key: str) -> list[Any]:
    items = document.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise LimitsFileError(path, f"expected a list, found {kind_of(items)}", where=key, line=line_of(document, key))
    return items


def _entry(path: Any, entry: Any, where: str, line: int | None, keys: tuple[str, ...]) -> Mapping[str, Any]:
    if not isinstance(entry, Mapping):
        raise LimitsFileError(path, f"expected a mapping, found {kind_of(entry)}", where=where, line=line)
    _unknown_keys(path, entry, keys, where)
    return entry


def _text(path: Any, entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > 2048:
        raise LimitsFileError(path, f"{key} must be a non-empty string, found {kind_of(value)}", where=where,
                              line=line_of(entry, key))
    return value


def _rate(path: Any, raw: Any, where: str, line: int | None) -> RateLimit:
    entry = _entry(path, raw, where, line, _RATE_KEYS)
    for key in ("per", "rate"):
        if key not in entry:
            raise LimitsFileError(path, f"missing {key}", where=where, line=line_of(entry))
    per = entry["per"]
    if per not in {scope.value for scope in LimitScope}:
        raise LimitsFileError(
            path, f"per must be one of {', '.join(s.value for s in LimitScope)}, not {str(per)[:64]!r}",
            where=where, line=line_of(entry, "per"),
        )
    fields = {
        "principal": _spiffe_id(path, entry, where), "tool": _text(path, entry, "tool", where),
        "team": _text(path, entry, "team", where), "name": _text(path, entry, "name", where) or where,
    }
    try:
        return RateLimit(rate=entry["rate"], burst=entry.get("burst"), per=per, **fields)
    except ValueError as exc:
        first = str(exc).split(" ", 1)[0]
        key = first if first in entry else None
        raise LimitsFileError(path, str(exc), where=where, line=line_of(entry, key) if key else line_of(entry)) from None


def _concurrency(path: Any, raw: Any, where: str, line: int | None) -> ConcurrencyLimit:
    entry = _entry(path, raw, where, line, _CONCURRENCY_KEYS)
    if "max" not in entry:
        raise LimitsFileError(path, "missing max", where=where, line=line_of(entry))
    fields = {
        "principal": _spiffe_id(path, entry, where), "tool": _text(path, entry, "tool", where),
        "name": _text(path, entry, "name", where) or where,
    }
    try:
        return ConcurrencyLimit(max=entry["max"], **fields)
    except ValueError as exc:
        raise LimitsFileError(path, str(exc), where=where, line=line_of(entry, "max")) from None


def _spiffe_id(path: Any, entry: Mapping[str, Any], where: str) -> str | None:
    principal = _text(path, entry, "principal", where)
    if principal is not None and not principal.startswith("spiffe://"):
        raise LimitsFileError(path, f"principal must be a SPIFFE ID (spiffe://...), not {principal[:64]!r}",
                              where=where, line=line_of(entry, "principal"))
    return principal


def _unavailable(path: Any, document: Mapping[str, Any]) -> tuple[bool, bool]:
    section = document.get("when_store_unavailable")
    if section is None:
        return True, False
    where = "when_store_unavailable"
    entry = _entry(path, section, where, line_of(document, where), _UNAVAILABLE_KEYS)
    found = []
    for key, default in (("read_only", True), ("other", False)):
        value = entry.get(key)
        if value is None:
            found.append(default)
        elif value in _CHOICES:
            found.append(_CHOICES[value])
        else:
            raise LimitsFileError(path, f"{key} must be allow or refuse, not {str(value)[:64]!r}", where=where,
                                  line=line_of(entry, key))
    return found[0], found[1]


class LimitsFile:
    """A limits file, reloaded when it changes (stat at most every ``reload_interval`` s). The first load raises
    ``LimitsFileError``; a later reload that fails is logged, kept in ``last_error``, and the last good version
    keeps serving."""

    def __init__(
        self, path: str | os.PathLike[str], *, reload_interval: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = pathlib.Path(path)
        self.reload_interval = reload_interval
        self._clock = clock
        self._last_stat = clock()
        self._lock = asyncio.Lock()
        self.last_error: str | None = None
        self.generation = 1
        self._signature = self._stat()
        self.policy = load_limits(self.path)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    async def maybe_reload(self) -> bool:
        """Reload when the file changed; True when a new version was installed."""
        if self._clock() - self._last_stat < self.reload_interval:
            return False
        async with self._lock:
            if self._clock() - self._last_stat < self.reload_interval:
                return False
            self._last_stat = self._clock()
            signature = self._stat()
            if signature == self._signature:
                return False
            self._signature = signature
            try:
                policy = await asyncio.to_thread(load_limits, self.path)
            except LimitsFileError as exc:
                self.last_error = str(exc)
                log.error("limits file not reloaded, the previous version keeps serving: %s", exc)
                return False
            self.policy = policy
            self.generation += 1
            self.last_error = None
            log.info("reloaded %d rate limits and %d concurrency caps from %s", len(policy.rates),
                     len(policy.concurrency), self.path)
            return True
