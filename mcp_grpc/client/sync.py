"""The synchronous client: the async client driven on a private event loop thread.

    with Client("127.0.0.1:50051") as client:
        print(client.call_tool("add", {"a": 1, "b": 2}).structured)
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Mapping, Sequence, TypeVar

from mcp_grpc.client.client import (
    AsyncClient,
    CompletionResult,
    ProgressCallback,
    PromptInfo,
    PromptResult,
    ResourceContents,
    ResourceInfo,
    ToolCallResult,
    ToolInfo,
)

T = TypeVar("T")


class Client:
    """Blocking twin of ``AsyncClient``; takes the same constructor arguments. Progress callbacks run on the
    client's loop thread."""

    def __init__(self, address: str | Sequence[str] | None = None, **options: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mcp-grpc-client", daemon=True)
        self._thread.start()
        self._closed = False

        async def build() -> AsyncClient:
            return AsyncClient(address, **options)

        self._client = self._run(build())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        if self._closed:
            coroutine.close()
            raise RuntimeError("the client is closed")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._run(self._client.close())
        self._closed = True
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def list_tools(self, **kwargs: Any) -> list[ToolInfo]:
        return self._run(self._client.list_tools(**kwargs))

    def call_tool(
        self,
        name: str,
        arguments: Mapping[str, Any] | None = None,
        *,
        progress: ProgressCallback | None = None,
        on_log: Any = None,
        timeout: float | None = None,
    ) -> ToolCallResult:
        return self._run(self._client.call_tool(name, arguments, progress=progress, on_log=on_log, timeout=timeout))

    def list_resources(self, **kwargs: Any) -> list[ResourceInfo]:
        return self._run(self._client.list_resources(**kwargs))

    def list_resource_templates(self, **kwargs: Any) -> list[ResourceInfo]:
        return self._run(self._client.list_resource_templates(**kwargs))

    def read_resource(self, uri: str, **kwargs: Any) -> list[ResourceContents]:
        return self._run(self._client.read_resource(uri, **kwargs))

    def list_prompts(self, **kwargs: Any) -> list[PromptInfo]:
        return self._run(self._client.list_prompts(**kwargs))

    def get_prompt(self, name: str, arguments: Mapping[str, str] | None = None, **kwargs: Any) -> PromptResult:
        return self._run(self._client.get_prompt(name, arguments, **kwargs))

    def complete(self, argument: str, value: str, **kwargs: Any) -> CompletionResult:
        return self._run(self._client.complete(argument, value, **kwargs))
