"""A peer that speaks only the published ``mcp_grpc_transport_proto`` 0.2.0 package; run as a subprocess.

Our generated descriptors share symbol names with the published ones, and protobuf's default pool refuses a second,
differing definition of a symbol, so the two never meet in one process. Reads one JSON command from stdin and writes
one JSON answer to stdout:

- ``{"op": "descriptors"}`` -> ``{"files": [base64 FileDescriptorProto, ...]}``
- ``{"op": "roundtrip", "messages": [[type_name, base64 bytes], ...]}`` -> for each: the message as
  MessageToDict and re-serialized, after the published class parsed it.
- ``{"op": "build"}`` -> messages built with the published classes: ``{type_name: base64 bytes}``.
"""

from __future__ import annotations

import base64
import json
import sys

from google.protobuf import json_format
from mcp_grpc_transport_proto import mcp_messages_pb2, mcp_pb2


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def descriptors() -> dict:
    from google.protobuf import descriptor_pb2

    files = []
    for module in (mcp_messages_pb2, mcp_pb2):
        proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(proto)
        files.append(_b64(proto.SerializeToString()))
    return {"files": files}


def message_class(type_name: str):
    package, _, path = type_name.partition(".")
    assert package == "model_context_protocol", type_name
    parts = path.split(".")
    cls = getattr(mcp_messages_pb2, parts[0])
    for part in parts[1:]:
        cls = getattr(cls, part)
    return cls


def roundtrip(messages: list) -> dict:
    out = []
    for type_name, data in messages:
        message = message_class(type_name).FromString(base64.b64decode(data))
        out.append(
            {
                "type": type_name,
                "dict": json_format.MessageToDict(message, preserving_proto_field_name=True),
                "bytes": _b64(message.SerializeToString(deterministic=True)),
            }
        )
    return {"messages": out}


def build() -> dict:
    m = mcp_messages_pb2
    call = m.CallToolRequest()
    call.common.metadata.update({"cursor": "page-2", "progressToken": "t1"})
    call.common.request_state = "opaque-state"
    call.common.input_responses["confirm"].elicit_result.type = m.ElicitResult.TYPE_ACCEPT
    call.common.input_responses["confirm"].elicit_result.content.update({"ok": True})
    call.request.name = "read_object"
    call.request.arguments.update({"bucket": "b1", "limit": 3})
    listed = m.ListToolsResponse()
    tool = listed.tools.add(name="echo", title="Echo", description="Says it back")
    tool.input_schema.update({"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]})
    tool.annotations.read_only_hint = True
    listed.common.metadata.update({"nextCursor": "c2"})
    listed.ttl.FromMilliseconds(1500)
    listed.cache_scope = m.CACHE_SCOPE_PRIVATE
    return {
        "model_context_protocol.CallToolRequest": _b64(call.SerializeToString()),
        "model_context_protocol.ListToolsResponse": _b64(listed.SerializeToString()),
    }


def main() -> int:
    command = json.load(sys.stdin)
    op = command["op"]
    if op == "descriptors":
        answer = descriptors()
    elif op == "roundtrip":
        answer = roundtrip(command["messages"])
    elif op == "build":
        answer = build()
    else:
        print(f"unknown op {op!r}", file=sys.stderr)
        return 2
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
