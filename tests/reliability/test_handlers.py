"""Handler faults seen from the caller, over mTLS: a handler that hangs (the deadline cancels it and frees its
worker), a handler that raises (a tool error; the server carries on) and a caller that goes away in the middle of a
CallToolStream (the handler is cancelled; the server carries on)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import grpc
import pytest

from mcp_grpc.client import McpCallError
from mcp_grpc.server import McpApp
from mcp_grpc.server.context import Context
from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc
from tests.reliability.reliability_support import Scale, client_identity, in_process_server, scales, server_identity, wait_for

HANDLER_THREADS = 4


class Observed:
    """What the handlers saw, written from the event loop and from handler threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.started: dict[str, int] = {}
        self.cancelled: dict[str, int] = {}
        self.finished: dict[str, int] = {}

    def count(self, table: dict[str, int], name: str) -> None:
        with self.lock:
            table[name] = table.get(name, 0) + 1

    def get(self, table: dict[str, int], name: str) -> int:
        with self.lock:
            return table.get(name, 0)


def fault_app(seen: Observed) -> McpApp:
    app = McpApp("faults")

    @app.tool
    async def hang_async(ctx: Context) -> str:
        """Never answers on its own."""
        seen.count(seen.started, "hang_async")
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            seen.count(seen.cancelled, "hang_async")
            raise
        return "unreachable"

    @app.tool
    def hang_sync(ctx: Context) -> str:
        """Blocks a handler thread until its call is cancelled (a well-behaved blocking handler)."""
        seen.count(seen.started, "hang_sync")
        if ctx.cancel_event.wait(60):
            seen.count(seen.cancelled, "hang_sync")
        seen.count(seen.finished, "hang_sync")
        return "released"

    @app.tool
    def quick_sync(n: int) -> int:
        seen.count(seen.finished, "quick_sync")
        return n + 1

    @app.tool
    def explode(reason: str) -> str:
        seen.count(seen.started, "explode")
        raise RuntimeError(f"exploded: {reason}")

    @app.tool
    async def ticker(steps: int, ctx: Context) -> str:
        """Reports progress every 20 ms for ``steps`` steps."""
        seen.count(seen.started, "ticker")
        try:
            for i in range(steps):
                await ctx.report_progress(i + 1, steps)
                await asyncio.sleep(0.02)
        except asyncio.CancelledError:
            seen.count(seen.cancelled, "ticker")
            raise
        return "done"

    return app


@pytest.fixture
async def faults(shared_workload_api):
    """(server, caller identity, observed) with a small handler pool, so a leaked thread would show."""
    seen = Observed()
    identity = await server_identity(shared_workload_api)
    billing = await client_identity(shared_workload_api, "billing")
    try:
        async with in_process_server(fault_app(seen), identity, handler_threads=HANDLER_THREADS) as server:
            yield server, billing, seen
    finally:
        await billing.aclose()
        identity.close()


async def expect_deadline(client: Any, tool: str, timeout: float) -> None:
    with pytest.raises(McpCallError) as caught:
        await client.call_tool(tool, {}, timeout=timeout)
    assert caught.value.status is grpc.StatusCode.DEADLINE_EXCEEDED, caught.value


@pytest.mark.parametrize("scale", scales(Scale("short", callers=2 * HANDLER_THREADS, seconds=0.3),
                                         Scale("long", callers=64, seconds=1.0)))
async def test_hanging_handlers_are_cancelled_by_the_deadline_and_free_their_workers(scale: Scale, faults) -> None:
    server, billing, seen = faults
    client = billing.client(server.address)
    rounds = 1 if scale.name == "short" else 10
    started = time.monotonic()
    for _ in range(rounds):
        # Twice as many blocking hangs as handler threads, and as many async ones, all at once.
        await asyncio.gather(*(expect_deadline(client, tool, scale.seconds)
                               for tool in ("hang_sync", "hang_async") for _ in range(scale.callers)))
        # Each handler learns its call is over: async ones get CancelledError, sync ones their cancel event.
        for tool in ("hang_sync", "hang_async"):
            assert await wait_for(lambda: seen.get(seen.cancelled, tool) == seen.get(seen.started, tool), 10), \
                (tool, seen.started, seen.cancelled)
        assert await wait_for(lambda: seen.get(seen.finished, "hang_sync") == seen.get(seen.started, "hang_sync"), 10)
        # The pool is free again: a burst of quick blocking calls all run, promptly.
        burst_started = time.monotonic()
        results = await asyncio.gather(*(client.call_tool("quick_sync", {"n": i}, timeout=10)
                                         for i in range(4 * HANDLER_THREADS)))
        assert [r.structured for r in results] == [{"result": i + 1} for i in range(4 * HANDLER_THREADS)]
        assert time.monotonic() - burst_started < 5
    sync_ran, async_ran = seen.get(seen.started, "hang_sync"), seen.get(seen.started, "hang_async")
    total = scale.callers * rounds
    print(f"\nhanging handlers[{scale.name}]: {2 * total} hung calls ended by a {scale.seconds}s deadline in "
          f"{time.monotonic() - started:.1f}s with {HANDLER_THREADS} handler threads: {async_ran} async handlers "
          f"cancelled, {sync_ran} sync handlers released, {total - sync_ran} sync calls expired in the queue unrun")
    # A call whose deadline passed before its handler was reached (a blocking one waiting for a thread, or any call
    # on a busy machine) never runs at all; every handler that did run was cancelled (asserted above).
    assert 1 <= async_ran <= total and 1 <= sync_ran <= total


async def test_a_raising_handler_is_a_tool_error_and_the_server_carries_on(faults) -> None:
    server, billing, seen = faults
    client = billing.client(server.address)
    for i in range(20):
        result = await client.call_tool("explode", {"reason": f"case {i}"}, timeout=10)
        assert result.is_error and f"exploded: case {i}" in result.text
    assert seen.get(seen.started, "explode") == 20
    assert (await client.call_tool("quick_sync", {"n": 1}, timeout=10)).structured == {"result": 2}


async def test_a_caller_that_cancels_mid_stream_cancels_the_handler(faults) -> None:
    server, billing, seen = faults
    client = billing.client(server.address)
    stub = streaming_pb2_grpc.McpStreamingStub(client.channel)
    for round_ in range(5):
        request = streaming_pb2.CallToolStreamRequest()
        request.request.name = "ticker"
        request.request.arguments.fields["steps"].number_value = 500
        call = stub.CallToolStream(request, timeout=30, metadata=[("mcp-protocol-version", "2026-07-28")])
        frames = 0
        async for frame in call:
            assert frame.WhichOneof("frame") == "progress"
            frames += 1
            if frames == 3:
                break
        call.cancel()
        assert await wait_for(lambda: seen.get(seen.cancelled, "ticker") == round_ + 1, 10), \
            "the handler did not see the caller go away"
    # The server is fine: a full stream runs to its result.
    progress: list[float] = []
    result = await client.call_tool("ticker", {"steps": 3}, progress=lambda p: progress.append(p.progress), timeout=10)
    assert result.text == "done" and progress == [1.0, 2.0, 3.0]


async def test_a_caller_whose_connection_closes_mid_stream_cancels_the_handler(faults) -> None:
    server, billing, seen = faults
    from mcp_grpc.client import AsyncClient

    channel = billing.channel(server.address)  # its own connection, closed under the stream
    client = AsyncClient(channel_provider=lambda: channel.channel)
    ticks = asyncio.Event()

    async def call() -> None:
        await client.call_tool("ticker", {"steps": 500}, progress=lambda _: ticks.set(), timeout=30)

    task = asyncio.create_task(call())
    await asyncio.wait_for(ticks.wait(), 10)
    await channel.close()
    with pytest.raises((McpCallError, asyncio.CancelledError)):
        await asyncio.wait_for(task, 10)
    assert await wait_for(lambda: seen.get(seen.cancelled, "ticker") == 1, 10), \
        "the handler kept running after its caller's connection closed"
    other = billing.client(server.address)
    assert (await other.call_tool("quick_sync", {"n": 41}, timeout=10)).structured == {"result": 42}
