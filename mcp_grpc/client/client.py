"""The asynchronous MCP-over-gRPC client.

    async with AsyncClient("127.0.0.1:50051") as client:
        tools = await client.list_tools()
        result = await client.call_tool("add", {"a": 1, "b": 2}, progress=print)

Protocol errors raise ``McpCallError`` (gRPC status, MCP error code, message); a tool that failed returns a
``ToolCallResult`` with ``is_error=True``.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence

import grpc

from mcp_grpc import wire
from mcp_grpc.client.channel import RetryPolicy, make_channel
from mcp_grpc.contract.inputs import InputRequest, answer_to_json, request_from_json
from mcp_grpc.wire import inputs as wire_inputs
from mcp_grpc.wire.structs import python_to_struct, struct_to_python, value_to_python
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2_grpc, streaming_pb2, streaming_pb2_grpc

MetadataHook = Callable[[], Iterable[tuple[str, str]]]
"""Called before every call; returns extra metadata, e.g. ``[("authorization", f"Bearer {jwt_svid}")]``."""

ProgressCallback = Callable[["ProgressUpdate"], Any]
LogCallback = Callable[["LogEntry"], Any]


class McpCallError(Exception):
    """A call ended with a non-OK gRPC status. ``mcp_code`` is the MCP error code when the server sent one;
    ``retry_after`` the seconds a rate-limited call (RESOURCE_EXHAUSTED) should wait, when the server said."""

    def __init__(
        self, status: grpc.StatusCode, message: str, mcp_code: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status.name}: {message}" + (f" (MCP error {mcp_code})" if mcp_code is not None else ""))
        self.status = status
        self.message = message
        self.mcp_code = mcp_code
        self.retry_after = retry_after

    @classmethod
    def from_rpc_error(cls, error: grpc.aio.AioRpcError) -> "McpCallError":
        code = None
        retry_after = None
        for key, value in error.trailing_metadata() or ():
            if key == wire.ERROR_CODE_METADATA_KEY:
                try:
                    code = int(value)
                except ValueError:
                    pass
            elif key == "retry-after" and isinstance(value, str) and value.isdigit() and len(value) < 10:
                retry_after = float(value)
        return cls(error.code(), error.details() or "", code, retry_after)


_THEMES = {pb.Icon.THEME_LIGHT: "light", pb.Icon.THEME_DARK: "dark"}


def icons_of(message: Any) -> tuple[dict[str, Any], ...]:
    """The ``icons`` of a Tool, Resource, ResourceTemplate or Prompt message, as MCP ``Icon`` objects."""
    icons = []
    for icon in message.icons:
        item: dict[str, Any] = {"src": icon.src}
        if icon.mime_type:
            item["mimeType"] = icon.mime_type
        if icon.sizes:
            item["sizes"] = list(icon.sizes)
        if icon.theme in _THEMES:
            item["theme"] = _THEMES[icon.theme]
        icons.append(item)
    return tuple(icons)


def meta_of(message: Any) -> dict[str, Any] | None:
    """The ``metadata`` (MCP ``_meta``) of a Tool, Resource, ResourceTemplate or Prompt message, None when unset."""
    return struct_to_python(message.metadata) if message.HasField("metadata") else None


@dataclasses.dataclass(frozen=True)
class ToolInfo:
    name: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    annotations: dict[str, Any]
    icons: tuple[dict[str, Any], ...] = ()
    """MCP ``Icon`` objects: ``{"src", "mimeType"?, "sizes"?, "theme"?}``."""
    meta: dict[str, Any] | None = None
    """The tool's MCP ``_meta``."""


class InputRequiredError(Exception):
    """The server needs input before the call can complete (MRTR), and the call had no ``on_input`` to answer it.

    ``requests``: key -> the protocol's request object (``{"method": ..., "params": ...}``); ``request_state``: what
    a retry must echo back. Retry the same call with ``input_responses`` (key -> result object) and ``request_state``.
    """

    def __init__(self, requests: Mapping[str, Any], request_state: str | None) -> None:
        super().__init__("the server asks for input: " + ", ".join(requests))
        self.requests = dict(requests)
        self.request_state = request_state


#: Answers a server's input requests: key -> ``Elicit``/``Sample``/``ListRoots`` in, key -> answer out (an
#: ``ElicitAnswer``, ``SampleAnswer``, list of ``Root``, or the protocol's result object); may be async.
InputHandler = Callable[[Mapping[str, InputRequest]], "Mapping[str, Any] | Awaitable[Mapping[str, Any]]"]


@dataclasses.dataclass(frozen=True)
class ToolCallResult:
    text: str
    """All text content blocks joined by newlines."""
    structured: dict[str, Any] | None
    is_error: bool
    raw: pb.CallToolResponse


@dataclasses.dataclass(frozen=True)
class ProgressUpdate:
    progress: float
    total: float | None
    message: str


@dataclasses.dataclass(frozen=True)
class LogEntry:
    """A tool's log message (the protocol's ``notifications/message``)."""

    level: str
    """debug, info, notice, warning, error, critical, alert or emergency."""
    data: Any
    """Any JSON value."""
    logger: str | None


@dataclasses.dataclass(frozen=True)
class ResourceInfo:
    uri: str
    name: str
    title: str
    description: str
    mime_type: str
    icons: tuple[dict[str, Any], ...] = ()
    meta: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class ResourceContents:
    uri: str
    mime_type: str
    text: str | None
    blob: bytes | None


@dataclasses.dataclass(frozen=True)
class PromptInfo:
    name: str
    title: str
    description: str
    arguments: list[dict[str, Any]]
    icons: tuple[dict[str, Any], ...] = ()
    meta: dict[str, Any] | None = None


@dataclasses.dataclass(frozen=True)
class PromptResult:
    description: str
    messages: list[tuple[str, str]]
    """(role, text) pairs (a message holding an image, audio or a resource has empty text: see ``raw``)."""
    raw: pb.GetPromptResponse | None = None
    """The response as received, with every message's content block."""


@dataclasses.dataclass(frozen=True)
class CompletionResult:
    values: list[str]
    total: int
    has_more: bool


_ROLE_NAMES = {pb.ROLE_USER: "user", pb.ROLE_ASSISTANT: "assistant"}


class AsyncClient:
    """A client of one MCP-over-gRPC server (or several replicas with round_robin).

    ``address``: ``host:port``, ``unix:/path``, a gRPC target URI, or a list of IP addresses (round_robin).
    ``credentials``: ``grpc.ChannelCredentials`` (mTLS); None dials plaintext (insecure-local servers only).
    ``timeout``: default deadline in seconds of each call (None: no deadline).
    ``retry``: retry policy applied through service config (None disables retries).
    ``metadata``: a hook returning extra metadata per call, e.g. a JWT-SVID bearer token.
    ``channel``: use this channel instead of building one (the client then does not close it).
    ``channel_provider``: called before every call for the current channel, for channels that are rebuilt when
    credentials rotate, e.g. ``channel_provider=lambda: spiffe_channel.channel`` (not closed by the client).
    """

    def __init__(
        self,
        address: str | Sequence[str] | None = None,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float | None = 30.0,
        retry: RetryPolicy | None = RetryPolicy(),
        metadata: MetadataHook | None = None,
        server_name_override: str | None = None,
        protocol_version: str = wire.LATEST_PROTOCOL_VERSION,
        channel: grpc.aio.Channel | None = None,
        channel_provider: Callable[[], grpc.aio.Channel] | None = None,
        channel_options: Sequence[tuple[str, Any]] = (),
    ) -> None:
        self._channel_provider = channel_provider
        self._stubs: tuple[Any, Any, Any] | None = None
        if channel_provider is not None:
            try:
                channel = channel_provider()
            except Exception:  # noqa: BLE001 - no identity yet: every call asks the provider again and says why
                channel = None
            self._owns_channel = False
        elif channel is None:
            if address is None:
                raise ValueError("AsyncClient needs an address, a channel or a channel_provider")
            channel = make_channel(
                address,
                credentials=credentials,
                retry=retry,
                server_name_override=server_name_override,
                options=channel_options,
            )
            self._owns_channel = True
        else:
            self._owns_channel = False
        self.channel = channel
        self.timeout = timeout
        self.instructions: str | None = None
        """The server's instructions for the model, as its last list response said (None before any list)."""
        self._metadata_hook = metadata
        self._protocol_version = protocol_version
        if channel is not None:
            self._bind(channel)

    def _bind(self, channel: Any) -> None:
        self._stubs = (channel, mcp_pb2_grpc.McpStub(channel), streaming_pb2_grpc.McpStreamingStub(channel))

    @property
    def _mcp(self) -> Any:
        return self._current()[1]

    @property
    def _streaming(self) -> Any:
        return self._current()[2]

    def _current(self) -> tuple[Any, Any, Any]:
        """The stubs of the current channel: a provider (e.g. a rotating SPIFFE channel) may hand out a new one."""
        if self._channel_provider is not None:
            try:
                channel = self._channel_provider()
            except Exception as exc:  # noqa: BLE001 - e.g. the SVID expired or was removed: say so as a call error
                raise McpCallError(
                    grpc.StatusCode.UNAVAILABLE, f"no client identity to call with: {str(exc)[:300]}"
                ) from None
            if self._stubs is None or self._stubs[0] is not channel:
                self._bind(channel)
                self.channel = channel
        assert self._stubs is not None
        return self._stubs

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_channel:
            await self.channel.close()

    def _call_metadata(self, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        metadata = [(wire.PROTOCOL_VERSION_METADATA_KEY, self._protocol_version)]
        if self._metadata_hook is not None:
            metadata.extend(self._metadata_hook())
        metadata.extend(extra)
        return metadata

    async def _unary(self, method: Callable[..., Any], request: Any, timeout: float | None, extra: Iterable[tuple[str, str]] = ()) -> Any:
        try:
            return await method(request, timeout=timeout if timeout is not None else self.timeout, metadata=self._call_metadata(extra))
        except grpc.aio.AioRpcError as error:
            raise McpCallError.from_rpc_error(error) from None

    async def _pages(self, method: Callable[..., Any], request_type: type, field: str, timeout: float | None, max_pages: int) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(max_pages):
            request = request_type()
            if cursor is not None:
                request.common.metadata.fields[wire.CURSOR_KEY].string_value = cursor
            response = await self._unary(method, request, timeout)
            self.instructions = response.common.instructions or None
            items.extend(getattr(response, field))
            next_value = response.common.metadata.fields.get(wire.NEXT_CURSOR_KEY)
            if next_value is None or not next_value.string_value:
                return items
            cursor = next_value.string_value
        raise McpCallError(grpc.StatusCode.OUT_OF_RANGE, f"more than {max_pages} pages; giving up")

    # -- tools --------------------------------------------------------------------------------------------------

    async def list_tools(self, *, timeout: float | None = None, max_pages: int = 1000) -> list[ToolInfo]:
        """Every tool the caller may see (follows cursors)."""
        tools = await self._pages(self._mcp.ListTools, pb.ListToolsRequest, "tools", timeout, max_pages)
        return [
            ToolInfo(
                name=tool.name,
                title=tool.title,
                description=tool.description,
                input_schema=struct_to_python(tool.input_schema),
                output_schema=struct_to_python(tool.output_schema) if tool.HasField("output_schema") else None,
                annotations=(
                    {
                        "title": tool.annotations.title,
                        "read_only": tool.annotations.read_only_hint,
                        "destructive": tool.annotations.destructive_hint,
                        "idempotent": tool.annotations.idempotent_hint,
                        "open_world": tool.annotations.open_world_hint,
                    }
                    if tool.HasField("annotations")
                    else {}
                ),
                icons=icons_of(tool),
                meta=meta_of(tool),
            )
            for tool in tools
        ]

    async def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        progress: ProgressCallback | None = None,
        on_log: LogCallback | None = None,
        timeout: float | None = None,
        on_input: InputHandler | None = None,
        input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None,
        meta: Mapping[str, Any] | None = None,
        max_rounds: int = 8,
    ) -> ToolCallResult:
        """Call a tool. With ``progress`` or ``on_log`` the call uses CallToolStream and reports each progress frame
        and each log message (a ``LogEntry``) as it arrives; either callback may be async.

        When the tool asks for input (elicitation, sampling, roots: MRTR), ``on_input`` answers and the call is retried
        with the answers, up to ``max_rounds`` times; without it ``InputRequiredError`` is raised. ``input_responses``
        and ``request_state`` retry by hand; ``meta`` is the request's ``_meta``.
        """
        if progress is None and on_log is None:
            request = pb.CallToolRequest()
            request.request.name = name
            if arguments:
                python_to_struct(arguments, request.request.arguments)
            prepare(request.common, meta, input_responses, request_state)

            async def send_unary(request: Any) -> Any:
                return await self._unary(self._mcp.CallTool, request, timeout, [("mcp_tool", name)])

            return _tool_result(await rounds(send_unary, request, on_input, max_rounds))
        stream_request = streaming_pb2.CallToolStreamRequest()
        stream_request.request.name = name
        if arguments:
            python_to_struct(arguments, stream_request.request.arguments)
        prepare(stream_request.common, meta, input_responses, request_state)

        async def send_stream(request: Any) -> Any:
            return await self._stream_call(request, progress, timeout, name, on_log)

        return _tool_result(await rounds(send_stream, stream_request, on_input, max_rounds))

    async def _stream_call(
        self, stream_request: Any, progress: ProgressCallback | None, timeout: float | None, name: str,
        on_log: LogCallback | None = None,
    ) -> pb.CallToolResponse:
        call = self._streaming.CallToolStream(
            stream_request,
            timeout=timeout if timeout is not None else self.timeout,
            metadata=self._call_metadata([("mcp_tool", name)]),
        )
        try:
            async for frame in call:
                which = frame.WhichOneof("frame")
                if which == "progress" and progress is not None:
                    update = ProgressUpdate(
                        frame.progress.progress,
                        frame.progress.total if frame.progress.HasField("total") else None,
                        frame.progress.message,
                    )
                    outcome = progress(update)
                    if inspect.isawaitable(outcome):
                        await outcome
                elif which == "log" and on_log is not None:
                    entry = _log_entry(frame.log)
                    if entry is not None:
                        outcome = on_log(entry)
                        if inspect.isawaitable(outcome):
                            await outcome
                elif which == "result":
                    return frame.result
        except grpc.aio.AioRpcError as error:
            raise McpCallError.from_rpc_error(error) from None
        finally:
            call.cancel()
        raise McpCallError(grpc.StatusCode.INTERNAL, "the stream ended without a result frame")

    # -- resources ----------------------------------------------------------------------------------------------

    async def list_resources(self, *, timeout: float | None = None, max_pages: int = 1000) -> list[ResourceInfo]:
        items = await self._pages(self._mcp.ListResources, pb.ListResourcesRequest, "resources", timeout, max_pages)
        return [ResourceInfo(r.uri, r.name, r.title, r.description, r.mime_type, icons_of(r), meta_of(r)) for r in items]

    async def list_resource_templates(self, *, timeout: float | None = None, max_pages: int = 1000) -> list[ResourceInfo]:
        items = await self._pages(
            self._mcp.ListResourceTemplates, pb.ListResourceTemplatesRequest, "resource_templates", timeout, max_pages
        )
        return [
            ResourceInfo(r.uri_template, r.name, r.title, r.description, r.mime_type, icons_of(r), meta_of(r))
            for r in items
        ]

    async def read_resource(
        self, uri: str, *, timeout: float | None = None, on_input: InputHandler | None = None,
        input_responses: Mapping[str, Any] | None = None, request_state: str | None = None,
        meta: Mapping[str, Any] | None = None, max_rounds: int = 8,
    ) -> list[ResourceContents]:
        """Read a resource; input requests are answered as in ``call_tool``."""
        request = pb.ReadResourceRequest(uri=uri)
        prepare(request.common, meta, input_responses, request_state)

        async def send(request: Any) -> Any:
            return await self._unary(self._mcp.ReadResource, request, timeout, [("mcp_resource", uri)])

        response = await rounds(send, request, on_input, max_rounds)
        return [
            ResourceContents(item.uri, item.mime_type, item.text if not item.blob else None, item.blob or None)
            for item in response.resource
        ]

    # -- prompts ------------------------------------------------------------------------------------------------

    async def list_prompts(self, *, timeout: float | None = None, max_pages: int = 1000) -> list[PromptInfo]:
        items = await self._pages(self._mcp.ListPrompts, pb.ListPromptsRequest, "prompts", timeout, max_pages)
        return [
            PromptInfo(
                p.name, p.title, p.description,
                [{"name": a.name, "description": a.description, "required": a.required} for a in p.arguments],
                icons_of(p), meta_of(p),
            )
            for p in items
        ]

    async def get_prompt(
        self, name: str, arguments: Mapping[str, str] | None = None, *, timeout: float | None = None,
        on_input: InputHandler | None = None, input_responses: Mapping[str, Any] | None = None,
        request_state: str | None = None, meta: Mapping[str, Any] | None = None, max_rounds: int = 8,
    ) -> PromptResult:
        """Get a prompt; input requests are answered as in ``call_tool``."""
        request = pb.GetPromptRequest(name=name, arguments=dict(arguments or {}))
        prepare(request.common, meta, input_responses, request_state)

        async def send(request: Any) -> Any:
            return await self._unary(self._mcp.GetPrompt, request, timeout, [("mcp_prompt", name)])

        response = await rounds(send, request, on_input, max_rounds)
        return PromptResult(
            response.description,
            [(_ROLE_NAMES.get(m.role, "user"), m.text.text) for m in response.messages],
            response,
        )

    async def complete(
        self,
        argument: str,
        value: str,
        *,
        prompt: str | None = None,
        resource: str | None = None,
        context_arguments: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> CompletionResult:
        if (prompt is None) == (resource is None):
            raise ValueError("complete(...) needs exactly one of prompt= or resource=")
        request = pb.CompletionRequest()
        if prompt is not None:
            request.prompt_reference.name = prompt
        else:
            request.resource_reference.uri = resource  # type: ignore[assignment]
        request.argument.name = argument
        request.argument.value = value
        for key, item in (context_arguments or {}).items():
            request.context.arguments[key] = item
        response = await self._unary(self._mcp.Complete, request, timeout, [("mcp_resource", prompt or resource or "")])
        return CompletionResult(list(response.values), response.total_matches, response.has_more)

    # -- notifications ------------------------------------------------------------------------------------------

    async def listen(
        self,
        *,
        tools: bool = True,
        prompts: bool = True,
        resources: bool = True,
        resource_uris: Sequence[str] = (),
    ) -> AsyncIterator[tuple[str, str | None]]:
        """Yield ``(kind, uri)`` notifications, e.g. ``("tools/list_changed", None)``, after the server acknowledged.

        The first item is ``("acknowledged", None)``: from then on no change is missed.
        """
        request = streaming_pb2.ListenRequest()
        request.notifications.tools_list_changed = tools
        request.notifications.prompts_list_changed = prompts
        request.notifications.resources_list_changed = resources
        request.notifications.resource_subscriptions.extend(resource_uris)
        call = self._streaming.Listen(request, metadata=self._call_metadata())
        names = {
            "acknowledged": "acknowledged",
            "tools_list_changed": "tools/list_changed",
            "prompts_list_changed": "prompts/list_changed",
            "resources_list_changed": "resources/list_changed",
            "resource_updated": "resources/updated",
        }
        try:
            async for frame in call:
                event = frame.WhichOneof("event")
                if event is None:
                    continue
                yield names[event], frame.resource_updated.uri if event == "resource_updated" else None
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.CANCELLED:
                raise McpCallError.from_rpc_error(error) from None
        finally:
            call.cancel()


def _log_entry(frame: Any) -> LogEntry | None:
    """A log frame as a ``LogEntry``; None for a level this client does not know (a newer server's)."""
    name = streaming_pb2.LoggingLevel.Name(frame.level) if frame.level in streaming_pb2.LoggingLevel.values() else ""
    if not name or frame.level == streaming_pb2.LOGGING_LEVEL_UNSPECIFIED:
        return None
    data = value_to_python(frame.data) if frame.HasField("data") else None
    return LogEntry(name.removeprefix("LOGGING_LEVEL_").lower(), data, frame.logger or None)


def _tool_result(response: pb.CallToolResponse) -> ToolCallResult:
    texts = [item.text.text for item in response.content if item.HasField("text")]
    return ToolCallResult(
        text="\n".join(texts),
        structured=struct_to_python(response.structured_content) if response.HasField("structured_content") else None,
        is_error=response.is_error,
        raw=response,
    )


# -- input requests (MRTR) ------------------------------------------------------------------------------------------


def prepare(
    common: Any, meta: Mapping[str, Any] | None, responses: Mapping[str, Any] | None, state: str | None
) -> None:
    """Fill a request's envelope: its ``_meta``, answers (answer objects or the protocol's result objects) and the
    echoed state. A malformed answer raises ``ValueError`` naming its key."""
    if meta:
        python_to_struct(meta, common.metadata)
    common.ClearField("input_responses")
    for key, answer in (responses or {}).items():
        value = answer if isinstance(answer, Mapping) else answer_to_json(answer)
        wire_inputs.response_from_json(value, f"input response {key!r}", common.input_responses[key])
    if state is not None:
        common.request_state = state
    else:
        common.ClearField("request_state")


async def rounds(
    send: Callable[[Any], Awaitable[Any]], request: Any, on_input: InputHandler | None, max_rounds: int
) -> Any:
    """Send ``request``; while the server answers INPUT_REQUIRED, answer with ``on_input`` and retry."""
    for _ in range(max(1, max_rounds)):
        response = await send(request)
        common = response.common
        if common.result_type != pb.RESULT_TYPE_INPUT_REQUIRED:
            return response
        requests = {key: wire_inputs.request_to_json(value) for key, value in common.input_requests.items()}
        state = common.request_state if common.HasField("request_state") else None
        if on_input is None:
            raise InputRequiredError(requests, state)
        answers = on_input({key: request_from_json(value) for key, value in requests.items()})
        if inspect.isawaitable(answers):
            answers = await answers
        prepare(request.common, None, answers, state)
    raise McpCallError(
        grpc.StatusCode.ABORTED, f"the server still asked for input after {max_rounds} rounds; giving up"
    )
