"""What a server serves, in one object: the tables of entries and the notifications announcing their changes.

``McpApp`` fills a ``Registry`` through its decorators; the servicers and the server read it. Nothing here knows
about gRPC: resolving a call to an entry is a dict lookup (or a URI-template match) under no lock, and every change
is announced to the ``Listen`` streams subscribed at that moment.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Iterator

from mcp_grpc.server.entries import CompletionHandler, Prompt, Resource, Tool

__all__ = ["Notification", "Registry", "offer"]


class Notification:
    """A change the server announces on ``McpStreaming.Listen``."""

    TOOLS_CHANGED = "tools/list_changed"
    RESOURCES_CHANGED = "resources/list_changed"
    PROMPTS_CHANGED = "prompts/list_changed"
    RESOURCE_UPDATED = "resources/updated"


def offer(queue: asyncio.Queue, item: Any) -> None:
    """Put ``item`` on a listener's queue; a listener that stopped reading loses notifications, never the server."""
    try:
        queue.put_nowait(item)
    except asyncio.QueueFull:
        pass


Listener = tuple[asyncio.AbstractEventLoop, asyncio.Queue]


class Registry:
    """The tools, resources, resource templates, prompts, completions and proto-first services of one server.

    Registration after the server started is allowed and announced as ``*/list_changed``.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        """The server name used in authorization targets (``CallTarget.server_name``)."""
        self.tools: dict[str, Tool] = {}
        self.resources: dict[str, Resource] = {}
        self.resource_templates: dict[str, Resource] = {}
        self.prompts: dict[str, Prompt] = {}
        self.completions: dict[tuple[str, str, str], CompletionHandler] = {}
        self.proto_services: list[Any] = []  # ProtoService entries (mcp_grpc.server.proto_first)
        self._listeners: set[Listener] = set()
        self._lock = threading.Lock()

    # -- changes --------------------------------------------------------------------------------------------------

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

    def add_resource(self, entry: Resource) -> None:
        """Register a built resource (``entry.template`` set: a resource template)."""
        with self._lock:
            table = self.resource_templates if entry.template is not None else self.resources
            if entry.uri in table:
                raise ValueError(f"resource {entry.uri!r} is already registered")
            table[entry.uri] = entry
        self.notify(Notification.RESOURCES_CHANGED)

    def add_prompt(self, entry: Prompt) -> None:
        with self._lock:
            if entry.name in self.prompts:
                raise ValueError(f"prompt {entry.name!r} is already registered")
            self.prompts[entry.name] = entry
        self.notify(Notification.PROMPTS_CHANGED)

    def remove_prompt(self, name: str) -> None:
        with self._lock:
            del self.prompts[name]
        self.notify(Notification.PROMPTS_CHANGED)

    def add_completion(self, handler: CompletionHandler) -> None:
        with self._lock:
            self.completions[(handler.ref_kind, handler.ref, handler.argument)] = handler

    def add_proto_service(self, service: Any) -> None:
        with self._lock:
            self.proto_services.append(service)

    # -- lookups --------------------------------------------------------------------------------------------------

    def resource_for(self, uri: str) -> tuple[Resource, dict[str, str]] | None:
        """The resource at ``uri`` and its template variables (a fixed resource first, then templates in order)."""
        entry = self.resources.get(uri)
        if entry is not None:
            return entry, {}
        for template in list(self.resource_templates.values()):
            assert template.template is not None
            variables = template.template.match(uri)
            if variables is not None:
                return template, variables
        return None

    def declared(self) -> Iterator[tuple[str, str, Any]]:
        """Every entry as (kind, name, entry), for checks made once at start (e.g. ``validate_declared``)."""
        yield from (("tool", name, entry) for name, entry in list(self.tools.items()))
        yield from (("resource", name, entry) for name, entry in list(self.resources.items()))
        yield from (("resource template", name, entry) for name, entry in list(self.resource_templates.items()))
        yield from (("prompt", name, entry) for name, entry in list(self.prompts.items()))

    # -- notifications --------------------------------------------------------------------------------------------

    def notify(self, kind: str, uri: str | None = None) -> None:
        """Announce a change to every ``Listen`` stream (thread-safe; a no-op when nobody listens)."""
        for loop, queue in list(self._listeners):
            try:
                loop.call_soon_threadsafe(offer, queue, (kind, uri))
            except RuntimeError:  # the listener's loop is closed
                self._listeners.discard((loop, queue))

    def subscribe(self) -> Listener:
        entry = (asyncio.get_running_loop(), asyncio.Queue(maxsize=1024))
        self._listeners.add(entry)
        return entry

    def unsubscribe(self, entry: Listener) -> None:
        self._listeners.discard(entry)
