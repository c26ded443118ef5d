"""Our model_context_protocol descriptors against the published mcp-grpc-transport-proto 0.2.0, and bytes across.

The published package runs in a separate process (see published_peer.py); this process holds only ours.
"""

from __future__ import annotations

import base64
from typing import Any, Iterator

from google.protobuf import descriptor_pb2, json_format

from mcp_grpc.wire import mcp_messages_pb2, mcp_pb2, streaming_pb2

FDP = descriptor_pb2.FileDescriptorProto
PACKAGE = "model_context_protocol"


def _ours() -> list[FDP]:
    files = []
    for module in (mcp_messages_pb2, mcp_pb2):
        proto = FDP()
        module.DESCRIPTOR.CopyToProto(proto)
        files.append(proto)
    return files


def _theirs(published_peer: Any) -> list[FDP]:
    return [FDP.FromString(base64.b64decode(f)) for f in published_peer({"op": "descriptors"})["files"]]


def _walk_messages(scope: str, messages: Any) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    for message in messages:
        name = f"{scope}.{message.name}"
        yield name, message
        yield from _walk_messages(name, message.nested_type)


def _shape(files: list[FDP]) -> dict[str, Any]:
    """Everything that decides wire compatibility and generated names, keyed by full name."""
    shape: dict[str, Any] = {}
    for file in files:
        if file.package != PACKAGE:
            continue
        prefix = file.package
        for name, message in _walk_messages(prefix, file.message_type):
            oneofs = [o.name for o in message.oneof_decl]
            shape[f"message {name}"] = {
                "map_entry": message.options.map_entry,
                "oneofs": sorted(oneofs),
            }
            for field in message.field:
                shape[f"field {name}.{field.name}"] = {
                    "number": field.number,
                    "type": descriptor_pb2.FieldDescriptorProto.Type.Name(field.type),
                    "label": descriptor_pb2.FieldDescriptorProto.Label.Name(field.label),
                    "type_name": field.type_name,
                    "proto3_optional": field.proto3_optional,
                    "oneof": oneofs[field.oneof_index] if field.HasField("oneof_index") else None,
                    "deprecated": field.options.deprecated,
                }
            for enum in message.enum_type:
                for value in enum.value:
                    shape[f"enum value {name}.{enum.name}.{value.name}"] = value.number
        for enum in file.enum_type:
            for value in enum.value:
                shape[f"enum value {prefix}.{enum.name}.{value.name}"] = value.number
        for service in file.service:
            shape[f"service {prefix}.{service.name}"] = sorted(m.name for m in service.method)
            for method in service.method:
                shape[f"method {prefix}.{service.name}.{method.name}"] = {
                    "input": method.input_type,
                    "output": method.output_type,
                    "client_streaming": method.client_streaming,
                    "server_streaming": method.server_streaming,
                }
    return shape


def describe_differences(ours: list[FDP], theirs: list[FDP]) -> list[str]:
    """Each way our package differs from the published one; empty when compatible."""
    mine, published = _shape(ours), _shape(theirs)
    problems = []
    for key in sorted(published.keys() | mine.keys()):
        if key not in mine:
            problems.append(f"missing in ours: {key} = {published[key]}")
        elif key not in published:
            problems.append(f"not in the published package: {key} = {mine[key]}")
        elif mine[key] != published[key]:
            problems.append(f"{key}: ours {mine[key]} != published {published[key]}")
    return problems


def test_published_descriptors_are_the_ones_we_compare(published_peer):
    theirs = _theirs(published_peer)
    assert [f.name for f in theirs] == ["mcp_messages.proto", "mcp.proto"]
    shape = _shape(theirs)
    # Enough of the published package to know the comparison sees all of it.
    assert "method model_context_protocol.Mcp.CallTool" in shape
    assert len([k for k in shape if k.startswith("message ")]) > 50


def test_every_message_enum_and_method_matches_the_published_package(published_peer):
    problems = describe_differences(_ours(), _theirs(published_peer))
    assert not problems, "model_context_protocol differs from mcp-grpc-transport-proto 0.2.0:\n" + "\n".join(problems)


def test_the_comparison_reports_a_changed_number_a_missing_field_and_a_streaming_flag(published_peer):
    theirs = _theirs(published_peer)
    ours = _ours()
    messages = next(f for f in ours if f.name.endswith("mcp_messages.proto"))
    tool = next(m for m in messages.message_type if m.name == "Tool")
    next(f for f in tool.field if f.name == "title").number = 66
    request_fields = next(m for m in messages.message_type if m.name == "RequestFields")
    del request_fields.field[0]
    service = next(f for f in ours if f.service).service[0]
    service.method[0].server_streaming = True
    problems = describe_differences(ours, theirs)
    assert any("field model_context_protocol.Tool.title" in p and "66" in p for p in problems), problems
    assert any(p.startswith("missing in ours: field model_context_protocol.RequestFields.metadata") for p in problems)
    assert any("method model_context_protocol.Mcp.ListResources" in p for p in problems), problems
    assert len(problems) == 3, problems


def _rich_messages() -> list[Any]:
    m = mcp_messages_pb2
    call = m.CallToolResponse(is_error=False)
    call.content.add().text.text = "3 objects"
    image = call.content.add().image
    image.data, image.mime_type = b"\x89PNG\x00\xff", "image/png"
    image.annotations.priority = 0.5
    image.annotations.audience.append(m.ROLE_USER)
    call.content.add().resource_link.uri = "files://a.txt"
    call.structured_content.update({"count": 3, "names": ["a", "b", "c"], "nested": {"ok": True}})
    call.common.result_type = m.RESULT_TYPE_INPUT_REQUIRED
    call.common.request_state = "s1"
    form = call.common.input_requests["confirm"].elicit_request
    form.message = "Really?"
    form.requested_schema["sure"].boolean_schema.default = True
    form.requested_schema["age"].number_schema.integer_range.minimum = 0
    form.required_fields.append("sure")

    listed = m.ListResourceTemplatesResponse(cache_scope=m.CACHE_SCOPE_PUBLIC)
    listed.resource_templates.add(uri_template="files://{path}", name="files", title="Files", mime_type="text/plain")
    listed.ttl.FromMilliseconds(60_000)
    listed.common.metadata.update({"nextCursor": "opaque"})

    complete = m.CompletionRequest()
    complete.prompt_reference.name = "greet"
    complete.argument.name, complete.argument.value = "lang", "py"
    complete.context.arguments["style"] = "short"
    complete.common.metadata.update({"cursor": "c"})

    prompt = m.GetPromptResponse(description="d")
    prompt.messages.add(role=m.ROLE_ASSISTANT).embedded_resource.contents.blob = b"\x00\x01"
    return [call, listed, complete, prompt, m.CompletionResponse(values=["a"], total_matches=0, has_more=True)]


def test_messages_we_serialize_parse_identically_with_the_published_classes_and_back(published_peer):
    originals = _rich_messages()
    answer = published_peer(
        {
            "op": "roundtrip",
            "messages": [
                [m.DESCRIPTOR.full_name, base64.b64encode(m.SerializeToString()).decode()] for m in originals
            ],
        }
    )
    for original, theirs in zip(originals, answer["messages"], strict=True):
        # Same field names for the same numbers: their JSON view equals ours.
        assert theirs["dict"] == json_format.MessageToDict(original, preserving_proto_field_name=True)
        back = type(original).FromString(base64.b64decode(theirs["bytes"]))
        assert back == original
    # proto3 optional presence survives the trip (total_matches = 0 is set, not absent).
    assert answer["messages"][-1]["dict"]["total_matches"] == "0"


def test_messages_the_published_classes_build_parse_with_ours(published_peer):
    built = published_peer({"op": "build"})
    call_bytes = base64.b64decode(built["model_context_protocol.CallToolRequest"])
    call = mcp_messages_pb2.CallToolRequest.FromString(call_bytes)
    assert call.request.name == "read_object"
    assert call.request.arguments["limit"] == 3
    assert call.common.metadata["cursor"] == "page-2"
    assert call.common.request_state == "opaque-state"
    response = call.common.input_responses["confirm"].elicit_result
    assert response.type == mcp_messages_pb2.ElicitResult.TYPE_ACCEPT and response.content["ok"] is True

    listed = mcp_messages_pb2.ListToolsResponse.FromString(
        base64.b64decode(built["model_context_protocol.ListToolsResponse"])
    )
    assert listed.tools[0].input_schema["required"] == ["text"]
    assert listed.tools[0].annotations.read_only_hint
    assert listed.ttl.ToMilliseconds() == 1500
    assert listed.cache_scope == mcp_messages_pb2.CACHE_SCOPE_PRIVATE
    assert listed.common.metadata["nextCursor"] == "c2"

    # CallToolStreamRequest is CallToolRequest on the wire: a published CallToolRequest is a valid stream request.
    stream = streaming_pb2.CallToolStreamRequest.FromString(call_bytes)
    assert stream.request == call.request and stream.common == call.common
    assert mcp_messages_pb2.CallToolRequest.FromString(stream.SerializeToString()) == call
