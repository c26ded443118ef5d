"""Server lifecycle: health, reflection, graceful drain, limits."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from mcp_grpc.client import AsyncClient, McpCallError

from tests.support.servers import running


async def test_health_reports_serving_for_every_service(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "model_context_protocol.Mcp", "mcp_grpc.v1.McpStreaming"):
            response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
            assert response.status == health_pb2.HealthCheckResponse.SERVING, service


async def test_reflection_lists_the_services(server):
    async with grpc.aio.insecure_channel(server.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        responses = [r async for r in stub.ServerReflectionInfo(iter([request]), timeout=10)]
    names = {service.name for service in responses[0].list_services_response.service}
    assert {"model_context_protocol.Mcp", "mcp_grpc.v1.McpStreaming", "grpc.health.v1.Health"} <= names


async def test_drain_lets_calls_in_flight_finish_and_refuses_new_ones(app):
    async with running(app, drain_seconds=5) as server:
        async with AsyncClient(server.address, retry=None) as client:
            in_flight = asyncio.ensure_future(client.call_tool("sleep_sync", {"seconds": 0.5}))
            await asyncio.sleep(0.2)
            stopping = asyncio.ensure_future(server.stop())
            await asyncio.sleep(0.05)
            with pytest.raises(McpCallError) as refused:
                await client.call_tool("echo", {"text": "late"}, timeout=3)
            assert (await in_flight).structured == {"result": 0.5}
            await asyncio.wait_for(stopping, 10)
    assert refused.value.status == grpc.StatusCode.UNAVAILABLE


async def test_listen_streams_end_cleanly_on_shutdown(app):
    async with running(app, drain_seconds=5) as server:
        async with AsyncClient(server.address) as client:
            events = client.listen()
            assert await asyncio.wait_for(events.__anext__(), 10) == ("acknowledged", None)
            started = asyncio.get_running_loop().time()
            await asyncio.wait_for(server.stop(), 10)
            with pytest.raises(StopAsyncIteration):
                await asyncio.wait_for(events.__anext__(), 10)
            assert asyncio.get_running_loop().time() - started < 4  # did not sit out the drain period


async def test_max_message_size_is_enforced(app):
    async with running(app, max_message_bytes=64 * 1024) as server:
        async with AsyncClient(server.address) as client:
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("echo", {"text": "x" * 100_000})
            assert (await client.call_tool("echo", {"text": "small"})).text == "small"
    assert caught.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_channel_options_carry_the_config():
    from mcp_grpc.server import ServerConfig

    options = dict(ServerConfig(keepalive_time=30, max_connection_age=600, max_connection_age_grace=10).channel_options())
    assert options["grpc.keepalive_time_ms"] == 30_000
    assert options["grpc.max_connection_age_ms"] == 600_000
    assert options["grpc.max_connection_age_grace_ms"] == 10_000
    assert options["grpc.max_receive_message_length"] == 4 * 1024 * 1024


def test_a_connection_age_comes_with_a_short_grace_by_default():
    """Without a grace gRPC lets calls on an aged connection run forever: a Listen stream would keep it open."""
    from mcp_grpc.server import ServerConfig

    assert dict(ServerConfig(max_connection_age=2).channel_options())["grpc.max_connection_age_grace_ms"] == 5_000
    assert "grpc.max_connection_age_grace_ms" not in dict(ServerConfig().channel_options())


async def test_a_taken_port_is_a_clear_error(app):
    from mcp_grpc.server import ConfigError, Server, ServerConfig

    async with running(app) as first:
        second = Server(app, ServerConfig(port=first.port, insecure_local=True, handle_signals=False))
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            await second.start()


async def test_extra_interceptors_see_every_call(app):
    seen = []

    class Recorder(grpc.aio.ServerInterceptor):
        async def intercept_service(self, continuation, handler_call_details):
            seen.append(handler_call_details.method)
            return await continuation(handler_call_details)

    async with running(app, interceptors=[Recorder()]) as server:
        async with AsyncClient(server.address) as client:
            await client.call_tool("echo", {"text": "x"})
    assert seen == ["/model_context_protocol.Mcp/CallTool"]
