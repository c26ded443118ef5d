"""The application object: decorators that register tools, resources, prompts and completions.

    app = McpApp("files")

    @app.tool(annotations=ToolAnnotations(read_only=True), authorize=[Check("can_read", "bucket:{bucket}")])
    def list_files(bucket: str, limit: int = 10) -> list[str]:
        '''List the files of a bucket.'''

    app.serve(ServerConfig(port=50051, insecure_local=True))
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Callable, Iterable, Sequence, TypeVar

from mcp_grpc.contract import Check
from mcp_grpc.server.context import Context
from mcp_grpc.server.registry import (
    CompletionHandler,
    FunctionTool,
    Prompt,
    PromptArgument,
    Resource,
    Tool,
    ToolAnnotations,
)
from mcp_grpc.server.schema import Signature, first_paragraph
from mcp_grpc.server.uri_template import UriTemplate, is_template

F = TypeVar("F", bound=Callable[..., Any])


def _offer(queue: asyncio.Queue, item: Any) -> None:
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:  # a listener that stopped reading loses notifications, never the server
        pass


class Notification:
    """A change the server announces on ``McpStreaming.Listen``."""

    TOOLS_CHANGED = "tools/list_changed"
    RESOURCES_CHANGED = "resources/list_changed"
    PROMPTS_CHANGED = "prompts/list_changed"
    RESOURCE_UPDATED = "resources/updated"


class McpApp:
    """A registry of MCP primitives plus the proto-first services served beside them.

    ``name`` is the server name used in authorization targets (``CallTarget.server_name``).
    Registration after the server started is allowed and announced as ``*/list_changed``.
    """

    def __init__(self, name: str = "mcp-grpc", *, version: str = "0.1.0", instructions: str | None = None) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.resource_templates: dict[str, Resource] = {}
        self.prompts: dict[str, Prompt] = {}
        self.completions: dict[tuple[str, str, str], CompletionHandler] = {}
        self.proto_services: list[Any] = []  # ProtoService entries (mcp_grpc.server.proto_first)
        self._listeners: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()

    # -- registration -------------------------------------------------------------------------------------------

    def tool(
        self,
        name: str | Callable[..., Any] | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        authorize: Sequence[Check] = (),
    ) -> Callable[[F], F]:
        """Register a function as a tool. Arguments come from its parameters, the output schema from its return type.

        Usable as ``@app.tool`` or ``@app.tool(...)``.
        """
        if callable(name):
            return self.tool()(name)  # type: ignore[return-value]

        def register(fn: F) -> F:
            tool_name = name or fn.__name__
            # strict: arguments arrive as JSON and must match the published schema (no "5" or true for an int);
            # resources and prompts stay lax since the protocol carries their inputs as strings.
            signature = Signature.of(fn, context_type=Context, model_name=f"{tool_name}_arguments", strict=True)
            self.add_tool(
                FunctionTool(
                    name=tool_name,
                    title=title,
                    description=description if description is not None else first_paragraph(fn.__doc__),
                    fn=fn,
                    signature=signature,
                    annotations=annotations or ToolAnnotations(),
                    checks=tuple(authorize),
                )
            )
            return fn

        return register

    def add_tool(self, tool: Tool) -> None:
        if not tool.name:
            raise ValueError("a tool needs a non-empty name")
        with self._lock:
            if tool.name in self.tools:
                raise ValueError(f"tool {tool.name!r} is already registered")
            self.tools[tool.name] = tool
        self.notify(Notification.TOOLS_CHANGED)

    def remove_tool(self, name: str) -> None:
        with self._lock:
            del self.tools[name]
        self.notify(Notification.TOOLS_CHANGED)

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        authorize: Sequence[Check] = (),
    ) -> Callable[[F], F]:
        """Register a resource at ``uri``, or a resource template when ``uri`` has ``{variables}``.

        A template's variables are passed to the handler as keyword arguments of the same names.
        """

        def register(fn: F) -> F:
            template = UriTemplate(uri) if is_template(uri) else None
            signature = Signature.of(fn, context_type=Context, model_name=f"{fn.__name__}_variables")
            if template is not None and set(signature.parameter_names) != set(template.variables):
                raise TypeError(
                    f"resource template {uri!r} has variables {sorted(template.variables)} but "
                    f"{fn.__qualname__} takes {sorted(signature.parameter_names)}"
                )
            if template is None and signature.parameter_names:
                raise TypeError(f"resource {uri!r} has no variables, so {fn.__qualname__} takes no arguments")
            entry = Resource(
                uri=uri,
                name=name or fn.__name__,
                title=title,
                description=description if description is not None else first_paragraph(fn.__doc__),
                mime_type=mime_type,
                fn=fn,
                signature=signature,
                checks=tuple(authorize),
                template=template,
            )
            self.add_resource(entry)
            return fn

        return register

    def add_resource(self, entry: Any) -> None:
        """Register a built resource (``entry.template`` set: a resource template)."""
        with self._lock:
            table = self.resource_templates if entry.template is not None else self.resources
            if entry.uri in table:
                raise ValueError(f"resource {entry.uri!r} is already registered")
            table[entry.uri] = entry
        self.notify(Notification.RESOURCES_CHANGED)

    def prompt(
        self,
        name: str | Callable[..., Any] | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        authorize: Sequence[Check] = (),
    ) -> Callable[[F], F]:
        """Register a prompt. Its parameters are the prompt arguments (MCP passes them as strings).

        Usable as ``@app.prompt`` or ``@app.prompt(...)``.
        """
        if callable(name):
            return self.prompt()(name)  # type: ignore[return-value]

        def register(fn: F) -> F:
            prompt_name = name or fn.__name__
            signature = Signature.of(fn, context_type=Context, model_name=f"{prompt_name}_arguments")
            properties = signature.input_schema.get("properties", {})
            required = set(signature.input_schema.get("required", ()))
            arguments = tuple(
                PromptArgument(arg, properties.get(arg, {}).get("description", ""), arg in required)
                for arg in signature.parameter_names
            )
            entry = Prompt(
                name=prompt_name,
                title=title,
                description=description if description is not None else first_paragraph(fn.__doc__),
                arguments=arguments,
                fn=fn,
                signature=signature,
                checks=tuple(authorize),
            )
            with self._lock:
                if prompt_name in self.prompts:
                    raise ValueError(f"prompt {prompt_name!r} is already registered")
                self.prompts[prompt_name] = entry
            self.notify(Notification.PROMPTS_CHANGED)
            return fn

        return register

    def completion(
        self, *, argument: str, prompt: str | None = None, resource: str | None = None
    ) -> Callable[[F], F]:
        """Register completions for ``argument`` of a prompt or a resource template.

        The handler receives ``(value, arguments)``: the partial value and the other arguments already chosen, and
        returns a list of strings or a ``Completion``.
        """
        if (prompt is None) == (resource is None):
            raise ValueError("completion(...) needs exactly one of prompt= or resource=")

        def register(fn: F) -> F:
            signature = Signature.of(fn, context_type=Context, model_name=f"{fn.__name__}_completion")
            key = ("prompt", prompt, argument) if prompt is not None else ("resource", resource, argument)
            self.completions[key] = CompletionHandler(key[0], key[1], argument, fn, signature)  # type: ignore[arg-type]
            return fn

        return register

    def add_proto_service(self, servicer: Any, service_descriptor: Any) -> list[str]:
        """Serve a typed gRPC service; each rpc carrying ``(mcp_grpc.v1.tool)`` becomes an MCP tool and each one
        carrying ``(mcp_grpc.v1.resource)`` an MCP resource or resource template.

        Returns the names of the tools added. See ``mcp_grpc.server.proto_first`` for the options.
        """
        from mcp_grpc.server.proto_first import ProtoService

        service = ProtoService.build(servicer, service_descriptor)
        self.proto_services.append(service)
        for tool in service.tools:
            self.add_tool(tool)
        for resource in service.resources:
            self.add_resource(resource)
        return [tool.name for tool in service.tools]

    # -- notifications ------------------------------------------------------------------------------------------

    def notify(self, kind: str, uri: str | None = None) -> None:
        """Announce a change to every ``Listen`` stream (thread-safe; a no-op when nobody listens)."""
        for loop, queue in list(self._listeners):
            try:
                loop.call_soon_threadsafe(_offer, queue, (kind, uri))
            except RuntimeError:  # the listener's loop is closed
                self._listeners.discard((loop, queue))

    def notify_resource_updated(self, uri: str) -> None:
        self.notify(Notification.RESOURCE_UPDATED, uri)

    def subscribe(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue]:
        entry = (asyncio.get_running_loop(), asyncio.Queue(maxsize=1024))
        self._listeners.add(entry)
        return entry

    def unsubscribe(self, entry: tuple[asyncio.AbstractEventLoop, asyncio.Queue]) -> None:
        self._listeners.discard(entry)

    # -- running ------------------------------------------------------------------------------------------------

    def serve(self, config: Any = None, **fields: Any) -> None:
        """Run the server until SIGTERM/SIGINT (blocking). ``config`` is a ``ServerConfig``; ``fields`` override it."""
        from mcp_grpc.server.runtime import ServerConfig, serve

        import dataclasses

        config = dataclasses.replace(config or ServerConfig(), **fields) if fields else (config or ServerConfig())
        asyncio.run(serve(self, config))

    def names(self, kind: str) -> Iterable[str]:
        return {"tool": self.tools, "prompt": self.prompts, "resource": self.resources}[kind].keys()


#: The short name.
App = McpApp
