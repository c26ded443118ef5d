"""The application object: decorators that register tools, resources, prompts and completions.

    app = McpApp("files")

    @app.tool(annotations=ToolAnnotations(read_only=True), authorize=[Check("can_read", "bucket:{bucket}")],
              limits=[RateLimit(rate=5, burst=10)])   # per caller of this tool (mcp_grpc.contract.limits)
    def list_files(bucket: str, limit: int = 10) -> list[str]:
        '''List the files of a bucket.'''

    app.serve(ServerConfig(port=50051, insecure_local=True))
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from mcp_grpc.contract import Check, ConcurrencyLimit, RateLimit
from mcp_grpc.server.context import Context
from mcp_grpc.server.entries import (
    CompletionHandler,
    FunctionTool,
    Icon,
    Prompt,
    PromptArgument,
    Resource,
    Tool,
    ToolAnnotations,
    presentation,
)
from mcp_grpc.server.lifespan import Lifespan, LifespanFactory
from mcp_grpc.server.registry import Notification, Registry
from mcp_grpc.server.schema import Signature, first_paragraph
from mcp_grpc.server.uri_template import UriTemplate, is_template

F = TypeVar("F", bound=Callable[..., Any])


class McpApp:
    """The decorators that fill a ``Registry`` (tools, resources, prompts, completions, proto-first services), and
    ``serve()``.

    ``name`` is the server name used in authorization targets (``CallTarget.server_name``).
    Registration after the server started is allowed and announced as ``*/list_changed``.

    ``lifespan``: an async context manager factory called with the app, entered before the server serves and exited
    after it drained (more with ``add_lifespan``, ``on_startup``, ``on_shutdown``; see ``mcp_grpc.server.lifespan``).
    """

    def __init__(
        self,
        name: str = "mcp-grpc",
        *,
        version: str = "0.1.0",
        instructions: str | None = None,
        lifespan: LifespanFactory | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.instructions = instructions
        self.registry = Registry(name)
        self.lifespans = Lifespan()
        """What the server runtime enters at startup and exits at shutdown."""
        if lifespan is not None:
            self.lifespans.add(lifespan)

    # -- lifespan -----------------------------------------------------------------------------------------------

    def add_lifespan(self, factory: LifespanFactory, *, name: str | None = None) -> None:
        """Enter ``factory(app)`` at startup (after those added before) and exit it at shutdown."""
        self.lifespans.add(factory, name=name)

    def on_startup(self, fn: F) -> F:
        """Decorator: run ``fn()`` (plain or async) before the server accepts calls; raising stops the start."""
        return self.lifespans.on_startup(fn)  # type: ignore[return-value]

    def on_shutdown(self, fn: F) -> F:
        """Decorator: run ``fn()`` (plain or async) after the server drained its calls."""
        return self.lifespans.on_shutdown(fn)  # type: ignore[return-value]

    # -- what is registered (read-only views of the registry) ----------------------------------------------------

    @property
    def tools(self) -> dict[str, Tool]:
        return self.registry.tools

    @property
    def resources(self) -> dict[str, Resource]:
        return self.registry.resources

    @property
    def resource_templates(self) -> dict[str, Resource]:
        return self.registry.resource_templates

    @property
    def prompts(self) -> dict[str, Prompt]:
        return self.registry.prompts

    @property
    def completions(self) -> dict[tuple[str, str, str], CompletionHandler]:
        return self.registry.completions

    @property
    def proto_services(self) -> list[Any]:
        return self.registry.proto_services

    # -- registration -------------------------------------------------------------------------------------------

    def tool(
        self,
        name: str | Callable[..., Any] | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        authorize: Sequence[Check] = (),
        limits: Sequence[RateLimit | ConcurrencyLimit] = (),
        icons: Sequence[Icon] = (),
        meta: Mapping[str, Any] | None = None,
        confirm: str | Callable[[Mapping[str, Any]], str | None] | None = None,
    ) -> Callable[[F], F]:
        """Register a function as a tool. Arguments come from its parameters, the output schema from its return type.

        ``limits``: rate limits (per caller of this tool unless ``per`` says otherwise) and concurrency caps, checked
        before authorization, beside those of the security team's limits.yaml. ``icons`` (``Icon``) and ``meta``
        (published as MCP ``_meta``) are shown to clients in tools/list.

        ``confirm``: step-up confirmation. Each call is authorized, then the user is asked (an elicitation, answered
        through the client) to confirm the message before the handler runs; a decline or cancel is PERMISSION_DENIED.
        A string is formatted with the validated arguments (``"Refund {amount} EUR to {customer}?"``); a function of
        the arguments returns the message, or None when these arguments need no confirmation (e.g. small refunds).
        The answer counts only with the ``request_state`` that asked, so it is bound to this caller and arguments,
        and the audit record says it was confirmed.

        Usable as ``@app.tool`` or ``@app.tool(...)``.
        """
        if callable(name):
            return self.tool()(name)  # type: ignore[return-value]

        for declared in limits:
            if not isinstance(declared, (RateLimit, ConcurrencyLimit)):
                raise TypeError(f"limits takes RateLimit and ConcurrencyLimit values, not {type(declared).__name__}")

        def register(fn: F) -> F:
            tool_name = name or fn.__name__
            tool_icons, tool_meta = presentation(icons, meta, f"tool {tool_name!r}")
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
                    limits=tuple(limit.bound_to(tool_name, i) for i, limit in enumerate(limits)),
                    icons=tool_icons,
                    meta=tool_meta,
                    confirm=confirm,
                )
            )
            return fn

        return register

    def add_tool(self, tool: Tool) -> None:
        self.registry.add_tool(tool)

    def remove_tool(self, name: str) -> None:
        self.registry.remove_tool(name)

    def resource(
        self,
        uri: str,
        *,
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        mime_type: str | None = None,
        authorize: Sequence[Check] = (),
        icons: Sequence[Icon] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register a resource at ``uri``, or a resource template when ``uri`` has ``{variables}``.

        A template's variables are passed to the handler as keyword arguments of the same names.
        """
        resource_icons, resource_meta = presentation(icons, meta, f"resource {uri!r}")

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
                icons=resource_icons,
                meta=resource_meta,
            )
            self.add_resource(entry)
            return fn

        return register

    def add_resource(self, entry: Any) -> None:
        """Register a built resource (``entry.template`` set: a resource template)."""
        self.registry.add_resource(entry)

    def prompt(
        self,
        name: str | Callable[..., Any] | None = None,
        *,
        title: str | None = None,
        description: str | None = None,
        authorize: Sequence[Check] = (),
        icons: Sequence[Icon] = (),
        meta: Mapping[str, Any] | None = None,
    ) -> Callable[[F], F]:
        """Register a prompt. Its parameters are the prompt arguments (MCP passes them as strings).

        Usable as ``@app.prompt`` or ``@app.prompt(...)``.
        """
        if callable(name):
            return self.prompt()(name)  # type: ignore[return-value]

        def register(fn: F) -> F:
            prompt_name = name or fn.__name__
            prompt_icons, prompt_meta = presentation(icons, meta, f"prompt {prompt_name!r}")
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
                icons=prompt_icons,
                meta=prompt_meta,
            )
            self.registry.add_prompt(entry)
            return fn

        return register

    def remove_prompt(self, name: str) -> None:
        self.registry.remove_prompt(name)

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
            ref_kind, ref = ("prompt", prompt) if prompt is not None else ("resource", resource)
            self.registry.add_completion(CompletionHandler(ref_kind, ref, argument, fn, signature))  # type: ignore[arg-type]
            return fn

        return register

    def add_proto_service(self, servicer: Any, service_descriptor: Any) -> list[str]:
        """Serve a typed gRPC service; each rpc carrying ``(mcp_grpc.v1.tool)`` becomes an MCP tool and each one
        carrying ``(mcp_grpc.v1.resource)`` an MCP resource or resource template.

        Returns the names of the tools added. See ``mcp_grpc.server.proto_first`` for the options.
        """
        from mcp_grpc.server.proto_first import ProtoService

        service = ProtoService.build(servicer, service_descriptor)
        self.registry.add_proto_service(service)
        for tool in service.tools:
            self.add_tool(tool)
        for resource in service.resources:
            self.add_resource(resource)
        return [tool.name for tool in service.tools]

    # -- notifications ------------------------------------------------------------------------------------------

    def notify(self, kind: str, uri: str | None = None) -> None:
        """Announce a change to every ``Listen`` stream (thread-safe; a no-op when nobody listens)."""
        self.registry.notify(kind, uri)

    def notify_resource_updated(self, uri: str) -> None:
        self.registry.notify(Notification.RESOURCE_UPDATED, uri)

    # -- running ------------------------------------------------------------------------------------------------

    def serve(self, config: Any = None, **fields: Any) -> None:
        """Run the server until SIGTERM/SIGINT (blocking). ``config`` is a ``ServerConfig``; ``fields`` override it."""
        from mcp_grpc.server.runtime import ServerConfig, serve

        config = dataclasses.replace(config or ServerConfig(), **fields) if fields else (config or ServerConfig())
        asyncio.run(serve(self, config))

    def names(self, kind: str) -> Iterable[str]:
        return {"tool": self.tools, "prompt": self.prompts, "resource": self.resources}[kind].keys()


#: The short name.
App = McpApp
