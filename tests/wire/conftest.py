"""Fixtures of the wire tests: the repository layout and a peer process speaking the published protos."""

from __future__ import annotations

import importlib.util
import json
import pathlib
import subprocess
import sys
from typing import Any, Callable

import pytest

from tests.support.paths import REPO_ROOT

PEER_SCRIPT = pathlib.Path(__file__).resolve().parent / "published_peer.py"


def run_python(code_or_script: list[str], stdin: str = "", timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the venv's Python in a fresh process (descriptor pools do not leak between tests)."""
    return subprocess.run(
        [sys.executable, *code_or_script],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO_ROOT,
    )


@pytest.fixture(scope="session")
def published_peer() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Send one command to a process that imports only the published mcp_grpc_transport_proto package."""
    if importlib.util.find_spec("mcp_grpc_transport_proto") is None:
        pytest.skip("mcp-grpc-transport-proto==0.2.0 is not installed (it is in the test extras: make venv)")

    def ask(command: dict[str, Any]) -> dict[str, Any]:
        done = run_python([str(PEER_SCRIPT)], stdin=json.dumps(command))
        assert done.returncode == 0, f"published peer failed:\n{done.stderr}"
        return json.loads(done.stdout)

    return ask
