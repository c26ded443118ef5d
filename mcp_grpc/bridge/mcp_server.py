"""The MCP server side of the bridge: a low-level SDK ``Server`` whose every handler forwards to the gRPC server.

tools/list, tools/call, resources/list, resources/templates/list, resources/read, prompts/list, prompts/get and
completion/complete each become one call of ``mcp_grpc.client``; progress and log notifications of tools/call come
from CallToolStream, which is used only when the client can receive them (a progress token; a session-era client, or a
2026-07-28 request whose ``_meta`` opts in to a log level, for logs); subscriptions/listen is :func:`~mcp_grpc.bridge.listen.forward_listen`.
"""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

import mcp_types as types
from mcp_types import LOG_LEVEL_META_KEY
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

from mcp_grpc.client import as_mcp as conversions
from mcp_grpc.bridge.bearer import bearer_token
from mcp_grpc.bridge.errors import TOOL_ERROR_STATUSES, jsonrpc_error, resource_error, status_text, unreachable
from mcp_grpc.bridge.listen import forward_listen
from mcp_grpc.bridge.session_methods import LogLevels, ResourceSubscriptions
from mcp_grpc.bridge.inputs import forwarded, input_required_result, is_session_era, session_answerer
from mcp_grpc.client import AsyncClient, InputRequiredError, McpCallError
from mcp_grpc.wire.inputs import InputFormatError

if TYPE_CHECKING:
    from mcp_grpc.bridge.gateway import GrpcBackend

__all__ = ["build_bridge_server"]

log = logging.getLogger("mcp_grpc.bridge")

T = TypeVar("T")
Paging = types.PaginatedRequestParams | None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcp-grpc")
    except PackageNotFoundError:
        return ""


def build_bridge_server(
    backend: GrpcBackend,
    *,
    name: str = "mcp-grpc-bridge",
    instructions: str | None = None,
    forward_bearer: bool = False,
) -> Server:
    """A low-level SDK ``Server`` whose every handler forwards to the gRPC server through ``backend``.

    Calls are authorized by the gRPC server as the bridge's identity (``backend.identity``), not as the JSON-RPC
    client's, unless ``forward_bearer``: then each HTTP request's ``Authorization: Bearer <JWT-SVID>`` goes with
    its call (:mod:`.bearer`), and a request without one is refused.
    """

    log_levels = LogLevels()

    def caller(ctx: ServerRequestContext) -> AsyncClient:
        """The client for this request: the bridge's own, or the bridge's carrying the request's JWT-SVID."""
        if not forward_bearer:
            return backend.client()
        headers = getattr(ctx.request, "headers", None)
        token = bearer_token(headers.get("authorization") if headers is not None else None)
        if token is None:
            raise MCPError(code=types.INVALID_REQUEST,
                           message="this bridge forwards each client's JWT-SVID: send Authorization: Bearer <JWT-SVID>")
        return backend.client(bearer=token)

    async def forward(ctx: ServerRequestContext, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run one client call; a protocol failure becomes a JSON-RPC error."""
        try:
            return await call(caller(ctx))
        except McpCallError as error:
            raise jsonrpc_error(error) from None
        except InputFormatError as error:  # the client's inputResponses are not results the protocol allows
            raise MCPError(code=types.INVALID_PARAMS, message=str(error)) from None
        except Exception as error:  # noqa: BLE001 - e.g. the identity was removed: the channel cannot be built
            if isinstance(error, (MCPError, InputRequiredError)):
                raise
            raise jsonrpc_error(unreachable(error)) from None

    async def list_tools(ctx: ServerRequestContext, params: Paging) -> types.ListToolsResult:
        tools = await forward(ctx, lambda client: client.list_tools())
        return types.ListToolsResult(tools=[conversions.tool(info) for info in tools])

    def inputs(ctx: ServerRequestContext, params: Any) -> dict[str, Any]:
        """How a call answers input requests: the client's own MRTR fields, or the bridge asking a session."""
        if is_session_era(ctx):
            return {"on_input": session_answerer(ctx)}
        return forwarded(ctx, params)

    async def call_tool(
        ctx: ServerRequestContext, params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)
        wants_logs = is_session_era(ctx) or bool(ctx.meta and ctx.meta.get(LOG_LEVEL_META_KEY) is not None)

        async def progress(update: Any) -> None:
            await ctx.session.report_progress(update.progress, update.total, update.message or None)

        async def on_log(entry: Any) -> None:
            if not log_levels.allows(ctx, entry.level):
                return
            with warnings.catch_warnings():  # deprecated as of 2026-07-28 (SEP-2577); the SDK still gates by version
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                sent = ctx.session.send_log_message(
                    level=entry.level, data=entry.data, logger=entry.logger, related_request_id=ctx.request_id
                )
            await sent

        try:
            try:
                result = await caller(ctx).call_tool(
                    params.name, params.arguments or {}, progress=progress if wants_progress else None,
                    on_log=on_log if wants_logs else None, **inputs(ctx, params),
                )
            except InputRequiredError as needed:
                return input_required_result(needed)
            except InputFormatError as error:
                raise MCPError(code=types.INVALID_PARAMS, message=str(error)) from None
            except (McpCallError, MCPError):  # MCPError: no bearer to forward, a JSON-RPC error
                raise
            except Exception as error:  # noqa: BLE001
                raise unreachable(error) from None
        except McpCallError as error:
            if error.status in TOOL_ERROR_STATUSES:
                log.info("tool %r: %s", params.name, status_text(error))
                denial = types.TextContent(type="text", text=status_text(error))
                return types.CallToolResult(content=[denial], is_error=True)
            raise jsonrpc_error(error) from None
        return types.CallToolResult(
            content=[conversions.content_block(block) for block in result.raw.content],
            structured_content=result.structured,
            is_error=result.is_error,
        )

    async def list_resources(ctx: ServerRequestContext, params: Paging) -> types.ListResourcesResult:
        resources = await forward(ctx, lambda client: client.list_resources())
        return types.ListResourcesResult(resources=[conversions.resource(r) for r in resources])

    async def list_resource_templates(ctx: ServerRequestContext, params: Paging) -> types.ListResourceTemplatesResult:
        templates = await forward(ctx, lambda client: client.list_resource_templates())
        return types.ListResourceTemplatesResult(
            resource_templates=[conversions.resource_template(t) for t in templates]
        )

    async def read_resource(
        ctx: ServerRequestContext, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult | types.InputRequiredResult:
        try:
            contents = await forward(ctx, lambda client: client.read_resource(str(params.uri), **inputs(ctx, params)))
        except InputRequiredError as needed:
            return input_required_result(needed)
        except MCPError as error:
            raise resource_error(error, str(params.uri)) from None
        return types.ReadResourceResult(contents=[conversions.resource_contents(c) for c in contents])

    async def list_prompts(ctx: ServerRequestContext, params: Paging) -> types.ListPromptsResult:
        prompts = await forward(ctx, lambda client: client.list_prompts())
        return types.ListPromptsResult(prompts=[conversions.prompt(p) for p in prompts])

    async def get_prompt(
        ctx: ServerRequestContext, params: types.GetPromptRequestParams
    ) -> types.GetPromptResult | types.InputRequiredResult:
        try:
            result = await forward(
                ctx, lambda client: client.get_prompt(params.name, params.arguments or {}, **inputs(ctx, params))
            )
        except InputRequiredError as needed:
            return input_required_result(needed)
        return types.GetPromptResult(
            description=result.description or None, messages=conversions.prompt_messages(result)
        )

    async def complete(ctx: ServerRequestContext, params: types.CompleteRequestParams) -> types.CompleteResult:
        ref = params.ref
        prompt = ref.name if isinstance(ref, types.PromptReference) else None
        resource = ref.uri if isinstance(ref, types.ResourceTemplateReference) else None
        context_arguments = params.context.arguments if params.context and params.context.arguments else None
        result = await forward(
            ctx, lambda client: client.complete(
                params.argument.name, params.argument.value, prompt=prompt, resource=resource,
                context_arguments=context_arguments,
            )
        )
        return types.CompleteResult(
            completion=types.Completion(values=result.values[:100], total=result.total, has_more=result.has_more)
        )

    async def listen(
        ctx: ServerRequestContext, params: types.SubscriptionsListenRequestParams
    ) -> types.SubscriptionsListenResult:
        return await forward_listen(backend, ctx, params, caller(ctx))

    subscriptions = ResourceSubscriptions(backend, caller)
    with warnings.catch_warnings():  # logging/setLevel is deprecated as of 2026-07-28; session-era clients send it
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        return Server(
            name,
            version=_version(),
            instructions=instructions,
            on_list_tools=list_tools,
            on_call_tool=call_tool,
            on_list_resources=list_resources,
            on_list_resource_templates=list_resource_templates,
            on_read_resource=read_resource,
            on_list_prompts=list_prompts,
            on_get_prompt=get_prompt,
            on_completion=complete,
            on_subscriptions_listen=listen,
            on_subscribe_resource=subscriptions.subscribe,
            on_unsubscribe_resource=subscriptions.unsubscribe,
            on_set_logging_level=log_levels.set_level,
        )
