"""The entries an application serves: tools, resources, resource templates, prompts and completions.

Each entry is built once at registration (schemas, argument model, URI template) so that a call does only a dict
lookup, a pydantic validation and the handler itself.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import functools
from typing import Any, Awaitable, Callable, Mapping, Protocol, Sequence

from mcp_grpc.contract import Check
from mcp_grpc.server.content import ContentBlock, ResourceContent, blocks_of, is_block
from mcp_grpc.server.context import _CURRENT, Context
from mcp_grpc.server.schema import Signature, render_text
from mcp_grpc.server.uri_template import UriTemplate


@dataclasses.dataclass(frozen=True, slots=True)
class ToolAnnotations:
    """MCP tool hints. None means "not stated" (the field is left unset on the wire)."""

    title: str | None = None
    read_only: bool | None = None
    destructive: bool | None = None
    idempotent: bool | None = None
    open_world: bool | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Icon:
    """An icon a client may show beside a tool, resource or prompt (MCP ``Icon``).

    ``src`` is an ``https:`` or ``data:`` URI; ``sizes`` such as ``"48x48"`` or ``"any"``; ``theme`` ``"light"`` or
    ``"dark"`` (the background it is designed for) or None.
    """

    src: str
    mime_type: str | None = None
    sizes: tuple[str, ...] = ()
    theme: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.src, str) or not self.src.startswith(("https:", "data:")):
            raise ValueError(f"icon src must be an https: or data: URI, not {str(self.src)[:80]!r}")
        if self.theme not in (None, "light", "dark"):
            raise ValueError(f"icon theme must be 'light', 'dark' or None, not {str(self.theme)[:40]!r}")
        if isinstance(self.sizes, str):
            raise ValueError(f"icon sizes is a sequence of strings such as ['48x48'], not the string {self.sizes!r}")
        object.__setattr__(self, "sizes", tuple(self.sizes))


def presentation(icons: Sequence[Icon] | None, meta: Mapping[str, Any] | None, owner: str) -> tuple[tuple[Icon, ...], dict[str, Any] | None]:
    """Checked ``icons=`` and ``meta=`` of a decorator (``owner`` names the entry in the error)."""
    icons = tuple(icons or ())
    for icon in icons:
        if not isinstance(icon, Icon):
            raise TypeError(f"{owner}: icons takes Icon values, not {type(icon).__name__}")
    if meta is not None and not isinstance(meta, Mapping):
        raise TypeError(f"{owner}: meta must be a mapping (MCP _meta), not {type(meta).__name__}")
    return icons, (dict(meta) if meta else None)


class ToolError(Exception):
    """Raise from a tool handler to fail the call with ``is_error=true`` and exactly this message.

    Any other exception does the same with ``str(exc)``; this class exists to make the intent explicit.
    """


def error_text(exc: BaseException) -> str:
    """What a handler's exception says, for the caller: its message (a ``KeyError("no invoice INV-9")`` says ``no
    invoice INV-9``, not Python's quoted repr of its key), or its type name when it has none."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        return exc.args[0] or type(exc).__name__
    return str(exc) or type(exc).__name__


@dataclasses.dataclass(frozen=True, slots=True)
class ToolResult:
    """Return this from a tool to control the result fully: ``text`` (the first block), more ``content`` blocks
    (strings, ``Image``, ``Audio``, ``EmbeddedResource``, ``ResourceLink``), structured content, the error flag."""

    text: str | None = None
    structured: Mapping[str, Any] | None = None
    is_error: bool = False
    content: Sequence[ContentBlock] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class PromptMessage:
    """One message of a rendered prompt: ``text`` is a string or any content block (``Image``, ...)."""

    role: str  # "user" | "assistant"
    text: ContentBlock


@dataclasses.dataclass(frozen=True, slots=True)
class Completion:
    values: Sequence[str]
    total: int | None = None
    has_more: bool = False


async def invoke(
    fn: Callable[..., Any],
    is_async: bool,
    kwargs: dict[str, Any],
    ctx: Context,
    executor: concurrent.futures.Executor | None,
) -> Any:
    """Run a handler: coroutines on the loop, plain functions in the thread pool (never on the loop).

    Cancellation of the awaiting task (client cancel, deadline) sets ``ctx.cancel_event`` so sync handlers can stop.
    """
    _CURRENT.set(ctx)
    try:
        if is_async:
            return await fn(**kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            executor, contextvars.copy_context().run, functools.partial(fn, **kwargs)
        )
    except asyncio.CancelledError:
        ctx.cancel()
        raise


def _bind_context(signature: Signature, kwargs: dict[str, Any], ctx: Context) -> dict[str, Any]:
    if signature.context_parameter is not None:
        kwargs[signature.context_parameter] = ctx
    return kwargs


class Tool(Protocol):
    """A registered tool, whether from a decorated function or a proto-first rpc."""

    name: str
    title: str | None
    description: str
    input_schema: Mapping[str, Any]
    output_schema: Mapping[str, Any] | None
    annotations: ToolAnnotations
    checks: Sequence[Check]

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validated arguments or ``ArgumentError``."""
        ...

    def run(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> Awaitable[ToolResult]: ...


@dataclasses.dataclass(slots=True)
class FunctionTool:
    name: str
    title: str | None
    description: str
    fn: Callable[..., Any]
    signature: Signature
    annotations: ToolAnnotations
    checks: Sequence[Check]
    limits: Sequence[Any] = ()
    """Rate limits and concurrency caps declared on the tool (``RateLimit``, ``ConcurrencyLimit``), bound to it."""
    icons: tuple[Icon, ...] = ()
    meta: Mapping[str, Any] | None = None
    """Published as the tool's ``_meta``."""
    confirm: str | Callable[[Mapping[str, Any]], str | None] | None = None
    """Step-up confirmation: a message (``str.format`` fields name arguments) or a function of the arguments that
    returns one, or None when these arguments need no confirmation. See ``confirmation``."""

    def confirmation(self, arguments: Mapping[str, Any]) -> str | None:
        """What the user must confirm before this call runs, or None."""
        confirm = self.confirm
        if confirm is None:
            return None
        if callable(confirm):
            message = confirm(arguments)
            if message is not None and not isinstance(message, str):
                raise TypeError(f"tool {self.name!r}: confirm returned {type(message).__name__}, not str or None")
        else:
            message = confirm.format_map(arguments)
        return None if message is None else message[:1000]

    @property
    def input_schema(self) -> Mapping[str, Any]:
        return self.signature.input_schema

    @property
    def output_schema(self) -> Mapping[str, Any] | None:
        return self.signature.output.schema

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        return self.signature.validate(arguments)

    async def run(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> ToolResult:
        value = await invoke(
            self.fn, self.signature.is_async, _bind_context(self.signature, arguments, ctx), ctx, executor
        )
        if isinstance(value, ToolResult):
            return value
        # A str is never content blocks: skip the checks and the blob URI (the common text result).
        blocks = None if value.__class__ is str else blocks_of(value, blob_uri=f"tool://{self.name}/result")
        if blocks is not None:
            return ToolResult(content=blocks)
        structured = self.signature.output.structured(value)
        return ToolResult(render_text(value, structured), structured)  # (text, structured): keywords cost more


@dataclasses.dataclass(slots=True)
class Resource:
    uri: str
    name: str
    title: str | None
    description: str
    mime_type: str | None
    fn: Callable[..., Any]
    signature: Signature
    checks: Sequence[Check]
    template: UriTemplate | None = None  # set for resource templates
    icons: tuple[Icon, ...] = ()
    meta: Mapping[str, Any] | None = None

    def validate(self, variables: Mapping[str, str]) -> dict[str, Any]:
        """The template variables converted to the handler's parameter types, or ``ArgumentError``."""
        return self.signature.validate(variables)

    async def read(
        self, uri: str, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> list[ResourceContent]:
        value = await invoke(self.fn, self.signature.is_async, _bind_context(self.signature, arguments, ctx), ctx, executor)
        return _resource_contents(uri, value, self.mime_type)


def _resource_contents(uri: str, value: Any, mime_type: str | None) -> list[ResourceContent]:
    if isinstance(value, ResourceContent):
        return [value]
    if isinstance(value, (list, tuple)) and all(isinstance(item, ResourceContent) for item in value):
        return list(value)
    if isinstance(value, (bytes, bytearray)):
        return [ResourceContent(uri=uri, blob=bytes(value), mime_type=mime_type or "application/octet-stream")]
    if isinstance(value, str):
        return [ResourceContent(uri=uri, text=value, mime_type=mime_type or "text/plain")]
    return [ResourceContent(uri=uri, text=render_text(value, None), mime_type=mime_type or "application/json")]


@dataclasses.dataclass(frozen=True, slots=True)
class PromptArgument:
    name: str
    description: str
    required: bool


@dataclasses.dataclass(slots=True)
class Prompt:
    name: str
    title: str | None
    description: str
    arguments: tuple[PromptArgument, ...]
    fn: Callable[..., Any]
    signature: Signature
    checks: Sequence[Check]
    icons: tuple[Icon, ...] = ()
    meta: Mapping[str, Any] | None = None

    def validate(self, arguments: Mapping[str, str]) -> dict[str, Any]:
        """The prompt arguments converted to the handler's parameter types, or ``ArgumentError``."""
        return self.signature.validate(arguments)

    async def render(
        self, arguments: dict[str, Any], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> list[PromptMessage]:
        """Run the prompt on validated arguments (``validate``)."""
        value = await invoke(self.fn, self.signature.is_async, _bind_context(self.signature, arguments, ctx), ctx, executor)
        items = value if isinstance(value, (list, tuple)) else [value]
        messages = []
        for item in items:
            if isinstance(item, PromptMessage):
                messages.append(item)
            elif isinstance(item, str) or is_block(item):
                messages.append(PromptMessage("user", item))
            else:
                raise TypeError(f"prompt {self.name!r} returned {type(item).__name__}; expected str, PromptMessage "
                                "or a content block (Image, Audio, EmbeddedResource, ResourceLink)")
        return messages


@dataclasses.dataclass(slots=True)
class CompletionHandler:
    """Completes ``argument`` of a prompt (ref_kind "prompt") or a resource template (ref_kind "resource")."""

    ref_kind: str
    ref: str
    argument: str
    fn: Callable[..., Any]
    signature: Signature

    async def complete(
        self, value: str, context_arguments: Mapping[str, str], ctx: Context, executor: concurrent.futures.Executor | None
    ) -> Completion:
        kwargs: dict[str, Any] = {}
        names = self.signature.parameter_names
        if names:
            kwargs[names[0]] = value
        if len(names) > 1:
            kwargs[names[1]] = dict(context_arguments)
        result = await invoke(self.fn, self.signature.is_async, _bind_context(self.signature, kwargs, ctx), ctx, executor)
        if isinstance(result, Completion):
            values = list(result.values)
            total, has_more = result.total, result.has_more
        else:
            values = [str(item) for item in result]
            total, has_more = len(values), False
        if len(values) > 100:  # MCP: at most 100 values per response
            total = total if total is not None and total >= len(values) else len(values)
            values, has_more = values[:100], True
        return Completion(values=values, total=total, has_more=has_more)
