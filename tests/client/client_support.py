"""Helpers of the client tests: a small app (served with tests.support.servers.running)."""

from __future__ import annotations

from mcp_grpc.server import Context, McpApp


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
