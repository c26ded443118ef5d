"""``mount_official``: an official-SDK server served through mcp-grpc, called over real gRPC with mcp_grpc.client."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import grpc
import pytest

from mcp.server.mcpserver import Context as SdkContext

from mcp_grpc.contract import Check
from mcp_grpc.bridge import MountError, mount_official
from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import McpApp
from mcp_grpc.contract import TargetKind
from tests.bridge.bridge_support import DenyOneAuthorizer, SdkCalls, build_sdk_server
from tests.support.servers import running


@pytest.fixture
def sdk_calls() -> SdkCalls:
    return SdkCalls()


@pytest.fixture
def mounted_app(sdk_calls: SdkCalls) -> McpApp:
    app = McpApp("mounted")
    mount_official(app, build_sdk_server(sdk_calls), authorize={"divide": [Check("can_divide", "calculator:main")]})
    return app


@pytest.fixture
async def client(mounted_app: McpApp, authorizer: DenyOneAuthorizer) -> AsyncIterator[AsyncClient]:
    async with running(mounted_app, authorizer) as server:
        async with AsyncClient(server.address, timeout=10) as connected:
            yield connected


def test_mount_reports_what_it_registered_and_what_it_skipped(sdk_calls: SdkCalls):
    app = McpApp("mounted")
    mounted = mount_official(app, build_sdk_server(sdk_calls))
    assert mounted.tools == ("divide", "crash", "slow_count", "announce", "ask", "read_config")
    assert mounted.resources == ("data://config", "data://logo")
    assert mounted.resource_templates == ("data://users/{user_id}/profile", "search://items{?q}")
    assert mounted.prompts == ("greeting", "dialogue")
    assert ("prompt", "greeting", "tone") in mounted.completions
    assert ("resource", "data://users/{user_id}/profile", "user_id") in mounted.completions
    (skipped,) = mounted.skipped
    assert skipped.kind == "resource_template" and skipped.name == "odd://{id}}"
    assert skipped.reason == "bad URI template 'odd://{id}}': '}' at position 10 closes no expression"
    assert set(app.tools) == set(mounted.tools) and set(app.prompts) == set(mounted.prompts)


async def test_tools_keep_the_sdk_metadata(client: AsyncClient, sdk_calls: SdkCalls):
    sdk_tools = {tool.name: tool for tool in await build_sdk_server(sdk_calls).list_tools()}
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == set(sdk_tools)
    divide = tools["divide"]
    assert divide.title == "Divide" and divide.description == "Divide a by b."
    assert divide.input_schema == sdk_tools["divide"].input_schema
    assert divide.input_schema["properties"]["b"]["description"] == "The divisor."
    assert divide.output_schema == sdk_tools["divide"].output_schema
    assert divide.annotations["read_only"] is True and divide.annotations["open_world"] is False


async def test_calls_run_the_sdk_handler_and_convert_its_result(client: AsyncClient, sdk_calls: SdkCalls):
    result = await client.call_tool("divide", {"a": 6, "b": 3})
    assert not result.is_error
    assert result.structured == {"result": 2.0} and result.text == "2.0"
    assert sdk_calls.handler_runs == ["divide"]
    config = await client.call_tool("read_config", {})
    assert config.text == '{"mode": "test"}'


async def test_sdk_validation_and_tool_errors_become_tool_errors(client: AsyncClient, sdk_calls: SdkCalls):
    invalid = await client.call_tool("divide", {"a": 1, "b": "zero"})
    assert invalid.is_error
    assert "validation error" in invalid.text and "\nb\n" in invalid.text  # the SDK's own message names the field
    missing = await client.call_tool("divide", {"a": 1})
    assert missing.is_error and "Field required" in missing.text
    zero = await client.call_tool("divide", {"a": 1, "b": 0})
    assert zero.is_error and zero.text == "Error executing tool divide: division by zero"
    crash = await client.call_tool("crash", {})
    assert crash.is_error and crash.text == "Error executing tool crash"  # the SDK keeps internals server-side
    assert "secret internals" not in crash.text
    assert sdk_calls.handler_runs == ["divide"]  # validation failures never reached the handler


async def test_mounted_tools_are_authorized_like_any_other(
    mounted_app: McpApp, sdk_calls: SdkCalls
):
    authorizer = DenyOneAuthorizer(denied_tool="divide")
    async with running(mounted_app, authorizer) as server:
        async with AsyncClient(server.address, timeout=10) as client:
            with pytest.raises(McpCallError) as denied:
                await client.call_tool("divide", {"a": 1, "b": 1})
    assert denied.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert sdk_calls.handler_runs == []  # denied before the SDK saw the call
    (seen,) = [seen for seen in authorizer.seen if seen.name == "divide"]
    assert seen.kind is TargetKind.TOOL and seen.checks == (Check("can_divide", "calculator:main"),)


async def test_sdk_progress_reaches_the_grpc_caller(client: AsyncClient):
    updates = []
    result = await client.call_tool("slow_count", {"n": 3}, progress=updates.append)
    assert result.text == "counted to 3"
    assert [(u.progress, u.total, u.message) for u in updates] == [(1, 3, "at 1"), (2, 3, "at 2"), (3, 3, "at 3")]


async def test_sdk_notifications_reach_listen_streams(client: AsyncClient):
    events = client.listen()
    assert await anext(events) == ("acknowledged", None)
    assert (await client.call_tool("announce", {})).text == "announced"
    assert await asyncio.wait_for(anext(events), timeout=5) == ("tools/list_changed", None)
    await events.aclose()


async def test_elicitation_asks_the_grpc_caller_instead_of_waiting_for_an_answer(client: AsyncClient):
    from mcp_grpc.client import InputRequiredError

    with pytest.raises(InputRequiredError) as asked:  # a hang would end in DEADLINE_EXCEEDED, raised here
        await client.call_tool("ask", {}, timeout=5)
    assert [request["params"]["message"] for request in asked.value.requests.values()] == ["ok?"]


async def test_resources_and_templates(client: AsyncClient):
    listed = {r.uri: r for r in await client.list_resources()}
    assert listed["data://config"].mime_type == "application/json"
    assert listed["data://config"].description == "The configuration."
    profile_template, search_template = await client.list_resource_templates()
    assert (profile_template.uri, profile_template.name) == ("data://users/{user_id}/profile", "profile")
    assert search_template.uri == "search://items{?q}"

    (config,) = await client.read_resource("data://config")
    assert (config.text, config.mime_type) == ('{"mode": "test"}', "application/json")
    (logo,) = await client.read_resource("data://logo")
    assert (logo.blob, logo.mime_type) == (b"\x89PNG\x00\x01", "image/png")
    (profile,) = await client.read_resource("data://users/42/profile")
    assert profile.text == "Ada, user 42" and profile.uri == "data://users/42/profile"
    (found,) = await client.read_resource("search://items?q=red%20shoes")
    assert found.text == "results for 'red shoes'" and found.uri == "search://items?q=red%20shoes"
    (everything,) = await client.read_resource("search://items")  # a query variable may be left out
    assert everything.text == "results for ''"

    with pytest.raises(McpCallError) as unknown_user:
        await client.read_resource("data://users/7/profile")
    assert unknown_user.value.status == grpc.StatusCode.NOT_FOUND and unknown_user.value.mcp_code == -32002
    assert "no user 7" in unknown_user.value.message


async def test_prompts_and_completions(client: AsyncClient):
    prompts = {p.name: p for p in await client.list_prompts()}
    assert prompts["greeting"].title == "Greeting"
    assert [(a["name"], a["required"]) for a in prompts["greeting"].arguments] == [("name", True), ("tone", False)]

    rendered = await client.get_prompt("greeting", {"name": "Ada"})
    assert rendered.messages == [("user", "Write a warm greeting for Ada.")]
    dialogue = await client.get_prompt("dialogue", {"topic": "gRPC"})
    assert dialogue.messages == [("user", "Tell me about gRPC."), ("assistant", "gRPC is interesting.")]
    with pytest.raises(McpCallError) as missing:
        await client.get_prompt("greeting", {})
    assert missing.value.status == grpc.StatusCode.INVALID_ARGUMENT and "name" in missing.value.message

    tones = await client.complete("tone", "w", prompt="greeting")
    assert tones.values == ["warm", "wry"]
    users = await client.complete("user_id", "", resource="data://users/{user_id}/profile")
    assert users.values == ["42"]


def test_clashing_names_and_unknown_authorize_keys_are_refused(sdk_calls: SdkCalls):
    app = McpApp("mounted")

    @app.tool()
    def divide(a: float, b: float) -> float:
        return a / b

    with pytest.raises(MountError, match="already registered in the McpApp: divide"):
        mount_official(app, build_sdk_server(sdk_calls))
    with pytest.raises(MountError, match="does not have: multiply"):
        mount_official(McpApp("other"), build_sdk_server(sdk_calls), authorize={"multiply": []})


async def test_the_sdk_servers_lifespan_runs_around_serving_and_reaches_its_handlers():
    """Issue 11: the SDK server's lifespan is entered before the gRPC server serves, its state reaches the mounted
    handler's ``ctx.request_context.lifespan_context``, and it exits after the drain."""
    import contextlib

    from mcp.server.mcpserver import MCPServer

    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server):
        events.append(f"enter {server.name}")
        yield {"db": "connected"}
        events.append("exit")

    sdk = MCPServer("with-lifespan", lifespan=lifespan)

    @sdk.tool()
    def database(ctx: SdkContext) -> str:
        """What the lifespan yielded."""
        return ctx.request_context.lifespan_context["db"]

    app = McpApp("mounted")
    mount_official(app, sdk)
    assert events == []  # mounting runs nothing
    async with running(app) as server:
        assert events == ["enter with-lifespan"]
        async with AsyncClient(server.address, timeout=10) as client:
            result = await client.call_tool("database", {})
        assert not result.is_error and result.text == "connected"
    assert events == ["enter with-lifespan", "exit"]


async def test_a_failing_sdk_lifespan_stops_the_start():
    import contextlib

    from mcp.server.mcpserver import MCPServer

    from mcp_grpc.server import StartupError

    @contextlib.asynccontextmanager
    async def lifespan(server):
        raise ConnectionError("database unreachable")
        yield

    app = McpApp("mounted")
    mount_official(app, MCPServer("broken", lifespan=lifespan))
    with pytest.raises(StartupError, match="mounted SDK server 'broken' failed at startup: ConnectionError: "
                                           "database unreachable"):
        async with running(app):
            pass


async def test_a_mounted_sdk_servers_images_and_audio_stay_binary():
    """Issue 11: an SDK tool's Image and Audio reach the gRPC caller as image and audio blocks (they used to become
    the text "[image image/png, 8 bytes]")."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.utilities.types import Audio as SdkAudio
    from mcp.server.mcpserver.utilities.types import Image as SdkImage

    sdk = MCPServer("media")

    @sdk.tool()
    def snapshot() -> list:
        """A picture and a sound."""
        return ["both:", SdkImage(data=b"\x89PNG\xff", format="png"), SdkAudio(data=b"RIFF\xfe", format="wav")]

    app = McpApp("mounted-media")
    mount_official(app, sdk)
    async with running(app) as server:
        async with AsyncClient(server.address, timeout=10) as client:
            result = await client.call_tool("snapshot", {})
    blocks = result.raw.content
    assert [block.ListFields()[0][0].name for block in blocks] == ["text", "image", "audio"], blocks
    assert (blocks[1].image.data, blocks[1].image.mime_type) == (b"\x89PNG\xff", "image/png")
    assert (blocks[2].audio.data, blocks[2].audio.mime_type) == (b"RIFF\xfe", "audio/wav")
