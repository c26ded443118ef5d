"""Registration-time pieces: schemas from type hints, argument validation, URI templates, Struct conversion."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal, Optional

from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

import pytest
from google.protobuf import struct_pb2
from pydantic import BaseModel, Field

from mcp_grpc.server import Context, McpApp
from mcp_grpc.server.schema import ArgumentError, Signature
from mcp_grpc.wire.structs import python_to_struct, struct_to_python
from mcp_grpc.server.uri_template import UriTemplate, UriTemplateError


class Point(BaseModel):
    x: int
    y: int = 0


class Totals(TypedDict):
    sum: float


@dataclasses.dataclass
class Pair:
    left: str
    right: str


def signature(fn):
    return Signature.of(fn, context_type=Context, model_name="t")


def test_input_schema_from_hints():
    def tool(
        name: Annotated[str, Field(description="Who.")],
        point: Point,
        mode: Literal["a", "b"] = "a",
        note: Optional[str] = None,
        ctx: Context = None,
    ) -> None: ...

    sig = signature(tool)
    schema = sig.input_schema
    assert schema["type"] == "object" and schema["required"] == ["name", "point"]
    assert schema["properties"]["name"]["description"] == "Who."
    assert schema["properties"]["mode"]["enum"] == ["a", "b"]
    assert schema["properties"]["note"]["anyOf"] == [{"type": "string"}, {"type": "null"}]
    assert schema["$defs"]["Point"]["required"] == ["x"]
    assert "ctx" not in schema["properties"] and sig.context_parameter == "ctx"
    assert sig.output.schema is None


@pytest.mark.parametrize(
    ("annotation", "wrapped", "value", "structured"),
    [
        (Point, False, Point(x=1), {"x": 1, "y": 0}),
        (Totals, False, {"sum": 2.5}, {"sum": 2.5}),
        (Pair, False, Pair("a", "b"), {"left": "a", "right": "b"}),
        (dict[str, int], False, {"a": 1}, {"a": 1}),
        (list[int], True, [1, 2], {"result": [1, 2]}),
        (bool, True, True, {"result": True}),
    ],
)
def test_output_shapes(annotation, wrapped, value, structured):
    def tool() -> annotation: ...  # type: ignore[valid-type]

    tool.__annotations__["return"] = annotation
    output = signature(tool).output
    assert output.wrap is wrapped
    assert output.structured(value) == structured
    assert output.schema["type"] == "object"


def test_integral_doubles_become_ints_and_fractions_are_refused():
    def tool(count: int, ratio: float) -> None: ...

    sig = signature(tool)
    arguments = struct_to_python(python_to_struct({"count": 3, "ratio": 2}))
    assert arguments == {"count": 3, "ratio": 2} and type(arguments["count"]) is int
    assert sig.validate(arguments) == {"count": 3, "ratio": 2.0}
    with pytest.raises(ArgumentError) as caught:
        sig.validate({"count": 1.5, "ratio": 1})
    assert caught.value.fields == ("count",)


def test_every_problem_is_named():
    def tool(a: int, b: str) -> None: ...

    with pytest.raises(ArgumentError) as caught:
        signature(tool).validate({"a": "x", "c": 1})
    assert set(caught.value.fields) == {"a", "b", "c"}
    assert "b: required argument is missing" in caught.value.message
    assert "c: unexpected argument" in caught.value.message


def test_struct_round_trip_keeps_large_and_fractional_numbers():
    data = {"big": 2.0**60, "frac": 0.25, "neg": -7, "nested": {"list": [1, "a", None, True]}}
    back = struct_to_python(python_to_struct(data))
    assert back["big"] == 2.0**60 and isinstance(back["big"], float)  # beyond 2**53: not exact, stays float
    assert back["frac"] == 0.25 and back["neg"] == -7
    assert back["nested"] == {"list": [1, "a", None, True]}
    assert struct_to_python(struct_pb2.Struct()) == {}


def test_non_finite_numbers_are_refused():
    with pytest.raises(ValueError, match="not representable"):
        python_to_struct({"x": float("nan")})


@pytest.mark.parametrize(
    ("template", "uri", "expected"),
    [
        ("files://{path}", "files://a.txt", {"path": "a.txt"}),
        ("files://{path}", "files://a/b.txt", None),
        ("files://{+path}", "files://a/b.txt", {"path": "a/b.txt"}),
        ("files://{path*}", "files://a/b.txt", {"path": "a/b.txt"}),
        ("users://{id}/posts/{post}", "users://7/posts/hello%20world", {"id": "7", "post": "hello world"}),
        ("users://{id}/posts/{post}", "users://7/posts/", None),
        ("users://{id}", "users://7?x=1", None),
    ],
)
def test_uri_templates(template, uri, expected):
    assert UriTemplate(template).match(uri) == expected


@pytest.mark.parametrize("template", ["plain://x", "a://{x}/{x}", "a://{x", "a://{x}}", "a://{x:3}"])
def test_malformed_uri_templates_are_refused(template):
    with pytest.raises(UriTemplateError):
        UriTemplate(template)


def test_registration_errors_are_precise():
    app = McpApp()

    @app.tool
    def bare() -> str:
        return "registered without parentheses"

    assert "bare" in app.tools
    with pytest.raises(ValueError, match="already registered"):
        app.tool(name="bare")(lambda: None)
    with pytest.raises(TypeError, match=r"variables \['name'\] but .* takes \['other'\]"):
        app.resource("x://{name}")(lambda other: other)
    with pytest.raises(TypeError, match="takes no arguments"):
        app.resource("x://fixed")(lambda other: other)
    with pytest.raises(TypeError, match=r"\*args"):
        app.tool()(lambda *args: None)
    with pytest.raises(ValueError, match="exactly one of"):
        app.completion(argument="a")


def test_unresolvable_hints_are_reported():
    def tool(point: "NotDefinedAnywhere") -> None: ...  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the type hint 'NotDefinedAnywhere'"):
        signature(tool)
