"""End to end over a real grpc.aio server: listing, calling, resources, prompts, completion and every bad input."""

from __future__ import annotations

import asyncio
import base64
import time

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc

from tests.support.servers import running


async def test_list_tools_publishes_schemas_and_annotations(server):
    async with AsyncClient(server.address) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
    assert {"echo", "add", "typed", "fails", "read_bucket"} <= set(tools)
    echo = tools["echo"]
    assert echo.description == "Say it back."
    assert echo.input_schema["required"] == ["text"]
    assert echo.input_schema["properties"]["text"]["description"] == "What to say back."
    assert echo.annotations["read_only"] is True
    typed = tools["typed"].input_schema
    assert typed["properties"]["mode"]["enum"] == ["fast", "slow"]
    assert typed["properties"]["count"]["type"] == "integer"
    assert "Inner" in typed["$defs"]
    assert tools["typed"].output_schema["properties"]["ratio"]["type"] == "number"
    assert tools["add"].output_schema == {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}


async def test_call_returns_text_and_structured_content(server, observed):
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("add", {"a": 2, "b": 40})
        typed = await client.call_tool(
            "typed", {"count": 3, "ratio": 0.5, "mode": "fast", "inner": {"label": "x"}}
        )
    assert not result.is_error
    assert result.structured == {"result": 42}
    assert result.text == "42"
    assert typed.structured == {"count": 3, "ratio": 0.5, "mode": "fast", "label": "x", "maybe": None}
    assert observed.calls == ["add", "typed"]


@pytest.mark.parametrize(
    ("arguments", "field", "phrase"),
    [
        ({"b": 1}, "a", "required argument is missing"),
        ({"a": 1.5, "b": 1}, "a", "fractional part"),
        ({"a": "one", "b": 1}, "a", "valid integer"),
        ({"a": 1, "b": 2, "c": 3}, "c", "unexpected argument"),
    ],
)
async def test_bad_arguments_are_tool_errors_naming_the_field(server, observed, arguments, field, phrase):
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("add", arguments)
    assert result.is_error
    assert f"{field}:" in result.text and phrase in result.text
    assert observed.calls == []  # the handler never ran


async def test_nested_and_literal_validation(server):
    async with AsyncClient(server.address) as client:
        bad_literal = await client.call_tool("typed", {"count": 1, "ratio": 1, "mode": "medium", "inner": {"label": "x"}})
        bad_nested = await client.call_tool("typed", {"count": 1, "ratio": 1, "mode": "fast", "inner": {"weight": 2}})
    assert bad_literal.is_error and "mode:" in bad_literal.text
    assert bad_nested.is_error and "inner.label: required argument is missing" in bad_nested.text


async def test_handler_exception_is_a_tool_error_with_its_message(server):
    async with AsyncClient(server.address) as client:
        result = await client.call_tool("fails")
        after = await client.call_tool("echo", {"text": "still alive"})
    assert result.is_error and result.text == "the disk is on fire"
    assert after.text == "still alive"


async def test_sync_handlers_do_not_block_the_event_loop(server):
    async with AsyncClient(server.address) as client:
        started = time.monotonic()
        slow = asyncio.ensure_future(client.call_tool("sleep_sync", {"seconds": 1.0}))
        await asyncio.sleep(0.1)
        quick = await client.call_tool("echo", {"text": "quick"})
        quick_done = time.monotonic() - started
        await slow
    assert quick.text == "quick"
    assert quick_done < 0.9  # answered while the sync handler still slept


@pytest.mark.parametrize(
    ("call", "status", "code", "message"),
    [
        (lambda c: c.call_tool("no_such_tool"), grpc.StatusCode.NOT_FOUND, -32602, "unknown tool 'no_such_tool'"),
        (lambda c: c.read_resource("nope://x"), grpc.StatusCode.NOT_FOUND, -32002, "unknown resource 'nope://x'"),
        (lambda c: c.read_resource("files://missing.txt"), grpc.StatusCode.NOT_FOUND, -32002, "not found"),
        (lambda c: c.read_resource("blobs://abc"), grpc.StatusCode.INVALID_ARGUMENT, -32602, "id:"),
        (lambda c: c.read_resource(""), grpc.StatusCode.INVALID_ARGUMENT, -32602, "uri: required"),
        (lambda c: c.get_prompt("nope"), grpc.StatusCode.NOT_FOUND, -32602, "unknown prompt 'nope'"),
        (lambda c: c.get_prompt("summarize", {}), grpc.StatusCode.INVALID_ARGUMENT, -32602, "topic: required"),
        (lambda c: c.get_prompt("summarize", {"topic": "x", "length": "many"}), grpc.StatusCode.INVALID_ARGUMENT, -32602, "length:"),
        (lambda c: c.complete("topic", "g", prompt="nope"), grpc.StatusCode.NOT_FOUND, -32602, "unknown prompt"),
    ],
)
async def test_protocol_errors_have_precise_status_code_and_message(server, call, status, code, message):
    async with AsyncClient(server.address) as client:
        with pytest.raises(McpCallError) as caught:
            await call(client)
    assert caught.value.status == status
    assert caught.value.mcp_code == code
    assert message in caught.value.message


async def test_unsupported_protocol_version_lists_supported_ones(server):
    async with AsyncClient(server.address, protocol_version="2024-11-05") as client:
        with pytest.raises(McpCallError) as caught:
            await client.list_tools()
    assert caught.value.status == grpc.StatusCode.UNIMPLEMENTED
    assert "'2024-11-05'" in caught.value.message and "2026-07-28" in caught.value.message


async def test_missing_protocol_version_is_accepted(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        response = await mcp_pb2_grpc.McpStub(channel).ListTools(pb.ListToolsRequest(), timeout=10)
    assert len(response.tools) > 0


async def _list_page(channel, cursor):
    request = pb.ListToolsRequest()
    if cursor is not None:
        request.common.metadata.fields["cursor"].CopyFrom(cursor)
    return await mcp_pb2_grpc.McpStub(channel).ListTools(request, timeout=10)


async def test_pagination_follows_opaque_cursors(app):
    async with running(app, page_size=2) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            first = await _list_page(channel, None)
            assert len(first.tools) == 2
            assert "nextCursor" in first.common.metadata.fields
            assert first.cache_scope == pb.CACHE_SCOPE_PUBLIC
        async with AsyncClient(server.address) as client:
            names = [tool.name for tool in await client.list_tools()]
    assert names == list(app.tools)  # every tool exactly once, in registration order


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64!",
        base64.urlsafe_b64encode(b"prompts:2").decode(),  # a cursor of another list
        base64.urlsafe_b64encode(b"tools:-1").decode(),
        base64.urlsafe_b64encode(b"tools:x").decode(),
    ],
)
async def test_bad_cursor_is_invalid_argument(server, cursor):
    from google.protobuf import struct_pb2

    async with grpc.aio.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list_page(channel, struct_pb2.Value(string_value=cursor))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "invalid cursor" in caught.value.details()
    assert ("mcp-error-code", "-32602") in tuple(caught.value.trailing_metadata())


async def test_non_string_cursor_is_invalid_argument(server):
    from google.protobuf import struct_pb2

    async with grpc.aio.insecure_channel(server.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await _list_page(channel, struct_pb2.Value(number_value=3))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "must be a string" in caught.value.details()


async def test_list_ttl_is_published(app):
    import datetime

    async with running(app, list_ttl=datetime.timedelta(seconds=90)) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            response = await _list_page(channel, None)
    assert response.ttl.seconds == 90


async def test_resources_templates_prompts_and_completion(server):
    async with AsyncClient(server.address) as client:
        resources = await client.list_resources()
        templates = await client.list_resource_templates()
        config = await client.read_resource("config://app")
        nested = await client.read_resource("files://docs/guide/intro.md")
        blob = await client.read_resource("blobs://7")
        prompts = await client.list_prompts()
        prompt = await client.get_prompt("summarize", {"topic": "gRPC", "length": "2"})
        completion = await client.complete("topic", "gr", prompt="summarize")
        no_handler = await client.complete("length", "1", prompt="summarize")
    assert [r.uri for r in resources] == ["config://app"]
    assert {t.uri for t in templates} == {"files://{+path}", "blobs://{id}"}
    assert config[0].text == '{"version": 3}' and config[0].mime_type == "application/json"
    assert nested[0].text == "content of docs/guide/intro.md"
    assert blob[0].blob == b"\x07\x07\x07" and blob[0].text is None
    assert prompts[0].arguments == [
        {"name": "topic", "description": "The topic.", "required": True},
        {"name": "length", "description": "", "required": False},
    ]
    assert prompt.messages == [("user", "Summarize gRPC in 2 sentences.")]
    assert completion.values == ["grpc", "graphql"] and completion.total == 2 and not completion.has_more
    assert no_handler.values == []


async def test_unix_socket(app, tmp_path):
    socket = tmp_path / "mcp.sock"
    async with running(app, uds=str(socket)) as server:
        assert server.address == f"unix:{socket}"
        async with AsyncClient(server.address) as client:
            result = await client.call_tool("echo", {"text": "over uds"})
    assert result.text == "over uds"


async def test_an_unsendable_result_is_a_tool_error(app, server):
    @app.tool()
    def not_a_number() -> float:
        return float("nan")

    async with AsyncClient(server.address) as client:
        result = await client.call_tool("not_a_number")
        after = await client.call_tool("echo", {"text": "fine"})
    assert result.is_error and "cannot be sent" in result.text and "not representable" in result.text
    assert after.text == "fine"
