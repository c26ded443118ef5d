"""A real ``redis-server`` (Debian's package, installed by ``make redis``) on a loopback port, stopped by PID.

Nothing is persisted (``--save ''``, ``--appendonly no``). Without redis-server on PATH, or without the ``redis``
client package (the ``[redis]`` extra), tests skip; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import subprocess
import time

import pytest

from tests.support.ports import free_port

__all__ = ["RedisServer", "require_redis"]


def require_redis() -> str:
    """The path of redis-server (and the redis client importable); skip, or fail under CI=true, without them."""
    binary = shutil.which("redis-server")
    missing = []
    if binary is None:
        missing.append("redis-server is not on PATH (run `make redis`: apt-get install redis-server)")
    try:
        import redis  # noqa: F401
    except ImportError:
        missing.append("the redis client package is not installed (pip install -e '.[redis]')")
    if missing:
        message = "; ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires Redis: {message}", pytrace=False)
        pytest.skip(message)
    assert binary is not None
    return binary


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port``; ``start``/``stop`` may be called again (same port)."""

    def __init__(self, binary: str, directory: pathlib.Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        log = open(self.directory / f"redis-{self.port}.log", "ab")  # noqa: SIM115 - kept open by the child
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--daemonize", "no"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}; see {self.directory}")
            if self.ping():
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within {timeout} s")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
