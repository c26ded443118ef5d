"""The bridge: an mcp-grpc server exposed as a standard MCP server (stdio or streamable HTTP) for JSON-RPC clients.

    backend = GrpcBackend.insecure_local("127.0.0.1:50051")
    server = build_bridge_server(backend)
    await serve_stdio(server)                                   # or:
    async with serve_http(server, host="127.0.0.1", port=8000) as url: ...

The bridge is a low-level ``mcp.server.Server`` of the official SDK whose handlers forward tools/list, tools/call,
resources/list, resources/templates/list, resources/read, prompts/list, prompts/get and completion/complete to the
gRPC server through ``mcp_grpc.client``; each subscriptions/listen stream (2026-07-28 clients) is one gRPC
``McpStreaming.Listen`` stream with the same filter. Progress notifications of tools/call come from CallToolStream.

Identity: the bridge authenticates to the gRPC server with ITS OWN identity (its X.509-SVID from the Workload API, or
the insecure-local development principal), and the gRPC server authorizes every forwarded call as the bridge. The
JSON-RPC clients behind it are not identified to the gRPC server: whoever can reach the bridge acts with the bridge's
permissions. Give the bridge an identity with only the permissions its clients should share, and keep its HTTP port
on loopback.

Errors: PERMISSION_DENIED, UNAUTHENTICATED and UNAVAILABLE from the gRPC server become a tool error result
(``isError: true``, text ``"PERMISSION_DENIED: <reason>"``) for tools/call, so the model sees why; every other
failure, and every failure of a list, read, prompt or completion request, is a JSON-RPC error carrying the MCP error
code the server sent (or one derived from the gRPC status) and the status name in its message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ipaddress
import logging
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar

import grpc
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import PromptsListChanged, ResourcesListChanged, ResourceUpdated, ToolsListChanged

from mcp_grpc.client import AddressError, AsyncClient, McpCallError, resolve_target
from mcp_grpc.wire import mcp_messages_pb2 as pb

__all__ = [
    "BridgeError",
    "GrpcBackend",
    "HttpEndpoint",
    "TOOL_ERROR_STATUSES",
    "build_bridge_server",
    "is_local_address",
    "serve_http",
    "serve_stdio",
]

log = logging.getLogger("mcp_grpc.bridge")

T = TypeVar("T")
Paging = types.PaginatedRequestParams | None

#: gRPC statuses that tools/call reports as a tool error result (the model can read why) instead of a JSON-RPC error.
TOOL_ERROR_STATUSES = frozenset(
    {grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE}
)

_MCP_CODES = {
    grpc.StatusCode.INVALID_ARGUMENT: types.INVALID_PARAMS,
    grpc.StatusCode.NOT_FOUND: types.INVALID_PARAMS,
    grpc.StatusCode.UNIMPLEMENTED: types.METHOD_NOT_FOUND,
}


class BridgeError(Exception):
    """The bridge cannot be set up as asked (no identity configured, plaintext to a remote server, ...)."""


# -- reaching the gRPC server -------------------------------------------------------------------------------------


def is_local_address(address: str) -> bool:
    """True for a Unix socket target or host:port pairs whose hosts are all loopback (plaintext is allowed there)."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    for prefix in ("dns:///", "ipv4:", "ipv6:"):
        if address.startswith(prefix):
            address = address[len(prefix) :]
            break
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if not parts:
        return False
    for part in parts:
        host = part[1:].partition("]")[0] if part.startswith("[") else part.rpartition(":")[0]
        if host == "localhost":
            continue
        try:
            if not ipaddress.ip_address(host).is_loopback:
                return False
        except ValueError:
            return False
    return True


class GrpcBackend:
    """How the bridge reaches the gRPC server, as whom: ``client()`` gives an ``AsyncClient`` for the next call.

    Build one with :meth:`insecure_local` (plaintext, loopback or Unix socket only) or :meth:`spiffe` (mTLS with the
    bridge's X.509-SVID from the Workload API). Create it inside the event loop that will use it.
    """

    def __init__(
        self,
        address: str,
        client_factory: Callable[[], AsyncClient],
        close: Callable[[], Awaitable[None]],
        *,
        identity: str,
    ) -> None:
        self.address = address
        self.identity = identity
        """Who the gRPC server sees: ``insecure-local`` or the bridge's SPIFFE ID."""
        self._client_factory = client_factory
        self._close = close

    def client(self) -> AsyncClient:
        return self._client_factory()

    async def close(self) -> None:
        await self._close()

    @classmethod
    def insecure_local(cls, address: str, *, timeout: float | None = 30.0) -> "GrpcBackend":
        """Plaintext to an ``--insecure-local`` server; refused unless ``address`` is loopback or a Unix socket."""
        if not is_local_address(address):
            raise BridgeError(
                f"--insecure-local dials plaintext and is allowed only to a loopback address or a Unix socket, "
                f"not {address!r}; use --spiffe-socket and --server-dns-name for mTLS"
            )
        try:
            client = AsyncClient(address, timeout=timeout)
        except AddressError as error:
            raise BridgeError(str(error)) from None
        return cls(address, lambda: client, client.close, identity="insecure-local")

    @classmethod
    def spiffe(
        cls,
        address: str,
        *,
        socket_path: str | None,
        server_dns_name: str,
        server_trust_domain: str | None = None,
        timeout: float | None = 30.0,
        source_timeout: float = 10.0,
    ) -> "GrpcBackend":
        """mTLS with the bridge's own X.509-SVID (``socket_path`` or ``$SPIFFE_ENDPOINT_SOCKET``).

        The server is pinned by ``server_dns_name`` (a DNS SAN of its SVID) and trusted only through the bundle of
        ``server_trust_domain`` (default: the bridge's own trust domain). The channel is rebuilt when the SVID
        rotates, so every call uses the current identity.
        """
        if not server_dns_name:
            raise BridgeError(
                "--server-dns-name is required with --spiffe-socket: grpcio verifies the server by a DNS SAN"
            )
        try:
            from mcp_grpc.client import ClientIdentity
        except ImportError as error:  # the identity layer is optional at import time; say what is missing
            raise BridgeError(f"mTLS needs mcp_grpc.identity, which is not available: {error}") from None
        from spiffe.workloadapi.errors import X509SourceError

        try:
            resolve_target(address)  # a bad address is refused before the Workload API is asked
        except AddressError as error:
            raise BridgeError(str(error)) from None
        try:
            identity = ClientIdentity.from_workload_api(
                socket_path, server_dns_name=server_dns_name, server_trust_domain=server_trust_domain,
                timeout=source_timeout,
            )
        except X509SourceError as error:
            raise BridgeError(f"no identity for the bridge: {error}") from None
        try:
            spiffe_id = str(identity.x509_source.svid.spiffe_id)
            # The same retry policy and load balancing as mcp_grpc.client's own channels.
            channel = identity.channel(address)
        except (X509SourceError, ValueError) as error:
            identity.x509_source.close()
            raise BridgeError(f"no identity for the bridge: {error}") from None

        def client() -> AsyncClient:
            return AsyncClient(channel=channel.channel, timeout=timeout)  # the current channel: it follows rotation

        async def close() -> None:
            await identity.aclose()

        return cls(address, client, close, identity=spiffe_id)


# -- conversions --------------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _content(block: pb.CallToolResponse.Content) -> types.ContentBlock:
    if block.HasField("image"):
        return types.ImageContent(type="image", data=_b64(block.image.data), mime_type=block.image.mime_type)
    if block.HasField("audio"):
        return types.AudioContent(type="audio", data=_b64(block.audio.data), mime_type=block.audio.mime_type)
    if block.HasField("embedded_resource"):
        return types.EmbeddedResource(type="resource", resource=_resource_contents(block.embedded_resource.contents))
    if block.HasField("resource_link"):
        link = block.resource_link
        return types.ResourceLink(
            type="resource_link", name=link.name, uri=link.uri, title=link.title or None,
            description=link.description or None, mime_type=link.mime_type or None,
        )
    return types.TextContent(type="text", text=block.text.text)


def _resource_contents(item: Any) -> types.TextResourceContents | types.BlobResourceContents:
    blob = item.blob
    if blob:
        return types.BlobResourceContents(uri=item.uri, mime_type=item.mime_type or None, blob=_b64(blob))
    return types.TextResourceContents(uri=item.uri, mime_type=item.mime_type or None, text=item.text or "")


def _hint(value: bool | None) -> bool | None:
    """A wire hint as an MCP hint. The wire's plain bools cannot say "unstated", so false is passed on as unstated:
    MCP clients then apply MCP's defaults (destructive and open-world unless told otherwise), which is never less
    cautious than the server meant."""
    return True if value else None


def _tool(info: Any) -> types.Tool:
    hints = info.annotations
    return types.Tool(
        name=info.name,
        title=info.title or None,
        description=info.description or None,
        input_schema=info.input_schema or {"type": "object"},
        output_schema=info.output_schema,
        annotations=(
            types.ToolAnnotations(
                title=hints.get("title") or None,
                read_only_hint=_hint(hints.get("read_only")),
                destructive_hint=_hint(hints.get("destructive")),
                idempotent_hint=_hint(hints.get("idempotent")),
                open_world_hint=_hint(hints.get("open_world")),
            )
            if hints
            else None
        ),
    )


def _status_text(error: McpCallError) -> str:
    return f"{error.status.name}: {error.message}" if error.message else error.status.name


def _jsonrpc_error(error: McpCallError) -> MCPError:
    code = error.mcp_code if error.mcp_code is not None else _MCP_CODES.get(error.status, types.INTERNAL_ERROR)
    return MCPError(code=code, message=_status_text(error), data={"grpcStatus": error.status.name})


def _unreachable(error: Exception) -> McpCallError:
    """A failure before any RPC (no identity, bad address) reads like the UNAVAILABLE it amounts to."""
    return McpCallError(grpc.StatusCode.UNAVAILABLE, f"the bridge cannot call the server: {error}")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcp-grpc")
    except PackageNotFoundError:
        return ""


_EVENTS: dict[str, Callable[[str | None], Any]] = {
    "tools/list_changed": lambda _uri: ToolsListChanged(),
    "prompts/list_changed": lambda _uri: PromptsListChanged(),
    "resources/list_changed": lambda _uri: ResourcesListChanged(),
    "resources/updated": lambda uri: ResourceUpdated(uri=uri or ""),
}


class _StreamBus:
    """The ``SubscriptionBus`` of ONE listen stream: holds events until the SDK's ``ListenHandler`` subscribes (it
    does so before acknowledging), then delivers them in order; nothing published in between is lost."""

    def __init__(self, max_pending: int = 1024) -> None:
        self._listeners: dict[object, Callable[[Any], None]] = {}
        self._pending: list[Any] = []
        self._max_pending = max_pending

    async def publish(self, event: Any) -> None:
        if not self._listeners:
            if len(self._pending) < self._max_pending:
                self._pending.append(event)
            return
        for listener in list(self._listeners.values()):
            listener(event)

    def subscribe(self, listener: Callable[[Any], None]) -> Callable[[], None]:
        token = object()
        self._listeners[token] = listener
        pending, self._pending = self._pending, []
        for event in pending:
            listener(event)
        return lambda: self._listeners.pop(token, None)


# -- the MCP server -----------------------------------------------------------------------------------------------


def build_bridge_server(
    backend: GrpcBackend, *, name: str = "mcp-grpc-bridge", instructions: str | None = None
) -> Server:
    """A low-level SDK ``Server`` whose every handler forwards to the gRPC server through ``backend``.

    Calls are authorized by the gRPC server as the bridge's identity (``backend.identity``), not as the JSON-RPC
    client's.
    """

    async def forward(call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Run one client call; a protocol failure becomes a JSON-RPC error."""
        try:
            return await call(backend.client())
        except McpCallError as error:
            raise _jsonrpc_error(error) from None
        except Exception as error:  # noqa: BLE001 - e.g. the identity was removed: the channel cannot be built
            if isinstance(error, MCPError):
                raise
            raise _jsonrpc_error(_unreachable(error)) from None

    async def list_tools(ctx: ServerRequestContext, params: Paging) -> types.ListToolsResult:
        tools = await forward(lambda client: client.list_tools())
        return types.ListToolsResult(tools=[_tool(info) for info in tools])

    async def call_tool(ctx: ServerRequestContext, params: types.CallToolRequestParams) -> types.CallToolResult:
        wants_progress = bool(ctx.meta and ctx.meta.get("progress_token") is not None)

        async def progress(update: Any) -> None:
            await ctx.session.report_progress(update.progress, update.total, update.message or None)

        try:
            try:
                result = await backend.client().call_tool(
                    params.name, params.arguments or {}, progress=progress if wants_progress else None
                )
            except McpCallError:
                raise
            except Exception as error:  # noqa: BLE001
                raise _unreachable(error) from None
        except McpCallError as error:
            if error.status in TOOL_ERROR_STATUSES:
                log.info("tool %r: %s", params.name, _status_text(error))
                denial = types.TextContent(type="text", text=_status_text(error))
                return types.CallToolResult(content=[denial], is_error=True)
            raise _jsonrpc_error(error) from None
        return types.CallToolResult(
            content=[_content(block) for block in result.raw.content],
            structured_content=result.structured,
            is_error=result.is_error,
        )

    async def list_resources(ctx: ServerRequestContext, params: Paging) -> types.ListResourcesResult:
        resources = await forward(lambda client: client.list_resources())
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=r.uri, name=r.name, title=r.title or None, description=r.description or None,
                    mime_type=r.mime_type or None,
                )
                for r in resources
            ]
        )

    async def list_resource_templates(ctx: ServerRequestContext, params: Paging) -> types.ListResourceTemplatesResult:
        templates = await forward(lambda client: client.list_resource_templates())
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=t.uri, name=t.name, title=t.title or None, description=t.description or None,
                    mime_type=t.mime_type or None,
                )
                for t in templates
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        contents = await forward(lambda client: client.read_resource(str(params.uri)))
        return types.ReadResourceResult(
            contents=[
                types.BlobResourceContents(uri=c.uri, mime_type=c.mime_type or None, blob=_b64(c.blob))
                if c.blob
                else types.TextResourceContents(uri=c.uri, mime_type=c.mime_type or None, text=c.text or "")
                for c in contents
            ]
        )

    async def list_prompts(ctx: ServerRequestContext, params: Paging) -> types.ListPromptsResult:
        prompts = await forward(lambda client: client.list_prompts())
        return types.ListPromptsResult(
            prompts=[
                types.Prompt(
                    name=p.name, title=p.title or None, description=p.description or None,
                    arguments=[
                        types.PromptArgument(
                            name=a["name"], description=a["description"] or None, required=a["required"]
                        )
                        for a in p.arguments
                    ],
                )
                for p in prompts
            ]
        )

    async def get_prompt(ctx: ServerRequestContext, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        result = await forward(lambda client: client.get_prompt(params.name, params.arguments or {}))
        return types.GetPromptResult(
            description=result.description or None,
            messages=[
                types.PromptMessage(
                    role=role if role in ("user", "assistant") else "user",
                    content=types.TextContent(type="text", text=text),
                )
                for role, text in result.messages
            ],
        )

    async def complete(ctx: ServerRequestContext, params: types.CompleteRequestParams) -> types.CompleteResult:
        ref = params.ref
        prompt = ref.name if isinstance(ref, types.PromptReference) else None
        resource = ref.uri if isinstance(ref, types.ResourceTemplateReference) else None
        context_arguments = params.context.arguments if params.context and params.context.arguments else None
        result = await forward(
            lambda client: client.complete(
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
        """One MCP listen stream = one gRPC ``McpStreaming.Listen`` stream with the same filter (and the same
        authorization of resource subscriptions, as the bridge). The gRPC stream ending ends the MCP stream."""
        wanted = params.notifications
        events = backend.client().listen(
            tools=bool(wanted.tools_list_changed),
            prompts=bool(wanted.prompts_list_changed),
            resources=bool(wanted.resources_list_changed),
            resource_uris=list(wanted.resource_subscriptions or ()),
        )
        try:
            await anext(events)  # the server's acknowledgement: from here on no change is missed
        except McpCallError as error:
            await events.aclose()
            raise _jsonrpc_error(error) from None
        except StopAsyncIteration:
            ended = "UNAVAILABLE: the server ended the listen stream"
            raise MCPError(code=types.INTERNAL_ERROR, message=ended) from None
        except Exception as error:  # noqa: BLE001 - no channel (identity gone)
            await events.aclose()
            raise _jsonrpc_error(_unreachable(error)) from None
        bus = _StreamBus()
        handler = ListenHandler(bus, max_subscriptions=1)

        async def pump() -> None:
            try:
                async for kind, uri in events:
                    make = _EVENTS.get(kind)
                    if make is not None:
                        await bus.publish(make(uri))
            except McpCallError as error:
                log.info("listen stream from %s ended: %s", backend.address, _status_text(error))
            finally:
                handler.close()  # graceful end of the MCP stream: the client re-listens and refetches

        forwarding = asyncio.ensure_future(pump())
        try:
            return await handler(ctx, params)
        finally:
            forwarding.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forwarding
            await events.aclose()

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
    )


# -- transports ---------------------------------------------------------------------------------------------------


async def serve_stdio(server: Server) -> None:
    """Serve one MCP client on this process's stdin/stdout until it closes stdin."""
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())


class HttpEndpoint:
    """A running streamable-HTTP bridge: its ``url``, and ``wait_closed()`` to block until it stops (signal)."""

    def __init__(self, url: str, task: Any) -> None:
        self.url = url
        self._task = task

    async def wait_closed(self) -> None:
        """Return when the HTTP server has stopped on its own (it does not stop for signals: see ``serve_http``)."""
        await asyncio.shield(self._task)


@contextlib.asynccontextmanager
async def serve_http(
    server: Server,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    path: str = "/mcp",
    startup_timeout: float = 10.0,
) -> AsyncIterator[HttpEndpoint]:
    """Serve streamable HTTP at ``http://host:port/path`` (port 0 picks one) until the block exits.

    Yields an ``HttpEndpoint`` whose ``url`` is the address MCP clients connect to.

    On a loopback host the SDK's DNS-rebinding protection is on (only loopback Host and Origin headers pass).
    Signals are left to the caller (uvicorn's own handling would re-raise them after shutdown).
    """
    import uvicorn

    class _Uvicorn(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # type: ignore[no-untyped-def, override]
            yield

    if not 0 <= port <= 65535:
        raise BridgeError(f"cannot listen on port {port}: out of range 0-65535")
    asgi = server.streamable_http_app(streamable_http_path=path, host=host)
    uv = _Uvicorn(uvicorn.Config(asgi, host=host, port=port, log_level="warning", lifespan="on", access_log=False))

    async def run() -> None:
        try:
            await uv.serve()
        except SystemExit:  # uvicorn exits the process when it cannot bind; we report instead
            raise BridgeError(f"cannot listen on {host}:{port} (in use or not available)") from None

    task = asyncio.ensure_future(run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + startup_timeout
        while not uv.started:
            if task.done():
                error = task.exception()
                if isinstance(error, BridgeError):
                    raise error
                raise BridgeError(f"cannot listen on {host}:{port}: {error or 'the server stopped during startup'}")
            if loop.time() > deadline:
                raise BridgeError(f"the HTTP server on {host}:{port} did not start within {startup_timeout:g}s")
            await asyncio.sleep(0.02)
        bound = uv.servers[0].sockets[0].getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        yield HttpEndpoint(f"http://{shown}:{bound}{path}", task)
    finally:
        uv.should_exit = True
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=5.0)
