"""Issue 11: an official-SDK ClientSession on mcp_grpc.sdk receives a tool's input requests as the protocol's
InputRequiredResult and completes the call by retrying with input_responses and the request_state (real server)."""

from __future__ import annotations

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

import mcp_grpc.sdk
from mcp_grpc.server import Context, McpApp
from tests.support.servers import running

pytestmark = pytest.mark.asyncio


def asking_app() -> McpApp:
    app = McpApp("asking")

    @app.tool
    async def greet(ctx: Context) -> str:
        who = await ctx.elicit("Name?", {"type": "object", "properties": {"name": {"type": "string"}}}, key="who")
        return f"Hello, {who.content['name']}!"

    @app.prompt
    async def topic(ctx: Context) -> str:
        answer = await ctx.elicit("Topic?", {"type": "object", "properties": {"t": {"type": "string"}}}, key="t")
        return f"Talk about {answer.content['t']}"

    return app


async def test_a_session_answers_and_retries_tools_and_prompts():
    async with running(asking_app()) as server:
        async def elicit(context, params):  # declares the capability; the answers below are sent by hand
            raise AssertionError("a 2026-07-28 session is not called back")

        async with mcp_grpc.sdk.connect(server.address, elicitation_callback=elicit) as session:
            first = await session.call_tool("greet", {}, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult)
            assert first.input_requests["who"].params.message == "Name?"
            answer = {"who": types.ElicitResult(action="accept", content={"name": "Ada"})}
            done = await session.call_tool("greet", {}, input_responses=answer, request_state=first.request_state,
                                           allow_input_required=True)
            assert done.content[0].text == "Hello, Ada!"
            prompt = await session.get_prompt("topic", allow_input_required=True)
            assert isinstance(prompt, types.InputRequiredResult)
            answer = {"t": types.ElicitResult(action="accept", content={"t": "gRPC"})}
            done = await session.get_prompt("topic", input_responses=answer, request_state=prompt.request_state,
                                            allow_input_required=True)
            assert done.messages[0].content.text == "Talk about gRPC"
            with pytest.raises(MCPError) as replayed:  # the state was spent by the retry
                await session.call_tool("greet", {}, input_responses={"who": types.ElicitResult(
                    action="accept", content={"name": "Eve"})}, request_state=first.request_state,
                    allow_input_required=True)
            assert replayed.value.error.code == -32602 and "already used" in replayed.value.error.message
