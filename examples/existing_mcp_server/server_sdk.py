"""An ordinary MCP server written with the official MCP Python SDK (PyPI ``mcp``), exactly as its docs show.

Nothing here knows about gRPC, SPIFFE or OpenFGA: ``server.py`` mounts this server into mcp-grpc unchanged. It still
runs on its own as a JSON-RPC MCP server:

    python examples/existing_mcp_server/server_sdk.py            # stdio
"""

from typing import Annotated

from pydantic import BaseModel, Field

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import Completion, PromptReference, ToolAnnotations

mcp = MCPServer("inventory", instructions="A small warehouse inventory.")

STOCK = {"widget": 12, "gadget": 0, "gizmo": 5}


class StockLevel(BaseModel):
    item: str
    quantity: int
    in_stock: bool


@mcp.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True))
def check_stock(item: Annotated[str, Field(description="The item to look up.")]) -> StockLevel:
    """How many of an item are in stock."""
    if item not in STOCK:
        raise ToolError(f"unknown item {item!r}")
    return StockLevel(item=item, quantity=STOCK[item], in_stock=STOCK[item] > 0)


@mcp.tool(title="Reserve items", annotations=ToolAnnotations(destructive_hint=False))
async def reserve(
    item: str,
    quantity: Annotated[int, Field(ge=1, le=10, description="How many to reserve (1-10).")],
    ctx: Context,
) -> str:
    """Reserve some items, reporting progress per item."""
    if STOCK.get(item, 0) < quantity:
        return f"only {STOCK.get(item, 0)} {item} left; nothing reserved"
    for done in range(1, quantity + 1):
        await ctx.report_progress(done, quantity, f"reserved {done}")
    STOCK[item] -= quantity
    return f"reserved {quantity} {item}"


@mcp.tool()
def restock(item: str, quantity: int) -> int:
    """Add items to the stock; returns the new quantity."""
    STOCK[item] = STOCK.get(item, 0) + quantity
    return STOCK[item]


@mcp.resource("inventory://items", mime_type="application/json")
def items() -> str:
    """Every item name."""
    return ", ".join(sorted(STOCK))


@mcp.resource("inventory://items/{item}")
def item_resource(item: str) -> str:
    """One item's stock line."""
    return f"{item}: {STOCK.get(item, 0)}"


@mcp.prompt()
def reorder_plan(item: str, horizon: str = "a month") -> str:
    """Ask for a reorder plan for one item."""
    return f"We have {STOCK.get(item, 0)} {item} left. Propose a reorder plan for {horizon}."


@mcp.completion()
async def complete_item(ref, argument, context):
    """Complete item names for any argument called ``item``."""
    if argument.name == "item":
        return Completion(values=[name for name in sorted(STOCK) if name.startswith(argument.value)])
    if isinstance(ref, PromptReference) and argument.name == "horizon":
        return Completion(values=["a week", "a month", "a quarter"])
    return None


if __name__ == "__main__":
    mcp.run()
