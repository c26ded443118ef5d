"""Proto-first tools: one servicer served as typed gRPC and as MCP tools, down the same pipeline."""

from __future__ import annotations

import json

import grpc
import pytest

from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
from examples.proto_tools.server import StorageService
from mcp_grpc.client import AsyncClient
from mcp_grpc.server import McpApp
from mcp_grpc.contract import TargetKind
from mcp_grpc.server.proto_first import snake_case

from tests.server.server_support import HeaderAuthenticator, ListAuditSink, TableAuthorizer
from tests.support.servers import running

SERVICE = storage_pb2.DESCRIPTOR.services_by_name["StorageService"]
ALICE = "spiffe://example.org/alice"


@pytest.fixture
def storage_app() -> McpApp:
    app = McpApp("storage")
    app.add_proto_service(StorageService(), SERVICE)
    return app


def test_tools_come_from_options_and_comments(storage_app):
    tools = storage_app.tools
    assert set(tools) == {"list_objects", "read_object", "put_object"}  # GetStats has no option: not a tool
    listing = tools["list_objects"]
    assert listing.description == "Lists the objects of a bucket, optionally only those whose key starts with a prefix."
    assert listing.input_schema["properties"]["bucket"] == {  # field_behavior REQUIRED and buf.validate rules
        "type": "string", "minLength": 1, "maxLength": 63, "pattern": "^[a-z0-9][a-z0-9.-]*$",
        "description": "The bucket to list.",
    }
    assert listing.input_schema["required"] == ["bucket"]
    assert tools["read_object"].input_schema["required"] == ["bucket", "key"]  # key: (buf.validate.field).required
    assert listing.input_schema["properties"]["limit"]["type"] == "integer"
    assert listing.output_schema["properties"]["objects"]["type"] == "array"
    assert listing.annotations.read_only is True and listing.annotations.destructive is None
    assert [(c.relation, c.object_template) for c in tools["put_object"].checks] == [("can_write", "bucket:{bucket}")]
    assert tools["read_object"].title == "Read an object"


def test_resource_templates_come_from_options(storage_app):
    entry = storage_app.resource_templates["storage://{bucket}/index"]
    assert entry.name == "bucket_index"
    assert entry.description == "The index of a bucket: every object's key and size."
    assert [(c.relation, c.object_template) for c in entry.checks] == [("can_read", "bucket:{bucket}")]


async def test_resource_read_and_its_errors(storage_app):
    from mcp_grpc.client import McpCallError

    async with running(storage_app) as server:
        async with AsyncClient(server.address) as client:
            templates = [t.uri for t in await client.list_resource_templates()]
            [contents] = await client.read_resource("storage://docs/index")
            with pytest.raises(McpCallError) as missing:
                await client.read_resource("storage://nobucket/index")
    assert templates == ["storage://{bucket}/index"]
    assert contents.mime_type == "application/json"
    assert json.loads(contents.text) == {"objects": [{"key": "guide.md", "size": "14"}, {"key": "readme.md", "size": "7"}]}
    assert missing.value.status == grpc.StatusCode.NOT_FOUND and missing.value.mcp_code == -32002
    assert "no bucket 'nobucket'" in missing.value.message


async def test_typed_resource_calls_are_authorized_as_the_resource(storage_app):
    authorizer = TableAuthorizer({(ALICE, "can_call", "resource:storage://docs/index"), (ALICE, "can_read", "bucket:docs")})
    async with running(storage_app, authenticator=HeaderAuthenticator(), authorizer=authorizer, insecure_local=True) as server:
        metadata = [("x-test-identity", ALICE)]
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            index = await stub.GetBucketIndex(storage_pb2.GetBucketIndexRequest(bucket="docs"), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as denied:
                await stub.GetBucketIndex(storage_pb2.GetBucketIndexRequest(bucket="other"), metadata=metadata)
        async with AsyncClient(server.address, metadata=lambda: metadata) as client:
            via_mcp = await client.read_resource("storage://docs/index")
    assert len(index.objects) == 2 and json.loads(via_mcp[0].text)["objects"][0]["key"] == "guide.md"
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert [(t.kind, t.name, dict(t.arguments)) for t in authorizer.targets] == [
        (TargetKind.RESOURCE, "storage://docs/index", {"bucket": "docs"}),
        (TargetKind.RESOURCE, "storage://other/index", {"bucket": "other"}),
        (TargetKind.RESOURCE, "storage://docs/index", {"bucket": "docs"}),
    ]


def test_snake_case():
    assert [snake_case(n) for n in ("ListObjects", "GetHTTPStatus", "Get")] == ["list_objects", "get_http_status", "get"]


async def test_callable_both_ways(storage_app):
    async with running(storage_app) as server:
        async with AsyncClient(server.address) as client:
            put = await client.call_tool("put_object", {"bucket": "b1", "key": "k", "content": "hello"})
            missing = await client.call_tool("read_object", {"bucket": "b1", "key": "nope"})
            bad = await client.call_tool("list_objects", {"bucket": "b1", "limit": 1.5})
            no_bucket = await client.call_tool("list_objects", {"prefix": "k"})
            extra = await client.call_tool("list_objects", {"bucket": "b1", "colour": "red"})
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            got = await stub.GetObject(storage_pb2.GetObjectRequest(bucket="b1", key="k"), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.GetObject(storage_pb2.GetObjectRequest(bucket="b1", key="nope"), timeout=10)
            stats = await stub.GetStats(storage_pb2.GetStatsRequest(), timeout=10)
    assert put.structured == {"info": {"key": "k", "size": "5"}}
    assert missing.is_error and missing.text == "NOT_FOUND: no object 'nope' in bucket 'b1'"
    assert bad.is_error and "limit:" in bad.text
    assert no_bucket.is_error and "bucket: required argument is missing" in no_bucket.text
    assert extra.is_error and "colour: unexpected argument" in extra.text
    assert got.content == "hello"
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND  # typed callers get the servicer's own status
    assert stats.objects >= 3


async def test_both_paths_are_authorized_identically(storage_app):
    allowed = {
        (ALICE, "can_call", "tool:read_object"),
        (ALICE, "can_read", "bucket:docs"),
    }
    authorizer = TableAuthorizer(allowed)
    audit = ListAuditSink()
    async with running(
        storage_app, authenticator=HeaderAuthenticator(), authorizer=authorizer, audit_sink=audit, insecure_local=True
    ) as server:
        metadata = [("x-test-identity", ALICE)]
        async with AsyncClient(server.address, metadata=lambda: metadata) as client:
            ok = await client.call_tool("read_object", {"bucket": "docs", "key": "readme.md"})
            denied_mcp = await _status(client.call_tool("read_object", {"bucket": "secret", "key": "x"}))
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            typed_ok = await stub.GetObject(storage_pb2.GetObjectRequest(bucket="docs", key="readme.md"), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as denied_typed:
                await stub.GetObject(storage_pb2.GetObjectRequest(bucket="secret", key="x"), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as stats_denied:
                await stub.GetStats(storage_pb2.GetStatsRequest(), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError) as anonymous:
                await stub.GetObject(storage_pb2.GetObjectRequest(bucket="docs", key="readme.md"))
    assert ok.structured["content"] == "# Docs\n" and typed_ok.content == "# Docs\n"
    assert denied_mcp == grpc.StatusCode.PERMISSION_DENIED
    assert denied_typed.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "bucket:secret" in denied_typed.value.details()
    assert stats_denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    typed_targets = [t for t in authorizer.targets if t.service == "acme.storage.v1.StorageService"]
    assert [(t.kind, t.name, t.arguments.get("bucket")) for t in typed_targets] == [
        (TargetKind.TOOL, "read_object", "docs"),
        (TargetKind.TOOL, "read_object", "secret"),
        (TargetKind.METHOD, "/acme.storage.v1.StorageService/GetStats", None),
    ]
    assert [e.decision for e in audit.events] == ["allow", "deny", "allow", "deny", "deny", "unauthenticated"]


async def _status(coroutine):
    from mcp_grpc.client import McpCallError

    try:
        await coroutine
    except McpCallError as error:
        return error.status
    return grpc.StatusCode.OK


def test_a_template_naming_no_field_is_refused_at_registration():
    from google.protobuf import descriptor_pb2, descriptor_pool

    from mcp_grpc.wire import options_pb2

    pool = descriptor_pool.Default()
    file = descriptor_pb2.FileDescriptorProto(name="bad_tool_test.proto", package="badtool", syntax="proto3")
    file.dependency.append("mcp_grpc/v1/options.proto")
    file.message_type.add(name="Req").field.add(name="bucket", number=1, type=9, label=1)
    method = file.service.add(name="Svc").method.add(name="Do", input_type=".badtool.Req", output_type=".badtool.Req")
    option = method.options.Extensions[options_pb2.tool]
    option.authorize.add(relation="can_read", object_template="bucket:{buckett}")
    pool.Add(file)
    service = pool.FindServiceByName("badtool.Svc")

    class Servicer:
        async def Do(self, request, context):
            return request

    with pytest.raises(ValueError, match=r"\{buckett\}.*not a field"):
        McpApp("x").add_proto_service(Servicer(), service)
