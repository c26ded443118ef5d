"""The call policy: which relationship checks a call needs, and the condition context they are evaluated with.

From a ``CallTarget`` (what the call wants to use, arguments already validated) and a ``Principal`` (who calls),
``CallPolicy.plan`` returns a ``Plan``: the FGA user, the (relation, object) checks, all of which must allow, and the
condition context.

Object ids. OpenFGA rejects ``:``, ``#`` and whitespace inside an object id, and OpenFGA's language validators
(used for store files) accept only letters, digits and ``_ | * @ . + / -``. Names we do not control (tool and
prompt names, resource URIs, server names) are therefore encoded with ``encode_object_id``: every byte outside
``A-Z a-z 0-9 _ | @ . / -`` becomes ``+HH`` (upper-case hex of its UTF-8 byte), so ``files://docs/a.txt`` becomes
``files+3A//docs/a.txt``. The encoding is readable, reversible (``decode_object_id``) and valid for both
validators (checked with the ``fga`` CLI). A whole object (``type:id``) is at most 256 characters, as OpenFGA
enforces (``^[^\\s]{2,256}$``, checked with the ``fga`` CLI).

Argument values are never encoded: a security team writes ``bucket:reports`` in a tuple, and the value that fills
``bucket:{bucket}`` must be exactly ``reports``. A value that is missing, of the wrong type, empty, or that contains a
character outside ``A-Z a-z 0-9 _ | @ . + -`` is refused with ``CheckArgumentError`` (INVALID_ARGUMENT), never
silently allowed. ``/`` is accepted only in the last placeholder of a template, so that two arguments can never be
shifted to spell another object (``{project}/{path}`` with project ``a/b`` would read as project ``a``).

Condition context: the tool's arguments (JSON values only), then ``current_time`` (RFC 3339, UTC, truncated to
``time_resolution`` seconds so that decisions can be cached; see ``cache.py``) and ``peer_ip`` (from the gRPC peer
``ipv4:1.2.3.4:5``/``ipv6:[::1]:5``; absent for Unix sockets). The two built-in keys always win over arguments of
the same name, so a caller can never forge the time or its address.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import ipaddress
import re
import string
import time
from typing import Any, Callable, Mapping, Sequence

from mcp_grpc.authz.names import (
    MAX_OBJECT_LENGTH,
    PORTABLE_ID_CHARS,
    is_portable_id,
    is_valid_relation_name,
    is_valid_type_name,
    spiffe_id_to_user,
)
from mcp_grpc.contract import CallTarget, Check, InvalidTargetArguments, Principal, TargetKind

__all__ = [
    "CallPolicy",
    "CheckArgumentError",
    "ObjectTemplate",
    "Plan",
    "PlannedCheck",
    "PolicyConfigError",
    "decode_object_id",
    "encode_object_id",
    "parse_peer_ip",
]

_ENCODE_SAFE = PORTABLE_ID_CHARS - {"+"}
"""Characters ``encode_object_id`` keeps; ``+`` starts an escape."""
_FIELD_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # fullmatch: "$" would let a final newline through

#: Placeholders every template may use; they shadow arguments of the same name.
BUILTIN_PLACEHOLDERS = frozenset({"server", "name", "tool", "prompt", "uri", "method"})

CURRENT_TIME_KEY = "current_time"
PEER_IP_KEY = "peer_ip"


class PolicyConfigError(ValueError):
    """A template or policy setting is malformed (found when the policy or a tool is declared, not per call)."""


class CheckArgumentError(InvalidTargetArguments):
    """An argument needed by a check is missing or would not form a valid object id. Maps to INVALID_ARGUMENT.

    ``argument`` names the argument; ``check`` is the declared ``relation object_template``; the message is precise
    and safe to return to the caller (it names the argument and the template, never the model).
    """

    def __init__(self, message: str, *, argument: str, check: str) -> None:
        super().__init__(message)
        self.argument = argument
        self.check = check


@functools.lru_cache(maxsize=8192)
def encode_object_id(text: str) -> str:
    """Encode any string as an OpenFGA object id: bytes outside ``A-Za-z0-9_|@./-`` become ``+HH``."""
    out: list[str] = []
    for ch in text:
        if ch in _ENCODE_SAFE:
            out.append(ch)
        else:
            out.extend(f"+{b:02X}" for b in ch.encode("utf-8"))
    return "".join(out)


def decode_object_id(encoded: str) -> str:
    """Reverse ``encode_object_id``. Raises ValueError on a malformed escape."""
    raw = bytearray()
    i = 0
    while i < len(encoded):
        ch = encoded[i]
        if ch == "+":
            hex_part = encoded[i + 1 : i + 3]
            if len(hex_part) != 2 or not all(c in string.hexdigits for c in hex_part):
                raise ValueError(f"malformed escape at offset {i} in {encoded!r}")
            raw.append(int(hex_part, 16))
            i += 3
        else:
            raw.extend(ch.encode("utf-8"))
            i += 1
    return raw.decode("utf-8")


@functools.lru_cache(maxsize=4096)
def parse_peer_ip(peer: str) -> str | None:
    """The IP address in a gRPC peer string (``ipv4:10.0.0.1:5000``, ``ipv6:[::1]:5000``, ``ipv6:%5B::1%5D:5000``).

    None for Unix sockets and anything that is not an IP peer.
    """
    if peer.startswith("ipv4:"):
        host = peer[5:].rsplit(":", 1)[0]
    elif peer.startswith("ipv6:"):
        rest = peer[5:].replace("%5B", "[").replace("%5D", "]")
        if rest.startswith("[") and "]" in rest:
            host = rest[1 : rest.index("]")]
        else:
            host = rest
        host = host.split("%", 1)[0]  # zone index
    else:
        return None
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectTemplate:
    """A parsed ``type:id-with-{placeholders}`` template. Parse once (``parse``), fill per call (``fill``)."""

    source: str
    object_type: str
    parts: tuple[tuple[str, str | None], ...]
    """(literal, placeholder-or-None) pairs, in order."""

    @classmethod
    def parse(cls, template: str) -> ObjectTemplate:
        type_part, sep, id_part = template.partition(":")
        if not sep:
            raise PolicyConfigError(f"object template {template!r} must be 'type:id', e.g. 'bucket:{{bucket}}'")
        if not is_valid_type_name(type_part) or "{" in type_part or "}" in type_part:
            raise PolicyConfigError(f"object template {template!r}: invalid type name {type_part!r}")
        if not id_part:
            raise PolicyConfigError(f"object template {template!r} has an empty id")
        parts: list[tuple[str, str | None]] = []
        try:
            parsed = list(string.Formatter().parse(id_part))
        except ValueError as exc:
            raise PolicyConfigError(f"object template {template!r}: {exc}") from None
        for literal, field, spec, conversion in parsed:
            if spec or conversion:
                raise PolicyConfigError(f"object template {template!r}: format specs and conversions are not allowed")
            if field is not None and not _FIELD_NAME_RE.fullmatch(field):
                raise PolicyConfigError(
                    f"object template {template!r}: placeholder {{{field}}} must name an argument "
                    "(letters, digits, underscore)"
                )
            if literal and not is_portable_id(literal):
                raise PolicyConfigError(
                    f"object template {template!r}: literal {literal!r} may contain only letters, digits "
                    "and _ | @ . + / -"
                )
            parts.append((literal, field))
        return cls(template, type_part, tuple(parts))

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(f for _, f in self.parts if f is not None)

    def fill(self, builtins: Mapping[str, str], arguments: Mapping[str, Any], *, relation: str) -> str:
        """The object for one call. Builtins are already-encoded ids; arguments are checked strictly."""
        last_placeholder = max((i for i, (_, f) in enumerate(self.parts) if f is not None), default=-1)
        out = [self.object_type, ":"]
        for index, (literal, field) in enumerate(self.parts):
            out.append(literal)
            if field is None:
                continue
            if field in builtins:
                out.append(builtins[field])
                continue
            out.append(self._argument_value(field, arguments, relation, last=index == last_placeholder))
        obj = "".join(out)
        if len(obj) > MAX_OBJECT_LENGTH:
            raise CheckArgumentError(
                f"check {relation} on {self.source}: the object would be {len(obj)} characters, "
                f"over OpenFGA's limit of {MAX_OBJECT_LENGTH}",
                argument=",".join(self.placeholders),
                check=f"{relation} {self.source}",
            )
        return obj

    def _argument_value(self, field: str, arguments: Mapping[str, Any], relation: str, *, last: bool) -> str:
        where = f"check {relation} on {self.source}"
        if field not in arguments or arguments[field] is None:
            raise CheckArgumentError(
                f"{where} needs argument '{field}', which is missing", argument=field, check=f"{relation} {self.source}"
            )
        value = arguments[field]
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            raise CheckArgumentError(
                f"{where}: argument '{field}' must be a string or an integer, got {type(value).__name__}",
                argument=field,
                check=f"{relation} {self.source}",
            )
        text = str(value)
        if not is_portable_id(text) or (not last and "/" in text):
            allowed = "letters, digits and _ | @ . + -" + (" /" if last else "")
            raise CheckArgumentError(
                f"{where}: argument '{field}' = {text[:64]!r} is not a valid object id (allowed: {allowed})",
                argument=field,
                check=f"{relation} {self.source}",
            )
        return text


@dataclasses.dataclass(frozen=True, slots=True)
class PlannedCheck:
    relation: str
    object: str


@dataclasses.dataclass(frozen=True, slots=True)
class Plan:
    """What one call must satisfy: every check, for ``user``, with ``context``."""

    user: str
    checks: tuple[PlannedCheck, ...]
    context: Mapping[str, Any]


def _parse_rule(check: Check) -> tuple[str, ObjectTemplate]:
    if not isinstance(check, Check):
        raise PolicyConfigError(f"expected a Check(relation, object_template), got {check!r}")
    if not is_valid_relation_name(check.relation):
        raise PolicyConfigError(f"invalid relation name {check.relation!r}")
    return check.relation, ObjectTemplate.parse(check.object_template)


DEFAULT_RULES: Mapping[TargetKind, Check] = {
    TargetKind.TOOL: Check("can_call", "tool:{server}/{name}"),
    TargetKind.RESOURCE: Check("can_read", "resource:{uri}"),
    TargetKind.RESOURCE_TEMPLATE: Check("can_read", "resource_template:{uri}"),
    TargetKind.PROMPT: Check("can_get", "prompt:{server}/{name}"),
    TargetKind.COMPLETION: Check("can_complete", "completion:{server}/{name}"),
    TargetKind.METHOD: Check("can_call", "method:{server}/{name}"),
}
"""The default check per kind. ``{uri}`` and ``{name}`` are the encoded target name, ``{server}`` the encoded
server name. Resource URIs are not prefixed by the server: a URI names the resource wherever it is served."""


#: The most argument-free plans a policy remembers (``CallPolicy.plan``).
_STATIC_PLANS = 10_000
_DEFAULT_CHECK_PLANS = 100_000
"""List* filtering plans remembered per target: the server's own names (a registry of 100,000 fits)."""


class CallPolicy:
    """Maps a call to the checks it needs.

    - ``user_type``: the FGA type of callers (``agent`` -> ``agent:example.org/ns/prod/sa/billing``).
    - ``defaults``: the default check per ``TargetKind`` (``DEFAULT_RULES`` when omitted).
    - ``server_defaults``: per server name, a partial override of ``defaults``.
    - ``overrides``: per ``(server_name, kind, name)``, the checks that REPLACE the default one for that target
      (the target's declared checks still apply). An empty sequence removes the default check; a target with no
      check at all is refused (see ``FgaAuthorizer``), never allowed.
    - ``time_resolution``: seconds to which ``current_time`` is truncated (1 by default; 0 keeps microseconds).
    - ``clock``: returns unix seconds (tests inject one).
    """

    def __init__(
        self,
        *,
        user_type: str = "agent",
        defaults: Mapping[TargetKind, Check] | None = None,
        server_defaults: Mapping[str, Mapping[TargetKind, Check]] | None = None,
        overrides: Mapping[tuple[str, TargetKind, str], Sequence[Check]] | None = None,
        time_resolution: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not is_valid_type_name(user_type):
            raise PolicyConfigError(f"invalid user type {user_type!r}")
        if time_resolution < 0:
            raise PolicyConfigError("time_resolution must be >= 0")
        self.user_type = user_type
        self.time_resolution = time_resolution
        self._clock = clock
        merged = dict(DEFAULT_RULES)
        merged.update(defaults or {})
        self._defaults = {kind: _parse_rule(rule) for kind, rule in merged.items()}
        self._server_defaults = {
            server: {kind: _parse_rule(rule) for kind, rule in rules.items()}
            for server, rules in (server_defaults or {}).items()
        }
        self._overrides = {
            (server, TargetKind(kind), name): tuple(_parse_rule(rule) for rule in rules)
            for (server, kind, name), rules in (overrides or {}).items()
        }
        self._declared: dict[tuple[Check, ...], tuple[tuple[str, ObjectTemplate], ...]] = {}
        self._time_cache: tuple[float, str] | None = None
        #: ``(server, kind, name, declared checks) -> checks`` of targets whose objects use no argument.
        self._static_checks: dict[tuple[Any, ...], tuple[PlannedCheck, ...]] = {}
        self._default_checks: dict[tuple[str, TargetKind, str], tuple[PlannedCheck, ...]] = {}

    # -- public API --------------------------------------------------------------------------------------------

    def user(self, principal: Principal) -> str:
        """The caller's FGA user, e.g. ``agent:example.org/ns/prod/sa/billing``."""
        return spiffe_id_to_user(principal.spiffe_id, self.user_type)

    def validate_declared(self, checks: Sequence[Check]) -> None:
        """Raise PolicyConfigError for a malformed declared check (call it when a tool is registered)."""
        self._parsed_declared(tuple(checks))

    def plan(self, principal: Principal, target: CallTarget) -> Plan:
        """The checks and context for one call. Raises CheckArgumentError for a bad or missing argument."""
        arguments = target.arguments or {}
        required = tuple(target.required_checks)
        key = (target.server_name, target.kind, target.name, required)
        checks = self._static_checks.get(key)
        if checks is None:
            builtins = self._builtins(target.server_name, target.kind, target.name)
            rules = self.rules_for(target.server_name, target.kind, target.name) + self._parsed_declared(required)
            found: list[PlannedCheck] = []
            seen: set[tuple[str, str]] = set()
            for relation, template in rules:
                obj = template.fill(builtins, arguments, relation=relation)
                if (relation, obj) not in seen:
                    seen.add((relation, obj))
                    found.append(PlannedCheck(relation, obj))
            checks = tuple(found)
            if all(p in builtins for _, template in rules for p in template.placeholders):
                # No argument in any object: the same target always plans the same checks (the rules are fixed
                # for this policy's life). Bounded: names are the caller's, so a flood of them only resets it.
                if len(self._static_checks) >= _STATIC_PLANS:
                    self._static_checks.clear()
                self._static_checks[key] = checks
        return Plan(self.user(principal), checks, self.context(arguments, target.peer))

    def default_check(self, server_name: str, kind: TargetKind, name: str) -> tuple[PlannedCheck, ...]:
        """The checks that need no argument, for List* filtering (declared argument checks cannot apply there).

        Remembered per target (the rules are fixed for this policy's life): a ListTools over 10,000 tools planned
        them afresh for every listing, three quarters of its filtering time. Bounded like the static plans."""
        key = (server_name, kind, name)
        hit = self._default_checks.get(key)
        if hit is not None:
            return hit
        checks = self._plan_default_check(server_name, kind, name)
        if len(self._default_checks) >= _DEFAULT_CHECK_PLANS:
            self._default_checks.clear()
        self._default_checks[key] = checks
        return checks

    def _plan_default_check(self, server_name: str, kind: TargetKind, name: str) -> tuple[PlannedCheck, ...]:
        builtins = self._builtins(server_name, kind, name)
        out = []
        for relation, template in self.rules_for(server_name, kind, name):
            if all(p in builtins for p in template.placeholders):
                out.append(PlannedCheck(relation, template.fill(builtins, {}, relation=relation)))
        return tuple(out)

    def rules_for(self, server_name: str, kind: TargetKind, name: str) -> tuple[tuple[str, ObjectTemplate], ...]:
        override = self._overrides.get((server_name, kind, name))
        if override is not None:
            return override
        rule = self._server_defaults.get(server_name, {}).get(kind) or self._defaults.get(kind)
        return (rule,) if rule else ()

    def context(self, arguments: Mapping[str, Any], peer: str) -> dict[str, Any]:
        """Condition context: JSON-valued arguments, then ``current_time`` and ``peer_ip`` (which always win)."""
        context = {k: v for k, v in arguments.items() if _is_json_value(v)} if arguments else {}
        context[CURRENT_TIME_KEY] = self._current_time()
        peer_ip = parse_peer_ip(peer)
        if peer_ip is not None:
            context[PEER_IP_KEY] = peer_ip
        else:
            context.pop(PEER_IP_KEY, None)
        return context

    # -- internals ---------------------------------------------------------------------------------------------

    def _current_time(self) -> str:
        """RFC 3339 UTC, truncated to ``time_resolution``; formatted once per resolution step (hot path)."""
        now = self._clock()
        if self.time_resolution > 0:
            now = now - (now % self.time_resolution)
        cached = self._time_cache
        if cached is not None and cached[0] == now:
            return cached[1]
        stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
        text = stamp.isoformat(timespec="microseconds" if self.time_resolution < 1 else "seconds")
        text = text.replace("+00:00", "Z")
        self._time_cache = (now, text)
        return text

    def _parsed_declared(self, checks: tuple[Check, ...]) -> tuple[tuple[str, ObjectTemplate], ...]:
        if not checks:
            return ()
        parsed = self._declared.get(checks)
        if parsed is None:
            parsed = tuple(_parse_rule(c) for c in checks)
            if len(self._declared) < 10_000:  # bounded: declared checks are per tool, not per call
                self._declared[checks] = parsed
        return parsed

    @staticmethod
    def _builtins(server_name: str, kind: TargetKind, name: str) -> dict[str, str]:
        if not name:
            raise CheckArgumentError("the call names no tool, prompt or resource", argument="name", check="")
        encoded_name = encode_object_id(name)
        return {
            "server": encode_object_id(server_name),
            "name": encoded_name,
            "tool": encoded_name,
            "prompt": encoded_name,
            "uri": encoded_name,
            "method": encoded_name,
        }


def _is_json_value(value: Any, depth: int = 0) -> bool:
    if depth > 16:
        return False
    if value is None or isinstance(value, (str, bool, int, float)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_json_value(v, depth + 1) for v in value)
    if isinstance(value, Mapping):
        return all(isinstance(k, str) and _is_json_value(v, depth + 1) for k, v in value.items())
    return False
