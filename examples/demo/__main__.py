"""``make demo``: identities from a development Workload API, a tool server with mTLS and the embedded OpenFGA
engine loaded from authz/, two agents, and a table of what was allowed and denied. Stops everything it started.

    python -m examples.demo [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Iterator

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TRUST_DOMAIN = "example.org"
PREFIX = f"spiffe://{TRUST_DOMAIN}/ns/mcp-tools/sa"
WORKLOADS = {
    "server": f"{PREFIX}/payments-server",
    "billing-agent": f"{PREFIX}/billing-agent",
    "support-agent": f"{PREFIX}/support-agent",
}
SERVER_DNS_NAME = "payments.mcp-tools.local"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(condition, what: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with code {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not ready after {timeout:g}s")
        time.sleep(0.05)


@contextlib.contextmanager
def _running(argv: list[str], log: pathlib.Path) -> Iterator[subprocess.Popen]:
    with open(log, "w") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _print_table(rows: list[dict]) -> None:
    widths = (22, 36, 18)
    header = ("agent", "call", "decision")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths)) + "  detail")
    print("  ".join("-" * w for w in widths) + "  " + "-" * 40)
    for row in rows:
        agent = row["agent"].rsplit("/", 1)[-1]
        decision = {"OK": "allowed", "TOOL_ERROR": "allowed (tool error)"}.get(row["outcome"], row["outcome"])
        detail = row["detail"].replace("\n", " ")
        print("  ".join(v.ljust(w) for v, w in zip((agent, row["call"], decision), widths)) + "  " + detail[:70])


def run(work_dir: pathlib.Path) -> int:
    python = sys.executable
    sockets = work_dir / "spiffe"
    sockets.mkdir(parents=True, exist_ok=True)
    audit_log = work_dir / "audit.jsonl"
    port = _free_port()
    workload_args = [a for name, sid in WORKLOADS.items() for a in ("--workload", f"{name}={sid}")]
    print(f"1. Development SPIFFE Workload API for {TRUST_DOMAIN}: {', '.join(WORKLOADS)}")
    with _running(
        [python, "-m", "mcp_grpc", "identity", "dev", "--trust-domain", TRUST_DOMAIN, "--socket-dir", str(sockets),
         *workload_args, "--dns-name", f"server={SERVER_DNS_NAME}", "--x509-ttl", "10m"],
        work_dir / "workload-api.log",
    ) as workload_api:
        _wait_for(lambda: all((sockets / f"{n}.sock").exists() for n in WORKLOADS), "Workload API", workload_api)
        print(f"2. Tool server 'payments' on 127.0.0.1:{port}: mTLS with its SVID, authorization from authz/")
        with _running(
            [python, "-m", "mcp_grpc", "serve", "examples/demo/server.py:app", "--host", "127.0.0.1",
             "--port", str(port), "--spiffe-socket", str(sockets / "server.sock"), "--authz-dir", "authz",
             "--audit-log", str(audit_log), "--audit-arguments"],
            work_dir / "server.log",
        ) as server:
            _wait_for(lambda: _port_open(port), "tool server", server)
            print("3. Agents call it, each with its own SVID\n")
            rows: list[dict] = []
            for agent, workload in (("billing", "billing-agent"), ("support", "support-agent")):
                done = subprocess.run(
                    [python, "-m", "examples.demo.agent", agent, "--socket", str(sockets / f"{workload}.sock"),
                     "--address", f"127.0.0.1:{port}", "--server-dns-name", SERVER_DNS_NAME],
                    cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                )
                if done.returncode != 0:
                    print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
                    raise RuntimeError(f"agent {agent} failed with exit code {done.returncode}")
                rows.extend(json.loads(line) for line in done.stdout.splitlines() if line.startswith("{"))
            _print_table(rows)
            time.sleep(0.3)  # the audit sink writes asynchronously
    records = [json.loads(line) for line in audit_log.read_text().splitlines() if line.strip()]
    print(f"\n4. {len(records)} audit records in {audit_log}; the denials:")
    for record in [r for r in records if r.get("decision") != "allow"][:4]:
        print(textwrap.indent(json.dumps(record, sort_keys=True), "   "))
    print("\nEverything the demo started has stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the mcp-grpc demo.")
    parser.add_argument("--keep", type=pathlib.Path, help="keep logs and sockets in this directory")
    args = parser.parse_args(argv)
    os.chdir(REPO_ROOT)
    if args.keep:
        return run(args.keep)
    with tempfile.TemporaryDirectory(prefix="mcp-grpc-demo-") as tmp:
        return run(pathlib.Path(tmp))


if __name__ == "__main__":
    sys.exit(main())
