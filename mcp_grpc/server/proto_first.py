"""Protobuf-first tools: a typed gRPC service whose annotated rpcs are also MCP tools.

``app.add_proto_service(servicer, service_descriptor)`` serves the service's own methods and registers every rpc
that carries ``(mcp_grpc.v1.tool)`` as an MCP tool:

- input and output JSON Schemas come from the request and response message descriptors, field comments become
  property descriptions; the method's leading comment is the tool description unless the option overrides it;
- ``authorize`` entries of the option become ``Check``s; their ``{placeholders}`` are required arguments;
- the tool's name is the option's ``name`` or the method name in snake_case (``ListObjects`` -> ``list_objects``).

An rpc carrying ``(mcp_grpc.v1.resource)`` becomes a resource (fixed ``uri``) or a resource template
(``uri_template``, whose variables fill the request fields of the same names); its response is returned as JSON.

Both ways in are guarded by the same ``CallChain``. A typed call of an rpc that is a tool is authorized exactly as
the tool (kind TOOL, same name, same checks, arguments from the request message), one that is a resource exactly as
a read of the URI its request names (kind RESOURCE), so permissions cannot differ by path; other rpcs are
authorized as kind METHOD with the full method name.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import dataclasses
import functools
import inspect
import json
import re
from typing import Any, Callable, Mapping, Sequence

import grpc
import jsonschema
from google.protobuf import descriptor as _descriptor
from google.protobuf import json_format, message_factory

from mcp_grpc import wire
from mcp_grpc.contract import Check
from mcp_grpc.server.context import _CURRENT, Context
from mcp_grpc.wire import errors
from mcp_grpc.server.registry import ResourceContent, ToolAnnotations, ToolResult
from mcp_grpc.server.schema import ArgumentError, render_text
from mcp_grpc.server.uri_template import UriTemplate, UriTemplateError
from mcp_grpc.wire import options_pb2

_FD = _descriptor.FieldDescriptor
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

_SCALARS: dict[int, dict[str, Any]] = {
    _FD.TYPE_DOUBLE: {"type": "number"},
    _FD.TYPE_FLOAT: {"type": "number"},
    _FD.TYPE_INT32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_SINT32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_SFIXED32: {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    _FD.TYPE_UINT32: {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    _FD.TYPE_FIXED32: {"type": "integer", "minimum": 0, "maximum": 2**32 - 1},
    # 64-bit integers: proto JSON writes them as strings, and accepts numbers or strings.
    _FD.TYPE_INT64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_SINT64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_SFIXED64: {"type": ["integer", "string"], "format": "int64"},
    _FD.TYPE_UINT64: {"type": ["integer", "string"], "format": "uint64"},
    _FD.TYPE_FIXED64: {"type": ["integer", "string"], "format": "uint64"},
    _FD.TYPE_BOOL: {"type": "boolean"},
    _FD.TYPE_STRING: {"type": "string"},
    _FD.TYPE_BYTES: {"type": "string", "contentEncoding": "base64"},
}

_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.Struct": {"type": "object"},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Empty": {"type": "object", "properties": {}},
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.DoubleValue": {"type": ["number", "null"]},
    "google.protobuf.FloatValue": {"type": ["number", "null"]},
    "google.protobuf.Int32Value": {"type": ["integer", "null"]},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"]},
    "google.protobuf.Int64Value": {"type": ["integer", "string", "null"]},
    "google.protobuf.UInt64Value": {"type": ["integer", "string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"]},
}


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def message_schema(message: _descriptor.Descriptor, required: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON Schema of a message in proto JSON form with the .proto field names; comments become descriptions."""
    return _message_schema(message, set(), list(required))


def _message_schema(message: _descriptor.Descriptor, seen: set[str], required: list[str]) -> dict[str, Any]:
    if message.full_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[message.full_name])
    if message.full_name in seen:  # recursive message: stop describing, still an object
        return {"type": "object"}
    seen = seen | {message.full_name}
    properties: dict[str, Any] = {}
    for field in message.fields:
        schema = _field_schema(field, seen)
        comment = wire.leading_comments(field)
        if comment:
            schema["description"] = comment
        properties[field.name] = schema
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    comment = wire.leading_comments(message)
    if comment:
        schema["description"] = comment
    if required:
        schema["required"] = sorted(set(required))
    return schema


def _single_schema(field: _FD, seen: set[str]) -> dict[str, Any]:
    if field.type == _FD.TYPE_MESSAGE:
        return _message_schema(field.message_type, seen, [])
    if field.type == _FD.TYPE_ENUM:
        return {"type": "string", "enum": [value.name for value in field.enum_type.values]}
    return dict(_SCALARS[field.type])


def _field_schema(field: _FD, seen: set[str]) -> dict[str, Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        value_field = field.message_type.fields_by_name["value"]
        return {"type": "object", "additionalProperties": _single_schema(value_field, seen)}
    if field.is_repeated if hasattr(field, "is_repeated") else field.label == _FD.LABEL_REPEATED:
        return {"type": "array", "items": _single_schema(field, seen)}
    return _single_schema(field, seen)


def _placeholders(checks: Sequence[Check]) -> list[str]:
    return [name for check in checks for name in _PLACEHOLDER.findall(check.object_template)]


def _field_path_exists(message: _descriptor.Descriptor, path: str) -> bool:
    current: _descriptor.Descriptor | None = message
    for part in path.split("."):
        if current is None or part not in current.fields_by_name:
            return False
        current = current.fields_by_name[part].message_type
    return True


def _lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class _ToolServicerContext:
    """What a servicer method sees when it runs as an MCP tool: the calling RPC's context, except that ``abort``
    and a non-OK ``set_code`` end the tool call with a tool error instead of ending the CallTool RPC."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._grpc = ctx.grpc_context
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> Any:
        raise _ServicerAborted(code, details)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def invocation_metadata(self) -> Any:
        return self._grpc.invocation_metadata() if self._grpc is not None else ()

    def peer(self) -> str:
        return self._ctx.peer

    def auth_context(self) -> Any:
        return self._grpc.auth_context() if self._grpc is not None else {}

    def time_remaining(self) -> float | None:
        return self._ctx.time_remaining()

    def cancelled(self) -> bool:
        return self._ctx.cancelled

    def is_active(self) -> bool:
        return not self._ctx.cancelled

    def set_trailing_metadata(self, metadata: Any) -> None:
        pass

    async def send_initial_metadata(self, metadata: Any) -> None:
        pass

    @property
    def mcp(self) -> Context:
        return self._ctx


class _ServicerAborted(Exception):
    """Raised by ``abort`` of the contexts handed to servicer methods outside the event loop."""

    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: Any = ()) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.trailing_metadata = trailing_metadata


class _SyncServicerContext:
    """What a synchronous servicer method sees on a typed call (it runs in the handler thread pool).

    grpc.aio's context cannot be used from another thread: its ``abort`` is a coroutine that would never be
    awaited. Here ``abort`` raises ``_ServicerAborted`` and the event loop side ends the call with that status;
    ``set_code``, ``set_details`` and ``set_trailing_metadata`` are recorded and applied when the method returns.
    Everything else reads the aio context."""

    def __init__(self, context: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._context = context
        self._loop = loop
        self.code: grpc.StatusCode | None = None
        self.details: str | None = None
        self.trailing_metadata: Any = None

    def abort(self, code: grpc.StatusCode, details: str = "", trailing_metadata: Any = ()) -> None:
        raise _ServicerAborted(code, details, trailing_metadata)

    def abort_with_status(self, status: Any) -> None:
        raise _ServicerAborted(status.code, status.details, status.trailing_metadata)

    def set_code(self, code: grpc.StatusCode) -> None:
        self.code = code

    def set_details(self, details: str) -> None:
        self.details = details

    def set_trailing_metadata(self, metadata: Any) -> None:
        self.trailing_metadata = metadata

    def send_initial_metadata(self, metadata: Any) -> None:
        asyncio.run_coroutine_threadsafe(self._context.send_initial_metadata(metadata), self._loop).result()

    def invocation_metadata(self) -> Any:
        return self._context.invocation_metadata()

    def peer(self) -> str:
        return self._context.peer()

    def auth_context(self) -> Any:
        return self._context.auth_context()

    def time_remaining(self) -> float | None:
        return self._context.time_remaining()

    def cancelled(self) -> bool:
        return self._context.cancelled()

    def is_active(self) -> bool:
        return not self._context.done()

    def apply(self) -> None:
        """Copy what the method recorded onto the aio context (on the event loop, after the method returned)."""
        if self.trailing_metadata is not None:
            self._context.set_trailing_metadata(self.trailing_metadata)
        if self.code is not None:
            self._context.set_code(self.code)
        if self.details is not None:
            self._context.set_details(self.details)


class _MessageArguments(dict):
    """Validated arguments (the caller's JSON) together with the request message parsed from them."""

    message: Any = None


async def _run_method(
    fn: Callable[..., Any], request: Any, context: Any, executor: concurrent.futures.Executor | None
) -> Any:
    if inspect.iscoroutinefunction(fn):
        return await fn(request, context)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, contextvars.copy_context().run, functools.partial(fn, request, context))


# -- requests that do not decode ---------------------------------------------------------------------------------
#
# grpcio's default deserializer raises on undecodable bytes and the call ends UNKNOWN ("Unexpected DecodeError")
# before any of our code runs: no precise status, no audit record. Every service is therefore registered with a
# deserializer that never raises (it returns an ``UndecodableRequest``) and a wrapper that answers it.


class UndecodableRequest:
    """What the request deserializer returns for bytes that are not a valid ``message_type``."""

    __slots__ = ("message_type", "error")

    def __init__(self, message_type: str, error: Exception) -> None:
        self.message_type = message_type
        self.error = error

    def rejection(self) -> Any:
        from mcp_grpc.server.chain import Rejected

        detail = str(self.error) or type(self.error).__name__
        return Rejected(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request is not a valid {self.message_type}: {detail}",
            "invalid_argument",
            mcp_code=errors.PARSE_ERROR,
        )


def safe_deserializer(message_class: type) -> Callable[[bytes], Any]:
    """``message_class.FromString``, except that undecodable bytes give an ``UndecodableRequest`` (never raises)."""
    from_string = message_class.FromString  # type: ignore[attr-defined]
    message_type = message_class.DESCRIPTOR.full_name  # type: ignore[attr-defined]

    def deserialize(data: bytes) -> Any:
        try:
            return from_string(data)
        except Exception as exc:  # noqa: BLE001 - DecodeError, and anything else the parser may raise
            return UndecodableRequest(message_type, exc)

    return deserialize


async def reject_undecodable(
    chain: Any, context: Any, service: str, method: str, request: UndecodableRequest, *, check_version: bool
) -> None:
    """Authenticate the caller (an unauthenticated one learns nothing), then end the call INVALID_ARGUMENT with
    MCP code -32700 (parse error) and one audit record. Always raises."""
    from mcp_grpc.server.chain import Rejected, abort

    try:
        call = chain.begin(context, service, method, check_version=check_version)
    except Rejected as rejected:  # begin audited it
        await abort(context, rejected)
        raise  # abort raised already; this is for type checkers
    rejected = request.rejection()
    call.fail(rejected)
    await abort(context, rejected)


def method_handlers(
    service: _descriptor.ServiceDescriptor,
    behaviors: Mapping[str, Callable[..., Any]],
    chain: Any,
    *,
    check_version: bool,
) -> dict[str, grpc.RpcMethodHandler]:
    """grpc method handlers for ``service``: each of ``behaviors`` (async, by method name) behind a deserializer
    that never raises and a check that answers undecodable requests INVALID_ARGUMENT (see ``UndecodableRequest``).

    A behavior that is not a coroutine or async generator function (e.g. a generated base-class stub answering
    UNIMPLEMENTED) is registered as is, with the same deserializer."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    service_name = service.full_name
    for descriptor in service.methods:
        behavior = behaviors[descriptor.name]
        request_class = message_factory.GetMessageClass(descriptor.input_type)
        response_class = message_factory.GetMessageClass(descriptor.output_type)
        kind = (descriptor.client_streaming, descriptor.server_streaming)
        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[kind]
        if not descriptor.client_streaming and (
            inspect.iscoroutinefunction(behavior) or inspect.isasyncgenfunction(behavior)
        ):
            behavior = _checking_behavior(behavior, chain, service_name, descriptor.name, check_version)
        handlers[descriptor.name] = factory(
            behavior,
            request_deserializer=safe_deserializer(request_class),
            response_serializer=response_class.SerializeToString,
        )
    return handlers


def _checking_behavior(
    behavior: Callable[..., Any], chain: Any, service: str, method: str, check_version: bool
) -> Callable[..., Any]:
    """``behavior`` (unary request) preceded by the undecodable-request check: one class comparison per call."""
    if inspect.isasyncgenfunction(behavior):

        async def streaming(request: Any, context: Any) -> Any:
            if request.__class__ is UndecodableRequest:
                await reject_undecodable(chain, context, service, method, request, check_version=check_version)
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response

        return streaming

    async def unary(request: Any, context: Any) -> Any:
        if request.__class__ is UndecodableRequest:
            await reject_undecodable(chain, context, service, method, request, check_version=check_version)
        return await behavior(request, context)

    return unary


async def _checked_requests(requests: Any, call: Any, context: Any) -> Any:
    """A client stream's requests, ending the call INVALID_ARGUMENT at the first one that does not decode."""
    from mcp_grpc.server.chain import abort

    async for request in requests:
        if request.__class__ is UndecodableRequest:
            rejected = request.rejection()
            call.fail(rejected)  # no-op when the call's audit record was already written
            await abort(context, rejected)
        yield request


@dataclasses.dataclass(slots=True)
class ProtoTool:
    """An rpc exposed as an MCP tool."""

    name: str
    title: str | None
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    annotations: ToolAnnotations
    checks: Sequence[Check]
    method: "ProtoMethod"
    _validator: Any = None

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        if self._validator is None:
            self._validator = jsonschema.Draft202012Validator(self.input_schema)
        problems = sorted(self._validator.iter_errors(arguments), key=lambda error: list(error.absolute_path))
        if problems:
            parts, fields = [], []
            for error in problems:
                location = ".".join(str(part) for part in error.absolute_path) or "(arguments)"
                if error.validator == "required":
                    missing = re.findall(r"'([^']+)' is a required property", error.message)
                    location = ".".join(filter(None, [location if error.absolute_path else "", *missing]))
                    parts.append(f"{location}: required argument is missing")
                elif error.validator == "additionalProperties":
                    extra = re.findall(r"'([^']+)'", error.message)
                    location = ".".join(filter(None, [location if error.absolute_path else "", *extra[:1]]))
                    parts.append(f"{location}: unexpected argument")
                else:
                    parts.append(f"{location}: {error.message}")
                fields.append(location)
            raise ArgumentError("invalid arguments: " + "; ".join(parts), tuple(fields))
        for path in _placeholders(self.checks):
            value = _lookup(arguments, path)
            if value is None or value == "":
                raise ArgumentError(f"invalid arguments: {path}: required argument is missing", (path,))
        validated = _MessageArguments(arguments)
        try:
            validated.message = json_format.ParseDict(arguments, self.method.request_class())
        except json_format.ParseError as exc:
            raise ArgumentError(f"invalid arguments: {exc}", ()) from None
        return validated

    async def run(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> ToolResult:
        _CURRENT.set(ctx)
        servicer_context = _ToolServicerContext(ctx)
        try:
            response = await _run_method(
                self.method.handler, arguments.message, servicer_context, executor  # type: ignore[attr-defined]
            )
        except _ServicerAborted as aborted:
            return ToolResult(text=str(aborted), is_error=True)
        if servicer_context.code not in (None, grpc.StatusCode.OK):
            return ToolResult(text=f"{servicer_context.code.name}: {servicer_context.details}", is_error=True)
        structured = json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
        return ToolResult(text=render_text(structured, structured), structured=structured)


@dataclasses.dataclass(slots=True)
class ProtoResource:
    """An rpc exposed as an MCP resource (fixed URI) or resource template (its variables fill request fields)."""

    uri: str
    name: str
    title: str | None
    description: str
    mime_type: str | None
    checks: Sequence[Check]
    method: "ProtoMethod"
    template: UriTemplate | None = None

    def validate(self, variables: Mapping[str, str]) -> dict[str, Any]:
        validated = _MessageArguments(variables)
        try:
            validated.message = json_format.ParseDict(dict(variables), self.method.request_class())
        except json_format.ParseError as exc:
            raise ArgumentError(f"invalid URI variables: {exc}", tuple(variables)) from None
        return validated

    async def read(
        self, uri: str, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> list[ResourceContent]:
        _CURRENT.set(ctx)
        servicer_context = _ToolServicerContext(ctx)
        try:
            response = await _run_method(
                self.method.handler, arguments.message, servicer_context, executor  # type: ignore[attr-defined]
            )
        except _ServicerAborted as aborted:
            raise _status_error(aborted.code, aborted.details, uri) from None
        if servicer_context.code not in (None, grpc.StatusCode.OK):
            raise _status_error(servicer_context.code, servicer_context.details, uri)
        data = json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
        return [ResourceContent(uri=uri, text=json.dumps(data, ensure_ascii=False), mime_type=self.mime_type or "application/json")]


def _status_error(code: grpc.StatusCode, details: str, uri: str) -> Exception:
    if code == grpc.StatusCode.NOT_FOUND:
        return errors.not_found(f"resource {uri!r} not found: {details}", errors.RESOURCE_NOT_FOUND)
    if code == grpc.StatusCode.INVALID_ARGUMENT:
        return errors.invalid_params(f"resource {uri!r}: {details}")
    return errors.internal(f"reading {uri!r} failed: {code.name}: {details}")


@dataclasses.dataclass(slots=True)
class ProtoMethod:
    descriptor: _descriptor.MethodDescriptor
    full_method: str  # /package.Service/Method
    request_class: type
    response_class: type
    handler: Callable[..., Any]
    tool: ProtoTool | None = None
    resource: ProtoResource | None = None


@dataclasses.dataclass(slots=True)
class ProtoService:
    servicer: Any
    descriptor: _descriptor.ServiceDescriptor
    methods: list[ProtoMethod]

    @property
    def tools(self) -> list[ProtoTool]:
        return [method.tool for method in self.methods if method.tool is not None]

    @property
    def resources(self) -> list[ProtoResource]:
        return [method.resource for method in self.methods if method.resource is not None]

    @classmethod
    def build(cls, servicer: Any, service_descriptor: _descriptor.ServiceDescriptor) -> "ProtoService":
        methods = []
        for method in service_descriptor.methods:
            handler = getattr(servicer, method.name, None)
            if handler is None:
                raise TypeError(f"{type(servicer).__name__} has no method {method.name} of {service_descriptor.full_name}")
            entry = ProtoMethod(
                descriptor=method,
                full_method=f"/{service_descriptor.full_name}/{method.name}",
                request_class=message_factory.GetMessageClass(method.input_type),
                response_class=message_factory.GetMessageClass(method.output_type),
                handler=handler,
            )
            options = method.GetOptions()
            if options.HasExtension(options_pb2.tool):
                if method.client_streaming or method.server_streaming:
                    raise TypeError(f"{method.full_name}: only unary rpcs can be MCP tools")
                entry.tool = _tool_from_options(entry, options.Extensions[options_pb2.tool])
            if options.HasExtension(options_pb2.resource):
                if method.client_streaming or method.server_streaming:
                    raise TypeError(f"{method.full_name}: only unary rpcs can be MCP resources")
                entry.resource = _resource_from_options(entry, options.Extensions[options_pb2.resource])
            methods.append(entry)
        return cls(servicer, service_descriptor, methods)


def _resource_from_options(method: ProtoMethod, options: Any) -> ProtoResource:
    full_name = method.descriptor.full_name
    which = options.WhichOneof("target")
    if which is None:
        raise ValueError(f"{full_name}: (mcp_grpc.v1.resource) needs uri or uri_template")
    uri = getattr(options, which)
    template = None
    if which == "uri_template":
        try:
            template = UriTemplate(uri)
        except UriTemplateError as exc:
            raise ValueError(f"{full_name}: {exc}") from None
        fields = method.descriptor.input_type.fields_by_name
        for variable in template.variables:
            if variable not in fields or fields[variable].message_type is not None:
                raise ValueError(
                    f"{full_name}: URI template variable {{{variable}}} is not a scalar field of "
                    f"{method.descriptor.input_type.full_name}"
                )
    checks = tuple(Check(item.relation, item.object_template) for item in options.authorize)
    for check in checks:
        for path in _PLACEHOLDER.findall(check.object_template):
            if template is None or path not in template.variables:
                raise ValueError(f"{full_name}: {check.object_template!r} names {{{path}}}, which is not a URI variable")
    return ProtoResource(
        uri=uri,
        name=options.name or snake_case(method.descriptor.name),
        title=options.title or None,
        description=options.description or wire.leading_comments(method.descriptor),
        mime_type=options.mime_type or None,
        checks=checks,
        method=method,
        template=template,
    )


def _tool_from_options(method: ProtoMethod, options: Any) -> ProtoTool:
    checks = tuple(Check(item.relation, item.object_template) for item in options.authorize)
    for check in checks:
        if not check.relation or ":" not in check.object_template:
            raise ValueError(f"{method.descriptor.full_name}: authorization check {check} needs a relation and type:id")
        for path in _PLACEHOLDER.findall(check.object_template):
            if not _field_path_exists(method.descriptor.input_type, path):
                raise ValueError(
                    f"{method.descriptor.full_name}: {check.object_template!r} names {{{path}}}, which is not a "
                    f"field of {method.descriptor.input_type.full_name}"
                )
    top_level_required = [path.split(".")[0] for path in _placeholders(checks)]
    annotations = ToolAnnotations(
        title=options.title or None,
        read_only=options.read_only if options.HasField("read_only") else None,
        destructive=options.destructive if options.HasField("destructive") else None,
        idempotent=options.idempotent if options.HasField("idempotent") else None,
        open_world=options.open_world if options.HasField("open_world") else None,
    )
    input_schema = message_schema(method.descriptor.input_type, top_level_required)
    output_schema = message_schema(method.descriptor.output_type)
    return ProtoTool(
        name=options.name or snake_case(method.descriptor.name),
        title=options.title or None,
        description=options.description or wire.leading_comments(method.descriptor),
        input_schema=input_schema,
        output_schema=output_schema,
        annotations=annotations,
        checks=checks,
        method=method,
    )


def generic_handler(
    service: ProtoService, chain: Any, executor: concurrent.futures.Executor | None
) -> grpc.GenericRpcHandler:
    """The typed gRPC methods of ``service``, each behind ``chain`` (authenticate, authorize, audit).

    Synchronous methods run in ``executor`` with a context whose ``abort`` works from that thread
    (``_SyncServicerContext``); undecodable requests are answered INVALID_ARGUMENT (``method_handlers``)."""
    from mcp_grpc.server.chain import Rejected, abort
    from mcp_grpc.contract import TargetKind

    service_name = service.descriptor.full_name
    needs_arguments = chain.authorizer is not None or chain.audit_arguments

    async def admit(method: ProtoMethod, request: Any, context: Any) -> Any:
        call = None
        try:
            call = chain.begin(context, service_name, method.descriptor.name, check_version=False)
            arguments = (
                json_format.MessageToDict(request, preserving_proto_field_name=True)
                if request is not None and (needs_arguments or method.resource is not None)
                else {}
            )
            if method.tool is not None:
                target = chain.target(call, TargetKind.TOOL, method.tool.name, arguments, method.tool.checks)
            elif method.resource is not None:
                resource = method.resource
                values = {name: _lookup(arguments, name) for name in resource.template.variables} if resource.template else {}
                uri = resource.template.expand(values) if resource.template else resource.uri
                target = chain.target(call, TargetKind.RESOURCE, uri, values, resource.checks)
            else:
                target = chain.target(call, TargetKind.METHOD, method.full_method, arguments)
            await chain.authorize(call, target)
        except Rejected as rejected:
            if call is not None:
                call.fail(rejected)
            await abort(context, rejected)
        assert call is not None
        ctx = Context(
            principal=call.principal,  # type: ignore[arg-type]
            metadata=call.metadata,
            method=method.full_method,
            peer=call.peer,
            server_name=chain.server_name,
            grpc_context=context,
        )
        _CURRENT.set(ctx)
        return call

    async def handler_aborted(call: Any, context: Any, code: grpc.StatusCode, details: str, trailing: Any) -> None:
        """The method ended the call with a status: audit it, then send it. Always raises."""
        decision = "invalid_argument" if code is grpc.StatusCode.INVALID_ARGUMENT else "error"
        rejected = Rejected(code, details, decision)
        call.fail(rejected)
        await context.abort(code, details, trailing or ())

    def audit_aio_abort(call: Any, context: Any) -> None:
        """An async method called ``await context.abort(...)``: record the status it sent."""
        code = context.code() or grpc.StatusCode.UNKNOWN
        decision = "invalid_argument" if code is grpc.StatusCode.INVALID_ARGUMENT else "error"
        call.fail(Rejected(code, context.details() or "", decision))

    def unary_unary(method: ProtoMethod) -> Callable[..., Any]:
        handler = method.handler
        if inspect.iscoroutinefunction(handler):

            async def behavior(request: Any, context: Any) -> Any:
                call = await admit(method, request, context)
                try:
                    return await handler(request, context)
                except grpc.aio.AbortError:
                    audit_aio_abort(call, context)
                    raise
                finally:
                    call.finish()

            return behavior

        async def sync_behavior(request: Any, context: Any) -> Any:
            call = await admit(method, request, context)
            sync_context = _SyncServicerContext(context, asyncio.get_running_loop())
            try:
                response = await _run_method(handler, request, sync_context, executor)
            except _ServicerAborted as aborted:
                await handler_aborted(call, context, aborted.code, aborted.details, aborted.trailing_metadata)
            sync_context.apply()
            if sync_context.code not in (None, grpc.StatusCode.OK):
                await handler_aborted(call, context, sync_context.code, sync_context.details or "", None)
            call.finish()
            return response

        return sync_behavior

    def unary_stream(method: ProtoMethod) -> Callable[..., Any]:
        handler = method.handler

        async def behavior(request: Any, context: Any) -> Any:
            call = await admit(method, request, context)
            call.finish()
            if inspect.isasyncgenfunction(handler):
                async with contextlib.aclosing(handler(request, context)) as responses:
                    async for item in responses:
                        yield item
                return
            if inspect.iscoroutinefunction(handler):
                for item in await handler(request, context):
                    yield item
                return
            # A synchronous generator (or a function returning an iterable): every step runs in the thread pool.
            loop = asyncio.get_running_loop()
            sync_context = _SyncServicerContext(context, loop)
            variables = contextvars.copy_context()
            try:
                responses = iter(await loop.run_in_executor(
                    executor, variables.run, functools.partial(handler, request, sync_context)))
                while True:
                    item = await loop.run_in_executor(executor, variables.run, next, responses, _END_OF_STREAM)
                    if item is _END_OF_STREAM:
                        break
                    yield item
            except _ServicerAborted as aborted:
                await context.abort(aborted.code, aborted.details, aborted.trailing_metadata or ())
            sync_context.apply()

        return behavior

    def stream_unary(method: ProtoMethod) -> Callable[..., Any]:
        async def behavior(request_iterator: Any, context: Any) -> Any:
            call = await admit(method, None, context)
            try:
                result = method.handler(_checked_requests(request_iterator, call, context), context)
                return await result if inspect.isawaitable(result) else result
            finally:
                call.finish()

        return behavior

    def stream_stream(method: ProtoMethod) -> Callable[..., Any]:
        async def behavior(request_iterator: Any, context: Any) -> Any:
            call = await admit(method, None, context)
            call.finish()
            async for item in method.handler(_checked_requests(request_iterator, call, context), context):
                yield item

        return behavior

    makers = {
        (False, False): unary_unary,
        (False, True): unary_stream,
        (True, False): stream_unary,
        (True, True): stream_stream,
    }
    behaviors = {
        method.descriptor.name: makers[(method.descriptor.client_streaming, method.descriptor.server_streaming)](method)
        for method in service.methods
    }
    handlers = method_handlers(service.descriptor, behaviors, chain, check_version=False)
    return grpc.method_handlers_generic_handler(service_name, handlers)


_END_OF_STREAM = object()
