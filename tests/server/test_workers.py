"""``mcp-grpc serve --workers N``: real supervisor and worker processes on loopback.

Every test starts the real command; calls go over new connections (a local subchannel pool per client), which the
kernel spreads over the workers by SO_REUSEPORT.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Sequence

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mcp_grpc.cli.main import main
from mcp_grpc.client import AsyncClient, InputRequiredError

from tests.support.paths import REPO_ROOT

APP = "tests/server/workers_app.py:app"
SERVING = re.compile(r"mcp-grpc serving 'workers-test' on (\S+) \(2 workers: pids (\d+) (\d+)\)")
STARTUP = 90.0  # seconds: the machine is shared, a cold start of two interpreters can be slow


class Supervised:
    """A ``serve --workers`` process and the stderr lines of it and its workers, collected by a thread."""

    def __init__(self, *argv: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_grpc", "serve", APP, "--insecure-local", *argv],
            cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, pattern: re.Pattern[str] | str, timeout: float = STARTUP, after: int = 0) -> re.Match[str]:
        compiled = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.lines[after:]:
                match = compiled.search(line)
                if match:
                    return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {compiled.pattern!r} in:\n{self.text}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=10)
        return code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def pids_serving(address: str, calls: int) -> list[str]:
    """The pid each of ``calls`` calls, each on a new connection, was answered by."""

    async def one() -> str:
        async with AsyncClient(address, channel_options=[("grpc.use_local_subchannel_pool", 1)]) as client:
            result = await client.call_tool("whoami", {})
        assert not result.is_error, result.text
        return result.text

    async def all_of() -> list[str]:
        return [await one() for _ in range(calls)]

    return asyncio.run(all_of())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def health_status(port: int) -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
    return reply.status


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_workers_share_the_port_audit_apart_and_drain(tmp_path):
    audit = tmp_path / "audit.log"
    health_port = free_port()
    server = Supervised("--port", "0", "--workers", "2", "--drain", "1", "--audit-log", str(audit),
                        "--health-port", str(health_port))
    try:
        match = server.wait_for(SERVING)
        address, pids = match.group(1), {match.group(2), match.group(3)}
        assert server.text.count("mcp-grpc serving") == 1  # the supervisor's line only, once both listen
        assert not address.endswith(":0")
        answered = pids_serving(address, 40)
        assert set(answered) == pids, f"calls reached {set(answered)}, workers are {pids}"
        assert health_status(health_port) == health_pb2.HealthCheckResponse.SERVING  # both share the probe port
        assert server.stop() == 0, server.text
    finally:
        server.kill()
    assert "signal received: stopping 2 workers" in server.text
    assert not any(alive(int(pid)) for pid in pids)
    # one audit file per worker, every line whole JSON; together they hold every call, each file the calls its
    # worker answered
    records = {}
    for index in (0, 1):
        lines = (tmp_path / f"audit.log.w{index}").read_text().splitlines()
        records[index] = [json.loads(line) for line in lines]
        assert records[index], f"worker {index} wrote no audit records"
    assert not audit.exists()
    calls = [r for rs in records.values() for r in rs if r["method"] == "CallTool"]
    assert len(calls) == 40 and all(r["decision"] == "allow" for r in calls)


def test_a_killed_worker_is_restarted_and_the_port_keeps_serving():
    server = Supervised("--port", "0", "--workers", "2", "--drain", "1")
    try:
        match = server.wait_for(SERVING)
        address, victim, survivor = match.group(1), int(match.group(2)), int(match.group(3))
        seen = len(server.lines)
        os.kill(victim, signal.SIGKILL)
        server.wait_for(r"worker 0 \(pid %d\) ended unexpectedly \(signal SIGKILL\): restarting it" % victim,
                        timeout=30, after=seen)
        assert set(pids_serving(address, 10)) == {str(survivor)}  # the survivor serves meanwhile
        restarted = server.wait_for(r"worker 0 restarted: pid (\d+) serving", after=seen)
        replacement = restarted.group(1)
        assert int(replacement) not in (victim, survivor)
        assert set(pids_serving(address, 40)) == {replacement, str(survivor)}
        assert server.stop() == 0, server.text
    finally:
        server.kill()


def test_a_stop_while_a_worker_waits_for_its_restart_is_clean():
    server = Supervised("--port", "0", "--workers", "2", "--drain", "0.5")
    try:
        match = server.wait_for(SERVING)
        victim, seen = int(match.group(2)), len(server.lines)
        os.kill(victim, signal.SIGKILL)
        server.wait_for("ended unexpectedly", timeout=30, after=seen)
        assert server.stop() == 0, server.text  # the crash was handled; the survivor drained
        assert "restarted" not in server.text
    finally:
        server.kill()


def test_a_retry_opens_on_another_worker_than_the_first_round():
    """Without --request-state-keys the supervisor gives every worker the same key: an MRTR retry that lands on
    another worker (a new connection) still opens its request_state."""
    server = Supervised("--port", "0", "--workers", "2", "--drain", "0.5")
    answer = {"n": {"action": "accept", "content": {"name": "Ada"}}}
    local = [("grpc.use_local_subchannel_pool", 1)]

    async def rounds() -> list[tuple[str, str]]:
        pairs = []
        for _ in range(16):
            async with AsyncClient(address, channel_options=local) as first:
                with pytest.raises(InputRequiredError) as asked:
                    await first.call_tool("named", {})
            asker = re.search(r"asked by (\d+)", asked.value.requests["n"]["params"]["message"]).group(1)
            async with AsyncClient(address, channel_options=local) as retry:
                done = await retry.call_tool("named", {}, input_responses=answer,
                                             request_state=asked.value.request_state)
            assert done.text.startswith("Ada answered by "), done.text
            pairs.append((asker, done.text.rsplit(" ", 1)[1]))
        return pairs

    try:
        address = server.wait_for(SERVING).group(1)
        pairs = asyncio.run(rounds())
        assert any(asker != answerer for asker, answerer in pairs), f"no retry crossed workers: {pairs}"
        assert server.stop() == 0, server.text
    finally:
        server.kill()


def test_workers_end_when_their_supervisor_is_killed():
    server = Supervised("--port", "0", "--workers", "2", "--drain", "0.5")
    try:
        match = server.wait_for(SERVING)
        pids = [int(match.group(2)), int(match.group(3))]
        server.process.kill()
        server.process.wait()
        deadline = time.monotonic() + 30
        while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in pids), "workers outlived their supervisor"
    finally:
        server.kill()


def test_a_bad_config_stops_every_worker_and_exits_2():
    server = Supervised("--host", "0.0.0.0", "--port", "0", "--workers", "2")
    try:
        code = server.process.wait(timeout=STARTUP)
        server._reader.join(timeout=10)
    finally:
        server.kill()
    assert code == 2, server.text
    assert "--insecure-local serves plaintext and is allowed only on a loopback address" in server.text
    assert "could not start (exit code 2): stopping every worker" in server.text
    assert "restarting" not in server.text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("--workers", "0"), "0 workers: give at least 1 (or auto)"),
        (("--workers", "many"), "'many' is not a number of workers"),
        (("--workers", "-3"), "-3 workers: give at least 1"),
        (("--workers", "2", "--uds", "/tmp/x.sock"), "--workers needs --host/--port"),
        (("--workers", "2", "--metrics-port", "0"), "--metrics-port is not supported with --workers > 1"),
    ],
)
def test_bad_worker_counts_and_combinations_exit_2(capsys, monkeypatch, argv: Sequence[str], message: str):
    monkeypatch.chdir(REPO_ROOT)
    try:
        code = main(["serve", APP, "--insecure-local", *argv])
    except SystemExit as exc:  # argparse's own refusal
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_auto_is_one_worker_per_cpu():
    from mcp_grpc.cli.server_commands import worker_count

    assert worker_count("auto") == (os.cpu_count() or 1)
    assert worker_count("3") == 3
