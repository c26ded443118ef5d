"""Requests that do not decode, for every service (Mcp, McpStreaming, proto-first): a precise status and an audit
record instead of grpcio's UNKNOWN.
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any, Callable, Mapping

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import message_factory

from mcp_grpc.contract import AuditDecision
from mcp_grpc.server.call import Rejected, abort
from mcp_grpc.wire import errors

__all__ = ["UndecodableRequest", "checked_requests", "method_handlers", "safe_deserializer"]

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
        detail = str(self.error) or type(self.error).__name__
        return Rejected(
            grpc.StatusCode.INVALID_ARGUMENT,
            f"request is not a valid {self.message_type}: {detail}",
            AuditDecision.INVALID_ARGUMENT,
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
    pipeline: Any, context: Any, service: str, method: str, request: UndecodableRequest, *, check_version: bool
) -> None:
    """Authenticate the caller (an unauthenticated one learns nothing), then end the call INVALID_ARGUMENT with
    MCP code -32700 (parse error) and one audit record. Always raises."""
    try:
        call = pipeline.begin(context, service, method, check_version=check_version)
    except Rejected as rejected:  # begin audited it
        await abort(context, rejected)
        raise  # abort raised already; this is for type checkers
    rejected = request.rejection()
    call.fail(rejected)
    await abort(context, rejected)


def method_handlers(
    service: _descriptor.ServiceDescriptor,
    behaviors: Mapping[str, Callable[..., Any]],
    pipeline: Any,
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
            behavior = _checking_behavior(behavior, pipeline, service_name, descriptor.name, check_version)
        handlers[descriptor.name] = factory(
            behavior,
            request_deserializer=safe_deserializer(request_class),
            response_serializer=response_class.SerializeToString,
        )
    return handlers


def _checking_behavior(
    behavior: Callable[..., Any], pipeline: Any, service: str, method: str, check_version: bool
) -> Callable[..., Any]:
    """``behavior`` (unary request) preceded by the undecodable-request check: one class comparison per call."""
    if inspect.isasyncgenfunction(behavior):

        async def streaming(request: Any, context: Any) -> Any:
            if request.__class__ is UndecodableRequest:
                await reject_undecodable(pipeline, context, service, method, request, check_version=check_version)
            async with contextlib.aclosing(behavior(request, context)) as responses:
                async for response in responses:
                    yield response

        return streaming

    async def unary(request: Any, context: Any) -> Any:
        if request.__class__ is UndecodableRequest:
            await reject_undecodable(pipeline, context, service, method, request, check_version=check_version)
        return await behavior(request, context)

    return unary


async def checked_requests(requests: Any, call: Any, context: Any) -> Any:
    """A client stream's requests, ending the call INVALID_ARGUMENT at the first one that does not decode."""
    async for request in requests:
        if request.__class__ is UndecodableRequest:
            rejected = request.rejection()
            call.fail(rejected)  # no-op when the call's audit record was already written
            await abort(context, rejected)
        yield request


