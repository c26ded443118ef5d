"""Proto-first entries: an rpc as an MCP tool (``ProtoTool``) or resource (``ProtoResource``), and the service
that holds them (``ProtoService.build`` reads the ``(mcp_grpc.v1.tool)`` and ``(mcp_grpc.v1.resource)`` options).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import re
from typing import Any, Callable, Mapping, Sequence

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import json_format, message_factory

from mcp_grpc.contract import Check
from mcp_grpc.server.context import _CURRENT, Context
from mcp_grpc.server.entries import ResourceContent, ToolAnnotations, ToolResult
from mcp_grpc.server.proto_first.contexts import ServicerAborted, ToolServicerContext, run_method
from mcp_grpc.server.proto_first.schema import message_schema, snake_case
from mcp_grpc.server.proto_first.validation import RequestValidator, Violation, argument_error, request_validator
from mcp_grpc.server.schema import ArgumentError, render_text
from mcp_grpc.server.uri_template import UriTemplate, UriTemplateError
from mcp_grpc.wire import errors, leading_comments, options_pb2

__all__ = ["ProtoMethod", "ProtoResource", "ProtoService", "ProtoTool", "lookup"]

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")

def _placeholders(checks: Sequence[Check]) -> list[str]:
    return [name for check in checks for name in _PLACEHOLDER.findall(check.object_template)]


def _field_path_exists(message: _descriptor.Descriptor, path: str) -> bool:
    current: _descriptor.Descriptor | None = message
    for part in path.split("."):
        if current is None or part not in current.fields_by_name:
            return False
        current = current.fields_by_name[part].message_type
    return True


def _describe_problem(error: Any) -> tuple[str, str, bool]:
    """A JSON Schema error as (location in dotted form, text, whether it is about the arguments' shape: a missing,
    unexpected or mistyped one)."""
    location = ".".join(str(part) for part in error.absolute_path) or "(arguments)"
    if error.validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        location = ".".join(filter(None, [location if error.absolute_path else "", *missing]))
        return location, f"{location}: required argument is missing", True
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        location = ".".join(filter(None, [location if error.absolute_path else "", *extra[:1]]))
        return location, f"{location}: unexpected argument", True
    return location, f"{location}: {error.message}", error.validator == "type"


def lookup(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


class _MessageArguments(dict):
    """Validated arguments (the caller's JSON) together with the request message parsed from them."""

    message: Any = None


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
        """The arguments with their request message, or ArgumentError: first the input schema, then the proto's
        rules (``validation``); when both find problems, each rule's own message stands for the schema's at its
        path."""
        if self._validator is None:
            import jsonschema  # on a proto-first tool's first call: ~50-80 ms that a server's start need not pay

            self._validator = jsonschema.Draft202012Validator(self.input_schema)
        problems = sorted(self._validator.iter_errors(arguments), key=lambda error: list(error.absolute_path))
        if problems:
            described = [_describe_problem(error) for error in problems]
            # A missing, unexpected or mistyped argument keeps the schema's words; a broken rule gets its own.
            structural = {location for location, _, kept in described if kept}
            violations = [v for v in self._violations(arguments) if v.dotted not in structural]
            if violations:
                named = {violation.dotted for violation in violations}
                others = [(location, text) for location, text, kept in described if kept or location not in named]
                raise argument_error(violations, others)
            raise ArgumentError(
                "invalid arguments: " + "; ".join(text for _, text, _ in described),
                tuple(location for location, _, _ in described),
            )
        for path in _placeholders(self.checks):
            value = lookup(arguments, path)
            if value is None or value == "":
                raise ArgumentError(f"invalid arguments: {path}: required argument is missing", (path,))
        validated = _MessageArguments(arguments)
        try:
            validated.message = json_format.ParseDict(arguments, self.method.request_class())
        except json_format.ParseError as exc:
            raise ArgumentError(f"invalid arguments: {exc}", ()) from None
        check = self.method.validator
        if check is not None:
            violations = check(validated.message)
            if violations:
                raise argument_error(violations)
        return validated

    def _violations(self, arguments: Mapping[str, Any]) -> list[Violation]:
        """The rules' violations of arguments the schema refused, when they still make a request message."""
        check = self.method.validator
        if check is None:
            return []
        try:
            message = json_format.ParseDict(arguments, self.method.request_class())
        except (json_format.ParseError, TypeError, ValueError):
            return []
        return check(message)

    async def run(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> ToolResult:
        _CURRENT.set(ctx)
        servicer_context = ToolServicerContext(ctx)
        try:
            response = await run_method(
                self.method.handler, arguments.message, servicer_context, executor  # type: ignore[attr-defined]
            )
        except ServicerAborted as aborted:
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
        check = self.method.validator
        if check is not None:
            violations = check(validated.message)
            if violations:
                raise argument_error(violations)
        return validated

    async def read(
        self, uri: str, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> list[ResourceContent]:
        _CURRENT.set(ctx)
        servicer_context = ToolServicerContext(ctx)
        try:
            response = await run_method(
                self.method.handler, arguments.message, servicer_context, executor  # type: ignore[attr-defined]
            )
        except ServicerAborted as aborted:
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
    validator: RequestValidator | None = None
    """The request's rules (``validation``); None when there are none or protovalidate is not installed."""


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
                validator=request_validator(method.input_type),
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
        description=options.description or leading_comments(method.descriptor),
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
        description=options.description or leading_comments(method.descriptor),
        input_schema=input_schema,
        output_schema=output_schema,
        annotations=annotations,
        checks=checks,
        method=method,
    )


