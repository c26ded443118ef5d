"""SVIDs for the benchmark, issued by the development Workload API exactly as the full stack gets them.

The floor server and its client use the same SVIDs written to PEM files, so the only difference between the two
stacks is what runs inside the server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pathlib
import subprocess
import sys
import time
from typing import Iterator

from cryptography.hazmat.primitives import serialization

TRUST_DOMAIN = "bench.example"
SERVER_ID = f"spiffe://{TRUST_DOMAIN}/bench/server"
AGENT_ID = f"spiffe://{TRUST_DOMAIN}/bench/agent"
SERVER_DNS_NAME = "bench-server.local"


@dataclasses.dataclass(frozen=True)
class BenchIdentities:
    socket_dir: pathlib.Path
    cert_dir: pathlib.Path  # server.pem, server.key, agent.pem, agent.key, bundle.pem

    def socket(self, workload: str) -> pathlib.Path:
        return self.socket_dir / f"{workload}.sock"

    def read(self, name: str) -> bytes:
        return (self.cert_dir / name).read_bytes()


def _write_svid(client, cert_dir: pathlib.Path, name: str) -> None:
    svid = client.fetch_x509_svid()
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in svid.cert_chain)
    key = svid.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (cert_dir / f"{name}.pem").write_bytes(chain)
    (cert_dir / f"{name}.key").write_bytes(key)


@contextlib.contextmanager
def bench_identities(work_dir: pathlib.Path) -> Iterator[BenchIdentities]:
    """Run ``mcp-grpc identity dev`` for a server and an agent (1 h SVIDs), write their PEMs, stop it on exit."""
    from spiffe import WorkloadApiClient  # imported here: it registers the Workload API proto in this process

    socket_dir = work_dir / "spiffe"
    cert_dir = work_dir / "certs"
    socket_dir.mkdir(parents=True, exist_ok=True)
    cert_dir.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mcp_grpc", "identity", "dev",
            "--trust-domain", TRUST_DOMAIN,
            "--socket-dir", str(socket_dir),
            "--workload", f"server={SERVER_ID}",
            "--dns-name", f"server={SERVER_DNS_NAME}",
            "--workload", f"agent={AGENT_ID}",
            "--x509-ttl", "1h",
            "--log-level", "warning",
        ],
    )
    try:
        deadline = time.monotonic() + 30
        while not all((socket_dir / f).exists() for f in ("server.sock", "agent.sock", "bundle.pem")):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the development Workload API did not start (exit code {process.poll()})")
            time.sleep(0.05)
        identities = BenchIdentities(socket_dir, cert_dir)
        for name in ("server", "agent"):
            client = WorkloadApiClient(f"unix://{identities.socket(name)}")
            try:
                _write_svid(client, cert_dir, name)
            finally:
                client.close()
        (cert_dir / "bundle.pem").write_bytes((socket_dir / "bundle.pem").read_bytes())
        yield identities
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
