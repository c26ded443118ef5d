"""Issue 11, MRTR over gRPC: a handler asks the client for input (elicitation, sampling, roots), the call ends
INPUT_REQUIRED with a sealed request_state, and the retry with the answers completes. Tampered, replayed,
other-principal and other-call states are refused with their status and audited; step-up confirmation."""

from __future__ import annotations

import grpc
import pytest

from mcp_grpc.client import AsyncClient, InputRequiredError, McpCallError
from mcp_grpc.contract import AuditDecision
from mcp_grpc.server import Context, Elicit, ElicitAnswer, ListRoots, McpApp, Root, Sample, SampleAnswer
from tests.server.server_support import HeaderAuthenticator, ListAuditSink
from tests.support.servers import running

ALICE = "spiffe://example.org/agent/alice"
MALLORY = "spiffe://example.org/agent/mallory"
NAME_FORM = {"type": "object", "properties": {"name": {"type": "string", "title": "Name"}}, "required": ["name"]}


def input_app() -> McpApp:
    app = McpApp("inputs")

    @app.tool
    async def greet(ctx: Context) -> str:
        answer = await ctx.elicit("What is your name?", NAME_FORM, key="user_name")
        if not answer.accepted:
            return f"no name ({answer.action})"
        return f"Hello, {answer.content['name']}! (round {ctx.input_round})"

    @app.tool
    async def capital(ctx: Context) -> str:
        reply = await ctx.sample("What is the capital of France?", max_tokens=50, key="q")
        return f"the model {reply.model} says {reply.text}"

    @app.tool
    async def roots(ctx: Context) -> list[str]:
        return [root.uri for root in await ctx.list_roots()]

    @app.tool
    def everything(ctx: Context) -> str:  # a sync handler asks too
        answers = ctx.ask({"name": Elicit("Name?", NAME_FORM), "poem": Sample("A poem", max_tokens=10),
                           "roots": ListRoots()})
        return f"{answers['name'].content['name']}|{answers['poem'].text}|{len(answers['roots'])}"

    @app.tool
    async def two_steps(ctx: Context, topic: str) -> str:
        first = await ctx.elicit(f"First about {topic}?", NAME_FORM, key="step1")
        second = await ctx.elicit("Colour?", {"type": "object", "properties": {"color": {"type": "string"}}},
                                  key="step2")
        return f"{first.content['name']} likes {second.content['color']}"

    @app.tool(confirm=lambda args: f"Refund {args['amount']} EUR?" if args["amount"] > 100 else None)
    async def refund(amount: int) -> str:
        return f"refunded {amount}"

    @app.prompt
    async def briefing(ctx: Context) -> str:
        answer = await ctx.elicit("Which context?", {"type": "object", "properties": {"ctx": {"type": "string"}}},
                                  key="context")
        return f"Brief me on {answer.content.get('ctx')}"

    return app


def answerer(calls: list):
    def on_input(requests):
        calls.append(dict(requests))
        answers = {}
        for key, request in requests.items():
            if isinstance(request, Elicit):
                fields = request.schema["properties"]
                answers[key] = ElicitAnswer("accept", {name: "Alice" if name == "name" else "blue" for name in fields})
            elif isinstance(request, Sample):
                answers[key] = SampleAnswer("Paris", model="test-model")
            else:
                answers[key] = [Root("file:///work", "work")]
        return answers
    return on_input


async def test_each_kind_of_question_is_answered_and_the_call_completes():
    calls: list = []
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            greet = await client.call_tool("greet", on_input=answerer(calls))
            capital = await client.call_tool("capital", on_input=answerer(calls))
            roots = await client.call_tool("roots", on_input=answerer(calls))
            everything = await client.call_tool("everything", on_input=answerer(calls))
            prompt = await client.get_prompt("briefing", on_input=answerer(calls))
    assert greet.text == "Hello, Alice! (round 2)"
    assert capital.text == "the model test-model says Paris"
    assert roots.structured == {"result": ["file:///work"]}
    assert everything.text == "Alice|Paris|1"
    assert prompt.messages[0][1] == "Brief me on blue"
    first = calls[0]["user_name"]
    assert isinstance(first, Elicit) and first.message == "What is your name?"
    assert first.schema == {"type": "object", "properties": {"name": {"type": "string", "title": "Name"}},
                            "required": ["name"]}
    assert set(calls[3]) == {"name", "poem", "roots"}  # several questions in one round


async def test_the_first_round_is_input_required_on_the_wire_with_a_state():
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            with pytest.raises(InputRequiredError) as raised:
                await client.call_tool("greet")
    assert raised.value.requests == {"user_name": {"method": "elicitation/create", "params": {
        "mode": "form", "message": "What is your name?", "requestedSchema": NAME_FORM}}}
    assert raised.value.request_state and raised.value.request_state.startswith("mgs1.")


async def test_decline_and_cancel_reach_the_handler():
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            declined = await client.call_tool("greet", on_input=lambda r: {"user_name": ElicitAnswer("decline")})
            cancelled = await client.call_tool("greet", on_input=lambda r: {"user_name": {"action": "cancel"}})
    assert (declined.text, cancelled.text) == ("no name (decline)", "no name (cancel)")


async def test_several_rounds_carry_earlier_answers_in_the_state():
    calls: list = []
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            result = await client.call_tool("two_steps", {"topic": "cats"}, on_input=answerer(calls))
    assert result.text == "Alice likes blue"
    assert [set(call) for call in calls] == [{"step1"}, {"step2"}]  # the retry answered only the new question


async def test_an_answer_of_the_wrong_kind_or_key_is_asked_again():
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            for wrong in ({"other_key": {"action": "accept", "content": {"name": "X"}}},
                          {"user_name": {"roots": []}}):
                with pytest.raises(InputRequiredError) as raised:
                    await client.call_tool("greet", input_responses=wrong)
                assert list(raised.value.requests) == ["user_name"]


def refusals_app_and_sink():
    sink = ListAuditSink()
    return input_app(), sink, dict(authenticator=HeaderAuthenticator(), insecure_local=True, audit_sink=sink)


def as_(identity: str):
    return lambda: [("x-test-identity", identity)]


async def first_state(client: AsyncClient, tool: str = "greet", arguments=None) -> str:
    with pytest.raises(InputRequiredError) as raised:
        await client.call_tool(tool, arguments)
    return raised.value.request_state


ACCEPT = {"user_name": {"action": "accept", "content": {"name": "Alice"}}}


async def test_tampered_replayed_and_foreign_states_are_refused_and_audited():
    app, sink, fields = refusals_app_and_sink()
    async with running(app, **fields) as server:
        async with AsyncClient(server.address, metadata=as_(ALICE)) as alice, \
                AsyncClient(server.address, metadata=as_(MALLORY)) as mallory:
            state = await first_state(alice)
            tampered = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
            with pytest.raises(McpCallError) as bad:
                await alice.call_tool("greet", input_responses=ACCEPT, request_state=tampered)
            assert bad.value.status is grpc.StatusCode.INVALID_ARGUMENT and bad.value.mcp_code == -32602
            assert "integrity" in bad.value.message
            with pytest.raises(McpCallError) as foreign:
                await mallory.call_tool("greet", input_responses=ACCEPT, request_state=state)
            assert foreign.value.status is grpc.StatusCode.PERMISSION_DENIED
            assert "another caller" in foreign.value.message
            done = await alice.call_tool("greet", input_responses=ACCEPT, request_state=state)
            assert done.text == "Hello, Alice! (round 2)"
            with pytest.raises(McpCallError) as replayed:
                await alice.call_tool("greet", input_responses=ACCEPT, request_state=state)
            assert replayed.value.status is grpc.StatusCode.INVALID_ARGUMENT and "already used" in replayed.value.message
            with pytest.raises(McpCallError) as garbage:
                await alice.call_tool("greet", input_responses=ACCEPT, request_state="not a state")
            assert garbage.value.status is grpc.StatusCode.INVALID_ARGUMENT
    greets = [e for e in sink.events if e.target == "greet"]
    assert [(e.decision, e.principal) for e in greets] == [
        (AuditDecision.ALLOW, ALICE), (AuditDecision.INVALID_ARGUMENT, ALICE), (AuditDecision.DENY, MALLORY),
        (AuditDecision.ALLOW, ALICE), (AuditDecision.INVALID_ARGUMENT, ALICE), (AuditDecision.INVALID_ARGUMENT, ALICE),
    ]
    assert greets[0].reason == "input required: user_name"
    assert "integrity" in greets[1].reason and "another caller" in greets[2].reason
    assert "already used" in greets[4].reason


async def test_a_state_is_bound_to_its_target_and_arguments():
    app, sink, fields = refusals_app_and_sink()
    async with running(app, **fields) as server:
        async with AsyncClient(server.address, metadata=as_(ALICE)) as alice:
            state = await first_state(alice, "two_steps", {"topic": "cats"})
            answer = {"step1": {"action": "accept", "content": {"name": "A"}}}
            with pytest.raises(McpCallError) as other_args:
                await alice.call_tool("two_steps", {"topic": "dogs"}, input_responses=answer, request_state=state)
            assert other_args.value.status is grpc.StatusCode.INVALID_ARGUMENT
            assert "different arguments" in other_args.value.message
            state = await first_state(alice, "two_steps", {"topic": "cats"})
            with pytest.raises(McpCallError) as other_tool:
                await alice.call_tool("greet", input_responses=ACCEPT, request_state=state)
            assert "another call" in other_tool.value.message


async def test_step_up_confirmation_asks_before_the_handler_and_binds_the_answer():
    app, sink, fields = refusals_app_and_sink()
    async with running(app, **fields) as server:
        async with AsyncClient(server.address, metadata=as_(ALICE)) as alice:
            small = await alice.call_tool("refund", {"amount": 5})  # the rule needs no confirmation for this
            assert small.text == "refunded 5"
            confirm = {"mcp-grpc/confirm": {"action": "accept", "content": {}}}
            with pytest.raises(InputRequiredError) as raised:  # a pre-sent answer without the asking state
                await alice.call_tool("refund", {"amount": 500}, input_responses=confirm)
            assert raised.value.requests["mcp-grpc/confirm"]["params"]["message"] == "Refund 500 EUR?"
            done = await alice.call_tool("refund", {"amount": 500}, input_responses=confirm,
                                         request_state=raised.value.request_state)
            assert done.text == "refunded 500"
            with pytest.raises(McpCallError) as declined:
                await alice.call_tool("refund", {"amount": 500},
                                      on_input=lambda requests: {key: ElicitAnswer("decline") for key in requests})
            assert declined.value.status is grpc.StatusCode.PERMISSION_DENIED
    refunds = [e for e in sink.events if e.target == "refund"]
    assert [e.decision for e in refunds] == [AuditDecision.ALLOW] * 4 + [AuditDecision.DENY]
    assert refunds[1].reason == "input required: mcp-grpc/confirm"
    assert "confirmed by the user" in refunds[2].reason
    assert "not confirmed" in refunds[-1].reason


async def test_input_required_through_the_stream_with_progress():
    async with running(input_app()) as server:
        async with AsyncClient(server.address) as client:
            result = await client.call_tool("greet", progress=lambda update: None, on_input=answerer([]))
    assert result.text == "Hello, Alice! (round 2)"
