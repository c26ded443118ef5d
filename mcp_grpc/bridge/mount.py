"""Serve a server written with the official MCP Python SDK (``mcp.server.mcpserver.MCPServer``) through mcp-grpc.

    from mcp.server.mcpserver import MCPServer
    from mcp_grpc.bridge import mount_official
    from mcp_grpc.server import McpApp

    sdk = MCPServer("weather")          # the existing server, its code unchanged

    @sdk.tool()
    def forecast(city: str) -> str: ...

    app = McpApp("weather")
    mount_official(app, sdk)            # every tool, resource, template, prompt and completion

Each primitive is registered through the McpApp's public API (``add_tool``, ``resource``, ``prompt``, ``completion``)
with the SDK's own metadata (names, titles, descriptions, JSON Schemas, annotations), and every call goes to the SDK
server's own public entry points (``MCPServer.call_tool``, ``read_resource``, ``get_prompt`` and its completion
handler). The SDK therefore validates arguments and converts results exactly as it would over JSON-RPC; mcp-grpc adds
its identity, authorization and audit in front, as for any other tool. Authorization happens before the SDK sees the
arguments, so a caller who may not use a tool learns nothing from its validation.

What a mounted handler gets from the SDK's ``Context``: ``report_progress`` (streamed to the gRPC caller on
``CallToolStream``), ``notify_*_changed`` / ``notify_resource_updated`` (announced on ``McpStreaming.Listen``),
``read_resource`` and ``request_id``. Logging calls (``ctx.log``, ``ctx.info`` ...) go to the caller as the
mcp-grpc ``Context.log`` does (log frames on ``CallToolStream``); data it cannot carry (not JSON, too large) goes to the
Python logger ``mcp_grpc.bridge`` instead, at most 256 characters of it.
Server-to-client requests of a mounted tool (``ctx.elicit``, ``ctx.elicit_url``, ``ctx.session.create_message``,
``ctx.session.list_roots``) become mcp-grpc input requests (MRTR): the caller gets INPUT_REQUIRED, answers, and the
retry runs the SDK handler again with the answers (so a handler should ask before it has side effects). The SDK server's ``lifespan`` runs as one of the McpApp's lifespans: entered before the
gRPC server serves, exited after it drained; handlers see what it yielded as ``ctx.request_context.lifespan_context``.

Mounting takes a snapshot: primitives the SDK server registers after ``mount_official`` returns are not served.
"""

from __future__ import annotations

import base64
import concurrent.futures
import contextlib
import dataclasses
import inspect
import itertools
import json
import logging
from typing import Annotated, Any, AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence, TypeVar

import grpc
import mcp_types
import pydantic
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context as SdkContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceNotFoundError
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import PromptsListChanged, ResourcesListChanged, ResourceUpdated, ToolsListChanged

from mcp_grpc.contract import Check
from mcp_grpc.wire import errors
from mcp_grpc.server.app import McpApp, Notification
from mcp_grpc.contract.inputs import answer_to_json, request_from_json
from mcp_grpc.server.context import Context, current_context
from mcp_grpc.server.inputs import InputRequired
from mcp_grpc.server.content import Audio, ContentBlock, EmbeddedResource, Image, ResourceContent, ResourceLink
from mcp_grpc.server.entries import Completion, Icon, PromptMessage, ToolAnnotations, ToolResult
from mcp_grpc.server.uri_template import UriTemplate, UriTemplateError

__all__ = ["MountError", "MountedServer", "SkippedPrimitive", "mount_official"]

log = logging.getLogger("mcp_grpc.bridge")

#: The MCP revision a mounted SDK handler is told it serves (mcp-grpc speaks 2026-07-28).
PROTOCOL_VERSION = "2026-07-28"

T = TypeVar("T")


class MountError(ValueError):
    """The SDK server cannot be mounted (a name clash with the McpApp, or an SDK entry point that is not pure)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SkippedPrimitive:
    """A primitive of the SDK server that mcp-grpc cannot serve, and why."""

    kind: str  # "resource_template"
    name: str
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class MountedServer:
    """What ``mount_official`` registered into the McpApp."""

    tools: tuple[str, ...]
    resources: tuple[str, ...]
    resource_templates: tuple[str, ...]
    prompts: tuple[str, ...]
    completions: tuple[tuple[str, str, str], ...]
    """(ref kind, prompt name or template, argument) for which the SDK's completion handler is reachable."""
    skipped: tuple[SkippedPrimitive, ...] = ()


def _listed(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one of MCPServer's ``list_*`` coroutines to completion without an event loop.

    They only read the SDK's registries and never suspend, so mounting works at import time (``mcp-grpc serve``) and
    inside a running loop alike. One that does suspend is refused rather than run on a loop we do not own.
    """
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value
    coroutine.close()
    raise MountError("the SDK server's list method awaited something; mount_official needs pure listings")


# -- the SDK Context a mounted handler receives -------------------------------------------------------------------


class _CallSession:
    """Stands in for the SDK's ``ServerSession`` of one call: progress and logs go to mcp-grpc, and the SDK's
    server-to-client requests (elicitation, sampling, roots) become the mcp-grpc Context's input requests (MRTR).

    A question the caller has not answered yet ends the run with ``InputRequired`` (the caller gets INPUT_REQUIRED);
    the retry runs the SDK handler again from the top and the same question, asked in the same order, finds its
    answer. Keys are mcp-grpc's defaults (``elicit_1``, ``sample_1``, ``roots_1``...), stable across rounds.
    """

    def __init__(self, ctx: Context | None) -> None:
        self._ctx = ctx
        self.client_capabilities = _sdk_capabilities(ctx)

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        if self._ctx is not None:
            self._ctx.report_progress(progress, total, message)

    async def send_log_message(self, level: str, data: Any, logger: str | None = None, **_: Any) -> None:
        if self._ctx is not None:
            try:
                self._ctx.log(level, data, logger)
                return
            except ValueError as error:  # not deliverable: the handler's log call must not fail its tool
                log.warning("a mounted handler's log message was not sent: %.200s", error)
        log.log(_LOG_LEVELS.get(level, logging.INFO), "%s%.256s", f"[{str(logger)[:64]}] " if logger else "", data)

    def _asking(self, what: str) -> Context:
        if self._ctx is None:
            raise NotImplementedError(f"{what} is not available here: only a call (tool, prompt, resource read) "
                                      f"served by mcp-grpc can ask its caller for input")
        return self._ctx

    async def elicit_form(
        self, message: str, requested_schema: Mapping[str, Any], related_request_id: Any = None
    ) -> mcp_types.ElicitResult:
        answer = await self._asking("elicitation").elicit(message, dict(requested_schema))
        return mcp_types.ElicitResult.model_validate(answer_to_json(answer))

    elicit = elicit_form

    async def elicit_url(
        self, message: str, url: str, elicitation_id: str, related_request_id: Any = None
    ) -> mcp_types.ElicitResult:
        answer = await self._asking("elicitation").elicit(message, url=url, elicitation_id=elicitation_id)
        return mcp_types.ElicitResult.model_validate(answer_to_json(answer))

    async def create_message(
        self, messages: Sequence[Any], *, max_tokens: int, system_prompt: str | None = None,
        temperature: float | None = None, stop_sequences: Sequence[str] | None = None,
        model_preferences: Any = None, tools: Any = None, tool_choice: Any = None, **_: Any,
    ) -> mcp_types.CreateMessageResult:
        if tools is not None or tool_choice is not None:
            raise NotImplementedError("sampling with tools is not carried by mcp-grpc's input requests")
        hints = [hint.name for hint in (getattr(model_preferences, "hints", None) or []) if getattr(hint, "name", None)]
        answer = await self._asking("sampling").sample(
            [_json(message) for message in messages], max_tokens=max_tokens, system_prompt=system_prompt,
            temperature=temperature, stop_sequences=tuple(stop_sequences or ()), model_hints=hints,
        )
        return mcp_types.CreateMessageResult.model_validate(answer_to_json(answer))

    async def list_roots(self) -> mcp_types.ListRootsResult:
        roots = await self._asking("roots").list_roots()
        return mcp_types.ListRootsResult.model_validate(answer_to_json(roots))

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(
            f"{name} is not available to an SDK handler mounted into mcp-grpc (its session carries progress, logs, "
            f"elicitation, sampling and roots only)"
        )


_ALL_CAPABILITIES = {"elicitation": {"form": {}, "url": {}}, "sampling": {}, "roots": {}}


def _sdk_capabilities(ctx: Context | None) -> mcp_types.ClientCapabilities | None:
    """What the SDK is told the caller supports: what it declared, or (as mcp-grpc assumes of a caller that declares
    nothing) every kind of input request, so the SDK asks and mcp-grpc relays."""
    if ctx is None:
        return None
    declared = ctx.client_capabilities
    try:
        return mcp_types.ClientCapabilities.model_validate(dict(declared) if declared else _ALL_CAPABILITIES)
    except pydantic.ValidationError:
        return mcp_types.ClientCapabilities.model_validate(_ALL_CAPABILITIES)


def _json(model: Any) -> Any:
    """An SDK (pydantic) object as the protocol's JSON."""
    if isinstance(model, pydantic.BaseModel):
        return model.model_dump(by_alias=True, mode="json", exclude_none=True)
    return model


def _input_required(error: BaseException) -> InputRequired | None:
    """The ``InputRequired`` an SDK wrapper exception (``ToolError``, ``UnexpectedToolError``) was raised from."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, InputRequired):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


_LOG_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "notice": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "alert": logging.CRITICAL,
    "emergency": logging.CRITICAL,
}


class _AppNotifications:
    """The SDK's ``SubscriptionBus`` seam, publishing to the McpApp's ``Listen`` streams."""

    def __init__(self, app: McpApp) -> None:
        self._app = app

    async def publish(self, event: Any) -> None:
        if isinstance(event, ToolsListChanged):
            self._app.notify(Notification.TOOLS_CHANGED)
        elif isinstance(event, PromptsListChanged):
            self._app.notify(Notification.PROMPTS_CHANGED)
        elif isinstance(event, ResourcesListChanged):
            self._app.notify(Notification.RESOURCES_CHANGED)
        elif isinstance(event, ResourceUpdated):
            self._app.notify_resource_updated(event.uri)

    def subscribe(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None  # nobody listens through the SDK: gRPC callers use McpStreaming.Listen


_REQUEST_IDS = itertools.count(1)


class _SdkCalls:
    """Builds the SDK ``Context`` for each call into one mounted server."""

    def __init__(self, app: McpApp, server: MCPServer) -> None:
        self.server = server
        self.bus = _AppNotifications(app)
        self.lifespan_context: Any = {}
        """What the SDK server's lifespan yielded, while it runs (an empty dict without one, as in the SDK)."""

    @contextlib.asynccontextmanager
    async def lifespan(self, _app: McpApp) -> AsyncIterator[None]:
        """The SDK server's own lifespan, run by the McpApp's server runtime."""
        lifespan = self.server.settings.lifespan
        assert lifespan is not None
        async with lifespan(self.server) as state:
            self.lifespan_context = state
            try:
                yield
            finally:
                self.lifespan_context = {}

    def context(
        self, ctx: Context | None, method: str, params: Mapping[str, Any],
        input_params: mcp_types.InputResponseRequestParams | None = None,
    ) -> SdkContext:
        request = ServerRequestContext(
            session=_CallSession(ctx),  # type: ignore[arg-type]
            lifespan_context=self.lifespan_context,
            protocol_version=PROTOCOL_VERSION,
            method=method,
            params=dict(params),
            request_id=f"mcp-grpc-{next(_REQUEST_IDS)}",
        )
        return SdkContext(
            request_context=request, mcp_server=self.server, subscriptions=self.bus,  # type: ignore[arg-type]
            input_params=input_params,
        )


# -- conversions --------------------------------------------------------------------------------------------------


def _annotations(hints: mcp_types.ToolAnnotations | None) -> ToolAnnotations:
    if hints is None:
        return ToolAnnotations()
    return ToolAnnotations(
        title=hints.title,
        read_only=hints.read_only_hint,
        destructive=hints.destructive_hint,
        idempotent=hints.idempotent_hint,
        open_world=hints.open_world_hint,
    )


def _icons(icons: Sequence[mcp_types.Icon] | None, owner: str) -> tuple[Icon, ...]:
    """An SDK primitive's icons as mcp-grpc's; one mcp-grpc would refuse (not https: or data:) is left out, logged."""
    converted = []
    for icon in icons or ():
        try:
            converted.append(Icon(str(icon.src), mime_type=icon.mime_type, sizes=tuple(icon.sizes or ()),
                                  theme=icon.theme))
        except ValueError as error:
            log.warning("not publishing an icon of %s: %s", owner, error)
    return tuple(converted)


def _content_block(block: Any) -> ContentBlock:
    """An SDK content block as mcp-grpc's (base64 data decoded: the gRPC wire carries bytes)."""
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent):
        return Image(base64.b64decode(block.data), block.mime_type)
    if isinstance(block, mcp_types.AudioContent):
        return Audio(base64.b64decode(block.data), block.mime_type)
    if isinstance(block, mcp_types.EmbeddedResource):
        contents = block.resource
        mime = contents.mime_type or None
        if isinstance(contents, mcp_types.TextResourceContents):
            return EmbeddedResource(ResourceContent(str(contents.uri), text=contents.text, mime_type=mime))
        blob = base64.b64decode(contents.blob)
        return EmbeddedResource(ResourceContent(str(contents.uri), blob=blob, mime_type=mime))
    if isinstance(block, mcp_types.ResourceLink):
        return ResourceLink(str(block.uri), block.name, title=block.title, description=block.description,
                            mime_type=block.mime_type)
    return json.dumps(pydantic.TypeAdapter(Any).dump_python(block, mode="json"))


def _mcp_error(error: MCPError, what: str) -> errors.McpError:
    if error.code == mcp_types.INVALID_PARAMS:
        return errors.invalid_params(f"{what}: {error.message}")
    if error.code == mcp_types.METHOD_NOT_FOUND:
        return errors.unimplemented(f"{what}: {error.message}")
    return errors.McpError(grpc.StatusCode.INTERNAL, error.code, f"{what}: {error.message}")


# -- tools --------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class OfficialSdkTool:
    """An MCPServer tool served by mcp-grpc: the SDK's schemas, the SDK's validation, the SDK's handler.

    ``validate`` passes the arguments through untouched: the SDK validates them itself when the tool runs (after
    mcp-grpc's authorization), and its validation error comes back as a tool error, as the SDK would return it.
    """

    name: str
    title: str | None
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    annotations: ToolAnnotations
    checks: Sequence[Check]
    calls: _SdkCalls
    icons: tuple[Icon, ...] = ()
    meta: Mapping[str, Any] | None = None

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return dict(arguments)

    async def run(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> ToolResult:
        input_params = None
        for _ in range(_SDK_ROUNDS):
            result = await self._call_sdk(arguments, ctx, input_params)
            if not isinstance(result, mcp_types.InputRequiredResult):
                break
            input_params = _answers_for(ctx, result)  # InputRequired when the caller has not answered them yet
        else:
            return ToolResult(text=f"tool {self.name!r} still asked for input after {_SDK_ROUNDS} rounds",
                              is_error=True)
        if isinstance(result, ToolResult):
            return result
        if not isinstance(result, mcp_types.CallToolResult):
            return ToolResult(text=f"tool {self.name!r} returned {type(result).__name__}", is_error=True)
        structured = result.structured_content if isinstance(result.structured_content, dict) else None
        blocks = [_content_block(block) for block in result.content]
        return ToolResult(content=blocks, structured=structured, is_error=bool(result.is_error))

    async def _call_sdk(
        self, arguments: dict[str, Any], ctx: Context, input_params: mcp_types.InputResponseRequestParams | None
    ) -> Any:
        """One run of the SDK's ``call_tool``: its result, or a tool-error ``ToolResult``; an ``InputRequired``
        (a question the SDK session asked through mcp-grpc) goes through to the pipeline."""
        sdk_ctx = self.calls.context(ctx, "tools/call", {"name": self.name, "arguments": arguments}, input_params)
        try:
            return await self.calls.server.call_tool(self.name, arguments, sdk_ctx)
        except InputRequired:
            raise
        except MCPError as error:
            return ToolResult(text=f"MCP error {error.code}: {error.message}", is_error=True)
        except Exception as error:  # noqa: BLE001 - as MCPServer does: ToolError & co. become an is_error result
            needed = _input_required(error)
            if needed is not None:  # the SDK wrapped our question: let the pipeline ask it
                raise needed from None
            return ToolResult(text=str(error) or type(error).__name__, is_error=True)


#: How many InputRequiredResults in a row one mcp-grpc round relays to the SDK (a resolver DAG asks in stages).
_SDK_ROUNDS = 16


async def _relaying_input(
    ctx: Context | None, once: Callable[[mcp_types.InputResponseRequestParams | None], Awaitable[Any]], what: str
) -> Any:
    """Run the SDK (``once``) until it stops returning ``InputRequiredResult``, relaying its questions (see
    ``_answers_for``); outside a call that can ask (no Context) a question is an internal error."""
    input_params = None
    for _ in range(_SDK_ROUNDS):
        result = await once(input_params)
        if not isinstance(result, mcp_types.InputRequiredResult):
            return result
        if ctx is None:
            raise errors.internal(f"{what} asked the client for input outside a call that can ask")
        input_params = _answers_for(ctx, result)
    raise errors.internal(f"{what} still asked for input after {_SDK_ROUNDS} rounds")


def _answers_for(ctx: Context, result: mcp_types.InputRequiredResult) -> mcp_types.InputResponseRequestParams:
    """The SDK's MRTR questions asked through mcp-grpc under the SDK's own keys: the caller's answers as the SDK's
    ``input_responses`` with the SDK's fresh ``request_state``, or ``InputRequired`` for the unanswered ones.

    The SDK's ``request_state`` never leaves the server: each mcp-grpc round runs the SDK from its first round again
    (resolvers are re-runnable by the SDK's contract), and mcp-grpc's sealed state carries the answers already given.
    """
    requests = {key: request_from_json(_json(request)) for key, request in (result.input_requests or {}).items()}
    answers = ctx.ask(requests)
    return mcp_types.InputResponseRequestParams.model_validate({
        "inputResponses": {key: answer_to_json(answer) for key, answer in answers.items()},
        "requestState": result.request_state,
    })


# -- resources, prompts, completions: synthesized handlers for the McpApp decorators ------------------------------


def _with_parameters(fn: Callable[..., Awaitable[Any]], parameters: Sequence[tuple[str, Any, Any]]) -> Any:
    """Give ``fn(**kwargs)`` an explicit keyword-only signature so McpApp derives argument names and schemas from it."""
    fn.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
            for name, annotation, default in parameters
        ]
    )
    fn.__annotations__ = {name: annotation for name, annotation, _ in parameters}
    return fn


def _resource_reader(calls: _SdkCalls, expand: Callable[[Mapping[str, str]], str]) -> Callable[..., Awaitable[Any]]:
    async def read(**variables: str) -> list[ResourceContent]:
        uri = expand(variables)
        ctx = current_context()

        async def once(input_params: mcp_types.InputResponseRequestParams | None) -> Any:
            sdk_ctx = calls.context(ctx, "resources/read", {"uri": uri}, input_params)
            try:
                return await calls.server.read_resource(uri, sdk_ctx)
            except ResourceNotFoundError as error:
                raise errors.not_found(f"resource {uri!r}: {error}", errors.RESOURCE_NOT_FOUND) from None
            except MCPError as error:
                raise _mcp_error(error, f"resource {uri!r}") from None
            except Exception as error:
                needed = _input_required(error)
                if needed is not None:  # the SDK wrapped the reader's question: let the pipeline ask it
                    raise needed from None
                raise

        contents = await _relaying_input(ctx, once, f"resource {uri!r}")
        items = []
        for item in contents:
            if isinstance(item.content, bytes):
                mime_type = item.mime_type or "application/octet-stream"
                items.append(ResourceContent(uri=uri, blob=item.content, mime_type=mime_type))
            else:
                items.append(ResourceContent(uri=uri, text=item.content, mime_type=item.mime_type or "text/plain"))
        return items

    return read


def _prompt_renderer(calls: _SdkCalls, name: str) -> Callable[..., Awaitable[Any]]:
    async def render(**arguments: str | None) -> list[PromptMessage]:
        given = {key: value for key, value in arguments.items() if value is not None}
        ctx = current_context()

        async def once(input_params: mcp_types.InputResponseRequestParams | None) -> Any:
            sdk_ctx = calls.context(ctx, "prompts/get", {"name": name, "arguments": given}, input_params)
            try:
                return await calls.server.get_prompt(name, given, sdk_ctx)
            except MCPError as error:
                raise _mcp_error(error, f"prompt {name!r}") from None
            except ValueError as error:  # MCPServer reports every rendering failure, bad arguments included, so
                needed = _input_required(error)
                if needed is not None:  # the SDK wrapped the prompt's question: let the pipeline ask it
                    raise needed from None
                raise errors.invalid_params(f"prompt {name!r}: {error}") from None

        result = await _relaying_input(ctx, once, f"prompt {name!r}")
        if not isinstance(result, mcp_types.GetPromptResult):
            raise errors.internal(f"prompt {name!r} returned {type(result).__name__}")
        return [PromptMessage(message.role, _content_block(message.content)) for message in result.messages]

    return render


def _completer(calls: _SdkCalls, handler: Any, ref: Any) -> Callable[..., Awaitable[Completion]]:
    async def complete(value: str, arguments: dict[str, str], *, argument: str) -> Completion:
        params = mcp_types.CompleteRequestParams(
            ref=ref,
            argument=mcp_types.CompletionArgument(name=argument, value=value),
            context=mcp_types.CompletionContext(arguments=dict(arguments)) if arguments else None,
        )
        sdk_ctx = calls.context(current_context(), "completion/complete", params.model_dump(mode="json"))
        try:
            result = await handler(sdk_ctx.request_context, params)
        except MCPError as error:
            raise _mcp_error(error, "completion") from None
        completion = result.completion if isinstance(result, mcp_types.CompleteResult) else None
        if completion is None:
            return Completion(values=[])
        return Completion(values=list(completion.values), total=completion.total, has_more=bool(completion.has_more))

    return complete


def _bind_argument(
    complete: Callable[..., Awaitable[Completion]], argument: str
) -> Callable[..., Awaitable[Completion]]:
    async def for_argument(value: str, arguments: dict[str, str]) -> Completion:
        return await complete(value, arguments, argument=argument)

    return for_argument


# -- mounting -----------------------------------------------------------------------------------------------------


def mount_official(
    app: McpApp,
    server: MCPServer,
    *,
    authorize: Mapping[str, Sequence[Check]] | None = None,
) -> MountedServer:
    """Register every tool, resource, resource template, prompt and completion of ``server`` into ``app``.

    ``authorize`` adds declared checks (as ``@app.tool(authorize=...)`` would) by tool name, resource URI, template
    or prompt name; the default checks of mcp-grpc's call policy apply to every mounted primitive regardless.
    Raises ``MountError`` when a name is already registered in ``app``. Resource templates mcp-grpc's matcher cannot
    parse (beyond RFC 6570 level 3, e.g. ``{var:3}``, ``{?list*}``) are skipped, logged and listed in
    ``MountedServer.skipped``.
    """
    authorize = dict(authorize or {})
    calls = _SdkCalls(app, server)
    tools = _listed(server.list_tools())
    resources = _listed(server.list_resources())
    templates = _listed(server.list_resource_templates())
    prompts = _listed(server.list_prompts())

    clashes = sorted(
        {tool.name for tool in tools} & set(app.tools)
        | {str(resource.uri) for resource in resources} & set(app.resources)
        | {template.uri_template for template in templates} & set(app.resource_templates)
        | {prompt.name for prompt in prompts} & set(app.prompts)
    )
    if clashes:
        raise MountError(f"cannot mount {server.name!r}: already registered in the McpApp: {', '.join(clashes)}")
    unknown = set(authorize) - (
        {tool.name for tool in tools}
        | {str(resource.uri) for resource in resources}
        | {template.uri_template for template in templates}
        | {prompt.name for prompt in prompts}
    )
    if unknown:
        raise MountError(f"authorize= names what {server.name!r} does not have: {', '.join(sorted(unknown))}")

    for tool in tools:
        app.add_tool(
            OfficialSdkTool(
                name=tool.name,
                title=tool.title,
                description=tool.description or "",
                input_schema=tool.input_schema,
                output_schema=tool.output_schema,
                annotations=_annotations(tool.annotations),
                checks=tuple(authorize.get(tool.name, ())),
                calls=calls,
                icons=_icons(tool.icons, f"tool {tool.name!r}"),
                meta=tool.meta,
            )
        )

    for resource in resources:
        uri = str(resource.uri)
        reader = _with_parameters(_resource_reader(calls, lambda _variables, uri=uri: uri), ())
        app.resource(
            uri,
            name=resource.name,
            title=resource.title,
            description=resource.description or "",
            mime_type=resource.mime_type,
            authorize=tuple(authorize.get(uri, ())),
            icons=_icons(resource.icons, f"resource {uri!r}"),
            meta=resource.meta,
        )(reader)

    mounted_templates: list[str] = []
    skipped: list[SkippedPrimitive] = []
    for template in templates:
        pattern = template.uri_template
        try:
            parsed = UriTemplate(pattern)
        except UriTemplateError as error:
            skipped.append(SkippedPrimitive("resource_template", pattern, str(error)))
            log.warning("not mounting resource template %r of %r: %s", pattern, server.name, error)
            continue
        reader = _with_parameters(
            _resource_reader(calls, lambda values, t=parsed: t.expand(dict(values))),
            [
                (variable, str | None, None) if variable in parsed.optional
                else (variable, str | list[str], inspect.Parameter.empty)
                for variable in parsed.variables
            ],
        )
        app.resource(
            pattern,
            name=template.name,
            title=template.title,
            description=template.description or "",
            mime_type=template.mime_type,
            authorize=tuple(authorize.get(pattern, ())),
            icons=_icons(template.icons, f"resource template {pattern!r}"),
            meta=template.meta,
        )(reader)
        mounted_templates.append(pattern)

    for prompt in prompts:
        parameters = []
        for argument in prompt.arguments or ():
            described = pydantic.Field(description=argument.description or "")
            if argument.required:
                parameters.append((argument.name, Annotated[str, described], inspect.Parameter.empty))
            else:
                parameters.append((argument.name, Annotated[str | None, described], None))
        app.prompt(
            prompt.name,
            title=prompt.title,
            description=prompt.description or "",
            authorize=tuple(authorize.get(prompt.name, ())),
            icons=_icons(prompt.icons, f"prompt {prompt.name!r}"),
            meta=prompt.meta,
        )(_with_parameters(_prompt_renderer(calls, prompt.name), parameters))

    completions: list[tuple[str, str, str]] = []
    entry = server._lowlevel_server.get_request_handler("completion/complete")  # noqa: SLF001 - see below
    # MCPServer.completion() registers its handler on the low-level server only; get_request_handler is that
    # server's public lookup, and the handler keeps the SDK's own error mapping.
    if entry is not None:
        for prompt in prompts:
            complete = _completer(calls, entry.handler, mcp_types.PromptReference(type="ref/prompt", name=prompt.name))
            for argument in prompt.arguments or ():
                app.completion(prompt=prompt.name, argument=argument.name)(_bind_argument(complete, argument.name))
                completions.append(("prompt", prompt.name, argument.name))
        for pattern in mounted_templates:
            reference = mcp_types.ResourceTemplateReference(type="ref/resource", uri=pattern)
            complete = _completer(calls, entry.handler, reference)
            for variable in UriTemplate(pattern).variables:
                app.completion(resource=pattern, argument=variable)(_bind_argument(complete, variable))
                completions.append(("resource", pattern, variable))

    if server.settings.lifespan is not None:
        app.add_lifespan(calls.lifespan, name=f"lifespan of the mounted SDK server {server.name!r}")

    return MountedServer(
        tools=tuple(tool.name for tool in tools),
        resources=tuple(str(resource.uri) for resource in resources),
        resource_templates=tuple(mounted_templates),
        prompts=tuple(prompt.name for prompt in prompts),
        completions=tuple(completions),
        skipped=tuple(skipped),
    )
