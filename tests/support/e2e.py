"""End-to-end harness: development Workload APIs as real subprocesses, the demo server over real SPIFFE mTLS in this
process, agents calling it with their own SVIDs, and the audit log read back as JSON.

    api = DevWorkloadApi("example.org", {"server": SERVER_ID, ...}, dns_names={"server": SERVER_DNS}).start()
    server = await start_server(app, fresh_config_fields(server_identity), authorizer, tmp_path / "audit.jsonl")
    async with agent_client(api, "billing-agent", server.address) as client:
        mark = server.audit_mark()
        result = await outcome(client.call_tool("lookup_invoice", {"invoice_id": "INV-1001"}))
        [record] = server.audit_since(mark, expect=1)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, AsyncIterator, Mapping, Sequence

import grpc

from mcp_grpc.client import AsyncClient, McpCallError
from tests.support.paths import REPO_ROOT


TRUST_DOMAIN = "example.org"
PREFIX = f"spiffe://{TRUST_DOMAIN}/ns/mcp-tools/sa"
SERVER_ID = f"{PREFIX}/payments-server"
BILLING_ID = f"{PREFIX}/billing-agent"
SUPPORT_ID = f"{PREFIX}/support-agent"
AUDITOR_ID = f"{PREFIX}/security-auditor"
BRIDGE_ID = f"{PREFIX}/mcp-bridge"
SERVER_DNS = "payments.mcp-tools.local"
#: The audience of JWT-SVIDs the payments server accepts as bearer tokens.
JWT_AUDIENCE = SERVER_ID

FOREIGN_DOMAIN = "other.org"
FOREIGN_ID = f"spiffe://{FOREIGN_DOMAIN}/ns/mcp-tools/sa/billing-agent"


class DevWorkloadApi:
    """``python -m mcp_grpc identity dev`` in its own process: one socket per workload in a short temp directory.

    ``start()`` returns once the process prints ``ready:``; ``stop()`` sends SIGTERM and waits (bounded)."""

    def __init__(
        self,
        trust_domain: str,
        workloads: Mapping[str, str],
        *,
        dns_names: Mapping[str, str] = {},
        federate: Mapping[str, pathlib.Path] = {},
        extra_args: Sequence[str] = (),
    ) -> None:
        self.trust_domain = trust_domain
        # short: Unix socket paths must stay under 108 bytes and pytest's tmp_path can be long
        self.socket_dir = pathlib.Path(tempfile.mkdtemp(prefix="e2ewl"))
        self.args = ["--trust-domain", trust_domain, "--x509-ttl", "1h", "--jwt-ttl", "5m", *extra_args]
        for name, spiffe_id in workloads.items():
            self.args += ["--workload", f"{name}={spiffe_id}"]
        for name, dns in dns_names.items():
            self.args += ["--dns-name", f"{name}={dns}"]
        for domain, bundle in federate.items():
            self.args += ["--federate", f"{domain}={bundle}"]
        self.process: subprocess.Popen[str] | None = None
        self._lines: list[str] = []
        self._ready = threading.Event()

    @property
    def bundle_file(self) -> pathlib.Path:
        """The full SPIFFE bundle (X.509 roots and JWT keys), what another dev server federates with."""
        return self.socket_dir / "bundle.spiffe.json"

    def launch(self) -> "DevWorkloadApi":
        """Start the process without waiting (see :meth:`wait_ready`), so two can start side by side."""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mcp_grpc", "identity", "dev", "--socket-dir", str(self.socket_dir), *self.args],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

        def read() -> None:
            assert self.process is not None and self.process.stdout is not None
            for line in self.process.stdout:
                self._lines.append(line)
                if line.startswith("ready:"):
                    self._ready.set()
            self._ready.set()  # EOF: the process ended

        threading.Thread(target=read, daemon=True).start()
        return self

    def wait_ready(self, timeout: float = 60.0) -> "DevWorkloadApi":
        assert self.process is not None
        if not self._ready.wait(timeout) or self.process.poll() is not None:
            output = "".join(self._lines)
            self.stop()
            raise RuntimeError(f"development Workload API for {self.trust_domain} did not become ready:\n{output}")
        return self

    def start(self, timeout: float = 60.0) -> "DevWorkloadApi":
        return self.launch().wait_ready(timeout)

    def socket(self, name: str) -> str:
        return f"unix://{self.socket_dir / (name + '.sock')}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        shutil.rmtree(self.socket_dir, ignore_errors=True)


# -- audit log -----------------------------------------------------------------------------------------------------


def read_audit(path: pathlib.Path, *, expect: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The JSON records in ``path`` once at least ``expect`` are there (the sink writes from its own thread)."""
    deadline = time.monotonic() + timeout
    records: list[dict[str, Any]] = []
    while True:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        if len(records) >= expect or time.monotonic() > deadline:
            return records
        time.sleep(0.02)


# -- servers -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class RunningServer:
    """A started ``Server`` and its audit log file."""

    server: Any
    audit_path: pathlib.Path
    sink: Any

    @property
    def address(self) -> str:
        return self.server.address

    def audit_mark(self) -> int:
        """How many audit records are in the file now; pass to :meth:`audit_since`."""
        self.sink.flush()
        return len(read_audit(self.audit_path, expect=0, timeout=0))

    def audit_since(self, mark: int, expect: int) -> list[dict[str, Any]]:
        """The records written after ``mark``, once ``expect`` of them are there (bounded wait)."""
        self.sink.flush()
        return read_audit(self.audit_path, expect=mark + expect)[mark:]

    async def stop(self) -> None:
        await self.server.stop(0)
        self.sink.close()


def fresh_config_fields(identity: Any, accepted_trust_domains: Sequence[str] = (TRUST_DOMAIN,)) -> dict[str, Any]:
    """``identity.config_fields()`` whose TLS handshake admits client certificates of ``accepted_trust_domains``
    (the authenticator still decides which of them are accepted)."""
    fields = identity.config_fields()
    fields["credentials"] = identity.credentials(accepted_trust_domains)
    return fields


async def start_server(
    app: Any, config_fields: Mapping[str, Any], authorizer: Any, audit_path: pathlib.Path, *,
    audit_arguments: bool = False, include_arguments: bool = False,
) -> RunningServer:
    """``app`` on a free port of 127.0.0.1 with ``config_fields`` (credentials, authenticator, ...), ``authorizer``
    and ``json_audit_sink(audit_path)``."""
    from mcp_grpc.server import Server, ServerConfig
    from mcp_grpc.server.security import json_audit_sink

    sink = json_audit_sink(str(audit_path), include_arguments=include_arguments)
    server = Server(app, ServerConfig(port=0, handle_signals=False, **config_fields, authorizer=authorizer,
                                      audit_sink=sink, audit_arguments=audit_arguments))
    try:
        await server.start()
    except BaseException:
        sink.close()
        raise
    return RunningServer(server, audit_path, sink)


# -- calls ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What one call came to: ``OK``/``TOOL_ERROR`` for a call that ran, else the gRPC status name."""

    status: str
    detail: str = ""
    value: Any = None


@contextlib.asynccontextmanager
async def demo_server(api: DevWorkloadApi, authorizer: Any, audit_log: pathlib.Path,
                      **identity_options: Any) -> AsyncIterator[RunningServer]:
    """The demo app served with the identity ``api``'s server socket gives, built with ``identity_options``
    (``ServerIdentity.from_workload_api``'s keywords); stopped and its identity closed on exit."""
    from examples.demo.server import app
    from mcp_grpc.server.security import ServerIdentity

    identity = await asyncio.to_thread(ServerIdentity.from_workload_api, api.socket("server"), **identity_options)
    try:
        running = await start_server(app, identity.config_fields(), authorizer, audit_log)
        try:
            yield running
        finally:
            await running.stop()
    finally:
        identity.close()


async def outcome(coroutine: Any) -> Outcome:
    try:
        result = await coroutine
    except McpCallError as exc:
        return Outcome(exc.status.name, exc.message)
    if hasattr(result, "is_error"):
        return Outcome("TOOL_ERROR" if result.is_error else "OK", result.text, result)
    return Outcome("OK", "", result)


@contextlib.asynccontextmanager
async def agent_client(api: DevWorkloadApi, workload: str, address: str, *, timeout: float = 10.0,
                       server_dns_name: str = SERVER_DNS, **options: Any) -> AsyncIterator[AsyncClient]:
    """An ``AsyncClient`` presenting ``workload``'s X.509-SVID, trusting the server's DNS SAN in our trust domain."""
    import asyncio

    from mcp_grpc.client import ClientIdentity

    identity = await asyncio.to_thread(
        ClientIdentity.from_workload_api, api.socket(workload), server_dns_name=server_dns_name,
        server_trust_domain=TRUST_DOMAIN,
    )
    client = identity.client(address, timeout=timeout, **options)
    try:
        yield client
    finally:
        await client.close()
        await identity.aclose()


def tls_only_channel(address: str, root_pem: bytes) -> grpc.aio.Channel:
    """A TLS channel that trusts the server but presents NO client certificate."""
    credentials = grpc.ssl_channel_credentials(root_certificates=root_pem)
    return grpc.aio.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", SERVER_DNS)])


LOOKUP = ("lookup_invoice", {"invoice_id": "INV-1001"})


def bundle_pem(api: Any) -> bytes:
    """The trust bundle the development Workload API writes beside its sockets."""
    return (pathlib.Path(api.socket_dir) / "bundle.pem").read_bytes()


async def call_with_channel(channel: grpc.aio.Channel, tool: str = LOOKUP[0], arguments: dict | None = None,
                            **client_options: Any) -> Outcome:
    """One CallTool over ``channel`` (closed afterwards), as an Outcome."""
    client = AsyncClient(channel=channel, timeout=5, retry=None, **client_options)
    try:
        return await outcome(client.call_tool(tool, LOOKUP[1] if arguments is None else arguments))
    finally:
        await channel.close()


def jwt_bearer(api: Any, workload: str, audience: str = JWT_AUDIENCE) -> tuple[Any, Any]:
    """(source, bearer): ``workload``'s JWT-SVIDs for ``audience`` as call metadata; close the source when done."""
    from mcp_grpc.identity.credentials import JwtBearer
    from mcp_grpc.identity.sources import WorkloadJwtSource

    source = WorkloadJwtSource(api.socket(workload))
    return source, JwtBearer(source, audience)


async def jwt_call(server: Any, api: Any, metadata: Any, tool: str = LOOKUP[0],
                   arguments: dict | None = None) -> Outcome:
    """One CallTool over TLS without a client certificate, carrying ``metadata`` (a bearer token, or none)."""
    return await call_with_channel(tls_only_channel(server.address, bundle_pem(api)), tool, arguments,
                                   metadata=metadata)


# -- certificates the Workload API would never issue (tests.support.certfactory.CA.mint) ---------------------------


def mtls_channel(address: str, root_pem: bytes, cert_pem: bytes, key_pem: bytes) -> grpc.aio.Channel:
    """An mTLS channel presenting exactly this certificate (not from any Workload API)."""
    credentials = grpc.ssl_channel_credentials(root_certificates=root_pem, private_key=key_pem,
                                               certificate_chain=cert_pem)
    return grpc.aio.secure_channel(address, credentials, options=[("grpc.ssl_target_name_override", SERVER_DNS)])


def svid_pems(x509_source: Any) -> tuple[bytes, bytes]:
    """(PEM chain, PEM key) of a Workload API X.509 source's current SVID."""
    from cryptography.hazmat.primitives import serialization

    svid = x509_source.svid
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in svid.cert_chain)
    key = svid.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return chain, key
