"""google.protobuf.Struct <-> Python values, with integers restored.

Struct carries every number as a double, so a JSON integer arrives as ``3.0``. ``struct_to_python`` turns each
exactly integral double (within the 2**53 range where doubles are exact) back into ``int``; pydantic then accepts
it for ``int`` fields and still rejects ``1.5`` there.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from google.protobuf import struct_pb2

__all__ = ["non_finite_number", "python_to_struct", "python_to_value", "struct_to_python", "value_to_python"]

_EXACT_INT_LIMIT = float(2**53)


def _number(value: float) -> int | float:
    if value.is_integer() and -_EXACT_INT_LIMIT <= value <= _EXACT_INT_LIMIT:
        return int(value)
    return value


def value_to_python(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return value.string_value
    if kind == "number_value":
        return _number(value.number_value)
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return struct_to_python(value.struct_value)
    if kind == "list_value":
        return [value_to_python(item) for item in value.list_value.values]
    return None  # null_value or unset


def non_finite_number(value: Any, path: str = "") -> str | None:
    """Where ``value`` holds NaN or an infinity (``amount``, ``items.2``), or None. JSON has neither, but a Struct's
    double carries them: a server must refuse them as invalid input before they reach a handler or a policy."""
    found = _non_finite(value)
    if found is None:
        return None
    found.reverse()
    if path:
        found.insert(0, path)
    return ".".join(found) if found else "(arguments)"


_PLAIN = (str, int, bool, type(None))


def _non_finite(value: Any) -> list[str] | None:
    """The path to the first non-finite number in ``value``, innermost part first (built only when one is found:
    this runs on every call's arguments), or None."""
    if value.__class__ in _PLAIN:
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else []
    if value.__class__ is dict or isinstance(value, Mapping):  # dict first: typing.Mapping's check is slow
        for key, item in value.items():
            found = _non_finite(item)
            if found is not None:
                found.append(str(key))
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _non_finite(item)
            if found is not None:
                found.append(str(index))
                return found
    return None


def struct_to_python(struct: struct_pb2.Struct) -> dict[str, Any]:
    # Keys then lookups: a protobuf map's ``items()`` is the pure-Python ItemsView of collections.abc (a generator).
    fields = struct.fields
    return {key: value_to_python(fields[key]) for key in fields}


def python_to_struct(data: Mapping[str, Any], into: struct_pb2.Struct | None = None) -> struct_pb2.Struct:
    """Copy a JSON-compatible mapping into a Struct (ints become doubles; NaN/inf are refused by JSON, so here too)."""
    struct = into if into is not None else struct_pb2.Struct()
    for key, item in data.items():
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"{key}: {item!r} is not representable in JSON")
    struct.update(data)
    return struct


def python_to_value(data: Any, into: struct_pb2.Value | None = None) -> struct_pb2.Value:
    """Copy any JSON value into a Value (ints become doubles; NaN/inf are refused)."""
    where = non_finite_number(data)
    if where is not None:
        raise ValueError(f"{where or 'value'}: NaN and Infinity are not representable in JSON")
    holder = struct_pb2.Struct()
    holder.update({"value": data})
    value = into if into is not None else struct_pb2.Value()
    value.CopyFrom(holder.fields["value"])
    return value
