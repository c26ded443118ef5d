"""The typed gRPC methods of a proto-first service, each down the pipeline (authenticate,
resolve and validate, authorize, handle, audit).

A request that breaks its message's rules (``validation``) is answered INVALID_ARGUMENT with a
``google.rpc.BadRequest`` in the status details, after the target's default check and before any check that reads
the arguments.

A typed call of an rpc that is a tool is authorized exactly as the tool (kind TOOL, same name, same checks,
arguments from the request message), one that is a resource exactly as a read of the URI its request names (kind
RESOURCE), so permissions cannot differ by path; other rpcs are authorized as kind METHOD with the full method name.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import contextvars
import functools
import inspect
from typing import Any, Callable

import grpc
from google.protobuf import json_format

from mcp_grpc.contract import AuditDecision, TargetKind
from mcp_grpc.server.call import Rejected, abort
from mcp_grpc.server.context import _CURRENT, Context
from mcp_grpc.server.pipeline import Pipeline
from mcp_grpc.server.proto_first import validation
from mcp_grpc.server.proto_first.contexts import ServicerAborted, SyncServicerContext, run_method
from mcp_grpc.server.decoding import checked_requests, method_handlers
from mcp_grpc.server.proto_first.tools import ProtoMethod, ProtoService, lookup

__all__ = ["generic_handler"]

def generic_handler(
    service: ProtoService, pipeline: Pipeline, executor: concurrent.futures.Executor | None
) -> grpc.GenericRpcHandler:
    """The typed gRPC methods of ``service``, each down the ``pipeline`` (authenticate,
    resolve, authorize, handle, audit).

    Synchronous methods run in ``executor`` with a context whose ``abort`` works from that thread
    (``SyncServicerContext``); undecodable requests are answered INVALID_ARGUMENT (``method_handlers``)."""
    service_name = service.descriptor.full_name
    needs_arguments = pipeline.authorizer is not None or pipeline.audit_arguments

    async def admit(method: ProtoMethod, request: Any, context: Any) -> Any:
        call = None
        try:
            call = pipeline.begin(context, service_name, method.descriptor.name, check_version=False)
            if method.tool is not None and pipeline.limiter is not None:
                await pipeline.limit(call, method.tool.name, method.tool)
            arguments = (
                json_format.MessageToDict(request, preserving_proto_field_name=True)
                if request is not None and (needs_arguments or method.resource is not None)
                else {}
            )
            if method.tool is not None:
                target = pipeline.target(call, TargetKind.TOOL, method.tool.name, arguments, method.tool.checks)
            elif method.resource is not None:
                resource = method.resource
                values = {name: lookup(arguments, name) for name in resource.template.variables} if resource.template else {}
                uri = resource.template.expand(values) if resource.template else resource.uri
                target = pipeline.target(call, TargetKind.RESOURCE, uri, values, resource.checks)
            else:
                target = pipeline.target(call, TargetKind.METHOD, method.full_method, arguments)
            if method.validator is not None and request is not None:
                violations = method.validator(request)
                if violations:
                    # As for MCP calls: the target's default check first (no checks that read the arguments), so
                    # a caller who may not use it learns nothing of its rules; then the violations, audited.
                    await pipeline.authorize(call, pipeline.target(call, target.kind, target.name))
                    call.target = target
                    raise validation.rejection(method.validator.message_name, violations)
            await pipeline.authorize(call, target)
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
            server_name=pipeline.server_name,
            grpc_context=context,
        )
        _CURRENT.set(ctx)
        return call

    async def handler_aborted(call: Any, context: Any, code: grpc.StatusCode, details: str, trailing: Any) -> None:
        """The method ended the call with a status: audit it, then send it. Always raises."""
        decision = AuditDecision.INVALID_ARGUMENT if code is grpc.StatusCode.INVALID_ARGUMENT else AuditDecision.ERROR
        rejected = Rejected(code, details, decision)
        call.fail(rejected)
        await context.abort(code, details, trailing or ())

    def audit_aio_abort(call: Any, context: Any) -> None:
        """An async method called ``await context.abort(...)``: record the status it sent."""
        code = context.code() or grpc.StatusCode.UNKNOWN
        decision = AuditDecision.INVALID_ARGUMENT if code is grpc.StatusCode.INVALID_ARGUMENT else AuditDecision.ERROR
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
            sync_context = SyncServicerContext(context, asyncio.get_running_loop())
            try:
                response = await run_method(handler, request, sync_context, executor)
            except ServicerAborted as aborted:
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
            sync_context = SyncServicerContext(context, loop)
            variables = contextvars.copy_context()
            try:
                responses = iter(await loop.run_in_executor(
                    executor, variables.run, functools.partial(handler, request, sync_context)))
                while True:
                    item = await loop.run_in_executor(executor, variables.run, next, responses, _END_OF_STREAM)
                    if item is _END_OF_STREAM:
                        break
                    yield item
            except ServicerAborted as aborted:
                await context.abort(aborted.code, aborted.details, aborted.trailing_metadata or ())
            sync_context.apply()

        return behavior

    def stream_unary(method: ProtoMethod) -> Callable[..., Any]:
        async def behavior(request_iterator: Any, context: Any) -> Any:
            call = await admit(method, None, context)
            try:
                requests = valid_requests(checked_requests(request_iterator, call, context), method, call, context)
                result = method.handler(requests, context)
                return await result if inspect.isawaitable(result) else result
            finally:
                call.finish()

        return behavior

    def stream_stream(method: ProtoMethod) -> Callable[..., Any]:
        async def behavior(request_iterator: Any, context: Any) -> Any:
            call = await admit(method, None, context)
            call.finish()
            requests = valid_requests(checked_requests(request_iterator, call, context), method, call, context)
            async for item in method.handler(requests, context):
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
    handlers = method_handlers(service.descriptor, behaviors, pipeline, check_version=False)
    return grpc.method_handlers_generic_handler(service_name, handlers)


_END_OF_STREAM = object()


def valid_requests(requests: Any, method: ProtoMethod, call: Any, context: Any) -> Any:
    """A client stream's requests, ending the call INVALID_ARGUMENT (with BadRequest details) at the first that
    breaks its message's rules; the stream was authorized before its first message, as for undecodable ones."""
    check = method.validator
    if check is None:
        return requests

    async def checked() -> Any:
        async for request in requests:
            violations = check(request)
            if violations:
                rejected = validation.rejection(check.message_name, violations)
                call.fail(rejected)  # no-op when the call's audit record was already written
                await abort(context, rejected)
            yield request

    return checked()
