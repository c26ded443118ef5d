"""JSON Schema of protobuf messages: what a proto-first tool publishes as its input and output schemas.

Field comments become property descriptions; 64-bit integers accept numbers or strings, as proto JSON does. The
fields' ``buf.validate`` rules and ``google.api.field_behavior`` become JSON Schema keywords and ``required``, or
description notes where JSON Schema has no keyword for them (``constraints``).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from google.protobuf import descriptor as _descriptor

from mcp_grpc.server.proto_first.constraints import field_constraints, message_notes
from mcp_grpc.wire import leading_comments

__all__ = ["message_schema", "snake_case"]

_FD = _descriptor.FieldDescriptor
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

_SCALARS: dict[int, dict[str, Any]] = {
    _FD.TYPE_DOUBLE: {"type": "number"},
    _FD.TYPE_FLOAT: {"type": "number"},
    _FD.TYPE_INT32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_SINT32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_SFIXED32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_UINT32: {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    _FD.TYPE_FIXED32: {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    # 64-bit integers: proto JSON writes them as strings, and accepts numbers or strings.
    _FD.TYPE_INT64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_SINT64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_SFIXED64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_UINT64: {"type": ["integer", "string"], "format": "uint64"},
    _FD.TYPE_FIXED64: {"type": ["integer", "string"], "format": "uint64"},
    _FD.TYPE_BOOL: {"type": "boolean"},
    _FD.TYPE_STRING: {"type": "string"},
    _FD.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object", "properties": {}},
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.FloatValue": {"type": ["number", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"]},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"]},
    "google.protobuf.Int64Value": {"type": ["integer", "string", "null"]},
    "google.protobuf.UInt64Value": {"type": ["integer", "string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"]},
}


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def message_schema(message: _descriptor.Descriptor, required: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON Schema of a message in proto JSON form with the .proto field names; comments become descriptions."""
    return _message_schema(message, set(), list(required))


def _message_schema(message: _descriptor.Descriptor, seen: set[str], required: list[str]) -> dict[str, Any]:
    if message.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[message.full_name])
    if message.full_name in seen:  # recursive message: stop describing, still an object
        return {"type": "object"}
    seen = seen | {message.full_name}
    properties: dict[str, Any] = {}
    required = list(required)
    for field in message.fields:
        constraints = field_constraints(field)
        schema = constraints.apply(_field_schema(field, seen))
        if constraints.required:
            required.append(field.name)
        description = _describe(leading_comments(field), constraints.notes)
        if description:
            schema["description"] = description
        properties[field.name] = schema
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    description = _describe(leading_comments(message), message_notes(message))
    if description:
        schema["description"] = description
    if required:
        schema["required"] = sorted(set(required))
    return schema


def _describe(comment: str, notes: list[str]) -> str:
    """The proto comment, then the rules the schema's keywords cannot say."""
    if not notes:
        return comment
    rules = "Rules: " + "; ".join(notes) + "."
    return f"{comment}\n{rules}" if comment else rules


def _single_schema(field: _FD, seen: set[str]) -> dict[str, Any]:
    if field.type == _FD.TYPE_MESSAGE:
        return _message_schema(field.message_type, seen, [])
    if field.type == _FD.TYPE_ENUM:
        return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
    return dict(_SCALARS[field.type])


def _field_schema(field: _FD, seen: set[str]) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single_schema(value_field, seen)}
    if field.is_repeated if hasattr(field, "is_repeated") else field.label == _FD.LABEL_REPEATED:
        return {"type": "array", "items": _single_schema(field, seen)}
    return _single_schema(field, seen)


