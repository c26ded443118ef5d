"""The conformance example's tools, resources and prompts over a real gRPC server (no Node: `make conformance` runs the
suite itself). The texts and payloads are the ones the official suite checks."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from examples.conformance import server as example
from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import Server, ServerConfig
from tools import conformance as runner

PNG_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="


@pytest.fixture
async def client():
    server = Server(example.app, ServerConfig(port=0, insecure_local=True, handle_signals=False))
    await server.start()
    try:
        async with AsyncClient(server.address, timeout=10) as connected:
            yield connected
    finally:
        await server.stop(0)


async def test_content_tools_answer_what_the_suite_compares(client):
    text = await client.call_tool("test_simple_text", {})
    assert (text.text, text.is_error) == ("This is a simple text response for testing.", False)

    image = (await client.call_tool("test_image_content", {})).raw.content
    assert [block.image.mime_type for block in image] == ["image/png"]
    assert base64.b64encode(image[0].image.data).decode() == PNG_B64

    audio = (await client.call_tool("test_audio_content", {})).raw.content[0].audio
    assert audio.mime_type == "audio/wav" and audio.data.startswith(b"RIFF")

    embedded = (await client.call_tool("test_embedded_resource", {})).raw.content[0].embedded_resource.contents
    assert (embedded.uri, embedded.text) == ("test://embedded-resource", "This is an embedded resource content.")

    mixed = (await client.call_tool("test_multiple_content_types", {})).raw.content
    assert [block.ListFields()[0][0].name for block in mixed] == ["text", "image", "embedded_resource"]
    assert json.loads(mixed[2].embedded_resource.contents.text) == {"test": "data", "value": 123}

    error = await client.call_tool("test_error_handling", {})
    assert (error.is_error, error.text) == (True, "This tool intentionally returns an error for testing")


async def test_progress_tool_reports_three_increasing_steps(client):
    seen = []
    await client.call_tool("test_tool_with_progress", {}, progress=lambda update: seen.append(update.progress))
    assert seen == [0.0, 50.0, 100.0]


async def test_logging_tool_sends_the_suites_three_info_messages(client):
    seen = []
    await client.call_tool("test_tool_with_logging", {}, on_log=seen.append)
    assert [(entry.level, entry.data) for entry in seen] == [
        ("info", "Tool execution started"), ("info", "Tool processing data"), ("info", "Tool execution completed"),
    ]


async def test_json_schema_2020_12_tool_publishes_the_suites_schema_verbatim_and_still_validates(client):
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert tools["json_schema_2020_12_tool"].input_schema == example.JSON_SCHEMA_2020_12
    called = await client.call_tool("json_schema_2020_12_tool", {"name": "Ada", "address": {"city": "London"}})
    assert called.text == 'JSON Schema 2020-12 tool called with: {"name": "Ada", "address": {"city": "London"}}'
    refused = await client.call_tool("json_schema_2020_12_tool", {"nickname": "x"})
    assert refused.is_error and "nickname" in refused.text


async def test_custom_header_tool_declares_its_header(client):
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert tools["test_custom_header"].input_schema["properties"]["region"]["x-mcp-header"] == "Region"
    assert (await client.call_tool("test_custom_header", {"region": "eu"})).text == "region: eu"


async def test_resources_and_template(client):
    text = await client.read_resource("test://static-text")
    assert (text[0].text, text[0].mime_type) == ("This is the content of the static text resource.", "text/plain")
    binary = await client.read_resource("test://static-binary")
    assert base64.b64encode(binary[0].blob).decode() == PNG_B64 and binary[0].mime_type == "image/png"
    templated = await client.read_resource("test://template/42/data")
    assert templated[0].uri == "test://template/42/data"
    assert json.loads(templated[0].text) == {"id": "42", "templateTest": True, "data": "Data for ID: 42"}
    with pytest.raises(McpCallError):
        await client.read_resource("test://nonexistent-resource-for-conformance-testing")


async def test_prompts(client):
    assert (await client.get_prompt("test_simple_prompt", {})).messages == [
        ("user", "This is a simple prompt for testing.")]
    assert (await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})).messages == [
        ("user", "Prompt with arguments: arg1='a', arg2='b'")]
    embedded = await client.get_prompt("test_prompt_with_embedded_resource", {"resourceUri": "test://x"})
    assert embedded.raw.messages[0].embedded_resource.contents.uri == "test://x"
    image = await client.get_prompt("test_prompt_with_image", {})
    assert image.raw.messages[0].image.mime_type == "image/png"
    completion = await client.complete("arg1", "tes", prompt="test_prompt_with_arguments")
    assert completion.values == ["test", "testing", "tested"]


async def test_triggers_add_and_remove_a_tool_and_a_prompt_announcing_each_change(client):
    events = client.listen(tools=True, prompts=True, resources=False)
    assert await asyncio.wait_for(anext(events), 10) == ("acknowledged", None)
    try:
        await client.call_tool("test_trigger_tool_change", {})
        assert "test_dynamic_tool" in [tool.name for tool in await client.list_tools()]
        await client.call_tool("test_trigger_prompt_change", {})
        assert "test_dynamic_prompt" in [prompt.name for prompt in await client.list_prompts()]
        await client.call_tool("test_trigger_tool_change", {})
        await client.call_tool("test_trigger_prompt_change", {})
        received = [await asyncio.wait_for(anext(events), 10) for _ in range(4)]
    finally:
        await events.aclose()
    assert received == [("tools/list_changed", None), ("prompts/list_changed", None)] * 2
    assert "test_dynamic_tool" not in [tool.name for tool in await client.list_tools()]
    assert "test_dynamic_prompt" not in [prompt.name for prompt in await client.list_prompts()]


def test_the_baseline_is_short_and_says_why(tmp_path):
    runner.check_baseline(runner.BASELINE)
    unexplained = tmp_path / "baseline.yml"
    unexplained.write_text("server:\n  - tools-call-with-logging\n")
    with pytest.raises(SystemExit, match="no comment"):
        runner.check_baseline(unexplained)
    too_long = tmp_path / "long.yml"
    too_long.write_text("server:\n" + "".join(f"  # why\n  - s{i}\n" for i in range(4)))
    with pytest.raises(SystemExit, match="at most 3"):
        runner.check_baseline(too_long)
