"""The input constraints a proto author wrote, as JSON Schema: ``buf.validate`` rules and ``google.api.field_behavior``.

``required`` and ``field_behavior = REQUIRED`` make the field required (and, as protovalidate reads ``required`` on a
field without presence, non-empty); lengths, patterns, ranges, ``const``, ``in``/``not_in``, enum
``defined_only``, item and pair limits and string formats become the matching JSON Schema keywords. What has no JSON
Schema form (CEL rules, byte lengths, prefixes, oneof rules, timestamp and duration rules) is written into the
description, so the agent reads it. Enforcement is ``validation``'s job; this module only describes.

Both annotation sets are optional: ``buf.validate.validate_pb2`` and ``google.api.field_behavior_pb2`` are read only
when importable, and a message can only carry their options when its generated code imported them.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from google.protobuf import descriptor as _descriptor

__all__ = ["FieldConstraints", "field_constraints", "message_notes", "validate_module"]

_FD = _descriptor.FieldDescriptor

_NUMERIC = (
    "float", "double", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32",
    "sfixed64",
)
_FORMATS = {"email": "email", "hostname": "hostname", "ipv4": "ipv4", "ipv6": "ipv6", "uri": "uri",
            "uri_ref": "uri-reference", "uuid": "uuid"}


@functools.cache
def validate_module() -> Any:
    """``buf.validate.validate_pb2``, or None when no installed package provides it."""
    try:
        from buf.validate import validate_pb2
    except ImportError:
        return None
    return validate_pb2


@functools.cache
def _field_behavior_module() -> Any:
    try:
        from google.api import field_behavior_pb2
    except ImportError:
        return None
    return field_behavior_pb2


class FieldConstraints:
    """What one field's annotations say: JSON Schema ``keywords`` for the field (and, for repeated fields and maps,
    ``items``/``values`` keywords for its elements), ``notes`` for its description, and whether it is ``required``."""

    __slots__ = ("keywords", "items", "values", "keys", "notes", "required")

    def __init__(self) -> None:
        self.keywords: dict[str, Any] = {}
        self.items: dict[str, Any] = {}
        self.values: dict[str, Any] = {}
        self.keys: dict[str, Any] = {}
        self.notes: list[str] = []
        self.required = False

    def apply(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``schema`` (the field's JSON Schema from its type) with the constraints merged in."""
        schema.update(self.keywords)
        if self.items and isinstance(schema.get("items"), dict):
            schema["items"] = {**schema["items"], **self.items}
        if self.values and isinstance(schema.get("additionalProperties"), dict):
            schema["additionalProperties"] = {**schema["additionalProperties"], **self.values}
        if self.keys and schema.get("type") == "object":
            schema["propertyNames"] = dict(self.keys)
        return schema


def field_constraints(field: _descriptor.FieldDescriptor) -> FieldConstraints:
    found = FieldConstraints()
    behavior = _field_behavior_module()
    if behavior is not None:
        options = field.GetOptions()
        if behavior.REQUIRED in options.Extensions[behavior.field_behavior]:
            found.required = True
    validate = validate_module()
    if validate is None or not field.GetOptions().HasExtension(validate.field):
        if found.required:
            _non_empty(field, found.keywords)
        return found
    rules = field.GetOptions().Extensions[validate.field]
    if rules.ignore == validate.IGNORE_ALWAYS:
        return found
    if rules.required:
        found.required = True
    if found.required:
        _non_empty(field, found.keywords)
    for rule in rules.cel:
        found.notes.append(_rule_note(rule))
    for expression in rules.cel_expression:
        found.notes.append(f"must satisfy the CEL expression `{expression}`")
    which = rules.WhichOneof("type")
    if which is None:
        return found
    typed = getattr(rules, which)
    target = found.keywords
    if which == "repeated":
        _repeated(typed, field, found)
        return found
    if which == "map":
        _map(typed, field, found)
        return found
    if _is_list(field):  # type rules on a repeated field apply to its items (protovalidate rejects this; be safe)
        target = found.items
    _scalar_rules(which, typed, field, target, found.notes)
    if rules.ignore == validate.IGNORE_IF_ZERO_VALUE and target:
        zero = _zero_value(field)
        if zero is not None:
            constrained = dict(target)
            target.clear()
            target["anyOf"] = [{"const": zero}, constrained]
    return found


def message_notes(message: _descriptor.Descriptor) -> list[str]:
    """Description notes of the message's own rules: CEL expressions and oneof rules."""
    validate = validate_module()
    if validate is None:
        return []
    notes: list[str] = []
    options = message.GetOptions()
    if options.HasExtension(validate.message):
        rules = options.Extensions[validate.message]
        notes += [_rule_note(rule) for rule in rules.cel]
        notes += [f"must satisfy the CEL expression `{expression}`" for expression in rules.cel_expression]
        for oneof in rules.oneof:
            names = ", ".join(oneof.fields)
            notes.append(f"{'exactly' if oneof.required else 'at most'} one of {names} may be set")
    for oneof in message.oneofs:
        if oneof.GetOptions().HasExtension(validate.oneof) and oneof.GetOptions().Extensions[validate.oneof].required:
            notes.append(f"one of {', '.join(f.name for f in oneof.fields)} is required")
    return notes


def _rule_note(rule: Any) -> str:
    text = rule.message or f"must satisfy the CEL expression `{rule.expression}`"
    return f"{text} (rule {rule.id})" if rule.id else text


def _is_list(field: _descriptor.FieldDescriptor) -> bool:
    return bool(field.is_repeated if hasattr(field, "is_repeated") else field.label == _FD.LABEL_REPEATED)


def _is_map(field: _descriptor.FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _non_empty(field: _descriptor.FieldDescriptor, keywords: dict[str, Any]) -> None:
    """What ``required`` means for the JSON a caller sends, beyond the key being present."""
    if _is_map(field):
        keywords["minProperties"] = 1
    elif _is_list(field):
        keywords["minItems"] = 1
    elif field.type in (_FD.TYPE_STRING, _FD.TYPE_BYTES) and not field.has_presence:
        keywords["minLength"] = 1


def _zero_value(field: _descriptor.FieldDescriptor) -> Any:
    if field.type in (_FD.TYPE_STRING, _FD.TYPE_BYTES):
        return ""
    if field.type == _FD.TYPE_BOOL:
        return False
    if field.type in (_FD.TYPE_DOUBLE, _FD.TYPE_FLOAT, _FD.TYPE_INT32, _FD.TYPE_SINT32, _FD.TYPE_SFIXED32,
                      _FD.TYPE_UINT32, _FD.TYPE_FIXED32, _FD.TYPE_INT64, _FD.TYPE_SINT64, _FD.TYPE_SFIXED64,
                      _FD.TYPE_UINT64, _FD.TYPE_FIXED64):
        return 0
    return None


def _set(typed: Any) -> dict[str, Any]:
    return {descriptor.name: value for descriptor, value in typed.ListFields() if descriptor.name != "example"}


def _scalar_rules(
    which: str, typed: Any, field: _descriptor.FieldDescriptor, keywords: dict[str, Any], notes: list[str]
) -> None:
    values = _set(typed)
    if which in _NUMERIC:
        _numeric(values, keywords, notes)
    elif which == "string":
        _string(values, keywords, notes)
    elif which == "bytes":
        for name, value in values.items():
            notes.append(f"bytes rule {name} = {_show(value)}")
    elif which == "bool":
        if "const" in values:
            keywords["const"] = values["const"]
    elif which == "enum":
        _enum(values, field, keywords)
    else:  # any, duration, timestamp, field_mask: described, not expressible on their JSON string forms
        for name, value in values.items():
            notes.append(f"{which} rule {name} = {_show(value)}")


def _numeric(values: dict[str, Any], keywords: dict[str, Any], notes: list[str]) -> None:
    lower = values.get("gt", values.get("gte"))
    upper = values.get("lt", values.get("lte"))
    if lower is not None and upper is not None and lower > upper:  # protovalidate: outside the range (upper, lower)
        notes.append(
            f"must be {'<' if 'lt' in values else '<='} {upper} or {'>' if 'gt' in values else '>='} {lower}"
        )
        keywords["anyOf"] = [
            {"exclusiveMaximum" if "lt" in values else "maximum": upper},
            {"exclusiveMinimum" if "gt" in values else "minimum": lower},
        ]
    else:
        for name, keyword in (("gt", "exclusiveMinimum"), ("gte", "minimum"), ("lt", "exclusiveMaximum"),
                              ("lte", "maximum")):
            if name in values:
                keywords[keyword] = values[name]
    if "const" in values:
        keywords["const"] = values["const"]
    if "in" in values:
        keywords["enum"] = list(values["in"])
    if "not_in" in values:
        keywords["not"] = {"enum": list(values["not_in"])}
    if values.get("finite"):
        notes.append("must be finite (not NaN or infinity)")


def _string(values: dict[str, Any], keywords: dict[str, Any], notes: list[str]) -> None:
    direct = {"const": "const", "min_len": "minLength", "max_len": "maxLength", "pattern": "pattern"}
    for name, keyword in direct.items():
        if name in values:
            keywords[keyword] = values[name]
    if "len" in values:
        keywords["minLength"] = keywords["maxLength"] = values["len"]
    if "in" in values:
        keywords["enum"] = list(values["in"])
    if "not_in" in values:
        keywords["not"] = {"enum": list(values["not_in"])}
    for name, keyword in _FORMATS.items():
        if values.get(name):
            keywords["format"] = keyword
    described = {
        "len_bytes": "must be exactly {} bytes (UTF-8)", "min_bytes": "must be at least {} bytes (UTF-8)",
        "max_bytes": "must be at most {} bytes (UTF-8)", "prefix": "must start with {}", "suffix": "must end with {}",
        "contains": "must contain {}", "not_contains": "must not contain {}",
    }
    for name, text in described.items():
        if name in values:
            notes.append(text.format(_show(values[name])))
    for name in ("ip", "address", "tuuid", "ip_with_prefixlen", "ipv4_with_prefixlen", "ipv6_with_prefixlen",
                 "ip_prefix", "ipv4_prefix", "ipv6_prefix", "host_and_port", "ulid", "protobuf_fqn",
                 "protobuf_dot_fqn"):
        if values.get(name):
            notes.append(f"must be {'a' if name[0] not in 'aeiou' else 'an'} {name.replace('_', ' ')}")
    if "well_known_regex" in values:
        notes.append("must match a well-known HTTP header regex")


def _enum(values: dict[str, Any], field: _descriptor.FieldDescriptor, keywords: dict[str, Any]) -> None:
    # The type's schema already lists the defined names only, which is what defined_only asks for.
    names = [value.name for value in field.enum_type.values]
    numbers = {value.name: value.number for value in field.enum_type.values}
    if "const" in values:
        keywords["enum"] = [name for name in names if numbers[name] == values["const"]]
    if "in" in values:
        keywords["enum"] = [name for name in names if numbers[name] in set(values["in"])]
    if "not_in" in values:
        keywords["enum"] = [name for name in keywords.get("enum", names) if numbers[name] not in set(values["not_in"])]


def _repeated(typed: Any, field: _descriptor.FieldDescriptor, found: FieldConstraints) -> None:
    values = _set(typed)
    for name, keyword in (("min_items", "minItems"), ("max_items", "maxItems")):
        if name in values:
            found.keywords[keyword] = values[name]
    if values.get("unique"):
        found.keywords["uniqueItems"] = True
    if "items" in values:
        which = values["items"].WhichOneof("type")
        for rule in values["items"].cel:
            found.notes.append("each item " + _rule_note(rule))
        if which is not None:
            _scalar_rules(which, getattr(values["items"], which), field, found.items, found.notes)


def _map(typed: Any, field: _descriptor.FieldDescriptor, found: FieldConstraints) -> None:
    values = _set(typed)
    for name, keyword in (("min_pairs", "minProperties"), ("max_pairs", "maxProperties")):
        if name in values:
            found.keywords[keyword] = values[name]
    entry = field.message_type
    for part, target in (("keys", found.keys), ("values", found.values)):
        if part in values:
            which = values[part].WhichOneof("type")
            element = entry.fields_by_name["key" if part == "keys" else "value"]
            if which is not None:
                _scalar_rules(which, getattr(values[part], which), element, target, found.notes)


def _show(value: Any) -> str:
    if hasattr(value, "ListFields"):
        from google.protobuf import json_format

        return json_format.MessageToJson(value, indent=None)
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value))
    if isinstance(value, (list, tuple)) or type(value).__name__.endswith("Container"):
        return json.dumps(list(value), default=str)
    return json.dumps(value, default=str)
