"""A mounted official-SDK tool that asks its own ``ctx.elicit`` / ``create_message`` / ``list_roots`` works through
mcp-grpc: the gRPC caller gets INPUT_REQUIRED, answers, and the retry completes (real MCPServer, real gRPC)."""

from __future__ import annotations

from typing import Annotated, AsyncIterator

import mcp_types
import pytest
from mcp.server.mcpserver import Context as SdkContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver import Elicit as SdkElicit
from mcp.server.mcpserver import Resolve
from pydantic import BaseModel

from mcp_grpc.bridge import mount_official
from mcp_grpc.client import AsyncClient, InputRequiredError
from mcp_grpc.server import Elicit, ElicitAnswer, ListRoots, McpApp, Root, Sample, SampleAnswer
from tests.support.servers import running


class Person(BaseModel):
    name: str
    age: int


def ask_person() -> SdkElicit[Person]:
    return SdkElicit("Who signs?", Person)


def ask_witness(signer: Annotated[Person, Resolve(ask_person)]) -> SdkElicit[Person]:
    return SdkElicit(f"Who witnesses for {signer.name}?", Person)


def sdk_server() -> MCPServer:
    sdk = MCPServer("asks")

    @sdk.tool()
    async def register(ctx: SdkContext) -> str:
        """Asks the user for a form."""
        result = await ctx.elicit("Who are you?", Person)
        if result.action != "accept":
            return f"not registered ({result.action})"
        return f"registered {result.data.name}, {result.data.age}"

    @sdk.tool()
    async def two_questions(ctx: SdkContext) -> str:
        """Two elicitations, one after the other."""
        first = await ctx.elicit("First person?", Person)
        second = await ctx.elicit("Second person?", Person)
        return f"{first.data.name} and {second.data.name}"

    @sdk.tool()
    async def poem_in_roots(ctx: SdkContext) -> str:
        """Sampling and roots through the SDK session."""
        reply = await ctx.session.create_message(
            [mcp_types.SamplingMessage(role="user", content=mcp_types.TextContent(type="text", text="A poem"))],
            max_tokens=20, system_prompt="Be brief",
        )
        roots = await ctx.session.list_roots()
        return f"{reply.content.text} by {reply.model} in {[str(root.uri) for root in roots.roots]}"

    @sdk.tool()
    async def sign(
        document: str,
        signer: Annotated[Person, Resolve(ask_person)],
        witness: Annotated[Person, Resolve(ask_witness)],
    ) -> str:
        """Resolvers: the SDK's own MRTR path (InputRequiredResult), in two stages."""
        return f"{document} signed by {signer.name}, witnessed by {witness.name}"

    @sdk.tool()
    async def by_hand(ctx: SdkContext) -> mcp_types.CallToolResult | mcp_types.InputRequiredResult:
        """A hand-rolled InputRequiredResult, read back from ctx.input_responses."""
        answer = (ctx.input_responses or {}).get("colour")
        if answer is None:
            schema = {"type": "object", "properties": {"colour": {"type": "string"}}}
            return mcp_types.InputRequiredResult(input_requests={"colour": mcp_types.ElicitRequest(
                params=mcp_types.ElicitRequestFormParams(message="Colour?", requested_schema=schema))})
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(type="text", text=answer.content["colour"])])

    @sdk.prompt()
    async def briefing(ctx: SdkContext) -> str:
        """A prompt that asks through the SDK session."""
        result = await ctx.elicit("Brief on whom?", Person)
        return f"Brief me on {result.data.name}"

    @sdk.resource("people://{pid}")
    async def person(pid: str, ctx: SdkContext) -> str:
        """A resource template read that asks through the SDK session."""
        result = await ctx.elicit(f"Who is {pid}?", Person)
        return f"{pid} is {result.data.name}"

    return sdk


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    app = McpApp("mounted")
    mount_official(app, sdk_server())
    async with running(app) as server:
        async with AsyncClient(server.address, timeout=10) as connected:
            yield connected


async def test_an_sdk_elicitation_is_asked_of_the_grpc_caller_and_the_retry_completes(client: AsyncClient):
    with pytest.raises(InputRequiredError) as asked:
        await client.call_tool("register", {})
    (key,) = asked.value.requests
    request = asked.value.requests[key]
    assert request["method"] == "elicitation/create"
    assert request["params"]["message"] == "Who are you?"
    assert set(request["params"]["requestedSchema"]["properties"]) == {"name", "age"}

    seen = []

    def on_input(requests):
        seen.append(dict(requests))
        return {key: ElicitAnswer("accept", {"name": "Ada", "age": 36}) for key in requests}

    result = await client.call_tool("register", {}, on_input=on_input)
    assert (result.is_error, result.text) == (False, "registered Ada, 36")
    assert len(seen) == 1 and isinstance(seen[0][key], Elicit)

    declined = await client.call_tool("register", {}, on_input=lambda r: {k: ElicitAnswer("decline") for k in r})
    assert declined.text == "not registered (decline)"


async def test_two_sdk_elicitations_take_two_rounds_and_keep_the_first_answer(client: AsyncClient):
    rounds = []

    def on_input(requests):
        rounds.append(sorted((k, r.message) for k, r in requests.items()))
        return {k: ElicitAnswer("accept", {"name": r.message.split()[0], "age": 1}) for k, r in requests.items()}

    result = await client.call_tool("two_questions", {}, on_input=on_input)
    assert result.text == "First and Second"
    assert [[message for _, message in one] for one in rounds] == [["First person?"], ["Second person?"]]


async def test_sdk_sampling_and_roots_are_answered_by_the_grpc_caller(client: AsyncClient):
    kinds = []

    async def on_input(requests):
        answers = {}
        for key, request in requests.items():
            kinds.append(type(request).__name__)
            if isinstance(request, Sample):
                assert request.system_prompt == "Be brief" and request.max_tokens == 20
                answers[key] = SampleAnswer("Roses", model="m1")
            else:
                assert isinstance(request, ListRoots)
                answers[key] = [Root("file:///work", "work")]
        return answers

    result = await client.call_tool("poem_in_roots", {}, on_input=on_input)
    assert (result.is_error, result.text) == (False, "Roses by m1 in ['file:///work']")
    assert kinds == ["Sample", "ListRoots"]


async def test_sdk_resolvers_ask_through_mcp_grpc_in_stages_under_the_sdk_keys(client: AsyncClient):
    rounds = []

    def on_input(requests):
        rounds.append([request.message for request in requests.values()])
        return {key: ElicitAnswer("accept", {"name": "Ada" if "signs" in r.message else "Bob", "age": 1})
                for key, r in requests.items()}

    result = await client.call_tool("sign", {"document": "lease"}, on_input=on_input)
    assert (result.is_error, result.text) == (False, "lease signed by Ada, witnessed by Bob")
    assert rounds == [["Who signs?"], ["Who witnesses for Ada?"]]

    declined = await client.call_tool("sign", {"document": "lease"},
                                      on_input=lambda r: {k: ElicitAnswer("decline") for k in r})
    assert declined.is_error  # the SDK aborts an unwrapped resolver on decline


async def test_a_hand_rolled_sdk_input_required_result_is_relayed(client: AsyncClient):
    with pytest.raises(InputRequiredError) as asked:
        await client.call_tool("by_hand", {})
    assert list(asked.value.requests) == ["colour"]
    result = await client.call_tool("by_hand", {}, on_input=lambda r: {"colour": ElicitAnswer("accept", {"colour": "red"})})
    assert (result.is_error, result.text) == (False, "red")


async def test_a_mounted_prompt_and_resource_ask_through_the_sdk_session(client: AsyncClient):
    def on_input(requests):
        return {key: ElicitAnswer("accept", {"name": "Ada", "age": 36}) for key in requests}

    prompt = await client.get_prompt("briefing", {}, on_input=on_input)
    assert prompt.messages == [("user", "Brief me on Ada")]
    (content,) = await client.read_resource("people://p1", on_input=on_input)
    assert content.text == "p1 is Ada"
    with pytest.raises(InputRequiredError):
        await client.read_resource("people://p1")
