"""Strict argument validation: what a strict ``Signature`` accepts is what its published JSON Schema describes.

The one documented coercion: a ``google.protobuf.Struct`` carries numbers as doubles, so an exactly integral
number is an integer (3.0 -> 3) and any other is not (3.5 is refused for an int).
"""

from __future__ import annotations

import datetime
import enum
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from mcp_grpc.server.context import Context
from mcp_grpc.server.schema import ArgumentError, Signature
from mcp_grpc.wire.structs import python_to_struct, struct_to_python


class Address(BaseModel):
    city: Annotated[str, Field(min_length=1)]
    zip: int


class Color(enum.Enum):
    RED = "red"


def tool(
    count: int,
    ratio: float = 0.5,
    flag: bool = False,
    mode: Literal["fast", "slow"] = "fast",
    note: str | None = None,
    limit: int | None = None,
    address: Address | None = None,
    sizes: list[int] | None = None,
    pair: tuple[int, int] | None = None,
    when: datetime.datetime | None = None,
    color: Color | None = None,
    ctx: Context | None = None,
) -> dict[str, Any]:
    return {}


STRICT = Signature.of(tool, context_type=Context, model_name="tool_arguments", strict=True)
LAX = Signature.of(tool, context_type=Context, model_name="tool_arguments")


def refused(arguments: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ArgumentError) as error:
        STRICT.validate(arguments)
    return error.value.fields


@pytest.mark.parametrize("arguments, field", [
    ({"count": True}, "count"),
    ({"count": False}, "count"),
    ({"count": "5"}, "count"),
    ({"count": 3.5}, "count"),
    ({"count": 1, "ratio": True}, "ratio"),
    ({"count": 1, "ratio": "0.5"}, "ratio"),
    ({"count": 1, "flag": 1}, "flag"),
    ({"count": 1, "flag": "true"}, "flag"),
    ({"count": 1, "mode": "FAST"}, "mode"),
    ({"count": 1, "note": 5}, "note"),
    ({"count": 1, "limit": "7"}, "limit"),
    ({"count": 1, "limit": True}, "limit"),
    ({"count": 1, "address": {"city": "Paris", "zip": "75001"}}, "address.zip"),
    ({"count": 1, "address": {"city": "Paris", "zip": True}}, "address.zip"),
    ({"count": 1, "sizes": [1, "2"]}, "sizes.1"),
    ({"count": 1, "sizes": [1, 2.5]}, "sizes.1"),
    ({"count": 1, "color": "blue"}, "color"),
    ({"count": 1, "when": "yesterday"}, "when"),
])
def test_a_value_the_schema_does_not_describe_is_refused_naming_its_field(arguments: dict[str, Any], field: str) -> None:
    assert field in refused(arguments)
    LAX.validate({"count": 1})  # the lax signature still validates plain input


def test_lax_mode_accepted_these_and_strict_mode_does_not() -> None:
    for value in (True, "5"):
        assert LAX.validate({"count": value})["count"] in (1, 5)
        assert refused({"count": value}) == ("count",)


def test_exactly_integral_numbers_are_integers() -> None:
    validated = STRICT.validate({"count": 3.0, "limit": 4.0, "sizes": [1.0, 2.0], "address": {"city": "c", "zip": 9.0},
                                 "pair": [1.0, 2.0]})
    assert validated["count"] == 3 and type(validated["count"]) is int
    assert validated["limit"] == 4 and validated["sizes"] == [1, 2] and validated["pair"] == (1, 2)
    assert validated["address"].zip == 9 and type(validated["address"].zip) is int


def test_numbers_for_a_float_stay_numbers() -> None:
    validated = STRICT.validate({"count": 1, "ratio": 2})
    assert validated["ratio"] == 2.0 and type(validated["ratio"]) is float
    assert STRICT.validate({"count": 1, "ratio": 0.25})["ratio"] == 0.25


def test_optional_literal_nested_and_json_string_types_are_accepted() -> None:
    validated = STRICT.validate({
        "count": 2, "mode": "slow", "note": None, "limit": None, "address": {"city": "Paris", "zip": 75001},
        "when": "2024-05-01T12:00:00Z", "color": "red",
    })
    assert validated["mode"] == "slow" and validated["note"] is None and validated["limit"] is None
    assert validated["address"] == Address(city="Paris", zip=75001)
    assert validated["when"] == datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.timezone.utc)
    assert validated["color"] is Color.RED
    assert "ctx" not in validated


def test_what_arrives_through_a_struct_validates_as_sent() -> None:
    sent = {"count": 7, "ratio": 1, "sizes": [1, 2, 3], "address": {"city": "c", "zip": 1}}
    struct = python_to_struct(sent)
    validated = STRICT.validate(struct_to_python(struct))
    assert validated["count"] == 7 and validated["sizes"] == [1, 2, 3] and validated["ratio"] == 1.0


def test_missing_extra_and_non_json_arguments_are_refused() -> None:
    assert refused({}) == ("count",)
    assert refused({"count": 1, "other": 1}) == ("other",)
    assert refused({"count": float("nan")}) == ("(arguments)",)
    assert refused({"count": object()}) == ("(arguments)",)
