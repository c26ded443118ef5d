"""Bad input over the wire, property-based: random JSON arguments against typed tools, and random or mangled
protobuf bytes sent to every method of Mcp, McpStreaming and a proto-first service. Never a crash, a hang or an
imprecise error; the server keeps answering afterwards.

The server runs in --insecure-local mode on 127.0.0.1 (identity and authorization have their own suites; here the
input is the subject). It runs on its own event loop thread so that hypothesis drives plain blocking calls.
"""

from __future__ import annotations

import math

from typing import Annotated, Any, Iterator, Literal

import grpc
import pytest

from mcp_grpc.wire.structs import non_finite_number
from google.protobuf import message as protobuf_message
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

from examples.proto_tools.gen import storage_pb2
from examples.proto_tools.server import StorageService
from mcp_grpc import wire
from mcp_grpc.server import McpApp
from mcp_grpc.server.runtime import Server, ServerConfig
from mcp_grpc.server.schema import ArgumentError
from mcp_grpc.wire.structs import python_to_struct, struct_to_python
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2, streaming_pb2
from tests.support.servers import on_own_loop

# The symptom of the bug in test_a_sync_proto_first_method_can_abort_a_typed_call, raised whenever the fuzzer sends
# PutObject an empty key; the xfail test below tracks it.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine '_ServicerContext.abort' was never awaited:RuntimeWarning")
CALL_TIMEOUT = 10.0  # a call that takes this long counts as a hang
EXAMPLES = [pytest.param(30, id="short"), pytest.param(300, id="long", marks=pytest.mark.reliability)]
VERSION = [(wire.PROTOCOL_VERSION_METADATA_KEY, wire.LATEST_PROTOCOL_VERSION)]
# Statuses that say precisely what was wrong with a request the server could read (UNKNOWN and INTERNAL never do;
# DEADLINE_EXCEEDED would be a hang).
PRECISE = {
    grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.ALREADY_EXISTS,
}


class Address(BaseModel):
    city: Annotated[str, Field(min_length=1)]
    zip: Annotated[str, Field(pattern=r"^[0-9]{5}$")]


def bad_input_app() -> McpApp:
    app = McpApp("bad-input")

    @app.tool
    def typed(
        count: int,
        ratio: float,
        name: Annotated[str, Field(min_length=1, max_length=20)],
        flag: bool,
        tags: list[str],
        mode: Literal["fast", "slow"],
        address: Address,
        limit: Annotated[int, Field(ge=0, le=100)] = 10,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Every common argument type; echoes what it was given."""
        return {"count": count, "name": name, "tags": tags, "mode": mode, "city": address.city, "limit": limit}

    @app.tool
    def scalar(value: int) -> int:
        return value

    @app.resource("docs://{name}")
    def doc(name: str) -> str:
        return f"doc {name}"

    @app.prompt
    def greet(who: str) -> str:
        return f"hello {who}"

    app.add_proto_service(StorageService(), storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    return app


APP = bad_input_app()
TYPED_PARAMS = ("count", "ratio", "name", "flag", "tags", "mode", "address", "limit", "note")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Server, grpc.Channel]]:
    with on_own_loop(APP, ServerConfig(port=0, insecure_local=True, handle_signals=False), "bad-input-server") as got:
        yield got


def still_serving(channel: grpc.Channel) -> None:
    reply = channel.unary_unary(f"/{mcp_pb2.DESCRIPTOR.services_by_name['Mcp'].full_name}/ListTools")(
        pb.ListToolsRequest().SerializeToString(), timeout=CALL_TIMEOUT, metadata=VERSION
    )
    names = {tool.name for tool in pb.ListToolsResponse.FromString(reply).tools}
    assert {"typed", "scalar", "put_object"} <= names


# -- tool arguments ----------------------------------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=25) | st.sampled_from(["fast", "slow", "12345", "", "Paris"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["city", "zip", "x"]) | st.text(max_size=6), children, max_size=4),
    max_leaves=10,
)
_GOOD = {"count": 3, "ratio": 0.5, "name": "n", "flag": True, "tags": ["a"], "mode": "fast",
         "address": {"city": "Paris", "zip": "75001"}}


@st.composite
def typed_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-right arguments with some fields dropped, replaced by random JSON, or added under random names."""
    arguments = dict(_GOOD)
    for name in draw(st.lists(st.sampled_from(TYPED_PARAMS), max_size=4, unique=True)):
        if draw(st.booleans()):
            arguments[name] = draw(_JSON)
        else:
            arguments.pop(name, None)
    if draw(st.integers(0, 3)) == 0:
        arguments[draw(st.text(max_size=8))] = draw(_JSON)
    return arguments


def call_tool(channel: grpc.Channel, name: str, arguments: dict[str, Any]) -> pb.CallToolResponse:
    request = pb.CallToolRequest()
    request.request.name = name
    python_to_struct(arguments, request.request.arguments)
    reply = channel.unary_unary("/model_context_protocol.Mcp/CallTool")(
        request.SerializeToString(), timeout=CALL_TIMEOUT, metadata=VERSION
    )
    return pb.CallToolResponse.FromString(reply)


def as_sent(arguments: dict[str, Any]) -> dict[str, Any]:
    """What the server receives: the arguments after a trip through google.protobuf.Struct (numbers are doubles)."""
    struct = pb.CallToolRequest().request.arguments
    python_to_struct(arguments, struct)
    return struct_to_python(struct)


@pytest.mark.parametrize("examples", EXAMPLES)
def test_random_arguments_are_a_tool_error_naming_the_field_or_a_success(examples: int, served) -> None:
    _, channel = served
    tool = APP.tools["typed"]
    outcomes = {"success": 0, "tool error": 0}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(arguments=typed_arguments())
    def check(arguments: dict[str, Any]) -> None:
        try:
            sent = as_sent(arguments)
        except (ValueError, TypeError, OverflowError):  # not representable in a Struct: nothing to send
            return
        response = call_tool(channel, "typed", arguments)
        text = "\n".join(item.text.text for item in response.content if item.HasField("text"))
        # The server refuses NaN and Infinity before the schema and names the first it meets in the Struct, whose
        # field order is not the order sent: any argument holding one is a right answer.
        non_finite = tuple(key for key, value in sent.items() if non_finite_number(value, key) is not None)
        try:
            tool.validate(sent)
            expected_fields: tuple[str, ...] | None = None
        except ArgumentError as exc:
            expected_fields = exc.fields
        if non_finite:
            expected_fields = non_finite
        if response.is_error:
            outcomes["tool error"] += 1
            assert expected_fields is not None, f"valid arguments refused: {text}"
            top = {field.split(".")[0] for field in expected_fields}
            assert any(name in text for name in top), f"the error names no offending field: {text!r} ({top})"
        else:
            outcomes["success"] += 1
            assert expected_fields is None, f"invalid arguments accepted ({expected_fields}): {sent}"
            assert struct_to_python(response.structured_content)["count"] == sent["count"]

    check()
    still_serving(channel)
    print(f"\ntool arguments[{examples}]: {outcomes}")
    assert outcomes["tool error"] > 0


@pytest.mark.parametrize("examples", EXAMPLES)
def test_random_scalars_and_nesting_for_an_int_argument(examples: int, served) -> None:
    _, channel = served
    accepted: set[str] = set()

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(value=_JSON)
    def check(value: Any) -> None:
        try:
            sent = as_sent({"value": value})["value"]
        except (ValueError, TypeError, OverflowError):
            return
        response = call_tool(channel, "scalar", {"value": value})
        text = "\n".join(item.text.text for item in response.content if item.HasField("text"))
        expected = _strict_int(sent)  # the published schema's semantics, with Struct's doubles read back as ints
        if response.is_error:
            assert expected is None and "value" in text, (sent, text)
        else:
            assert expected is not None, f"{sent!r} accepted for an int"
            assert struct_to_python(response.structured_content) == {"result": expected}
            accepted.add(type(sent).__name__)

    check()
    still_serving(channel)
    print(f"\nint argument[{examples}]: accepted from {sorted(accepted) or 'nothing'}")


def _strict_int(sent: Any) -> int | None:
    """An int argument accepts JSON integers only: a double with no fractional part (how Struct carries every
    number), never a boolean, a string or 1.5."""
    if isinstance(sent, bool):
        return None
    if isinstance(sent, int):
        return sent
    if isinstance(sent, float) and math.isfinite(sent) and sent.is_integer() and abs(sent) <= 2**53:
        return int(sent)  # beyond 2**53 a double no longer holds every integer: refused as not exact
    return None


# -- raw protobuf bytes to every method --------------------------------------------------------------------------

def every_method() -> list[tuple[str, Descriptor, bool]]:
    """(path, request descriptor, server streaming) for Mcp, McpStreaming and the proto-first StorageService."""
    services = [
        mcp_pb2.DESCRIPTOR.services_by_name["Mcp"],
        streaming_pb2.DESCRIPTOR.services_by_name["McpStreaming"],
        storage_pb2.DESCRIPTOR.services_by_name["StorageService"],
    ]
    return [(f"/{s.full_name}/{m.name}", m.input_type, m.server_streaming) for s in services for m in s.methods]


METHODS = every_method()
_NAMES = st.sampled_from(["typed", "scalar", "list_objects", "put_object", "docs://a", "docs://{name}", "greet",
                          "storage://docs/index", "docs", "readme.md", "name", "", "\x00", "../" * 5])
_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1), FieldDescriptor.TYPE_ENUM: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1), FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1), FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        return _NAMES | st.text(max_size=30)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=30)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_DOUBLE:
        return st.floats()
    if field.type == FieldDescriptor.TYPE_FLOAT:
        return st.floats(width=32)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values]) | st.integers(*_INT_RANGES[field.type])
    low, high = _INT_RANGES[field.type]
    return st.sampled_from([0, 1, -1, low, high]).filter(lambda v: low <= v <= high) | st.integers(low, high)


@st.composite
def messages(draw: st.DrawFn, descriptor: Descriptor, depth: int = 0) -> protobuf_message.Message:
    """A message of ``descriptor`` with a random subset of its fields set to random values (nested up to 3 deep)."""
    message = message_factory.GetMessageClass(descriptor)()
    for field in descriptor.fields:
        if not draw(st.booleans()):
            continue
        is_message = field.type == FieldDescriptor.TYPE_MESSAGE
        if is_message and depth >= 3:
            continue
        try:
            if is_message and field.message_type.GetOptions().map_entry:
                entry = field.message_type.fields_by_name
                key_field, value_field = entry["key"], entry["value"]
                target = getattr(message, field.name)
                for _ in range(draw(st.integers(0, 2))):
                    key = draw(_scalar(key_field))
                    if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                        target[key].CopyFrom(draw(messages(value_field.message_type, depth + 1)))
                    else:
                        target[key] = draw(_scalar(value_field))
            elif field.is_repeated:
                target = getattr(message, field.name)
                for _ in range(draw(st.integers(0, 2))):
                    if is_message:
                        target.add().CopyFrom(draw(messages(field.message_type, depth + 1)))
                    else:
                        target.append(draw(_scalar(field)))
            elif is_message:
                getattr(message, field.name).CopyFrom(draw(messages(field.message_type, depth + 1)))
            else:
                setattr(message, field.name, draw(_scalar(field)))
        except (ValueError, TypeError):  # a value this field cannot hold (e.g. a float32 overflow): leave it unset
            continue
    return message


@st.composite
def request_bytes(draw: st.DrawFn, descriptor: Descriptor) -> bytes:
    """A random message of the right type, often mangled (bytes flipped, cut or appended), or pure noise."""
    kind = draw(st.sampled_from(["message", "message", "mangled", "noise"]))
    if kind == "noise":
        return draw(st.binary(max_size=64))
    data = bytearray(draw(messages(descriptor)).SerializeToString())
    if kind == "mangled" and data:
        for _ in range(draw(st.integers(1, 3))):
            action = draw(st.sampled_from(["flip", "cut", "append"]))
            if action == "flip" and data:
                data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
            elif action == "cut" and data:
                del data[draw(st.integers(0, len(data) - 1)):]
            else:
                data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


def send(channel: grpc.Channel, path: str, streaming: bool, data: bytes) -> tuple[grpc.StatusCode, str]:
    """Send raw bytes (no serializer) and return the final status; a stream is read for its first frame only."""
    try:
        if not streaming:
            channel.unary_unary(path)(data, timeout=CALL_TIMEOUT, metadata=VERSION)
            return grpc.StatusCode.OK, ""
        call = channel.unary_stream(path)(data, timeout=CALL_TIMEOUT, metadata=VERSION)
        try:
            for _ in call:
                break  # Listen stays open by design: one frame shows the request was understood
        finally:
            call.cancel()
        return grpc.StatusCode.OK, ""
    except grpc.RpcError as exc:
        return exc.code(), exc.details() or ""


def decodes(descriptor: Descriptor, data: bytes) -> bool:
    try:
        message_factory.GetMessageClass(descriptor).FromString(data)
        return True
    except protobuf_message.DecodeError:
        return False


@pytest.mark.parametrize("examples", EXAMPLES)
@pytest.mark.parametrize("path,descriptor,streaming", METHODS, ids=[m[0].rsplit(".", 1)[-1] for m in METHODS])
def test_random_request_bytes_get_a_precise_status(examples: int, path: str, descriptor: Descriptor,
                                                   streaming: bool, served) -> None:
    _, channel = served
    seen: dict[str, int] = {}

    @settings(max_examples=max(10, examples // 3), deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=request_bytes(descriptor))
    def check(data: bytes) -> None:
        code, details = send(channel, path, streaming, data)
        seen[code.name] = seen.get(code.name, 0) + 1
        if decodes(descriptor, data):
            assert code in PRECISE, f"{path} answered {code.name}: {details!r} for {data!r}"
        else:
            # Undecodable bytes: grpcio answers UNKNOWN before our code runs (see the xfail test below).
            assert code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.UNKNOWN), (code, details)
            assert code is grpc.StatusCode.INVALID_ARGUMENT or "DecodeError" in details, details

    check()
    still_serving(channel)
    assert seen, "no request was sent"


@pytest.mark.parametrize("path", ["/model_context_protocol.Mcp/CallTool", "/mcp_grpc.v1.McpStreaming/Listen",
                                  "/acme.storage.v1.StorageService/GetObject"])
def test_undecodable_request_bytes_are_invalid_argument(path: str, served) -> None:
    _, channel = served
    code, details = send(channel, path, path.endswith("Listen"), b"\xff\xff\xff")
    assert code is grpc.StatusCode.INVALID_ARGUMENT, (code, details)
    still_serving(channel)


def test_a_sync_proto_first_method_can_abort_a_typed_call(served) -> None:
    _, channel = served
    request = storage_pb2.PutObjectRequest(bucket="fuzz", key="folder/", content="x")  # an empty key: the proto's rule
    code, details = send(channel, "/acme.storage.v1.StorageService/PutObject", False, request.SerializeToString())
    assert (code, details) == (grpc.StatusCode.INVALID_ARGUMENT, "a key ending in '/' names a folder, not an object")
