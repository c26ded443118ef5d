"""examples/existing_mcp_server: an official-SDK server served through ``mcp-grpc serve``, called over gRPC."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port


@pytest.fixture
async def served_example():
    """``mcp-grpc serve examples/existing_mcp_server/server.py:app --insecure-local`` as a real process."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/existing_mcp_server/server.py:app",
         "--insecure-local", "--port", str(port), "--drain", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    address = f"127.0.0.1:{port}"
    try:
        async with AsyncClient(address, timeout=5) as client:
            deadline = time.monotonic() + 30
            while True:  # bounded: until the process serves, exits, or 30 s pass
                if process.poll() is not None:
                    pytest.fail(f"mcp-grpc serve exited with {process.returncode}: {process.stderr.read().decode()}")
                try:
                    await client.list_tools(timeout=1)
                    break
                except McpCallError:
                    if time.monotonic() > deadline:
                        pytest.fail("mcp-grpc serve did not answer within 30 s")
                    await asyncio.sleep(0.2)
            yield client
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


async def test_sdk_server_tools_resources_and_prompts_over_grpc(served_example: AsyncClient):
    client = served_example
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert set(tools) == {"check_stock", "reserve", "restock"}
    assert tools["check_stock"].annotations["read_only"] is True
    assert tools["reserve"].title == "Reserve items"
    assert tools["reserve"].input_schema["properties"]["quantity"]["maximum"] == 10

    stock = await client.call_tool("check_stock", {"item": "gizmo"})
    assert not stock.is_error and stock.structured == {"item": "gizmo", "quantity": 5, "in_stock": True}

    progress = []
    reserved = await client.call_tool("reserve", {"item": "gizmo", "quantity": 2}, progress=progress.append)
    assert reserved.text == "reserved 2 gizmo" and [p.progress for p in progress] == [1, 2]

    too_many = await client.call_tool("reserve", {"item": "gizmo", "quantity": 50})
    assert too_many.is_error and "less than or equal to 10" in too_many.text  # the SDK's validation, unchanged
    unknown = await client.call_tool("check_stock", {"item": "sprocket"})
    assert unknown.is_error and unknown.text == "Error executing tool check_stock: unknown item 'sprocket'"

    (items,) = await client.read_resource("inventory://items")
    assert items.text == "gadget, gizmo, widget"
    (line,) = await client.read_resource("inventory://items/gizmo")
    assert line.text == "gizmo: 3"

    plan = await client.get_prompt("reorder_plan", {"item": "gizmo", "horizon": "a week"})
    assert plan.messages == [("user", "We have 3 gizmo left. Propose a reorder plan for a week.")]
    completed = await client.complete("item", "g", prompt="reorder_plan")
    assert completed.values == ["gadget", "gizmo"]

    with pytest.raises(McpCallError) as missing:
        await client.call_tool("no_such_tool", {})
    assert missing.value.status == grpc.StatusCode.NOT_FOUND


def test_sdk_server_module_is_plain_official_sdk_code():
    source = (REPO_ROOT / "examples/existing_mcp_server/server_sdk.py").read_text()
    assert "mcp_grpc" not in source and "from mcp.server.mcpserver import" in source
