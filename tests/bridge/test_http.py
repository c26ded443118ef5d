"""The bridge over streamable HTTP, driven by the official SDK's own client (``mcp.Client``)."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

import mcp
import pytest
from mcp.shared.exceptions import MCPError
from mcp.types import PromptReference, ResourceTemplateReference

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.server import Server
from mcp_grpc.server.pipeline import INSECURE_LOCAL_PRINCIPAL
from mcp_grpc.contract import TargetKind
from tests.bridge.bridge_support import DENIED_TOOL, UNDECIDABLE_RESOURCE, DenyOneAuthorizer


@pytest.fixture
async def bridge_url(grpc_server: Server) -> AsyncIterator[str]:
    backend = GrpcBackend.insecure_local(grpc_server.address, timeout=10)
    try:
        async with serve_http(build_bridge_server(backend), host="127.0.0.1", port=0) as endpoint:
            yield endpoint.url
    finally:
        await backend.close()


def _text(result) -> str:
    return "\n".join(block.text for block in result.content)


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_sdk_client_lists_and_calls_tools(bridge_url: str, mode: str):
    async with mcp.Client(bridge_url, mode=mode) as client:
        listed = await client.list_tools()
        tools = {tool.name: tool for tool in listed.tools}
        assert set(tools) == {"echo", "add", "count", DENIED_TOOL, "fail"}
        echo = tools["echo"]
        assert echo.title == "Echo" and echo.description == "Say it back."
        assert echo.input_schema["properties"]["text"]["description"] == "What to say back."
        assert echo.input_schema["required"] == ["text"]
        assert echo.annotations is not None and echo.annotations.read_only_hint is True
        # The wire cannot say "unstated": false goes out as unstated, so clients keep MCP's cautious defaults.
        assert echo.annotations.destructive_hint is None and echo.annotations.open_world_hint is None
        assert tools[DENIED_TOOL].annotations.destructive_hint is True
        assert tools["add"].output_schema["properties"]["total"]["type"] == "integer"

        result = await client.call_tool("echo", {"text": "héllo"})
        assert not result.is_error and _text(result) == "héllo"
        result = await client.call_tool("add", {"a": 2, "b": 40})
        assert result.structured_content == {"total": 42}


async def test_denial_is_a_tool_error_result_naming_status_and_reason(bridge_url: str, authorizer: DenyOneAuthorizer):
    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        result = await client.call_tool(DENIED_TOOL, {})
    assert result.is_error is True
    assert _text(result) == (
        f"PERMISSION_DENIED: {INSECURE_LOCAL_PRINCIPAL.spiffe_id} lacks can_call on tool:{DENIED_TOOL}"
    )
    # The gRPC server decided as the bridge's identity (insecure-local here), not as some client identity.
    decided = [seen for seen in authorizer.seen if seen.name == DENIED_TOOL]
    assert decided and all(seen.principal == INSECURE_LOCAL_PRINCIPAL.spiffe_id for seen in decided)


async def test_tool_failures_and_bad_arguments_come_back_as_the_server_said(bridge_url: str):
    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        failed = await client.call_tool("fail", {})
        assert failed.is_error and _text(failed) == "disk on fire"
        bad = await client.call_tool("add", {"a": "two", "b": 1})
        assert bad.is_error and "a:" in _text(bad)
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("no_such_tool", {})
    assert "NOT_FOUND" in unknown.value.message and "no_such_tool" in unknown.value.message


async def test_progress_flows_from_the_grpc_handler_to_the_sdk_client(bridge_url: str):
    updates = []

    async def on_progress(progress, total, message):
        updates.append((progress, total, message))

    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        result = await client.call_tool("count", {"n": 3}, progress_callback=on_progress)
    assert not result.is_error and result.structured_content == {"result": 3}
    assert updates == [(1.0, 3.0, "step 1"), (2.0, 3.0, "step 2"), (3.0, 3.0, "step 3")]


async def test_resources_prompts_and_completions_are_forwarded(bridge_url: str):
    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        resources = await client.list_resources()
        assert {str(r.uri) for r in resources.resources} == {"notes://hello"}  # the server's List* filtering
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates.resource_templates] == ["notes://{name}"]

        read = await client.read_resource("notes://todo")
        assert read.contents[0].text == "- write tests" and read.contents[0].mime_type == "text/markdown"

        prompts = await client.list_prompts()
        (summarize,) = prompts.prompts
        assert summarize.title == "Summarize" and summarize.arguments[0].required is True
        rendered = await client.get_prompt("summarize", {"topic": "gRPC"})
        (message,) = rendered.messages
        assert message.role == "user" and message.content.text == "Summarize gRPC in one line."

        completed = await client.complete(
            ResourceTemplateReference(type="ref/resource", uri="notes://{name}"), {"name": "name", "value": "to"}
        )
        assert completed.completion.values == ["todo", "today"]


async def test_list_and_read_failures_are_jsonrpc_errors(bridge_url: str, authorizer: DenyOneAuthorizer):
    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        with pytest.raises(MCPError) as undecided:
            await client.read_resource(UNDECIDABLE_RESOURCE)
        with pytest.raises(MCPError) as missing:
            await client.read_resource("notes://nothing-here")
        with pytest.raises(MCPError) as bad_prompt:
            await client.get_prompt("summarize", {})
        with pytest.raises(MCPError) as unknown_ref:
            await client.complete(PromptReference(type="ref/prompt", name="nope"), {"name": "x", "value": ""})
    assert undecided.value.message == "UNAVAILABLE: authorization backend timed out"
    assert undecided.value.data == {"grpcStatus": "UNAVAILABLE"}
    assert missing.value.message.startswith("NOT_FOUND: resource 'notes://nothing-here' not found")
    # The gRPC server sends -32002 in trailing metadata; MCP 2026-07-28 (SEP-2164) says -32602 naming the uri.
    assert missing.value.code == -32602
    assert missing.value.data == {"grpcStatus": "NOT_FOUND", "uri": "notes://nothing-here"}
    assert bad_prompt.value.code == -32602 and "topic" in bad_prompt.value.message
    assert unknown_ref.value.message.startswith("NOT_FOUND")
    assert any(seen.kind is TargetKind.RESOURCE and seen.name == UNDECIDABLE_RESOURCE for seen in authorizer.seen)


async def test_unreachable_server_is_a_tool_error_and_a_list_error():
    backend = GrpcBackend.insecure_local("127.0.0.1:1", timeout=2)  # nothing listens on port 1
    try:
        async with serve_http(build_bridge_server(backend), port=0) as endpoint:
            async with mcp.Client(endpoint.url, mode="2026-07-28") as client:
                result = await client.call_tool("echo", {"text": "x"})
                with pytest.raises(MCPError) as listing:
                    await client.list_tools()
    finally:
        await backend.close()
    assert result.is_error and _text(result).startswith("UNAVAILABLE: ")
    assert listing.value.message.startswith("UNAVAILABLE: ")


async def test_a_port_in_use_is_a_clear_error(grpc_server: Server):
    import socket

    from mcp_grpc.bridge import BridgeError

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    backend = GrpcBackend.insecure_local(grpc_server.address)
    try:
        with pytest.raises(BridgeError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with serve_http(build_bridge_server(backend), port=port):
                pass
    finally:
        taken.close()
        await backend.close()


async def test_list_changes_reach_sdk_listen_streams(bridge_url: str, grpc_server: Server):
    from mcp.shared.subscriptions import ToolsListChanged

    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        async with client.listen(tools_list_changed=True) as subscription:
            assert subscription.honored.tools_list_changed is True

            @grpc_server.app.tool()
            def added_later() -> str:
                """Registered while the server runs."""
                return "new"

            event = await asyncio.wait_for(anext(aiter(subscription)), timeout=10)
            assert isinstance(event, ToolsListChanged)
            tools = await client.list_tools()
    assert "added_later" in {tool.name for tool in tools.tools}


async def test_a_denied_resource_subscription_is_a_jsonrpc_error(bridge_url: str):
    async with mcp.Client(bridge_url, mode="2026-07-28") as client:
        with pytest.raises(MCPError) as refused:
            async with client.listen(resource_subscriptions=[UNDECIDABLE_RESOURCE]):
                pass
    assert refused.value.message.startswith("PERMISSION_DENIED: not allowed to subscribe to resource")


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [("Host", "evil.example:80", 421), ("Origin", "http://evil.example", 403)],
)
async def test_a_loopback_bridge_refuses_foreign_hosts_and_origins(
    bridge_url: str, header: str, value: str, status: int
):
    """DNS-rebinding protection: a web page elsewhere cannot drive the bridge (and borrow its identity)."""
    import aiohttp

    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", header: value}
    async with aiohttp.ClientSession() as session:
        async with session.post(bridge_url, json=body, headers=headers) as response:
            assert response.status == status


async def _post(url: str, **headers: str) -> int:
    """The status of an ``initialize`` POST (200 once it reaches the MCP transport)."""
    import aiohttp

    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}}}
    sent = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body, headers=sent) as response:
            return response.status


@pytest.mark.parametrize("host", ["127.0.0.2", "0.0.0.0"])
async def test_dns_rebinding_is_refused_on_any_bound_address(grpc_server: Server, host: str, caplog):
    """Issue 12: bound to 127.0.0.2 the SDK's own check is off, and a rebinding page ran tools/call as the bridge."""
    backend = GrpcBackend.insecure_local(grpc_server.address, timeout=10)
    try:
        async with serve_http(build_bridge_server(backend), host=host, port=0) as endpoint:
            port = endpoint.url.split(":")[2].split("/")[0]
            url = f"http://127.0.0.2:{port}/mcp" if host == "127.0.0.2" else f"http://127.0.0.1:{port}/mcp"
            own = url.split("/")[2]
            statuses = {
                "evil host": await _post(url, Host=f"evil.example:{port}", Origin="http://evil.example"),
                "evil origin": await _post(url, Origin="http://evil.example"),
                "own host": await _post(url, Host=own),
                "own origin": await _post(url, Host=own, Origin=f"http://{own}"),
                "long evil host": await _post(url, Host="x" * 5000 + f".evil:{port}"),
            }
    finally:
        await backend.close()
    assert statuses == {"evil host": 421, "evil origin": 403, "own host": 200, "own origin": 200,
                        "long evil host": 421}
    refusals = [r.getMessage() for r in caplog.records if r.name == "mcp_grpc.bridge" and "refused" in r.getMessage()]
    assert len(refusals) == 3 and f"Host 'evil.example:{port}'" in refusals[0]
    assert "Origin 'http://evil.example'" in refusals[1]
    assert max(len(message) for message in refusals) < 600  # the 5000-character Host is cut short


async def test_allowed_hosts_and_origins_extend_the_defaults(grpc_server: Server):
    backend = GrpcBackend.insecure_local(grpc_server.address, timeout=10)
    try:
        async with serve_http(build_bridge_server(backend), host="0.0.0.0", port=0,
                              allowed_hosts=["tools.example.org:*"],
                              allowed_origins=["https://app.example.org"]) as endpoint:
            url = endpoint.url.replace("0.0.0.0", "127.0.0.1")
            named = await _post(url, Host="TOOLS.example.org:8443", Origin="https://app.example.org")
            derived_origin = await _post(url, Host="tools.example.org:1", Origin="https://tools.example.org:443")
            other_origin = await _post(url, Host="tools.example.org:1", Origin="https://other.example.org")
            loopback = await _post(url)
    finally:
        await backend.close()
    assert (named, derived_origin, other_origin, loopback) == (200, 200, 403, 200)


@pytest.mark.parametrize(("hosts", "origins", "phrase"), [
    (["bad host"], [], "--allowed-host 'bad host': expected NAME, NAME:PORT or NAME:*"),
    (["*.example.org"], [], "only a final ':*' (any port) may be a wildcard"),
    ([], ["ftp://x"], "--allowed-origin 'ftp://x': the scheme must be http or https"),
    ([], ["https://x/path"], "expected SCHEME://NAME[:PORT|:*]"),
])
async def test_bad_allow_lists_are_refused_before_listening(grpc_server: Server, hosts, origins, phrase):
    from mcp_grpc.bridge import BridgeError

    backend = GrpcBackend.insecure_local(grpc_server.address, timeout=10)
    try:
        with pytest.raises(BridgeError) as refused:
            async with serve_http(build_bridge_server(backend), port=0, allowed_hosts=hosts, allowed_origins=origins):
                pass
    finally:
        await backend.close()
    assert phrase in str(refused.value)
