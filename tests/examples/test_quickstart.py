"""The quickstart example: its server and its agent, together over a real server."""

from __future__ import annotations

import asyncio

from examples.quickstart import agent
from examples.quickstart.server import app
from mcp_grpc.server import Server, ServerConfig


async def test_quickstart_agent_against_its_server():
    server = Server(app, ServerConfig(port=0, insecure_local=True, handle_signals=False))
    await server.start()
    try:
        seen = await asyncio.to_thread(agent.run, server.address)
    finally:
        await server.stop(0)
    assert seen["tools"] == ["greet", "add", "count_to"]
    assert seen["greet"] == "Hello, Ada!"
    assert seen["add"] == {"total": 6.5, "count": 3}
    assert seen["count_to"] == {"result": {"result": 3}, "progress": [1.0, 2.0, 3.0]}
    assert seen["bad_arguments"] == "invalid arguments: name: required argument is missing"
    assert seen["note"].startswith("# Welcome")
    assert seen["prompt"] == [("user", "Please write a three-sentence review of gRPC.")]


def test_quickstart_declares_what_the_issue_asks():
    assert len(app.tools) >= 2
    assert "name" in app.tools["greet"].input_schema["required"]
    assert app.resources and app.resource_templates and app.prompts
