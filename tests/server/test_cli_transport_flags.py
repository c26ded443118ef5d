"""``serve``'s transport flags reach the real server, and bad values are refused in flag names."""

from __future__ import annotations

import subprocess
import sys

import grpc
import pytest

from mcp_grpc.cli.main import build_parser
from mcp_grpc.cli.transport_flags import transport_fields
from mcp_grpc.client import AsyncClient, McpCallError
from tests.support.paths import REPO_ROOT
from tests.support.servers import running


def _fields(*flags: str) -> dict:
    return transport_fields(build_parser().parse_args(["serve", "x.py:app", *flags]))


def test_defaults_are_server_configs():
    from mcp_grpc.server import ServerConfig

    fields, defaults = _fields(), ServerConfig()
    assert {name: getattr(defaults, name) for name in fields} == fields


async def test_message_size_compression_and_concurrency_reach_the_server(app):
    fields = _fields("--max-message-bytes", "2000", "--compression", "gzip", "--max-concurrent-streams", "4",
                     "--keepalive-time", "30", "--max-concurrent-rpcs", "8")
    assert ("grpc.max_concurrent_streams", 4) in fields["grpc_options"]
    assert ("grpc.default_compression_algorithm", int(grpc.Compression.Gzip)) in fields["grpc_options"]
    async with running(app, **fields) as server:
        options = dict(server.config.channel_options())
        assert options["grpc.keepalive_time_ms"] == 30000 and options["grpc.max_receive_message_length"] == 2000
        async with AsyncClient(server.address) as client:
            assert (await client.call_tool("echo", {"text": "gzip " * 100})).text == "gzip " * 100  # 500 B: fits
            with pytest.raises(McpCallError) as failed:
                await client.call_tool("echo", {"text": "x" * 5000})
        assert failed.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_max_listen_streams_reaches_the_server(app):
    fields = _fields("--max-listen-streams", "3")
    assert fields["max_listen_streams"] == 3
    async with running(app, **fields) as server:
        assert server._streaming is not None and server._streaming.listen_streams.limit == 3


def test_max_connection_age_grace_defaults_to_five_seconds():
    args = build_parser().parse_args(["serve", "x.py:app"])
    assert (args.max_connection_age, args.max_connection_age_grace) == (300.0, 5.0)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--health-port", "0"), "argument --health-port: 0 is not a port in 1-65535"),
        (("--health-port", "70000"), "argument --health-port: 70000 is not a port in 1-65535"),
        (("--port", "-1"), "argument --port: -1 is not a port in 0-65535"),
        (("--keepalive-time", "0"), "argument --keepalive-time: 0 must be greater than 0"),
        (("--max-message-bytes", "lots"), "argument --max-message-bytes: 'lots' is not a whole number"),
        (("--compression", "brotli"), "argument --compression: invalid choice: 'brotli'"),
        (("--max-listen-streams", "0"), "argument --max-listen-streams: 0 must be greater than 0"),
    ],
)
def test_bad_values_are_refused_in_flag_names(flags, message):
    done = subprocess.run(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/quickstart/server.py:app", "--insecure-local", *flags],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr and "health_port" not in done.stderr and "Traceback" not in done.stderr
