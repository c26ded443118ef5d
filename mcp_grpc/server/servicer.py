"""``model_context_protocol.Mcp`` over a ``Registry``: each rpc is one declaration run by the ``Pipeline``.

A declaration says how the rpc's target is resolved and validated and how it is answered; authentication,
authorization (after validation: the policy reads validated arguments), the NOT_FOUND-after-the-default-check rule
and the audit record are the pipeline's (``mcp_grpc.server.pipeline``). Protocol errors end the call with a gRPC
status and the MCP error code in trailing metadata; a failing tool is a normal response with ``is_error=true``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable, Mapping, Sequence

from mcp_grpc.contract import TargetKind
from mcp_grpc.server.call import Call
from mcp_grpc.server.context import Context, Progress
from mcp_grpc.server.entries import error_text
from mcp_grpc.server.inputs import InputRequired
from mcp_grpc.server.messages import (
    ROLES, ListSettings, content_block, decode_cursor, presentation, resource_contents, tool_error, tool_message, tool_response,
)
from mcp_grpc.server.pipeline import Answer, Handling, ListRpc, Pipeline, Resolution, TargetRpc
from mcp_grpc.server.registry import Registry
from mcp_grpc.server.schema import ArgumentError
from mcp_grpc.wire import errors
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc
from mcp_grpc.wire.structs import non_finite_number, struct_to_python

__all__ = ["McpServicer"]


class McpServicer(mcp_pb2_grpc.McpServicer):
    """``model_context_protocol.Mcp`` over a ``Registry``."""

    def __init__(
        self,
        registry: Registry,
        pipeline: Pipeline,
        *,
        executor: concurrent.futures.Executor | None = None,
        lists: ListSettings | None = None,
    ) -> None:
        self.registry = registry
        self.pipeline = pipeline
        self.executor = executor
        scope = pb.CACHE_SCOPE_PRIVATE if pipeline.authorizer else pb.CACHE_SCOPE_PUBLIC
        self.lists = lists or ListSettings(100, None, scope)
        self._tool_messages: dict[int, tuple[Any, pb.Tool]] = {}
        self.call_tool = TargetRpc(
            "CallTool", self._resolve_tool, self._validate_tool, self._answer_tool, invalid=self._invalid_tool,
            response_type=pb.CallToolResponse,
        )
        self.read_resource = TargetRpc(
            "ReadResource", self._resolve_resource, self._validate_resource, self._answer_resource,
            invalid_error=lambda found, exc: errors.invalid_params(f"resource {found.name!r}: {exc.message}"),
            response_type=pb.ReadResourceResponse,
        )
        self.get_prompt = TargetRpc(
            "GetPrompt", self._resolve_prompt, self._validate_prompt, self._answer_prompt,
            invalid_error=lambda found, exc: errors.invalid_params(f"prompt {found.name!r}: {exc.message}"),
            response_type=pb.GetPromptResponse,
        )
        self.complete = TargetRpc(
            "Complete", self._resolve_completion, lambda found, request: found.raw, self._answer_completion
        )
        self.list_tools = self._listing(
            "ListTools", TargetKind.TOOL, "tools", lambda: registry.tools, pb.ListToolsResponse,
            lambda response, name, tool: response.tools.append(self._tool_message(tool)),
        )
        self.list_resources = self._listing(
            "ListResources", TargetKind.RESOURCE, "resources", lambda: registry.resources, pb.ListResourcesResponse,
            lambda response, uri, entry: presentation(response.resources.add(
                uri=uri, name=entry.name, title=entry.title or "", description=entry.description or "",
                mime_type=entry.mime_type or "",
            ), entry),
        )
        self.list_resource_templates = self._listing(
            "ListResourceTemplates", TargetKind.RESOURCE_TEMPLATE, "resource_templates",
            lambda: registry.resource_templates, pb.ListResourceTemplatesResponse,
            lambda response, uri, entry: presentation(response.resource_templates.add(
                uri_template=uri, name=entry.name, title=entry.title or "",
                description=entry.description or "", mime_type=entry.mime_type or "",
            ), entry),
        )
        self.list_prompts = self._listing(
            "ListPrompts", TargetKind.PROMPT, "prompts", lambda: registry.prompts, pb.ListPromptsResponse,
            _add_prompt,
        )

    # -- the rpcs -------------------------------------------------------------------------------------------------

    async def ListTools(self, request: pb.ListToolsRequest, context: Any) -> pb.ListToolsResponse:
        return await self.pipeline.listing(self.list_tools, request, context)

    async def CallTool(self, request: pb.CallToolRequest, context: Any) -> pb.CallToolResponse:
        return await self.pipeline.unary(self.call_tool, request, context)

    async def ListResources(self, request: pb.ListResourcesRequest, context: Any) -> pb.ListResourcesResponse:
        return await self.pipeline.listing(self.list_resources, request, context)

    async def ListResourceTemplates(
        self, request: pb.ListResourceTemplatesRequest, context: Any
    ) -> pb.ListResourceTemplatesResponse:
        return await self.pipeline.listing(self.list_resource_templates, request, context)

    async def ReadResource(self, request: pb.ReadResourceRequest, context: Any) -> pb.ReadResourceResponse:
        return await self.pipeline.unary(self.read_resource, request, context)

    async def ListPrompts(self, request: pb.ListPromptsRequest, context: Any) -> pb.ListPromptsResponse:
        return await self.pipeline.listing(self.list_prompts, request, context)

    async def GetPrompt(self, request: pb.GetPromptRequest, context: Any) -> pb.GetPromptResponse:
        return await self.pipeline.unary(self.get_prompt, request, context)

    async def Complete(self, request: pb.CompletionRequest, context: Any) -> pb.CompletionResponse:
        return await self.pipeline.unary(self.complete, request, context)

    # -- shared ---------------------------------------------------------------------------------------------------

    def context(self, handling: Handling, sink: Callable[[Progress], None] | None = None) -> Context:
        """The handler's ``Context`` for an authorized call."""
        call: Call = handling.call
        common = handling.request.common
        meta = struct_to_python(common.metadata) if common.metadata.fields else None
        assert call.principal is not None
        return Context(
            principal=call.principal,
            metadata=call.metadata,
            method=f"/{call.service}/{call.method}",
            peer=call.peer,
            server_name=self.pipeline.server_name,
            request_meta=meta,
            grpc_context=handling.context,
            progress_sink=sink,
            inputs=handling.inputs,
        )

    def _listing(
        self,
        method: str,
        kind: TargetKind,
        listing: str,
        names: Callable[[], Mapping[str, Any]],
        response_type: type,
        add: Callable[[Any, str, Any], None],
    ) -> ListRpc:
        def answer(request: Any, entries: Mapping[str, Any], visible: Sequence[str]) -> Any:
            offset = decode_cursor(request.common, listing)
            response = response_type()
            for name in self.lists.page(visible, offset, listing, response.common):
                add(response, name, entries[name])
            self.lists.cache_hints(response)
            return response

        def needed(request: Any) -> int | None:
            try:
                offset = decode_cursor(request.common, listing)
            except Exception:  # noqa: BLE001 - a bad cursor: the whole list, and answer() raises as it always has
                return None
            return offset + self.lists.page_size + 1

        return ListRpc(method, kind, names, answer, needed=needed)

    def _tool_message(self, tool: Any) -> pb.Tool:
        cached = self._tool_messages.get(id(tool))
        if cached is None or cached[0] is not tool:
            cached = (tool, tool_message(tool))
            self._tool_messages[id(tool)] = cached
        return cached[1]

    # -- tools ----------------------------------------------------------------------------------------------------

    def _resolve_tool(self, request: Any) -> Resolution:
        name = request.request.name
        tool = self.registry.tools.get(name)
        if tool is None:
            return Resolution(TargetKind.TOOL, name, missing=errors.not_found(f"unknown tool {name!r}"))
        # Positional (kind, name, entry, missing, raw, checks): keywords cost more than the rest of building it.
        return Resolution(TargetKind.TOOL, name, tool, None, struct_to_python(request.request.arguments), tool.checks)

    @staticmethod
    def _validate_tool(found: Resolution, request: Any) -> Any:
        where = non_finite_number(found.raw)
        if where is not None:  # before any schema: no tool, policy or condition may ever see NaN or Infinity
            raise ArgumentError(
                f"invalid arguments: {where}: NaN and Infinity are not JSON numbers", (where,)
            )
        return found.entry.validate(found.raw)

    @staticmethod
    def _invalid_tool(found: Resolution, error: ArgumentError) -> pb.CallToolResponse:
        return tool_error(error.message)

    async def _answer_tool(self, handling: Handling) -> Answer[pb.CallToolResponse]:
        ctx = self.context(handling, handling.progress)
        try:
            result = await handling.resolution.entry.run(handling.arguments, ctx, self.executor)
        except asyncio.CancelledError:
            ctx.cancel()
            raise
        except (errors.McpError, InputRequired):  # a protocol error on purpose; input from the client
            raise
        except Exception as exc:  # noqa: BLE001 - a failing tool is a tool error, not a protocol error
            message = error_text(exc)
            return Answer(tool_error(message), f"tool error: {message}")
        try:
            response = tool_response(result)
        except (ValueError, TypeError) as exc:  # e.g. NaN or a non-JSON value in structured content
            message = f"the tool's result cannot be sent: {exc}"
            return Answer(tool_error(message), f"tool error: {message}")
        return Answer(response, "tool error" if result.is_error else "")

    # -- resources ------------------------------------------------------------------------------------------------

    def _resolve_resource(self, request: Any) -> Resolution:
        uri = request.uri
        if not uri:
            raise errors.invalid_params("uri: required")
        found = self.registry.resource_for(uri)
        if found is None:
            missing = errors.not_found(f"unknown resource {uri!r}", errors.RESOURCE_NOT_FOUND)
            return Resolution(TargetKind.RESOURCE, uri, missing=missing)
        entry, variables = found
        return Resolution(TargetKind.RESOURCE, uri, entry, raw=variables, checks=entry.checks)

    @staticmethod
    def _validate_resource(found: Resolution, request: Any) -> Any:
        return found.entry.validate(found.raw)

    async def _answer_resource(self, handling: Handling) -> Answer[pb.ReadResourceResponse]:
        uri = handling.resolution.name
        ctx = self.context(handling)
        try:
            contents = await handling.resolution.entry.read(uri, handling.arguments, ctx, self.executor)
        except (asyncio.CancelledError, errors.McpError, InputRequired):
            raise
        except (KeyError, FileNotFoundError) as exc:  # the handler's way of saying "no such resource"
            raise errors.not_found(f"resource {uri!r} not found: {error_text(exc)}", errors.RESOURCE_NOT_FOUND) from exc
        except Exception as exc:  # noqa: BLE001
            raise errors.internal(f"reading {uri!r} failed: {error_text(exc)}") from exc
        response = pb.ReadResourceResponse()
        for item in contents:
            resource_contents(response.resource.add(), item)
        self.lists.cache_hints(response)
        return Answer(response)

    # -- prompts --------------------------------------------------------------------------------------------------

    def _resolve_prompt(self, request: Any) -> Resolution:
        entry = self.registry.prompts.get(request.name)
        if entry is None:
            return Resolution(
                TargetKind.PROMPT, request.name, missing=errors.not_found(f"unknown prompt {request.name!r}")
            )
        return Resolution(TargetKind.PROMPT, request.name, entry, raw=dict(request.arguments), checks=entry.checks)

    @staticmethod
    def _validate_prompt(found: Resolution, request: Any) -> Any:
        return found.entry.validate(found.raw)

    async def _answer_prompt(self, handling: Handling) -> Answer[pb.GetPromptResponse]:
        entry = handling.resolution.entry
        ctx = self.context(handling)
        try:
            messages = await entry.render(handling.arguments, ctx, self.executor)
        except (asyncio.CancelledError, errors.McpError, InputRequired):
            raise
        except Exception as exc:  # noqa: BLE001
            raise errors.internal(f"prompt {entry.name!r} failed: {error_text(exc)}") from exc
        response = pb.GetPromptResponse(description=entry.description or "")
        for item in messages:
            content_block(response.messages.add(role=ROLES.get(item.role, pb.ROLE_USER)), item.text)
        return Answer(response)

    # -- completion -----------------------------------------------------------------------------------------------

    def _resolve_completion(self, request: Any) -> Resolution:
        """The prompt or resource template whose argument is completed (its checks guard the completion)."""
        argument = request.argument.name
        if request.HasField("prompt_reference") and request.prompt_reference.name:
            ref_kind, ref = "prompt", request.prompt_reference.name
            owner: Any = self.registry.prompts.get(ref)
            missing = errors.not_found(f"unknown prompt {ref!r}")
        elif request.HasField("resource_reference") and request.resource_reference.uri:
            ref_kind, ref = "resource", request.resource_reference.uri
            owner = self.registry.resource_templates.get(ref) or self.registry.resources.get(ref)
            missing = errors.not_found(f"unknown resource template {ref!r}", errors.RESOURCE_NOT_FOUND)
        else:
            raise errors.invalid_params("completion needs prompt_reference.name or resource_reference.uri")
        if not argument:
            raise errors.invalid_params("argument.name: required")
        if owner is None:
            return Resolution(TargetKind.COMPLETION, ref, missing=missing)
        handler = self.registry.completions.get((ref_kind, ref, argument))
        return Resolution(
            TargetKind.COMPLETION, ref, (owner, handler), raw={argument: request.argument.value}, checks=owner.checks
        )

    async def _answer_completion(self, handling: Handling) -> Answer[pb.CompletionResponse]:
        request = handling.request
        _owner, handler = handling.resolution.entry
        response = pb.CompletionResponse()
        if handler is not None:
            ctx = self.context(handling)
            try:
                completion = await handler.complete(
                    request.argument.value, dict(request.context.arguments), ctx, self.executor
                )
            except (asyncio.CancelledError, errors.McpError):
                raise
            except Exception as exc:  # noqa: BLE001
                ref = handling.resolution.name
                raise errors.internal(f"completion for {ref!r} failed: {error_text(exc)}") from exc
            response.values.extend(completion.values)
            response.total_matches = completion.total if completion.total is not None else len(completion.values)
            response.has_more = completion.has_more
        return Answer(response)


def _add_prompt(response: pb.ListPromptsResponse, name: str, entry: Any) -> None:
    message = response.prompts.add(name=name, title=entry.title or "", description=entry.description or "")
    for argument in entry.arguments:
        message.arguments.add(name=argument.name, description=argument.description, required=argument.required)
    presentation(message, entry)
