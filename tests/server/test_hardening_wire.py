"""Hardening of the wire: undecodable request bytes and statuses chosen by synchronous proto-first methods.

A real grpc.aio server (insecure-local, 127.0.0.1) serves Mcp, McpStreaming and the example proto-first
StorageService; requests are sent as raw bytes so that nothing on the client side parses or fixes them.
"""

from __future__ import annotations

import threading
from typing import Any, AsyncIterator

import grpc
import pytest

from examples.proto_tools.gen import storage_pb2
from examples.proto_tools.server import StorageService
from mcp_grpc import wire
from mcp_grpc.server import McpApp
from mcp_grpc.wire.errors import MCP_ERROR_CODE_KEY, PARSE_ERROR
from mcp_grpc.contract import AuditEvent, AuthenticationFailed
from mcp_grpc.server.runtime import Server, ServerConfig
from mcp_grpc.wire import mcp_pb2, streaming_pb2

VERSION = ((wire.PROTOCOL_VERSION_METADATA_KEY, wire.LATEST_PROTOCOL_VERSION),)
GARBAGE = [b"\xff\xff\xff", b"\x0a\x05ab", b"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80"]


class SyncStorage(StorageService):
    """The example service with synchronous methods that end typed calls in the other ways gRPC allows."""

    def GetStats(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC method name
        context.set_code(grpc.StatusCode.FAILED_PRECONDITION)
        context.set_details("stats are being rebuilt")
        return storage_pb2.GetStatsResponse()

    def GetBucketIndex(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.NOT_FOUND, f"no bucket {request.bucket!r}", (("x-hint", "create it"),))


class Audit:
    """The records of one server. ``last`` waits for a record: a status sent by ``context.abort`` can reach the
    client before the pipeline has written the call's record."""

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.written = threading.Condition()

    def emit(self, event: AuditEvent) -> None:
        with self.written:
            self.events.append(event)
            self.written.notify_all()

    def last(self, method: str, timeout: float = 5.0) -> AuditEvent:
        def matching() -> list[AuditEvent]:
            return [event for event in self.events if event.method == method]

        with self.written:
            if not self.written.wait_for(matching, timeout):
                raise AssertionError(f"no audit record for {method} within {timeout} s")
            return matching()[-1]


class RefuseEveryone:
    def authenticate(self, auth_context: Any, metadata: Any) -> Any:
        raise AuthenticationFailed("no SVID presented")


def make_app(service: StorageService) -> McpApp:
    app = McpApp("hardening")

    @app.tool
    def echo(text: str) -> str:
        return text

    app.add_proto_service(service, storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    return app


def all_methods() -> list[tuple[str, str, bool]]:
    services = [
        mcp_pb2.DESCRIPTOR.services_by_name["Mcp"],
        streaming_pb2.DESCRIPTOR.services_by_name["McpStreaming"],
        storage_pb2.DESCRIPTOR.services_by_name["StorageService"],
    ]
    return [(f"/{s.full_name}/{m.name}", m.input_type.full_name, m.server_streaming)
            for s in services for m in s.methods]


@pytest.fixture
async def served() -> AsyncIterator[tuple[Server, Audit, grpc.aio.Channel]]:
    audit = Audit()
    server = Server(make_app(SyncStorage()), ServerConfig(port=0, insecure_local=True, handle_signals=False,
                                                          audit_sink=audit))
    await server.start()
    channel = grpc.aio.insecure_channel(server.address)
    try:
        yield server, audit, channel
    finally:
        await channel.close()
        await server.stop(0)


async def send(channel: grpc.aio.Channel, path: str, streaming: bool, data: bytes) -> grpc.aio.AioRpcError | None:
    try:
        if streaming:
            call = channel.unary_stream(path)(data, timeout=10, metadata=VERSION)
            async for _ in call:
                call.cancel()
                break
        else:
            await channel.unary_unary(path)(data, timeout=10, metadata=VERSION)
    except grpc.aio.AioRpcError as error:
        return error
    return None


@pytest.mark.parametrize("path, message_type, streaming", all_methods(), ids=[m[0].rsplit("/", 1)[-1] for m in all_methods()])
async def test_undecodable_bytes_are_invalid_argument_with_parse_error_and_an_audit_record(
    path: str, message_type: str, streaming: bool, served: tuple[Server, Audit, grpc.aio.Channel]
) -> None:
    _, audit, channel = served
    for data in GARBAGE:
        error = await send(channel, path, streaming, data)
        assert error is not None and error.code() is grpc.StatusCode.INVALID_ARGUMENT, (data, error)
        assert error.details().startswith(f"request is not a valid {message_type}: "), error.details()
        assert dict(error.trailing_metadata())[MCP_ERROR_CODE_KEY] == str(PARSE_ERROR)
        event = audit.last(path.rsplit("/", 1)[-1])
        assert event.decision == "invalid_argument" and event.principal == "spiffe://insecure.local/dev"
        assert event.reason == error.details()
    # and the server still answers a good request
    good = storage_pb2.GetObjectRequest(bucket="docs", key="readme.md").SerializeToString()
    reply = await channel.unary_unary("/acme.storage.v1.StorageService/GetObject")(good, timeout=10)
    assert storage_pb2.GetObjectResponse.FromString(reply).content == "# Docs\n"


async def test_an_unauthenticated_caller_with_undecodable_bytes_is_unauthenticated() -> None:
    audit = Audit()
    server = Server(make_app(SyncStorage()), ServerConfig(port=0, insecure_local=True, handle_signals=False,
                                                          audit_sink=audit, authenticator=RefuseEveryone()))
    await server.start()
    try:
        async with grpc.aio.insecure_channel(server.address) as channel:
            for path, _, streaming in all_methods():
                error = await send(channel, path, streaming, GARBAGE[0])
                assert error is not None and error.code() is grpc.StatusCode.UNAUTHENTICATED, (path, error)
                assert error.details() == "no SVID presented"
                assert audit.last(path.rsplit("/", 1)[-1]).decision == "unauthenticated"
    finally:
        await server.stop(0)


async def test_a_sync_method_aborts_a_typed_call(served: tuple[Server, Audit, grpc.aio.Channel]) -> None:
    _, audit, channel = served
    request = storage_pb2.PutObjectRequest(bucket="b", key="folder/", content="x").SerializeToString()
    error = await send(channel, "/acme.storage.v1.StorageService/PutObject", False, request)
    assert error is not None
    reason = "a key ending in '/' names a folder, not an object"
    assert (error.code(), error.details()) == (grpc.StatusCode.INVALID_ARGUMENT, reason)
    event = audit.last("PutObject")
    assert (event.decision, event.reason) == ("invalid_argument", reason)
    # nothing was stored: the method stopped at the abort
    ok = storage_pb2.PutObjectRequest(bucket="b", key="k", content="x").SerializeToString()
    assert await send(channel, "/acme.storage.v1.StorageService/PutObject", False, ok) is None
    listed = await channel.unary_unary("/acme.storage.v1.StorageService/ListObjects")(
        storage_pb2.ListObjectsRequest(bucket="b").SerializeToString(), timeout=10)
    assert [o.key for o in storage_pb2.ListObjectsResponse.FromString(listed).objects] == ["k"]


async def test_a_sync_method_abort_carries_its_trailing_metadata(served: tuple[Server, Audit, grpc.aio.Channel]) -> None:
    _, audit, channel = served
    request = storage_pb2.GetBucketIndexRequest(bucket="nope").SerializeToString()
    error = await send(channel, "/acme.storage.v1.StorageService/GetBucketIndex", False, request)
    assert error is not None and (error.code(), error.details()) == (grpc.StatusCode.NOT_FOUND, "no bucket 'nope'")
    assert dict(error.trailing_metadata())["x-hint"] == "create it"
    assert audit.last("GetBucketIndex").decision == "error"


async def test_a_sync_method_set_code_and_details_end_the_call(served: tuple[Server, Audit, grpc.aio.Channel]) -> None:
    _, audit, channel = served
    error = await send(channel, "/acme.storage.v1.StorageService/GetStats", False, b"")
    assert error is not None
    assert (error.code(), error.details()) == (grpc.StatusCode.FAILED_PRECONDITION, "stats are being rebuilt")
    assert audit.last("GetStats").reason == "stats are being rebuilt"


async def test_an_async_method_abort_is_audited_with_its_status(served: tuple[Server, Audit, grpc.aio.Channel]) -> None:
    _, audit, channel = served
    request = storage_pb2.GetObjectRequest(bucket="docs", key="missing").SerializeToString()
    error = await send(channel, "/acme.storage.v1.StorageService/GetObject", False, request)
    assert error is not None and error.code() is grpc.StatusCode.NOT_FOUND
    event = audit.last("GetObject")
    assert (event.decision, event.reason) == ("error", error.details())
