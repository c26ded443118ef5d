"""Where the real peers are: spire-server, spire-agent and openfga, built by ``make peers`` (tools/build-peers.sh)
into ``${MCP_GRPC_PEERS_CACHE:-~/.cache/mcp-grpc/peers}/<name>-<version>/bin/<name>``.

The versions are read from tools/build-peers.sh, the one place they are written. A test that needs a binary calls
:func:`require`: without it the test is skipped with the command that builds it, except under ``CI=true``, where a
missing binary fails the test (CI runs ``make peers`` before ``make test``, so a missing one is a broken build).
"""

from __future__ import annotations

import os
import pathlib
import re

import pytest

__all__ = ["OPENFGA_VERSION", "SPIRE_VERSION", "VERSIONS", "available", "cache_dir", "path", "pinned", "require"]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_SCRIPT = REPO_ROOT / "tools" / "build-peers.sh"


def pinned(variable: str) -> str:
    """A version pinned in tools/build-peers.sh (``NAME="${NAME:-v1.2.3}"``); the environment variable wins."""
    match = re.search(rf'^{variable}="\$\{{{variable}:-([^}}"]+)\}}"', BUILD_SCRIPT.read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"{BUILD_SCRIPT} does not pin {variable}")
    return os.environ.get(variable) or match.group(1)


SPIRE_VERSION = pinned("SPIRE_VERSION")
OPENFGA_VERSION = pinned("OPENFGA_VERSION")
VERSIONS = {"spire-server": SPIRE_VERSION, "spire-agent": SPIRE_VERSION, "openfga": OPENFGA_VERSION}


def cache_dir() -> pathlib.Path:
    configured = os.environ.get("MCP_GRPC_PEERS_CACHE")
    return pathlib.Path(configured) if configured else pathlib.Path.home() / ".cache" / "mcp-grpc" / "peers"


def path(name: str) -> pathlib.Path:
    return cache_dir() / f"{name}-{VERSIONS[name]}" / "bin" / name


def available(name: str) -> bool:
    candidate = path(name)
    return candidate.is_file() and os.access(candidate, os.X_OK)


def require(*names: str) -> dict[str, pathlib.Path]:
    """The paths of ``names``; skip (fail under CI=true) when one is not built."""
    missing = [f"{name} {VERSIONS[name]} ({path(name)})" for name in names if not available(name)]
    if missing:
        message = f"real peer binaries not built: {', '.join(missing)}; run `make peers`"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true requires them: {message}", pytrace=False)
        pytest.skip(message)
    return {name: path(name) for name in names}
