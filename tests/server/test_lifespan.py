"""Lifespans and startup/shutdown hooks: run by the server runtime around serving, over a real loopback server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import textwrap

import pytest

from mcp_grpc.client import AsyncClient
from mcp_grpc.server import McpApp, StartupError

from tests.support.paths import REPO_ROOT
from tests.support.servers import running


def recording_app(events: list[str]) -> McpApp:
    @contextlib.asynccontextmanager
    async def lifespan(app: McpApp):
        events.append(f"lifespan enter {app.name}")
        app.greeting = "hello"  # type: ignore[attr-defined]
        yield
        events.append("lifespan exit")

    app = McpApp("hooks", lifespan=lifespan)

    @app.on_startup
    async def open_pool() -> None:
        events.append("startup async")

    @app.on_startup
    def warm_cache() -> None:
        events.append("startup sync")

    @app.on_shutdown
    async def close_pool() -> None:
        events.append("shutdown async")

    @app.on_shutdown
    def flush() -> None:
        events.append("shutdown sync")

    @app.tool()
    async def greet() -> str:
        """What the lifespan set up."""
        return app.greeting  # type: ignore[attr-defined]

    @app.tool()
    async def slow() -> str:
        """Outlives the start of the drain."""
        await asyncio.sleep(0.3)
        events.append("call finished")
        return "done"

    return app


async def test_hooks_run_before_serving_and_after_draining_in_order():
    events: list[str] = []
    app = recording_app(events)
    async with running(app, drain_seconds=5) as server:
        assert events == ["lifespan enter hooks", "startup async", "startup sync"]
        async with AsyncClient(server.address, timeout=10) as client:
            assert (await client.call_tool("greet", {})).text == "hello"
            in_flight = asyncio.ensure_future(client.call_tool("slow", {}))
            await asyncio.sleep(0.1)
            await server.stop()  # drains: the call finishes before any shutdown hook runs
            assert (await in_flight).text == "done"
    # shutdown hooks run in reverse registration order, like the lifespan's exit (registered first, exits last)
    assert events[3:] == ["call finished", "shutdown sync", "shutdown async", "lifespan exit"]


async def test_a_failing_startup_hook_stops_the_server_with_its_name():
    events: list[str] = []
    app = recording_app(events)

    @app.on_startup
    def connect() -> None:
        raise ConnectionError("no route to db:5432")

    with pytest.raises(StartupError) as caught:
        async with running(app) as server:
            pytest.fail(f"served on {server.address}")
    message = str(caught.value)
    assert message == ("startup hook test_a_failing_startup_hook_stops_the_server_with_its_name.<locals>.connect "
                       "failed at startup: ConnectionError: no route to db:5432")
    assert isinstance(caught.value.__cause__, ConnectionError)
    # what was entered before the failure is exited again, in reverse; shutdown hooks registered before it run too
    assert events == ["lifespan enter hooks", "startup async", "startup sync", "shutdown sync", "shutdown async",
                      "lifespan exit"]


async def test_nothing_listens_when_startup_fails():
    """The hooks run before the port is bound: a failed start leaves the port free for the next attempt."""
    import socket

    from mcp_grpc.server import Server, ServerConfig

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = McpApp("fails")

    @app.on_startup
    async def refuse() -> None:
        raise RuntimeError("nope")

    config = ServerConfig(port=port, insecure_local=True, handle_signals=False)
    with pytest.raises(StartupError, match="RuntimeError: nope"):
        await Server(app, config).start()
    again = Server(McpApp("next"), config)  # so_reuseport is off: this bind fails if the port were still held
    await again.start()
    try:
        async with AsyncClient(again.address, timeout=10) as client:
            assert await client.list_tools() == []
    finally:
        await again.stop(0)


async def test_a_port_that_cannot_be_bound_exits_the_entered_lifespans():
    from mcp_grpc.server import ConfigError, Server, ServerConfig

    events: list[str] = []
    async with running(McpApp("first")) as first:
        taken = Server(recording_app(events), ServerConfig(port=first.port, insecure_local=True, handle_signals=False))
        with pytest.raises(ConfigError, match="cannot listen on"):
            await taken.start()
    assert events == ["lifespan enter hooks", "startup async", "startup sync", "shutdown sync", "shutdown async",
                      "lifespan exit"]


async def test_a_failing_shutdown_hook_is_logged_and_the_others_still_run(caplog):
    events: list[str] = []
    app = McpApp("shutdown")

    @app.on_shutdown
    def last() -> None:
        events.append("last")

    @app.on_shutdown
    def broken() -> None:
        raise OSError("disk gone")

    with caplog.at_level("ERROR", logger="mcp_grpc.server"):
        async with running(app):
            pass
    assert events == ["last"]
    assert "shutdown hook test_a_failing_shutdown_hook_is_logged_and_the_others_still_run.<locals>.broken failed at shutdown" in caplog.text and "disk gone" in caplog.text


def test_a_lifespan_must_be_callable():
    with pytest.raises(TypeError, match="a lifespan is a callable taking the app, not str"):
        McpApp("x", lifespan="nope")  # type: ignore[arg-type]


def test_the_cli_exits_non_zero_when_a_startup_hook_fails(tmp_path):
    target = tmp_path / "broken_app.py"
    target.write_text(textwrap.dedent('''
        from mcp_grpc.server import McpApp

        app = McpApp("broken")

        @app.on_startup
        def connect():
            raise ConnectionError("db unreachable")
    '''))
    done = subprocess.run(
        [sys.executable, "-m", "mcp_grpc", "serve", f"{target}:app", "--insecure-local", "--port", "0"],
        capture_output=True, text=True, timeout=60, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    assert done.returncode == 2, done.stderr
    assert "mcp-grpc serve: startup hook connect failed at startup: ConnectionError: db unreachable" in done.stderr
