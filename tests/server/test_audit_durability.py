"""Issue 12, item 1: no audit record is lost on a graceful stop, a sink that cannot write is loud, and
``--audit-required`` fails closed while records cannot be written.

Over the wire: a real ``mcp-grpc serve`` subprocess of the demo app (insecure-local on a Unix socket, so every
caller is spiffe://insecure.local/dev, which the demo store grants nothing: every tool call is denied), and an
in-process ``Server`` for calls that end during the drain. A full disk is /dev/full, the real device: every write to
it fails with ENOSPC."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time
from typing import Iterator

import grpc
import pytest

from mcp_grpc.authz.audit import JsonAuditSink
from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import ConfigError, Server, ServerConfig
from tests.support.paths import REPO_ROOT
from tests.support.servers import running

DEMO = "examples/demo/server.py:app"


class Serve:
    """``mcp-grpc serve DEMO --insecure-local --uds SOCKET --authz-dir authz`` plus ``flags``."""

    def __init__(self, *flags: str) -> None:
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="audit"))  # short: Unix socket paths are limited
        self.socket = self.dir / "demo.sock"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_grpc", "serve", DEMO, "--insecure-local", "--uds", str(self.socket),
             "--authz-dir", "authz", "--drain", "0", *flags],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + 60
        while not self.socket.exists() and time.monotonic() < deadline and self.process.poll() is None:
            time.sleep(0.05)
        if not self.socket.exists():
            self.process.kill()
            raise AssertionError(f"serve did not start: {self.process.communicate()[1]}")

    @property
    def address(self) -> str:
        return f"unix:{self.socket}"

    def terminate(self) -> tuple[int, str]:
        """SIGTERM; (exit code, stderr)."""
        self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=30)
        return self.process.returncode, stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@pytest.fixture
def audit_dir() -> Iterator[pathlib.Path]:
    with tempfile.TemporaryDirectory(prefix="audit") as path:
        yield pathlib.Path(path)


async def _refund(client: AsyncClient) -> McpCallError:
    with pytest.raises(McpCallError) as caught:
        await client.call_tool("refund", {"invoice_id": "INV-1001", "amount": 5})
    return caught.value


async def test_every_denied_call_is_in_the_audit_log_after_sigterm(audit_dir):
    log_file = audit_dir / "audit.jsonl"
    served = Serve("--audit-log", str(log_file))
    try:
        async with AsyncClient(served.address, retry=None, timeout=20) as client:
            errors = [await _refund(client) for _ in range(10)]
        code, stderr = served.terminate()  # at once, and --drain 0: nothing waits for the writer's 50 ms tick
    finally:
        served.kill()
    assert {error.status for error in errors} == {grpc.StatusCode.PERMISSION_DENIED}
    assert code == 0, stderr
    records = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert [(r["method"], r["target"], r["decision"]) for r in records] == [("CallTool", "refund", "deny")] * 10


async def test_audit_required_refuses_calls_while_the_log_cannot_be_written():
    served = Serve("--audit-log", "/dev/full", "--audit-required")
    try:
        async with AsyncClient(served.address, retry=None, timeout=20) as client:
            first = await _refund(client)  # served: nothing has failed yet; its record is the first that fails
            refused = None
            deadline = time.monotonic() + 10
            while refused is None and time.monotonic() < deadline:
                await asyncio.sleep(0.1)  # the writer tries every 50 ms
                error = await _refund(client)
                if error.status == grpc.StatusCode.UNAVAILABLE:
                    refused = error
        _, stderr = served.terminate()
    finally:
        served.kill()
    assert first.status == grpc.StatusCode.PERMISSION_DENIED
    assert refused is not None, "calls went on although no audit record could be written"
    assert refused.message == "audit unavailable: this server refuses calls while it cannot write audit records"
    assert "audit records cannot be written" in stderr and "No space left on device" in stderr


async def test_without_audit_required_a_failing_log_is_loud_and_calls_go_on():
    served = Serve("--audit-log", "/dev/full")
    try:
        async with AsyncClient(served.address, retry=None, timeout=20) as client:
            first = await _refund(client)
            await asyncio.sleep(0.3)
            second = await _refund(client)
        _, stderr = served.terminate()
    finally:
        served.kill()
    assert (first.status, second.status) == (grpc.StatusCode.PERMISSION_DENIED,) * 2
    assert "audit records cannot be written" in stderr


def _sink(path: pathlib.Path) -> JsonAuditSink:
    """A file sink whose writer never wakes by itself (an hour's interval): only a flush writes."""
    import logging

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(message)s"))
    return JsonAuditSink(handler=handler, interval=3600)


async def test_calls_that_end_during_the_drain_are_written_when_stop_returns(app, observed, audit_dir):
    path = audit_dir / "drain.jsonl"
    sink = _sink(path)
    try:
        async with running(app, audit_sink=sink, drain_seconds=5) as server:
            async with AsyncClient(server.address, retry=None) as client:
                finishing = asyncio.ensure_future(client.call_tool("sleep_sync", {"seconds": 0.4}))
                cancelled = asyncio.ensure_future(client.call_tool("wait_forever", {}))
                await asyncio.sleep(0.2)
                await server.stop(1.0)
                records = [json.loads(line) for line in path.read_text().splitlines()]
                await asyncio.gather(finishing, cancelled, return_exceptions=True)
    finally:
        sink.close()
    assert sorted((r["target"], r["decision"]) for r in records) == [("sleep_sync", "allow"), ("wait_forever", "error")]


def test_audit_required_needs_a_sink_that_can_tell(app):
    with pytest.raises(ConfigError, match="audit_required needs an audit sink"):
        Server(app, ServerConfig(port=0, insecure_local=True, audit_required=True))
