"""Enforcement of a proto-first request's rules, at both doors, before authorization.

The rules are the request message's ``buf.validate`` annotations (checked by protovalidate) and
``google.api.field_behavior = REQUIRED`` (checked here: protovalidate does not read it). ``request_validator`` is
built once per method at registration; it is None when protovalidate is not installed (the extra is optional) or
when the message, with every message it holds, carries no rule: such requests go on exactly as before.

A violation names its field path (``key``, ``items[0].name``, ``labels["a"]``; empty for a rule of the message
itself), the rule id and protovalidate's message. A typed call answers them INVALID_ARGUMENT with a
``google.rpc.BadRequest`` in the status details (``rejection``); an MCP call gets a tool error (``argument_error``).
"""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, Sequence

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import message_factory

from mcp_grpc.contract import AuditDecision
from mcp_grpc.contract.bounds import MAX_NAME, clip
from mcp_grpc.server.call import Rejected
from mcp_grpc.server.proto_first.constraints import validate_module
from mcp_grpc.server.schema import ArgumentError
from mcp_grpc.wire.errors import INVALID_PARAMS

__all__ = ["STATUS_DETAILS_KEY", "RequestValidator", "Violation", "argument_error", "rejection", "request_validator"]

#: The trailing metadata key of a serialized ``google.rpc.Status`` (what grpcio-status's ``from_call`` reads).
STATUS_DETAILS_KEY = "grpc-status-details-bin"

_MAX_VIOLATIONS = 10  # reported per call: status details travel in trailing metadata, which clients bound (8 KiB)
_MAX_DESCRIPTION = 256
_MAX_REASON = 1024
_FD = _descriptor.FieldDescriptor


@dataclasses.dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (``field``), which (``rule``, e.g. ``string.min_len``) and what it says."""

    field: str
    rule: str
    message: str

    def text(self) -> str:
        where = self.field or "(request)"
        return f"{where}: {self.message} [{self.rule}]" if self.rule else f"{where}: {self.message}"

    @property
    def dotted(self) -> str:
        """The path as JSON Schema locations write it (``items.0.name``)."""
        return self.field.replace("[", ".").replace("]", "").replace('"', "")


@functools.cache
def _engine() -> Any:
    """A protovalidate ``Validator``, or None when protovalidate is not installed: its only import."""
    try:
        import protovalidate
    except ImportError:
        return None
    return protovalidate.Validator()


@functools.cache
def _field_behavior() -> Any:
    try:
        from google.api import field_behavior_pb2
    except ImportError:
        return None
    return field_behavior_pb2


def _behavior_required(field: _descriptor.FieldDescriptor) -> bool:
    module = _field_behavior()
    return module is not None and module.REQUIRED in field.GetOptions().Extensions[module.field_behavior]


def _has_rules(message: _descriptor.Descriptor, seen: set[str]) -> bool:
    """Whether ``message`` or a message it holds carries a ``buf.validate`` or REQUIRED annotation."""
    if message.full_name in seen:
        return False
    seen.add(message.full_name)
    validate = validate_module()
    if message.GetOptions().HasExtension(validate.message):
        return True
    if any(oneof.GetOptions().HasExtension(validate.oneof) for oneof in message.oneofs):
        return True
    for field in message.fields:
        if field.GetOptions().HasExtension(validate.field) or _behavior_required(field):
            return True
        if field.message_type is not None and _has_rules(field.message_type, seen):
            return True
    return False


class RequestValidator:
    """Calling it with a request gives its violations (at most 10), empty when the request is valid."""

    __slots__ = ("message_name", "_engine", "_behavior")

    def __init__(self, descriptor: _descriptor.Descriptor, engine: Any) -> None:
        self.message_name = descriptor.full_name
        self._engine = engine
        self._behavior = _behavior_plan(descriptor, set())
        try:  # compile the rules now: a broken rule fails registration, not the first call
            engine.collect_violations(message_factory.GetMessageClass(descriptor)())
        except Exception as exc:  # noqa: BLE001 - protovalidate's CompilationError, or CEL's own errors
            raise ValueError(f"{descriptor.full_name}: its buf.validate rules do not compile: {exc}") from None

    def __call__(self, message: Any) -> list[Violation]:
        found = [_violation(item.proto) for item in self._engine.collect_violations(message)]
        if self._behavior:
            reported = {violation.field for violation in found}
            found += [v for v in _missing(message, self._behavior, "") if v.field not in reported]
        return found[:_MAX_VIOLATIONS]


def request_validator(descriptor: _descriptor.Descriptor) -> RequestValidator | None:
    """The validator of requests of type ``descriptor``, or None when there is nothing to enforce."""
    engine = _engine()
    if engine is None or validate_module() is None or not _has_rules(descriptor, set()):
        return None
    return RequestValidator(descriptor, engine)


def _violation(proto: Any) -> Violation:
    path = []
    for element in proto.field.elements:
        part = element.field_name
        subscript = element.WhichOneof("subscript")
        if subscript == "string_key":
            part += f"[{json.dumps(element.string_key, ensure_ascii=False)}]"
        elif subscript == "bool_key":
            part += f"[{'true' if element.bool_key else 'false'}]"
        elif subscript is not None:
            part += f"[{getattr(element, subscript)}]"
        path.append(part)
    message = proto.message or proto.rule_id or "failed a validation rule"
    return Violation(clip(".".join(path), MAX_NAME), clip(proto.rule_id, MAX_NAME), clip(message, _MAX_DESCRIPTION))


# -- google.api.field_behavior = REQUIRED ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Step:
    field: _descriptor.FieldDescriptor
    required: bool
    nested: tuple["_Step", ...]  # the plan of the message this field holds (empty: nothing to look at there)


def _behavior_plan(message: _descriptor.Descriptor, seen: set[str]) -> tuple[_Step, ...]:
    """The fields to check for presence (REQUIRED without ``buf.validate`` required, which protovalidate reports)
    and the message fields to look into; recursive messages are looked into once."""
    if message.full_name in seen:
        return ()
    seen = seen | {message.full_name}
    validate = validate_module()
    steps = []
    for field in message.fields:
        rules = field.GetOptions().Extensions[validate.field] if field.GetOptions().HasExtension(validate.field) else None
        required = _behavior_required(field) and not (rules is not None and rules.required)
        target = field.message_type
        if target is not None and target.GetOptions().map_entry:
            target = target.fields_by_name["value"].message_type
        nested = _behavior_plan(target, seen) if target is not None else ()
        if required or nested:
            steps.append(_Step(field, required, nested))
    return tuple(steps)


def _is_set(message: Any, field: _descriptor.FieldDescriptor) -> bool:
    if field.has_presence:
        return message.HasField(field.name)
    value = getattr(message, field.name)
    if field.message_type is not None or _is_repeated(field):
        return len(value) > 0
    return value != field.default_value


def _is_repeated(field: _descriptor.FieldDescriptor) -> bool:
    return bool(field.is_repeated if hasattr(field, "is_repeated") else field.label == _FD.LABEL_REPEATED)


def _missing(message: Any, plan: Sequence[_Step], prefix: str) -> list[Violation]:
    found: list[Violation] = []
    for step in plan:
        name = f"{prefix}{step.field.name}"
        present = _is_set(message, step.field)
        if step.required and not present:
            found.append(Violation(name, "required", "value is required"))
        if not step.nested or not present:
            continue
        value = getattr(message, step.field.name)
        entry = step.field.message_type
        if entry.GetOptions().map_entry:
            for key in value:
                shown = json.dumps(key, ensure_ascii=False) if isinstance(key, str) else str(key).lower()
                found += _missing(value[key], step.nested, f"{name}[{shown}].")
        elif _is_repeated(step.field):
            for index, item in enumerate(value):
                found += _missing(item, step.nested, f"{name}[{index}].")
        else:
            found += _missing(value, step.nested, f"{name}.")
        if len(found) >= _MAX_VIOLATIONS:
            break
    return found


# -- the answers at each door ---------------------------------------------------------------------------------------


def _summary(violations: Sequence[Violation]) -> str:
    return "; ".join(violation.text() for violation in violations)


def argument_error(violations: Sequence[Violation], others: Sequence[tuple[str, str]] = ()) -> ArgumentError:
    """The MCP door's answer (a tool error): each violation as ``path: message [rule]``, then ``others``
    (JSON Schema problems as ``(location, text)`` at paths no violation names)."""
    parts = [violation.text() for violation in violations] + [text for _, text in others]
    fields = tuple(violation.field for violation in violations) + tuple(location for location, _ in others)
    return ArgumentError("invalid arguments: " + "; ".join(parts), fields)


def rejection(message_name: str, violations: Sequence[Violation]) -> Rejected:
    """The typed door's answer: INVALID_ARGUMENT, audited as such, with a ``google.rpc.BadRequest`` holding one
    field violation per broken rule in the status details."""
    reason = clip(f"invalid {message_name}: {_summary(violations)}", _MAX_REASON)
    return Rejected(
        grpc.StatusCode.INVALID_ARGUMENT, reason, AuditDecision.INVALID_ARGUMENT, mcp_code=INVALID_PARAMS,
        trailing=_status_details(reason, violations),
    )


def _status_details(reason: str, violations: Sequence[Violation]) -> tuple[tuple[str, bytes], ...]:
    try:
        from google.rpc import error_details_pb2, status_pb2
    except ImportError:  # googleapis-common-protos missing: the status alone still says it all
        return ()
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=violation.field, description=violation.message, reason=violation.rule
            )
            for violation in violations
        ]
    )
    status = status_pb2.Status(code=grpc.StatusCode.INVALID_ARGUMENT.value[0], message=reason)
    status.details.add().Pack(bad_request)
    return ((STATUS_DETAILS_KEY, status.SerializeToString()),)
