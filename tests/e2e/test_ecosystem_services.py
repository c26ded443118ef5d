"""Issue 12, finding 7: reflection and health inside the chain, over the wire against the demo server.

Reflection is a call like any other (authenticated, authorized as a server-level method, audited) and is off on a
server with transport security unless asked for; the plaintext health port answers only the overall status.
"""

from __future__ import annotations

from typing import AsyncIterator

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from tests.support.e2e import (
    AUDITOR_ID,
    BILLING_ID,
    SERVER_DNS,
    DevWorkloadApi,
    RunningServer,
    bundle_pem,
    fresh_config_fields,
    mtls_channel,
    start_server,
    svid_pems,
)
from tests.support.ports import free_port

pytestmark = pytest.mark.asyncio(loop_scope="package")

REFLECTION = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def reflecting(server_identity, demo_authorizer, tmp_path_factory) -> AsyncIterator[RunningServer]:
    """The demo app with reflection asked for and a plaintext health port."""
    from examples.demo.server import app

    fields = {**fresh_config_fields(server_identity), "reflection": True, "health_port": free_port()}
    running = await start_server(app, fields, demo_authorizer,
                                 tmp_path_factory.mktemp("reflection-audit") / "audit.jsonl")
    yield running
    await running.stop()


def _agent_channel(api: DevWorkloadApi, workload: str, address: str) -> grpc.aio.Channel:
    from mcp_grpc.identity.sources import WorkloadX509Source

    source = WorkloadX509Source(api.socket(workload))
    try:
        chain, key = svid_pems(source)
    finally:
        source.close()
    return mtls_channel(address, bundle_pem(api), chain, key)


async def _list_services(channel: grpc.aio.Channel) -> list[str] | grpc.StatusCode:
    async with channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        try:
            responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                                  timeout=10)
            async for response in responses:
                return sorted(s.name for s in response.list_services_response.service)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return []


async def test_reflection_lists_services_to_a_caller_of_the_server_and_is_audited(reflecting, workload_api):
    mark = reflecting.audit_mark()
    services = await _list_services(_agent_channel(workload_api, "auditor", reflecting.address))
    assert isinstance(services, list) and "model_context_protocol.Mcp" in services, services
    [record] = reflecting.audit_since(mark, expect=1)
    assert (record["principal"], record["decision"], record["method"]) == (AUDITOR_ID, "allow",
                                                                          "ServerReflectionInfo")
    assert record["checks"] == [{"relation": "can_call", "object": f"method:payments/{REFLECTION}",
                                 "result": "allowed"}]


async def test_reflection_is_denied_without_a_server_level_grant(reflecting, workload_api):
    """billing-agent may call three tools, but is no caller of the server: reflection tells it nothing."""
    mark = reflecting.audit_mark()
    assert await _list_services(_agent_channel(workload_api, "billing-agent", reflecting.address)) == (
        grpc.StatusCode.PERMISSION_DENIED)
    [record] = reflecting.audit_since(mark, expect=1)
    assert (record["principal"], record["decision"]) == (BILLING_ID, "deny")


async def test_reflection_refuses_a_certificate_the_authenticator_refuses(reflecting, workload_api, our_ca):
    """The attack of the finding: a leaf with two URI SANs completes the TLS handshake; reflection used to answer."""
    from tests.support.certfactory import key_pem, pem

    cert, key = our_ca.issue_leaf(uris=[BILLING_ID, AUDITOR_ID], with_eku=True)
    mark = reflecting.audit_mark()
    channel = mtls_channel(reflecting.address, bundle_pem(workload_api), pem(cert), key_pem(key))
    assert await _list_services(channel) == grpc.StatusCode.UNAUTHENTICATED
    [record] = reflecting.audit_since(mark, expect=1)
    assert (record["principal"], record["decision"], record["method"]) == (None, "unauthenticated",
                                                                          "ServerReflectionInfo")


async def test_a_server_with_transport_security_serves_no_reflection_unless_asked(payments, workload_api):
    assert await _list_services(_agent_channel(workload_api, "auditor", payments.address)) == (
        grpc.StatusCode.UNIMPLEMENTED)


async def test_the_plaintext_health_port_answers_only_the_overall_status(reflecting):
    port = reflecting.server.config.health_port
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        overall = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
        answers = {}
        for service in ("model_context_protocol.Mcp", "mcp_grpc.v1.McpStreaming", "no.such.Service"):
            try:
                await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
                answers[service] = "answered"
            except grpc.aio.AioRpcError as error:
                answers[service] = error.code()
    assert overall.status == health_pb2.HealthCheckResponse.SERVING
    assert set(answers.values()) == {grpc.StatusCode.NOT_FOUND}, answers  # a real service and a made-up one alike


async def test_the_health_port_can_be_told_to_answer_every_service(server_identity, demo_authorizer, tmp_path):
    from examples.demo.server import app

    fields = {**fresh_config_fields(server_identity), "health_port": free_port(), "health_port_services": True}
    running = await start_server(app, fields, demo_authorizer, tmp_path / "audit.jsonl")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{fields['health_port']}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            response = await stub.Check(health_pb2.HealthCheckRequest(service="model_context_protocol.Mcp"),
                                        timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await running.stop()


async def test_a_health_port_in_use_is_a_clear_error(server_identity, demo_authorizer, tmp_path):
    """The health port is bound without SO_REUSEPORT: a port another process holds is refused, not shared."""
    import socket

    from examples.demo.server import app
    from mcp_grpc.server.runtime import ConfigError

    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # what a grpc server with its defaults does
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        fields = {**fresh_config_fields(server_identity), "health_port": taken.getsockname()[1]}
        with pytest.raises(ConfigError, match="cannot listen for health checks"):
            await start_server(app, fields, demo_authorizer, tmp_path / "audit.jsonl")
    finally:
        taken.close()
