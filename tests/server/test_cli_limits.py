"""`mcp-grpc serve --limits FILE --limits-redis URL`, and limits.yaml found in --authz-dir: a malformed file stops
the start with file:line; two server processes sharing a real Redis enforce one limit."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import time
from typing import Iterator

import grpc
import pytest

from mcp_grpc.cli.main import main
from mcp_grpc.client import AsyncClient, McpCallError
from tests.support.paths import AUTHZ_DIR, REPO_ROOT
from tests.support.redis_server import RedisServer, require_redis

QUICKSTART = "examples/quickstart/server.py:app"


def test_a_malformed_limits_yaml_in_the_authz_dir_stops_the_start_with_file_and_line(tmp_path, capsys, monkeypatch):
    authz = tmp_path / "authz"
    shutil.copytree(AUTHZ_DIR, authz)
    (authz / "limits.yaml").write_text("rate_limits:\n  - per: principal\n    rate: -1\n")
    monkeypatch.chdir(REPO_ROOT)
    assert main(["serve", QUICKSTART, "--insecure-local", "--port", "0", "--authz-dir", str(authz)]) == 2
    err = capsys.readouterr().err
    assert f"bad limits file: {authz / 'limits.yaml'}:3: rate_limits[0]: rate must be" in err


def test_limits_given_by_flag_that_do_not_exist_stop_the_start(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    missing = tmp_path / "nope.yaml"
    assert main(["serve", QUICKSTART, "--insecure-local", "--port", "0", "--limits", str(missing)]) == 2
    assert f"bad limits file: {missing}: no such file" in capsys.readouterr().err


@pytest.fixture
def redis_server(tmp_path: pathlib.Path) -> Iterator[RedisServer]:
    server = RedisServer(require_redis(), tmp_path).start()
    try:
        yield server
    finally:
        server.stop()


def _serve(socket: pathlib.Path, limits: pathlib.Path, redis_url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "serve", QUICKSTART, "--insecure-local", "--uds", str(socket),
         "--drain", "0.5", "--limits", str(limits), "--limits-redis", redis_url],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )


async def test_two_server_processes_sharing_redis_enforce_one_limit(tmp_path, redis_server):
    limits = tmp_path / "limits.yaml"
    limits.write_text("rate_limits:\n  - name: fleet\n    per: principal\n    rate: 0.01\n    burst: 3\n")
    sockets = [tmp_path / "one.sock", tmp_path / "two.sock"]
    processes = [_serve(socket, limits, redis_server.url) for socket in sockets]
    try:
        deadline = time.monotonic() + 60
        while not all(s.exists() for s in sockets) and time.monotonic() < deadline:
            assert all(p.poll() is None for p in processes), [p.stderr.read() for p in processes if p.stderr]
            time.sleep(0.05)
        codes = []
        async with AsyncClient(f"unix:{sockets[0]}", retry=None) as one, \
                AsyncClient(f"unix:{sockets[1]}", retry=None) as two:
            for client in (one, two, one, two):
                try:
                    await client.call_tool("greet", {"name": "Ada"})
                    codes.append(grpc.StatusCode.OK)
                except McpCallError as exc:
                    codes.append(exc.status)
                    assert "rate limit 'fleet' exceeded" in exc.message and exc.retry_after is not None
        assert codes == [grpc.StatusCode.OK] * 3 + [grpc.StatusCode.RESOURCE_EXHAUSTED]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr is not None:
                process.stderr.close()


def _serve_args(*flags: str):
    import argparse

    from mcp_grpc.cli import server_commands

    parser = argparse.ArgumentParser()
    server_commands.register(parser.add_subparsers())
    return parser.parse_args(["serve", QUICKSTART, "--insecure-local", *flags])


def test_limits_yaml_in_the_authz_dir_is_loaded_and_a_flag_names_another(tmp_path):
    from mcp_grpc.cli.server_commands import server_security

    authz = tmp_path / "authz"
    shutil.copytree(AUTHZ_DIR, authz)
    (authz / "limits.yaml").write_text("rate_limits:\n  - name: from-dir\n    per: principal\n    rate: 5\n")
    other = tmp_path / "other.yaml"
    other.write_text("concurrency:\n  - name: from-flag\n    max: 2\n")
    found = server_security(_serve_args("--authz-dir", str(authz)))["limiter"]
    assert found.file.path == authz / "limits.yaml" and [r.name for r in found.policy.rates] == ["from-dir"]
    named = server_security(_serve_args("--authz-dir", str(authz), "--limits", str(other)))["limiter"]
    assert [c.name for c in named.policy.concurrency] == ["from-flag"] and not named.policy.rates
    assert "limiter" not in server_security(_serve_args("--authz-dir", str(AUTHZ_DIR)))  # no limits.yaml there
