"""The quickstart server: two tools, a resource, a resource template and a prompt.

    mcp-grpc serve examples/quickstart/server.py:app --insecure-local --port 50051
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from mcp_grpc.server import Context, McpApp, ToolAnnotations

app = McpApp("quickstart", instructions="Small demo tools: greetings and arithmetic.")

NOTES = {"welcome.md": "# Welcome\nThis server speaks MCP over gRPC.", "todo.md": "- try the tools\n- read a note"}


class Sum(BaseModel):
    total: float
    count: int


@app.tool(annotations=ToolAnnotations(read_only=True, idempotent=True))
def greet(
    name: Annotated[str, Field(description="Who to greet.", min_length=1)],
    style: Literal["plain", "excited"] = "plain",
) -> str:
    """Greet someone by name."""
    return f"Hello, {name}!" if style == "excited" else f"Hello, {name}."


@app.tool(annotations=ToolAnnotations(read_only=True, idempotent=True))
def add(numbers: Annotated[list[float], Field(description="The numbers to add.")]) -> Sum:
    """Add numbers and count them."""
    return Sum(total=sum(numbers), count=len(numbers))


@app.tool()
async def count_to(n: Annotated[int, Field(ge=1, le=100, description="Where to stop.")], ctx: Context) -> int:
    """Count from 1 to n, reporting progress at each step."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"counted {i}")
        await asyncio.sleep(0.01)
    return n


@app.resource("notes://index", mime_type="text/plain")
def note_index() -> str:
    """The names of all notes."""
    return "\n".join(sorted(NOTES))


@app.resource("notes://{name}", mime_type="text/markdown")
def note(name: str) -> str:
    """One note by name."""
    if name not in NOTES:
        raise KeyError(f"no note named {name!r}")
    return NOTES[name]


@app.completion(resource="notes://{name}", argument="name")
def complete_note(value: str, arguments: dict[str, str]) -> list[str]:
    return [name for name in sorted(NOTES) if name.startswith(value)]


@app.prompt()
def review(topic: Annotated[str, Field(description="What to review.")]) -> str:
    """Ask for a short review of a topic."""
    return f"Please write a three-sentence review of {topic}."


if __name__ == "__main__":
    app.serve(insecure_local=True)
