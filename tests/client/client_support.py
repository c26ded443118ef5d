"""Helpers of the client tests: a small app and a real grpc.aio server on 127.0.0.1 port 0."""

from __future__ import annotations

import contextlib
from typing import Any, AsyncIterator

from mcp_grpc.server import Context, McpApp, Server, ServerConfig


def small_app(name: str = "client-test") -> McpApp:
    app = McpApp(name)

    @app.tool()
    def whoami(ctx: Context) -> dict[str, str]:
        """Which server answered and what the caller sent."""
        return {"server": name, "token": ctx.metadata.get("authorization", "")}

    @app.tool()
    async def count(n: int, ctx: Context) -> int:
        for step in range(1, n + 1):
            await ctx.report_progress(step, n)
        return n

    @app.resource("text://hello")
    def hello() -> str:
        return "hello"

    @app.prompt()
    def ask(question: str) -> str:
        return f"Q: {question}"

    @app.completion(prompt="ask", argument="question")
    def questions(value: str, arguments: dict[str, str]) -> list[str]:
        return [q for q in ("why?", "how?", "what?") if q.startswith(value)]

    for index in range(7):  # enough tools for several pages at page_size=3
        app.tool(name=f"filler_{index}")(lambda: "filler")
    return app


@contextlib.asynccontextmanager
async def running(app: McpApp, **fields: Any) -> AsyncIterator[Server]:
    fields.setdefault("insecure_local", fields.get("authenticator") is None)
    fields.setdefault("drain_seconds", 0.2)
    server = Server(app, ServerConfig(port=0, handle_signals=False, **fields))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)
