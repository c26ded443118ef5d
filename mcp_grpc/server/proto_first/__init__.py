"""Protobuf-first tools: a typed gRPC service whose annotated rpcs are also MCP tools.

``app.add_proto_service(servicer, service_descriptor)`` serves the service's own methods and registers every rpc
that carries ``(mcp_grpc.v1.tool)`` as an MCP tool:

- input and output JSON Schemas come from the request and response message descriptors, field comments become
  property descriptions; the method's leading comment is the tool description unless the option overrides it;
- ``authorize`` entries of the option become ``Check``s; their ``{placeholders}`` are required arguments;
- the tool's name is the option's ``name`` or the method name in snake_case (``ListObjects`` -> ``list_objects``).

An rpc carrying ``(mcp_grpc.v1.resource)`` becomes a resource (fixed ``uri``) or a resource template
(``uri_template``, whose variables fill the request fields of the same names); its response is returned as JSON.

Both ways in go down the same ``Pipeline``. A typed call of an rpc that is a tool is authorized exactly as
the tool (kind TOOL, same name, same checks, arguments from the request message), one that is a resource exactly as
a read of the URI its request names (kind RESOURCE), so permissions cannot differ by path; other rpcs are
authorized as kind METHOD with the full method name.

A request's ``buf.validate`` rules and ``google.api.field_behavior = REQUIRED`` are in its tool's input schema
and, with the ``protovalidate`` extra, enforced at both doors before the checks that read the arguments: a typed
call gets INVALID_ARGUMENT with ``google.rpc.BadRequest`` details, an MCP call a tool error.

Modules: ``schema`` (JSON Schema of messages), ``constraints`` (the rules as schema keywords), ``validation`` (their
enforcement), ``tools`` (the entries and ``ProtoService``), ``contexts`` (the servicer contexts a method sees), and
``methods`` (the typed methods behind the pipeline).
"""

from mcp_grpc.server.proto_first.schema import message_schema, snake_case
from mcp_grpc.server.proto_first.tools import ProtoMethod, ProtoResource, ProtoService, ProtoTool

__all__ = ["ProtoMethod", "ProtoResource", "ProtoService", "ProtoTool", "message_schema", "snake_case"]
