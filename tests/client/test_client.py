"""The async and sync clients against real servers: cursors, progress, deadlines, retries, round_robin, metadata."""

from __future__ import annotations

import asyncio
import itertools

import grpc
import pytest

from mcp_grpc.client import AddressError, AsyncClient, Client, McpCallError, RetryPolicy, resolve_target

from tests.client.client_support import small_app
from tests.support.servers import running


async def test_async_client_follows_cursors():
    app = small_app()
    async with running(app, page_size=3) as server:
        async with AsyncClient(server.address) as client:
            names = [tool.name for tool in await client.list_tools()]
            with pytest.raises(McpCallError, match="more than 2 pages"):
                await client.list_tools(max_pages=2)
    assert names == list(app.tools) and len(names) == 9


async def test_sync_client_covers_every_operation():
    async with running(small_app()) as server:

        def use() -> dict:
            progress = []
            with Client(server.address, timeout=10) as client:
                return {
                    "tools": len(client.list_tools()),
                    "count": client.call_tool("count", {"n": 2}, progress=lambda u: progress.append(u.progress)).structured,
                    "progress": progress,
                    "resources": [r.uri for r in client.list_resources()],
                    "read": client.read_resource("text://hello")[0].text,
                    "prompts": [p.name for p in client.list_prompts()],
                    "prompt": client.get_prompt("ask", {"question": "why"}).messages,
                    "complete": client.complete("question", "w", prompt="ask").values,
                    "templates": client.list_resource_templates(),
                }

        seen = await asyncio.to_thread(use)
    assert seen == {
        "tools": 9,
        "count": {"result": 2},
        "progress": [1.0, 2.0],
        "resources": ["text://hello"],
        "read": "hello",
        "prompts": ["ask"],
        "prompt": [("user", "Q: why")],
        "complete": ["why?", "what?"],
        "templates": [],
    }


def test_sync_client_refuses_use_after_close():
    client = Client("127.0.0.1:1")
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.list_tools()


async def test_metadata_hook_runs_before_every_call():
    tokens = itertools.count(1)
    async with running(small_app()) as server:
        async with AsyncClient(server.address, metadata=lambda: [("authorization", f"Bearer t{next(tokens)}")]) as client:
            first = await client.call_tool("whoami")
            second = await client.call_tool("whoami")
    assert (first.structured["token"], second.structured["token"]) == ("Bearer t1", "Bearer t2")


async def test_round_robin_spreads_calls_over_every_address():
    async with running(small_app("a")) as one, running(small_app("b")) as two:
        async with AsyncClient([one.address, two.address]) as client:
            answered = {(await client.call_tool("whoami")).structured["server"] for _ in range(10)}
    assert answered == {"a", "b"}


class FlakyFront(grpc.aio.ServerInterceptor):
    """UNAVAILABLE for the first ``failures`` calls, as a proxy or a restarting replica answers, then pass through."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls = 0

    async def intercept_service(self, continuation, handler_call_details):
        self.calls += 1
        if self.calls > self.failures:
            return await continuation(handler_call_details)

        async def unavailable(request, context):
            await context.abort(grpc.StatusCode.UNAVAILABLE, "replica restarting")

        return grpc.unary_unary_rpc_method_handler(unavailable)


@pytest.mark.parametrize(("retry", "expect_ok"), [(RetryPolicy(max_attempts=3, initial_backoff=0.01), True), (None, False)])
async def test_retries_through_service_config(retry, expect_ok):
    front = FlakyFront(failures=2)
    async with running(small_app(), interceptors=[front], insecure_local=True) as server:
        async with AsyncClient(server.address, retry=retry) as client:
            if expect_ok:
                assert (await client.call_tool("whoami")).structured["server"] == "client-test"
            else:
                with pytest.raises(McpCallError) as caught:
                    await client.call_tool("whoami")
                assert caught.value.status == grpc.StatusCode.UNAVAILABLE
    assert front.calls == (3 if expect_ok else 1)


async def test_deadline_exceeded_is_reported():
    """A call still running at its deadline ends DEADLINE_EXCEEDED. (A 1 us deadline on a fast ListTools is not a
    test: on grpcio 1.85.3 such a call was seen to complete, so the handler here outlives the deadline.)"""
    app = small_app()

    @app.tool()
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    async with running(app) as server:
        async with AsyncClient(server.address, timeout=0.2) as client:
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("slow")
    assert caught.value.status == grpc.StatusCode.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("", "no address"),
        ("localhost", "expected HOST:PORT"),
        ("host:99999", "expected HOST:PORT"),
        (["example.com:1", "example.org:2"], "must be IP literals"),
        (["127.0.0.1:1", "[::1]:2"], "all be IPv4 or all IPv6"),
        ("[::1:5", "expected [IPv6]:PORT"),
    ],
)
def test_bad_addresses(address, message):
    with pytest.raises(AddressError, match=message.replace("[", r"\[")):
        resolve_target(address)


def test_targets():
    assert resolve_target("127.0.0.1:5") == ("127.0.0.1:5", False)
    assert resolve_target("unix:/tmp/x.sock") == ("unix:/tmp/x.sock", False)
    assert resolve_target("10.0.0.1:1,10.0.0.2:2") == ("ipv4:10.0.0.1:1,10.0.0.2:2", True)
    assert resolve_target(["[::1]:1", "[::1]:2"]) == ("ipv6:[::1]:1,[::1]:2", True)


async def test_channel_provider_is_asked_before_every_call():
    async with running(small_app("a")) as one, running(small_app("b")) as two:
        channels = [grpc.aio.insecure_channel(one.address), grpc.aio.insecure_channel(two.address)]
        current = {"index": 0}
        client = AsyncClient(channel_provider=lambda: channels[current["index"]])
        first = (await client.call_tool("whoami")).structured["server"]
        current["index"] = 1  # credentials rotated: the provider now hands out a rebuilt channel
        second = (await client.call_tool("whoami")).structured["server"]
        await client.close()
        for channel in channels:
            await channel.close()
    assert (first, second) == ("a", "b")
