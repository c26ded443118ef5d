"""``mcp-grpc serve | tools | call``: the happy paths and a clear error for each kind of bad input."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mcp_grpc.cli.main import main

from tests.support.paths import REPO_ROOT


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main, list(argv))


async def test_tools_and_call(server, capsys):
    assert await cli("tools", server.address) == 0
    listing = capsys.readouterr().out
    assert "echo(text: string)  - Say it back." in listing
    assert "add(a: integer, b: integer)" in listing

    assert await cli("tools", server.address, "--json") == 0
    tools = {tool["name"]: tool for tool in json.loads(capsys.readouterr().out)["tools"]}
    assert {"echo", "add"} <= set(tools)
    # MCP's names (tools/list), not Python's: inputSchema, annotations.readOnlyHint
    assert tools["echo"]["inputSchema"]["required"] == ["text"]
    assert tools["echo"]["annotations"]["readOnlyHint"] is True
    assert "input_schema" not in json.dumps(tools)

    assert await cli("call", server.address, "add", "--args", '{"a": 1, "b": 2}') == 0
    assert json.loads(capsys.readouterr().out) == {"result": 3}

    assert await cli("call", server.address, "progress", "--args", '{"steps": 2}', "--progress") == 0
    captured = capsys.readouterr()
    assert "progress 1/2" in captured.err and json.loads(captured.out) == {"result": 2}


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (("call", "{address}", "nope"), 69, "NOT_FOUND: unknown tool 'nope'"),  # 64 + NOT_FOUND (5)
        (("call", "{address}", "add", "--args", "{not json"), 2, "-d is not valid JSON"),
        (("call", "{address}", "add", "--args", "[1, 2]"), 2, "-d must be a JSON object, got an array"),
        (("call", "{address}", "add", "--args", '{"a": 1}'), 1, "b: required argument is missing"),
        (("call", "{address}", "fails"), 1, "tool 'fails' failed: the disk is on fire"),
        (("tools", "not-an-address"), 2, "bad address 'not-an-address'"),
        (("tools", "127.0.0.1:1", "--timeout", "3"), 78, "cannot reach 127.0.0.1:1"),  # 64 + UNAVAILABLE (14)
    ],
)
async def test_clear_errors(server, capsys, argv, code, message):
    argv = tuple(server.address if arg == "{address}" else arg for arg in argv)
    assert await cli(*argv) == code
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("serve", "examples/quickstart/server.py:app"), "refusing to start without transport security"),
        (("serve", "examples/quickstart/server.py:app", "--insecure-local", "--host", "0.0.0.0"), "only on a loopback"),
        (("serve", "examples/missing.py:app", "--insecure-local"), "no file examples/missing.py"),
        (("serve", "examples.quickstart.server:nothing", "--insecure-local"), "has no attribute 'nothing'"),
        (("serve", "examples.quickstart.server:NOTES", "--insecure-local"), "is a dict, not an McpApp"),
        (("serve", "no_such_package.mod:app", "--insecure-local"), "no module named 'no_such_package'"),
    ],
)
def test_serve_refuses_with_a_reason(capsys, monkeypatch, argv, message):
    monkeypatch.chdir(REPO_ROOT)
    assert main(list(argv)) == 2
    assert message in capsys.readouterr().err


def test_serve_runs_until_sigterm_and_warns(tmp_path):
    socket = tmp_path / "quickstart.sock"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/quickstart/server.py:app", "--insecure-local",
         "--uds", str(socket), "--drain", "0.5"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
        assert socket.exists(), process.stderr.read() if process.poll() is not None else "no socket"
        called = subprocess.run(
            [sys.executable, "-m", "mcp_grpc", "call", f"unix:{socket}", "greet", "--args", '{"name": "Ada"}'],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=30,
        )
        assert called.returncode == 0, called.stderr
        assert called.stdout.strip() == "Hello, Ada."
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
        assert "insecure-local" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
