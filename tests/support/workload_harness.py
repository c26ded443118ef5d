"""Test harness: `mcp-grpc identity dev` as a real subprocess, and a tiny grpc.aio echo service over SPIFFE mTLS."""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Sequence

import grpc

from mcp_grpc.identity.workload_dev.admin import ADMIN_SOCKET_NAME, admin_request
from tests.support.paths import REPO_ROOT

TD = "example.org"
SERVER_ID = f"spiffe://{TD}/ns/dev/sa/echo-server"
AGENT_ID = f"spiffe://{TD}/ns/dev/sa/agent"
SERVER_DNS = "echo.example.org"
ECHO_METHOD = "/test.Echo/Echo"


def short_tempdir(prefix: str) -> pathlib.Path:
    """A short directory: Unix socket paths must stay under 108 bytes, and pytest's tmp_path can be long."""
    return pathlib.Path(tempfile.mkdtemp(prefix=prefix))


class DevServer:
    """`python -m mcp_grpc identity dev ...` in its own process; started and stopped with bounded waits."""

    def __init__(self, socket_dir: pathlib.Path, args: Sequence[str], log_dir: pathlib.Path) -> None:
        self.socket_dir = socket_dir
        self.args = list(args)
        self.log_dir = log_dir
        self.proc: subprocess.Popen[str] | None = None
        self.starts = 0

    def command(self) -> list[str]:
        return [sys.executable, "-m", "mcp_grpc", "identity", "dev", "--socket-dir", str(self.socket_dir), *self.args]

    def start(self, timeout: float = 30.0) -> "DevServer":
        self.starts += 1
        log = open(self.log_dir / f"dev-server-{self.starts}.log", "w")
        self.proc = subprocess.Popen(
            self.command(), cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        ready = threading.Event()
        lines: list[str] = []

        def read() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                lines.append(line)
                if line.startswith("ready:"):
                    ready.set()
            ready.set()  # EOF: the process ended

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout) or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError(f"dev server did not become ready: {''.join(lines)}\n{self.log()}")
        return self

    def log(self) -> str:
        return (self.log_dir / f"dev-server-{self.starts}.log").read_text()

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        code = self.proc.returncode
        self.proc = None
        return code

    def socket(self, name: str) -> str:
        return f"unix://{self.socket_dir / (name + '.sock')}"

    def admin(self, command: str, **arguments: Any) -> Any:
        return admin_request(str(self.socket_dir / ADMIN_SOCKET_NAME), command, **arguments)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.socket_dir, ignore_errors=True)


class EchoServer:
    """A grpc.aio server with one generic unary method that authenticates the caller and echoes its SPIFFE ID."""

    def __init__(self, authenticator: Any) -> None:
        self.authenticator = authenticator
        self.accepted = 0
        self.rejected: list[str] = []
        self.peers: list[str] = []
        self.server: grpc.aio.Server | None = None
        self.port = 0

    async def _echo(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        from mcp_grpc.contract import AuthenticationFailed

        try:
            principal = self.authenticator.authenticate(
                context.auth_context(), {k: v for k, v in context.invocation_metadata() or ()}
            )
        except AuthenticationFailed as exc:
            self.rejected.append(exc.reason)
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.reason)
        self.accepted += 1
        self.peers.append(context.peer())
        return f"{principal.spiffe_id}|{principal.proven_by.value}".encode()

    async def start(self, credentials: grpc.ServerCredentials | None, options: Sequence[Any] = ()) -> int:
        self.server = grpc.aio.server(options=list(options))
        handler = grpc.method_handlers_generic_handler(
            "test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(self._echo)}
        )
        self.server.add_generic_rpc_handlers((handler,))
        if credentials is None:
            self.port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        await self.server.start()
        return self.port

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop(0)


async def echo(channel: Any, metadata: Sequence[tuple[str, str]] | None = None, timeout: float = 10.0) -> str:
    reply = await channel.unary_unary(ECHO_METHOD)(b"ping", timeout=timeout, metadata=metadata)
    return reply.decode()


async def wait_for(predicate: Any, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(interval)
    return bool(predicate())
