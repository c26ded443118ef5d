"""The app of the ``serve --workers`` tests: a tool that says which process answered."""

from __future__ import annotations

import os

from mcp_grpc.server import Context, McpApp

NAME_FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}

app = McpApp("workers-test")


@app.tool()
def whoami() -> str:
    """The process id of the worker that ran this call."""
    return str(os.getpid())


@app.tool()
async def named(ctx: Context) -> str:
    """Asks for a name (MRTR); the question and the answer say which worker asked and which answered."""
    answer = await ctx.elicit(f"Name? (asked by {os.getpid()})", NAME_FORM, key="n")
    return f"{answer.content['name']} answered by {os.getpid()}"
