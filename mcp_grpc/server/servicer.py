"""The servicers of ``model_context_protocol.Mcp`` and ``mcp_grpc.v1.McpStreaming`` over one ``McpApp``.

Every rpc goes through the shared ``CallChain`` (authenticate -> resolve and validate -> authorize -> run -> audit).
Protocol errors end the call with a gRPC status and the MCP error code in trailing metadata; a failing tool is a
normal response with ``is_error=true``.

Pagination: list requests carry an opaque cursor in ``common.metadata["cursor"]``; responses carry the next one in
``common.metadata["nextCursor"]``, absent on the last page. A cursor is only valid for the list that issued it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import concurrent.futures
import datetime
import logging
import threading
from typing import Any, Callable, Mapping, Sequence

import grpc
import pydantic_core

from mcp_grpc import wire
from mcp_grpc.wire import errors
from mcp_grpc.server.app import McpApp, Notification, _offer
from mcp_grpc.server.chain import Call, CallChain, Rejected, abort
from mcp_grpc.server.context import Context, Progress
from mcp_grpc.contract import TargetKind
from mcp_grpc.server.registry import ToolResult
from mcp_grpc.server.schema import ArgumentError
from mcp_grpc.wire.structs import python_to_struct, struct_to_python
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc, streaming_pb2, streaming_pb2_grpc

log = logging.getLogger("mcp_grpc.server")

_ROLES = {"user": pb.ROLE_USER, "assistant": pb.ROLE_ASSISTANT}


# -- pagination -------------------------------------------------------------------------------------------------


def encode_cursor(listing: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{listing}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(common: pb.RequestFields, listing: str) -> int:
    """The offset a request's cursor points at (0 without a cursor). Raises INVALID_ARGUMENT for a bad cursor."""
    field = common.metadata.fields.get(wire.CURSOR_KEY) if common.HasField("metadata") else None
    if field is None or field.WhichOneof("kind") == "null_value":
        return 0
    if field.WhichOneof("kind") != "string_value":
        raise errors.invalid_params(f"invalid cursor: common.metadata.{wire.CURSOR_KEY} must be a string")
    cursor = field.string_value
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, offset_text = decoded.partition(":")
        offset = int(offset_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise errors.invalid_params(f"invalid cursor {cursor[:64]!r}: not a cursor this server issued") from None
    if kind != listing or offset < 0 or not offset_text.isdigit():
        raise errors.invalid_params(f"invalid cursor {cursor[:64]!r}: not a cursor of the {listing} list")
    return offset


class ListSettings:
    """Page size and cache hints of list responses."""

    def __init__(self, page_size: int, ttl: datetime.timedelta | None, cache_scope: int) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.ttl = ttl
        self.cache_scope = cache_scope


# -- conversions ------------------------------------------------------------------------------------------------


def _tool_message(tool: Any) -> pb.Tool:
    message = pb.Tool(name=tool.name, title=tool.title or "", description=tool.description or "")
    python_to_struct(tool.input_schema, message.input_schema)
    if tool.output_schema:
        python_to_struct(tool.output_schema, message.output_schema)
    hints = tool.annotations
    if any(value is not None for value in (hints.title, hints.read_only, hints.destructive, hints.idempotent, hints.open_world)):
        message.annotations.CopyFrom(
            pb.ToolAnnotations(
                title=hints.title or "",
                read_only_hint=bool(hints.read_only),
                destructive_hint=bool(hints.destructive),
                idempotent_hint=bool(hints.idempotent),
                open_world_hint=bool(hints.open_world),
            )
        )
    return message


def tool_response(result: ToolResult) -> pb.CallToolResponse:
    response = pb.CallToolResponse(is_error=result.is_error)
    if result.text is not None:
        response.content.add().text.text = result.text
    if result.structured is not None:
        python_to_struct(result.structured, response.structured_content)
    return response


def _tool_error(message: str) -> pb.CallToolResponse:
    return tool_response(ToolResult(text=message, is_error=True))


class McpServicer(mcp_pb2_grpc.McpServicer):
    """``model_context_protocol.Mcp`` over an ``McpApp``."""

    def __init__(
        self,
        app: McpApp,
        chain: CallChain,
        *,
        executor: concurrent.futures.Executor | None = None,
        lists: ListSettings | None = None,
    ) -> None:
        self.app = app
        self.chain = chain
        self.executor = executor
        self.lists = lists or ListSettings(100, None, pb.CACHE_SCOPE_PRIVATE if chain.authorizer else pb.CACHE_SCOPE_PUBLIC)
        self._tool_messages: dict[int, tuple[Any, pb.Tool]] = {}

    # -- shared helpers -----------------------------------------------------------------------------------------

    def _context(self, call: Call, grpc_context: Any, common: pb.RequestFields | None, sink: Callable[[Progress], None] | None) -> Context:
        meta = struct_to_python(common.metadata) if common is not None and common.metadata.fields else None
        assert call.principal is not None
        return Context(
            principal=call.principal,
            metadata=call.metadata,
            method=f"/{call.service}/{call.method}",
            peer=call.peer,
            server_name=self.chain.server_name,
            request_meta=meta,
            grpc_context=grpc_context,
            progress_sink=sink,
        )

    def _page(self, names: Sequence[str], offset: int, listing: str, common: pb.ResponseFields) -> Sequence[str]:
        end = offset + self.lists.page_size
        if end < len(names):
            common.metadata.fields[wire.NEXT_CURSOR_KEY].string_value = encode_cursor(listing, end)
        return names[offset:end]

    def _cache_hints(self, response: Any) -> None:
        if self.lists.ttl is not None:
            response.ttl.FromTimedelta(self.lists.ttl)
        response.cache_scope = self.lists.cache_scope

    def _arguments_for_target(self, arguments: Any) -> Any:
        if self.chain.authorizer is None and not self.chain.audit_arguments:
            return arguments
        return pydantic_core.to_jsonable_python(arguments)

    def _tool_message(self, tool: Any) -> pb.Tool:
        cached = self._tool_messages.get(id(tool))
        if cached is None or cached[0] is not tool:
            cached = (tool, _tool_message(tool))
            self._tool_messages[id(tool)] = cached
        return cached[1]

    async def _guard(self, call: Call | None, context: Any, error: BaseException) -> None:
        """Turn an exception that escaped an rpc into its status (after auditing it). Always raises."""
        if isinstance(error, Rejected):
            rejected = error
        elif isinstance(error, errors.McpError):
            rejected = Rejected.from_mcp_error(error)
        else:
            log.error("internal error in %s", call.method if call else "?", exc_info=error)
            rejected = Rejected(
                grpc.StatusCode.INTERNAL, f"internal error: {type(error).__name__}", "error", mcp_code=errors.INTERNAL_ERROR
            )
        if call is not None:
            call.fail(rejected)
        await abort(context, rejected)

    # -- lists ----------------------------------------------------------------------------------------------------

    async def _list(
        self,
        context: Any,
        method: str,
        request: Any,
        response: Any,
        kind: TargetKind,
        cursor_kind: str,
        registry: Mapping[str, Any],
        add: Callable[[Any, str, Any], None],
    ) -> Any:
        """One List* call: authenticate, filter the registry by what the caller may use, fill one page, audit."""
        call = None
        try:
            call = self.chain.begin(context, wire.MCP_SERVICE, method)
            offset = decode_cursor(request.common, cursor_kind)
            entries = dict(registry)
            names = await self.chain.visible(call, kind, list(entries))
            for name in self._page(names, offset, cursor_kind, response.common):
                add(response, name, entries[name])
            self._cache_hints(response)
            call.finish()
            return response
        except Exception as exc:  # noqa: BLE001
            await self._guard(call, context, exc)
            raise

    # -- tools --------------------------------------------------------------------------------------------------

    async def ListTools(self, request: pb.ListToolsRequest, context: Any) -> pb.ListToolsResponse:
        def add(response: pb.ListToolsResponse, name: str, tool: Any) -> None:
            response.tools.append(self._tool_message(tool))

        return await self._list(context, "ListTools", request, pb.ListToolsResponse(), TargetKind.TOOL,
                                "tools", self.app.tools, add)

    async def CallTool(self, request: pb.CallToolRequest, context: Any) -> pb.CallToolResponse:
        call = None
        try:
            call = self.chain.begin(context, wire.MCP_SERVICE, "CallTool")
            return await self.call_tool(call, request, context, None)
        except asyncio.CancelledError:
            if call is not None:
                call.fail(Rejected(grpc.StatusCode.CANCELLED, "cancelled by the client or its deadline", "error"))
            raise
        except Exception as exc:  # noqa: BLE001
            await self._guard(call, context, exc)
            raise

    async def call_tool(
        self, call: Call, request: Any, context: Any, sink: Callable[[Progress], None] | None
    ) -> pb.CallToolResponse:
        """Resolve, validate, authorize and run one tool call (shared by CallTool and CallToolStream)."""
        name = request.request.name
        tool = self.app.tools.get(name)
        if tool is None:
            # Only a caller allowed to call a tool of that name learns it does not exist: otherwise NOT_FOUND
            # versus PERMISSION_DENIED would let anyone probe which tools a server has.
            await self.chain.authorize(call, self.chain.target(call, TargetKind.TOOL, name))
            raise errors.not_found(f"unknown tool {name!r}")
        raw = struct_to_python(request.request.arguments)
        try:
            arguments = tool.validate(raw)
        except ArgumentError as exc:
            # Say what is wrong with the arguments only to a caller allowed to use the tool: its default check
            # (no arguments, no declared checks) must pass first, or the error would reveal the tool's schema.
            await self.chain.authorize(call, self.chain.target(call, TargetKind.TOOL, name))
            call.target = self.chain.target(call, TargetKind.TOOL, name, raw, tool.checks)
            call.fail(Rejected(grpc.StatusCode.OK, exc.message, "invalid_argument"))
            return _tool_error(exc.message)
        target = self.chain.target(call, TargetKind.TOOL, name, self._arguments_for_target(arguments), tool.checks)
        await self.chain.authorize(call, target)
        ctx = self._context(call, context, request.common, sink)
        try:
            result = await tool.run(arguments, ctx, self.executor)
        except asyncio.CancelledError:
            ctx.cancel()
            raise
        except errors.McpError:  # raised on purpose: the handler asks for a protocol error
            raise
        except Exception as exc:  # noqa: BLE001 - a failing tool is a tool error, not a protocol error
            message = str(exc) or type(exc).__name__
            call.finish(f"tool error: {message}")
            return _tool_error(message)
        try:
            response = tool_response(result)
        except (ValueError, TypeError) as exc:  # e.g. NaN or a non-JSON value in structured content
            message = f"the tool's result cannot be sent: {exc}"
            call.finish(f"tool error: {message}")
            return _tool_error(message)
        call.finish("tool error" if result.is_error else "")
        return response

    # -- resources ----------------------------------------------------------------------------------------------

    async def ListResources(self, request: pb.ListResourcesRequest, context: Any) -> pb.ListResourcesResponse:
        def add(response: pb.ListResourcesResponse, uri: str, entry: Any) -> None:
            response.resources.add(
                uri=uri, name=entry.name, title=entry.title or "", description=entry.description or "",
                mime_type=entry.mime_type or "",
            )

        return await self._list(context, "ListResources", request, pb.ListResourcesResponse(), TargetKind.RESOURCE,
                                "resources", self.app.resources, add)

    async def ListResourceTemplates(
        self, request: pb.ListResourceTemplatesRequest, context: Any
    ) -> pb.ListResourceTemplatesResponse:
        def add(response: pb.ListResourceTemplatesResponse, uri: str, entry: Any) -> None:
            response.resource_templates.add(
                uri_template=uri, name=entry.name, title=entry.title or "",
                description=entry.description or "", mime_type=entry.mime_type or "",
            )

        return await self._list(context, "ListResourceTemplates", request, pb.ListResourceTemplatesResponse(),
                                TargetKind.RESOURCE_TEMPLATE, "resource_templates", self.app.resource_templates, add)

    def _resolve_resource(self, uri: str) -> tuple[Any, dict[str, str]]:
        entry = self.app.resources.get(uri)
        if entry is not None:
            return entry, {}
        for template in list(self.app.resource_templates.values()):
            assert template.template is not None
            variables = template.template.match(uri)
            if variables is not None:
                return template, variables
        raise errors.not_found(f"unknown resource {uri!r}", errors.RESOURCE_NOT_FOUND)

    async def ReadResource(self, request: pb.ReadResourceRequest, context: Any) -> pb.ReadResourceResponse:
        call = None
        try:
            call = self.chain.begin(context, wire.MCP_SERVICE, "ReadResource")
            uri = request.uri
            if not uri:
                raise errors.invalid_params("uri: required")
            try:
                entry, variables = self._resolve_resource(uri)
            except errors.McpError:
                await self.chain.authorize(call, self.chain.target(call, TargetKind.RESOURCE, uri))  # see call_tool
                raise
            try:
                validated = entry.validate(variables)
            except ArgumentError as exc:
                await self.chain.authorize(call, self.chain.target(call, TargetKind.RESOURCE, uri))  # see call_tool
                raise errors.invalid_params(f"resource {uri!r}: {exc.message}") from None
            target = self.chain.target(
                call, TargetKind.RESOURCE, uri, self._arguments_for_target(validated), entry.checks
            )
            await self.chain.authorize(call, target)
            ctx = self._context(call, context, request.common, None)
            try:
                contents = await entry.read(uri, validated, ctx, self.executor)
            except (asyncio.CancelledError, errors.McpError):
                raise
            except (KeyError, FileNotFoundError) as exc:  # the handler's way of saying "no such resource"
                raise errors.not_found(f"resource {uri!r} not found: {exc}", errors.RESOURCE_NOT_FOUND) from exc
            except Exception as exc:  # noqa: BLE001
                raise errors.internal(f"reading {uri!r} failed: {exc or type(exc).__name__}") from exc
            response = pb.ReadResourceResponse()
            for item in contents:
                message = response.resource.add(uri=item.uri, mime_type=item.mime_type or "")
                if item.blob is not None:
                    message.blob = item.blob
                else:
                    message.text = item.text or ""
            self._cache_hints(response)
            call.finish()
            return response
        except Exception as exc:  # noqa: BLE001
            await self._guard(call, context, exc)
            raise

    # -- prompts ------------------------------------------------------------------------------------------------

    async def ListPrompts(self, request: pb.ListPromptsRequest, context: Any) -> pb.ListPromptsResponse:
        def add(response: pb.ListPromptsResponse, name: str, entry: Any) -> None:
            message = response.prompts.add(name=name, title=entry.title or "", description=entry.description or "")
            for argument in entry.arguments:
                message.arguments.add(name=argument.name, description=argument.description, required=argument.required)

        return await self._list(context, "ListPrompts", request, pb.ListPromptsResponse(), TargetKind.PROMPT,
                                "prompts", self.app.prompts, add)

    async def GetPrompt(self, request: pb.GetPromptRequest, context: Any) -> pb.GetPromptResponse:
        call = None
        try:
            call = self.chain.begin(context, wire.MCP_SERVICE, "GetPrompt")
            entry = self.app.prompts.get(request.name)
            if entry is None:
                await self.chain.authorize(call, self.chain.target(call, TargetKind.PROMPT, request.name))  # see call_tool
                raise errors.not_found(f"unknown prompt {request.name!r}")
            arguments = dict(request.arguments)
            try:
                validated = entry.signature.validate(arguments)
            except ArgumentError as exc:
                await self.chain.authorize(call, self.chain.target(call, TargetKind.PROMPT, request.name))  # see call_tool
                raise errors.invalid_params(f"prompt {request.name!r}: {exc.message}") from None
            target = self.chain.target(
                call, TargetKind.PROMPT, request.name, self._arguments_for_target(validated), entry.checks
            )
            await self.chain.authorize(call, target)
            ctx = self._context(call, context, request.common, None)
            try:
                messages = await entry.render(arguments, ctx, self.executor)
            except (asyncio.CancelledError, errors.McpError):
                raise
            except Exception as exc:  # noqa: BLE001
                raise errors.internal(f"prompt {request.name!r} failed: {exc or type(exc).__name__}") from exc
            response = pb.GetPromptResponse(description=entry.description or "")
            for item in messages:
                message = response.messages.add(role=_ROLES.get(item.role, pb.ROLE_USER))
                message.text.text = item.text
            call.finish()
            return response
        except Exception as exc:  # noqa: BLE001
            await self._guard(call, context, exc)
            raise

    # -- completion ---------------------------------------------------------------------------------------------

    async def Complete(self, request: pb.CompletionRequest, context: Any) -> pb.CompletionResponse:
        call = None
        try:
            call = self.chain.begin(context, wire.MCP_SERVICE, "Complete")
            if request.HasField("prompt_reference") and request.prompt_reference.name:
                ref_kind, ref = "prompt", request.prompt_reference.name
                owner: Any = self.app.prompts.get(ref)
                if owner is None:
                    raise errors.not_found(f"unknown prompt {ref!r}")
            elif request.HasField("resource_reference") and request.resource_reference.uri:
                ref_kind, ref = "resource", request.resource_reference.uri
                owner = self.app.resource_templates.get(ref) or self.app.resources.get(ref)
                if owner is None:
                    raise errors.not_found(f"unknown resource template {ref!r}", errors.RESOURCE_NOT_FOUND)
            else:
                raise errors.invalid_params("completion needs prompt_reference.name or resource_reference.uri")
            argument = request.argument.name
            if not argument:
                raise errors.invalid_params("argument.name: required")
            target = self.chain.target(
                call, TargetKind.COMPLETION, ref, {argument: request.argument.value}, owner.checks
            )
            await self.chain.authorize(call, target)
            response = pb.CompletionResponse()
            handler = self.app.completions.get((ref_kind, ref, argument))
            if handler is not None:
                ctx = self._context(call, context, request.common, None)
                try:
                    completion = await handler.complete(
                        request.argument.value, dict(request.context.arguments), ctx, self.executor
                    )
                except (asyncio.CancelledError, errors.McpError):
                    raise
                except Exception as exc:  # noqa: BLE001
                    raise errors.internal(f"completion for {ref!r} failed: {exc or type(exc).__name__}") from exc
                response.values.extend(completion.values)
                response.total_matches = completion.total if completion.total is not None else len(completion.values)
                response.has_more = completion.has_more
            call.finish()
            return response
        except Exception as exc:  # noqa: BLE001
            await self._guard(call, context, exc)
            raise


_END = object()


class McpStreamingServicer(streaming_pb2_grpc.McpStreamingServicer):
    """``mcp_grpc.v1.McpStreaming``: tool calls with progress, and change notifications."""

    def __init__(self, mcp: McpServicer) -> None:
        self.mcp = mcp
        self.chain = mcp.chain
        self.app = mcp.app
        self._listeners: set[tuple[Any, asyncio.Queue]] = set()

    def close(self) -> None:
        """End every Listen stream with OK (the server is shutting down; clients reconnect elsewhere)."""
        for loop, queue in list(self._listeners):
            loop.call_soon_threadsafe(_offer, queue, (_END, None))

    async def CallToolStream(self, request: streaming_pb2.CallToolStreamRequest, context: Any):  # type: ignore[override]
        call = None
        try:
            call = self.chain.begin(context, wire.STREAMING_SERVICE, "CallToolStream")
        except Exception as exc:  # noqa: BLE001
            await self.mcp._guard(call, context, exc)
        assert call is not None
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()
        queue: asyncio.Queue = asyncio.Queue()

        def sink(progress: Progress) -> None:
            if threading.get_ident() == loop_thread:
                queue.put_nowait(progress)
            else:
                loop.call_soon_threadsafe(queue.put_nowait, progress)

        task = asyncio.ensure_future(self.mcp.call_tool(call, request, context, sink))
        task.add_done_callback(lambda _: queue.put_nowait(_END))
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    break
                frame = streaming_pb2.CallToolStreamResponse()
                frame.progress.progress = item.progress
                if item.total is not None:
                    frame.progress.total = item.total
                if item.message:
                    frame.progress.message = item.message
                yield frame
            try:
                result = task.result()
            except Exception as exc:  # noqa: BLE001
                await self.mcp._guard(call, context, exc)
                return
            final = streaming_pb2.CallToolStreamResponse()
            final.result.CopyFrom(result)
            yield final
        finally:
            if not task.done():
                task.cancel()
                call.fail(Rejected(grpc.StatusCode.CANCELLED, "cancelled by the client or its deadline", "error"))

    async def Listen(self, request: streaming_pb2.ListenRequest, context: Any):  # type: ignore[override]
        call = None
        try:
            call = self.chain.begin(context, wire.STREAMING_SERVICE, "Listen")
            wanted = request.notifications
            subscriptions = list(dict.fromkeys(wanted.resource_subscriptions))
            visible = set(await self.chain.visible(call, TargetKind.RESOURCE, subscriptions))
            denied = [uri for uri in subscriptions if uri not in visible]
            if denied:
                raise Rejected(
                    grpc.StatusCode.PERMISSION_DENIED,
                    f"not allowed to subscribe to resource {denied[0]!r}",
                    "deny",
                )
        except Exception as exc:  # noqa: BLE001
            await self.mcp._guard(call, context, exc)
        assert call is not None
        call.target = self.chain.target(call, TargetKind.METHOD, f"/{wire.STREAMING_SERVICE}/Listen")
        entry = self.app.subscribe()
        self._listeners.add(entry)
        try:
            ack = streaming_pb2.ListenResponse()
            ack.acknowledged.notifications.CopyFrom(wanted)
            call.finish()
            yield ack
            kinds = {
                Notification.TOOLS_CHANGED: wanted.tools_list_changed,
                Notification.PROMPTS_CHANGED: wanted.prompts_list_changed,
                Notification.RESOURCES_CHANGED: wanted.resources_list_changed,
            }
            subscribed = set(subscriptions)
            queue = entry[1]
            while True:
                kind, uri = await queue.get()
                if kind is _END:
                    return
                frame = streaming_pb2.ListenResponse()
                if kind == Notification.RESOURCE_UPDATED:
                    if uri not in subscribed:
                        continue
                    frame.resource_updated.uri = uri
                elif not kinds.get(kind):
                    continue
                elif kind == Notification.TOOLS_CHANGED:
                    frame.tools_list_changed.SetInParent()
                elif kind == Notification.PROMPTS_CHANGED:
                    frame.prompts_list_changed.SetInParent()
                else:
                    frame.resources_list_changed.SetInParent()
                yield frame
        finally:
            self._listeners.discard(entry)
            self.app.unsubscribe(entry)
