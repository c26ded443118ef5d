"""(mcp_grpc.v1.tool) and (mcp_grpc.v1.resource) written in a proto, generated, and read back at run time."""

from __future__ import annotations

import importlib
import uuid

import pytest

from mcp_grpc.wire import leading_comments, options_pb2
from mcp_grpc.wire._generate import generate

PROTO = """\
syntax = "proto3";

package {package}.v1;

import "google/protobuf/struct.proto";
import "mcp_grpc/v1/options.proto";

// Object storage.
service Storage {{
  // Lists the objects of a bucket.
  rpc ListObjects(ListObjectsRequest) returns (ListObjectsResponse) {{
    option (mcp_grpc.v1.tool) = {{
      name: "list_objects"
      title: "List objects"
      read_only: true
      idempotent: false
      authorize: {{relation: "can_read" object_template: "bucket:{{bucket}}"}}
      authorize: {{relation: "member" object_template: "org:{{location.org}}"}}
    }};
  }}
  // Reads one object.
  rpc GetObject(GetObjectRequest) returns (GetObjectResponse) {{
    option (mcp_grpc.v1.resource) = {{
      uri_template: "buckets://{{bucket}}/{{key}}"
      mime_type: "application/json"
      authorize: {{relation: "can_read" object_template: "object:{{bucket}}/{{key}}"}}
    }};
  }}
  // Not exposed to MCP.
  rpc Compact(GetObjectRequest) returns (GetObjectResponse);
}}

message Location {{
  string org = 1;
}}

message ListObjectsRequest {{
  // The bucket to list.
  string bucket = 1;
  Location location = 2;
  google.protobuf.Struct filter = 3;
}}

message ListObjectsResponse {{
  repeated string keys = 1;
}}

message GetObjectRequest {{
  string bucket = 1;
  string key = 2;
}}

message GetObjectResponse {{
  bytes data = 1;
}}
"""


@pytest.fixture(scope="module")
def storage(tmp_path_factory: pytest.TempPathFactory):
    """A proto-first service generated into a fresh package and imported (unique names: the pool is global)."""
    unique = f"wiretest{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("protos")
    proto = root / unique / "v1" / "storage.proto"
    proto.parent.mkdir(parents=True)
    proto.write_text(PROTO.format(package=unique))
    site = tmp_path_factory.mktemp("site")
    written = generate(root, [f"{unique}/v1/storage.proto"], site / unique, unique)
    assert sorted(p.name for p in written) == ["storage_pb2.py", "storage_pb2.pyi", "storage_pb2_grpc.py"]
    with pytest.MonkeyPatch.context() as patch:  # the generated package is importable only while it is imported
        patch.syspath_prepend(str(site))
        pb2 = importlib.import_module(f"{unique}.storage_pb2")
        grpc_module = importlib.import_module(f"{unique}.storage_pb2_grpc")
    return pb2, grpc_module, site / unique


def method(storage, name: str):
    pb2 = storage[0]
    return pb2.DESCRIPTOR.services_by_name["Storage"].methods_by_name[name]


def test_tool_options_read_back_from_the_method_descriptor(storage):
    options = method(storage, "ListObjects").GetOptions()
    assert options.HasExtension(options_pb2.tool)
    assert not options.HasExtension(options_pb2.resource)
    tool = options.Extensions[options_pb2.tool]
    assert (tool.name, tool.title, tool.description) == ("list_objects", "List objects", "")
    # Annotations are optional: set-to-false differs from unset.
    assert tool.HasField("read_only") and tool.read_only is True
    assert tool.HasField("idempotent") and tool.idempotent is False
    assert not tool.HasField("destructive") and not tool.HasField("open_world")
    assert [(c.relation, c.object_template) for c in tool.authorize] == [
        ("can_read", "bucket:{bucket}"),
        ("member", "org:{location.org}"),
    ]


def test_resource_options_read_back_with_the_template_in_the_oneof(storage):
    options = method(storage, "GetObject").GetOptions()
    resource = options.Extensions[options_pb2.resource]
    assert resource.WhichOneof("target") == "uri_template"
    assert resource.uri_template == "buckets://{bucket}/{key}"
    assert resource.mime_type == "application/json"
    assert resource.authorize[0].object_template == "object:{bucket}/{key}"


def test_a_method_without_options_is_not_a_tool(storage):
    options = method(storage, "Compact").GetOptions()
    assert not options.HasExtension(options_pb2.tool)
    assert not options.HasExtension(options_pb2.resource)


def test_proto_comments_are_available_as_descriptions(storage):
    pb2 = storage[0]
    assert leading_comments(method(storage, "ListObjects")) == "Lists the objects of a bucket."
    assert leading_comments(pb2.DESCRIPTOR.services_by_name["Storage"]) == "Object storage."
    assert leading_comments(pb2.ListObjectsRequest.DESCRIPTOR.fields_by_name["bucket"]) == "The bucket to list."
    assert leading_comments(pb2.ListObjectsResponse.DESCRIPTOR.fields_by_name["keys"]) == ""


def test_generated_code_imports_the_options_from_mcp_grpc_wire(storage):
    text = (storage[2] / "storage_pb2.py").read_text()
    assert "from mcp_grpc.wire import options_pb2 as" in text
    assert "from google.protobuf import struct_pb2 as" in text
    assert hasattr(storage[1], "StorageServicer") and hasattr(storage[1], "add_StorageServicer_to_server")
