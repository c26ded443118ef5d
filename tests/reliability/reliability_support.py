"""Shared parts of the reliability suite: the demo's identities from a real development Workload API, the demo
tool server (in process or as a `mcp-grpc serve` subprocess), and a bounded load generator that knows which calls
must succeed and which must be denied."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Iterator, Sequence

import grpc
import pytest

from mcp_grpc.client import AsyncClient, McpCallError
from tests.support.paths import AUTHZ_DIR, REPO_ROOT
from tests.support.servers import running
from tests.support.workload_harness import DevServer, short_tempdir, wait_for  # noqa: F401 - wait_for re-exported

DEMO_TARGET = "examples/demo/server.py:app"
TD = "example.org"
PREFIX = f"spiffe://{TD}/ns/mcp-tools/sa"
SERVER_DNS = "payments.mcp-tools.local"
IDENTITIES = {
    "server": f"{PREFIX}/payments-server",
    "billing": f"{PREFIX}/billing-agent",
    "support": f"{PREFIX}/support-agent",
}


# -- scales: one test body, a short variant for `make test` and a long one for `make reliability` ----------------

@dataclasses.dataclass(frozen=True)
class Scale:
    name: str
    callers: int
    seconds: float


def scales(short: Scale, long: Scale) -> list[Any]:
    """Parameters for ``@pytest.mark.parametrize("scale", ...)``: the long variant carries the reliability mark."""
    return [pytest.param(short, id=short.name), pytest.param(long, id=long.name, marks=pytest.mark.reliability)]


# -- the Workload API ------------------------------------------------------------------------------------------

@contextlib.contextmanager
def workload_api(log_dir: pathlib.Path, *extra: str) -> Iterator[DevServer]:
    """``mcp-grpc identity dev`` serving the payments server (with its DNS SAN) and both demo agents."""
    args = ["--trust-domain", TD, "--dns-name", f"server={SERVER_DNS}"]
    for name, spiffe_id in IDENTITIES.items():
        args += ["--workload", f"{name}={spiffe_id}"]
    dev = DevServer(short_tempdir("rel"), [*args, *extra], log_dir)
    dev.start()
    try:
        yield dev
    finally:
        dev.cleanup()


def kill(dev: DevServer) -> None:
    """SIGKILL: the Workload API dies without closing its streams or sockets."""
    assert dev.proc is not None
    dev.proc.send_signal(signal.SIGKILL)
    dev.proc.wait(10)
    dev.proc = None
    for leftover in dev.socket_dir.glob("*.sock"):  # a killed server leaves its socket files behind
        leftover.unlink()


async def server_identity(dev: DevServer) -> Any:
    from mcp_grpc.server.security import ServerIdentity

    return await asyncio.to_thread(ServerIdentity.from_workload_api, dev.socket("server"), timeout=15)


async def client_identity(dev: DevServer, name: str) -> Any:
    from mcp_grpc.client import ClientIdentity

    return await asyncio.to_thread(
        ClientIdentity.from_workload_api, dev.socket(name), server_dns_name=SERVER_DNS, timeout=15
    )


def client_over(identity: Any, address: str) -> tuple[AsyncClient, Any]:
    """An ``AsyncClient`` on its own ``SpiffeChannel`` of ``identity`` (closed by ``identity.aclose()``), and that
    channel, whose ``builds`` counts the rebuilds that followed SVID rotations."""
    channel = identity.channel(address)
    return AsyncClient(channel_provider=lambda: channel.channel), channel


def in_process_server(app: Any, identity: Any, **config: Any) -> contextlib.AbstractAsyncContextManager[Any]:
    """A ``Server`` on 127.0.0.1 with the identity's mTLS credentials and authenticator."""
    return running(app, **identity.config_fields(), **config)


# -- the demo server as a subprocess (its RSS is its own) --------------------------------------------------------

class ServerProcess:
    """``python -m mcp_grpc serve examples/demo/server.py:app`` over mTLS with the embedded engine on authz/."""

    def __init__(self, dev: DevServer, log_dir: pathlib.Path, *extra: str) -> None:
        self.argv = [
            sys.executable, "-m", "mcp_grpc", "serve", DEMO_TARGET, "--host", "127.0.0.1", "--port", "0",
            "--spiffe-socket", dev.socket("server"), "--authz-dir", str(AUTHZ_DIR),
            "--audit-log", str(log_dir / "audit.jsonl"), "--log-level", "info", "--drain", "1", *extra,
        ]
        self.log_path = log_dir / "server.log"
        self.proc: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self, timeout: float = 60.0) -> "ServerProcess":
        self.proc = subprocess.Popen(
            self.argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        found = threading.Event()
        log = open(self.log_path, "w")

        def read() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                log.write(line)
                log.flush()
                match = re.search(r"mcp-grpc serving .* on (127\.0\.0\.1:\d+)", line)
                if match and not self.address:
                    self.address = match.group(1)
                    found.set()
            log.close()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(timeout) or not self.address:
            self.stop()
            raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()}")
        return self

    def rss_kib(self) -> int:
        assert self.proc is not None
        return rss_kib(self.proc.pid)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.proc.returncode


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size from /proc/PID/status (VmRSS, KiB)."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# -- load: each call knows whether it must succeed or be denied ----------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Expected:
    tool: str
    arguments: dict[str, Any]
    allowed: bool


BILLING_MIX = (
    Expected("lookup_invoice", {"invoice_id": "INV-1001"}, True),
    Expected("read_report", {"bucket": "reports", "name": "q3.txt"}, True),
    Expected("read_report", {"bucket": "restricted", "name": "salaries.txt"}, False),
    Expected("refund", {"invoice_id": "INV-1002", "amount": 50}, True),
    Expected("refund", {"invoice_id": "INV-1002", "amount": 500}, False),  # over the team's limit of 100
)
SUPPORT_MIX = (
    Expected("lookup_invoice", {"invoice_id": "INV-1002"}, True),
    Expected("refund", {"invoice_id": "INV-1002", "amount": 50}, False),
    Expected("read_report", {"bucket": "reports", "name": "q4.txt"}, False),
)


@dataclasses.dataclass
class Tally:
    allowed: int = 0
    denied: int = 0
    failed: list[str] = dataclasses.field(default_factory=list)
    """Calls that should have succeeded but did not (or were denied with the wrong status)."""
    wrongly_allowed: list[str] = dataclasses.field(default_factory=list)

    @property
    def calls(self) -> int:
        return self.allowed + self.denied + len(self.failed) + len(self.wrongly_allowed)

    def summary(self) -> str:
        return (f"{self.calls} calls: {self.allowed} allowed, {self.denied} denied as expected, "
                f"{len(self.failed)} failed, {len(self.wrongly_allowed)} wrongly allowed")


class Load:
    """``callers`` concurrent loops calling through ``clients`` (client, mix) round robin, for at most ``seconds``
    and ``max_calls`` calls each, recording every outcome against what the policy says."""

    def __init__(self, clients: Sequence[tuple[AsyncClient, Sequence[Expected]]], callers: int, *,
                 seconds: float = 3600.0, max_calls: int = 1_000_000, timeout: float = 15.0) -> None:
        self.clients = clients
        self.callers = callers
        self.seconds = seconds
        self.max_calls = max_calls
        self.timeout = timeout
        self.tally = Tally()
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _one(self, client: AsyncClient, expected: Expected) -> None:
        tally = self.tally
        what = f"{expected.tool}({expected.arguments})"
        try:
            result = await client.call_tool(expected.tool, expected.arguments, timeout=self.timeout)
        except McpCallError as exc:
            if not expected.allowed and exc.status is grpc.StatusCode.PERMISSION_DENIED:
                tally.denied += 1
            else:
                tally.failed.append(f"{what}: {exc}")
            return
        if not expected.allowed:
            tally.wrongly_allowed.append(what)
        elif result.is_error or (result.structured is None and not result.text):
            tally.failed.append(f"{what}: tool error {result.text!r}")
        else:
            tally.allowed += 1

    async def _loop(self, index: int) -> None:
        client, mix = self.clients[index % len(self.clients)]
        deadline = time.monotonic() + self.seconds
        for n in range(self.max_calls):
            if self._stop.is_set() or time.monotonic() > deadline:
                return
            await self._one(client, mix[(index + n) % len(mix)])

    def start(self) -> "Load":
        self._tasks = [asyncio.create_task(self._loop(i)) for i in range(self.callers)]
        return self

    async def wait(self) -> Tally:
        await asyncio.gather(*self._tasks)
        return self.tally

    async def stop(self) -> Tally:
        self._stop.set()
        return await self.wait()
