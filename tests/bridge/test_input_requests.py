"""Issue 11, MRTR through the bridge: a 2026-07-28 MCP client answers the gRPC server's input requests itself (the
bridge passes inputRequests, inputResponses and the sealed requestState through); for a 2025-11-25 session the bridge
asks with server-to-client requests and retries. A client that declared its capabilities without the one a tool
needs gets -32021 with data.requiredCapabilities."""

from __future__ import annotations

import mcp
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from mcp_grpc.bridge import GrpcBackend, build_bridge_server, serve_http
from mcp_grpc.bridge.event_store import BoundedEventStore
from mcp_grpc.server import Context, McpApp
from tests.support.servers import running


def asking_app() -> McpApp:
    app = McpApp("asking")

    @app.tool
    async def greet(ctx: Context) -> str:
        answer = await ctx.elicit("Your name?", {"type": "object", "properties": {"name": {"type": "string"}}},
                                  key="user_name")
        reply = await ctx.sample("Capital of France?", max_tokens=20, key="capital")
        roots = await ctx.list_roots(key="roots")
        return f"{answer.action}:{answer.content.get('name')}|{reply.text}|{','.join(r.uri for r in roots)}"

    @app.prompt
    async def topic(ctx: Context) -> str:
        answer = await ctx.elicit("Topic?", {"type": "object", "properties": {"t": {"type": "string"}}}, key="t")
        return f"Talk about {answer.content['t']}"

    return app


async def elicit(context, params):
    field = next(iter(params.requested_schema["properties"]))
    return types.ElicitResult(action="accept", content={field: "Alice" if field == "name" else "gRPC"})


async def sample(context, params):
    return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="Paris"),
                                     model="m", stop_reason="endTurn")


async def roots(context):
    return types.ListRootsResult(roots=[types.Root(uri="file:///srv", name="srv")])


@pytest.mark.parametrize("mode", ["2026-07-28", "legacy"])
async def test_an_mcp_client_answers_a_grpc_tools_questions_through_the_bridge(mode):
    async with running(asking_app()) as server:
        backend = GrpcBackend.insecure_local(server.address)
        try:
            async with serve_http(build_bridge_server(backend), port=0) as endpoint:
                async with mcp.Client(endpoint.url, mode=mode, elicitation_callback=elicit, sampling_callback=sample,
                                      list_roots_callback=roots) as client:
                    result = await client.call_tool("greet", {})
                    prompt = await client.get_prompt("topic")
        finally:
            await backend.close()
    assert result.content[0].text == "accept:Alice|Paris|file:///srv"
    assert prompt.messages[0].content.text == "Talk about gRPC"


async def test_a_client_without_the_capability_gets_32021_naming_it():
    async with running(asking_app()) as server:
        backend = GrpcBackend.insecure_local(server.address)
        try:
            async with serve_http(build_bridge_server(backend), port=0) as endpoint:
                async with mcp.Client(endpoint.url, mode="2026-07-28", elicitation_callback=elicit) as client:
                    with pytest.raises(MCPError) as raised:  # it declared elicitation, not sampling or roots
                        await client.call_tool("greet", {})
        finally:
            await backend.close()
    assert raised.value.error.code == -32021
    # the elicitation was answered; the next question, sampling, is the one refused (roots was never reached)
    assert raised.value.error.data["requiredCapabilities"] == {"sampling": {}}


def test_an_empty_event_store_still_counts_as_configured():
    """The SDK asks ``if not event_store``: an empty store that is falsy turned off the SSE priming event."""
    assert bool(BoundedEventStore()) and len(BoundedEventStore()) == 0
