"""End to end against a real SPIRE server and agent: our server and agents take their SVIDs from the real agent's
Workload API through py-spiffe, and call each other over mTLS.

Topology: ``spire-server`` (SQLite datastore, memory key manager, ``join_token`` node attestation) on a random port
of 127.0.0.1; one ``spire-agent`` attested by a join token, Workload API on a Unix socket in a temp folder, ``unix``
workload attestor with ``discover_workload_path``. Entries are made with ``spire-server entry create``, each with the
selectors ``unix:uid:<uid>``, ``unix:gid:<gid>`` and ``unix:path:<python>``: the payments server runs in this test
process; each agent is a process of its own (tests/peers/spire_workload.py) started with the gid its entry selects.
(Workloads differ by gid, not uid: this test runs as root and the interpreter lives where only root may read.)

The server authorizes with the embedded engine over authz/, so the same grants as the other E2E tests apply.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys
import time
from typing import Any, AsyncIterator, Iterator

import grpc
import pytest
import pytest_asyncio

from tests.peers import peer_binaries
from tests.peers.spire_peer import SpireAgent, SpireServer

pytestmark = [
    pytest.mark.asyncio(loop_scope="module"),
]

REPO_ROOT = peer_binaries.REPO_ROOT
WORKLOAD = pathlib.Path(__file__).resolve().parent / "spire_workload.py"
TRUST_DOMAIN = "example.org"
PREFIX = f"spiffe://{TRUST_DOMAIN}/ns/mcp-tools/sa"
SERVER_ID = f"{PREFIX}/payments-server"
BILLING_ID = f"{PREFIX}/billing-agent"
SUPPORT_ID = f"{PREFIX}/support-agent"
STRANGER_ID = f"{PREFIX}/stranger"  # issued by SPIRE, granted nothing in authz/
SERVER_DNS = "payments.mcp-tools.local"
JWT_AUDIENCE = SERVER_ID

#: The X.509-SVID TTL of the rotation test's entries (server and caller). The agent syncs every 5 s and renews an
#: SVID past half its life, TTL + 10 s (with 10% jitter), so 20 s is the shortest TTL at which a renewal always
#: lands before expiry; `make reliability` runs the long variant (ROTATION_LONG_SECONDS).
ROTATION_TTL = int(os.environ.get("MCP_GRPC_SPIRE_ROTATION_TTL", "20"))
ROTATION_SECONDS = float(os.environ.get("MCP_GRPC_SPIRE_ROTATION_SECONDS", "45"))
ROTATION_LONG_SECONDS = float(os.environ.get("MCP_GRPC_SPIRE_ROTATION_LONG_SECONDS", "180"))
LAPSE_TTL = 15

# One gid per workload entry (the test process keeps its own uid and gid: the payments server's entry).
GIDS = {"billing": 41001, "support": 41002, "stranger": 41003, "rotating": 41004, "lapsing": 41005,
        "unregistered": 41099}


def _python_path() -> str:
    return os.path.realpath(sys.executable)


def selectors(gid: int) -> list[str]:
    return [f"unix:uid:{os.getuid()}", f"unix:gid:{gid}"]


class _Crashed(AssertionError):
    pass


class Spire:
    """The running SPIRE pair and the entries made for this module."""

    def __init__(self, server: SpireServer, agent: SpireAgent) -> None:
        self.server = server
        self.agent = agent
        self.entries: dict[str, str] = {}

    async def workload(self, name: str, mode: str, *args: str, timeout: float = 60.0) -> dict[str, Any]:
        """Run spire_workload.py as workload ``name`` (its gid); its one JSON line, parsed. One retry when the
        process dies of SIGSEGV: grpcio 1.85 in these short-lived processes sometimes aborts in
        ev_epoll1_linux.cc ("Check failed: next_worker->state == KICKED"), a crash of the client library, not an
        answer of SPIRE's (seen in about 1 of 20 runs)."""
        for attempt in range(2):
            try:
                return await self._workload_once(name, mode, *args, timeout=timeout)
            except _Crashed:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _workload_once(self, name: str, mode: str, *args: str, timeout: float) -> dict[str, Any]:
        process = await self.spawn(name, mode, *args)
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"workload {name} {mode} did not finish within {timeout} s")
        lines = stdout.decode().strip().splitlines()
        if process.returncode == -11 and not lines:
            raise _Crashed(stderr.decode()[-2000:])
        assert process.returncode == 0 and lines, f"workload {name} {mode} failed: {stderr.decode()[-3000:]}"
        return json.loads(lines[-1])

    async def spawn(self, name: str, mode: str, *args: str) -> asyncio.subprocess.Process:
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
        env.pop("SPIFFE_ENDPOINT_SOCKET", None)
        # The workload's gid is set by setpriv (util-linux), not by subprocess's group=/extra_groups=: those make
        # CPython fork instead of vfork, and a fork of this process, with grpc's threads running, ran grpc's atfork
        # handlers and died now and then by SIGSEGV or SIGBUS before the exec.
        return await asyncio.create_subprocess_exec(
            "setpriv", f"--regid={GIDS[name]}", "--clear-groups",
            sys.executable, str(WORKLOAD), mode, "--socket", self.agent.socket, *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=REPO_ROOT, env=env,
        )


@pytest.fixture(scope="module")
def spire() -> Iterator[Spire]:
    binaries = peer_binaries.require("spire-server", "spire-agent")
    if os.geteuid() != 0:
        message = "the real-SPIRE tests start workloads under other gids, which needs root"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = SpireServer(binaries["spire-server"], trust_domain=TRUST_DOMAIN).start()
    agent = SpireAgent(binaries["spire-agent"], server).prepare()
    env = Spire(server, agent)
    try:
        parent = agent.spiffe_id
        env.entries["server"] = server.entry_create(SERVER_ID, parent, selectors(os.getgid()), dns=[SERVER_DNS],
                                                    x509_svid_ttl=ROTATION_TTL)
        env.entries["billing"] = server.entry_create(BILLING_ID, parent, selectors(GIDS["billing"]))
        env.entries["support"] = server.entry_create(SUPPORT_ID, parent, selectors(GIDS["support"]))
        env.entries["stranger"] = server.entry_create(STRANGER_ID, parent, selectors(GIDS["stranger"]))
        env.entries["rotating"] = server.entry_create(BILLING_ID, parent, selectors(GIDS["rotating"]),
                                                      x509_svid_ttl=ROTATION_TTL)
        env.entries["lapsing"] = server.entry_create(BILLING_ID, parent, selectors(GIDS["lapsing"]),
                                                     x509_svid_ttl=LAPSE_TTL)
        agent.start()
        agent.wait_for_svids(len(env.entries))
        yield env
    finally:
        agent.stop()
        server.remove()


class Payments:
    def __init__(self, server: Any, identity: Any, audit_path: pathlib.Path, sink: Any) -> None:
        self.server = server
        self.identity = identity
        self.audit_path = audit_path
        self.sink = sink

    @property
    def address(self) -> str:
        return self.server.address

    def audit(self) -> list[dict[str, Any]]:
        self.sink.flush()
        text = self.audit_path.read_text() if self.audit_path.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.strip()]


async def start_payments(identity: Any, config_fields: dict[str, Any], audit_path: pathlib.Path) -> Payments:
    from examples.demo.server import app
    from mcp_grpc.server import Server, ServerConfig
    from mcp_grpc.server.security import authorizer_from_authz_dir, json_audit_sink

    sink = json_audit_sink(str(audit_path))
    authorizer = authorizer_from_authz_dir(REPO_ROOT / "authz")
    server = Server(app, ServerConfig(port=0, handle_signals=False, **config_fields, authorizer=authorizer,
                                      audit_sink=sink))
    await server.start()
    return Payments(server, identity, audit_path, sink)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def payments(spire: Spire, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Payments]:
    """The demo payments server over mTLS with its SVID from the real agent (JWT-SVIDs enabled for its audience)."""
    from mcp_grpc.server.security import ServerIdentity

    identity = await asyncio.to_thread(ServerIdentity.from_workload_api, spire.agent.socket,
                                       jwt_audience=JWT_AUDIENCE, timeout=30.0)
    running = await start_payments(identity, identity.config_fields(),
                                   tmp_path_factory.mktemp("spire-audit") / "payments.jsonl")
    yield running
    await running.server.stop(0)
    running.sink.close()
    identity.close()


# -- identities from the real agent --------------------------------------------------------------------------------


async def test_server_identity_comes_from_spire(payments: Payments, spire: Spire):
    svid = payments.identity.workload.x509.svid
    assert str(svid.spiffe_id) == SERVER_ID
    leaf = svid.leaf
    from cryptography import x509

    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == [SERVER_DNS]
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    # SPIRE v1.13.3 pkg/server/credtemplate/builder.go computeCappedLifetime: not_before = now - NotBeforeCushion
    # (10 s, for clock skew), not_after = now + the entry's TTL; both from the same `now`, so exactly TTL + 10 s
    assert lifetime.total_seconds() == ROTATION_TTL + 10


async def test_each_workload_gets_the_identity_its_entry_selects(spire: Spire):
    got = await asyncio.gather(*(spire.workload(name, "id") for name in ("billing", "support", "stranger")))
    assert [g.get("spiffe_id") for g in got] == [BILLING_ID, SUPPORT_ID, STRANGER_ID], got


async def test_unregistered_workload_gets_no_svid(spire: Spire):
    """No entry selects it: the real agent answers PermissionDenied and py-spiffe's source never yields an SVID."""
    got = await spire.workload("unregistered", "id", "--timeout", "8")
    assert "spiffe_id" not in got and got["error"], got


# -- mTLS calls allowed and denied ---------------------------------------------------------------------------------


async def test_mtls_calls_allowed_and_denied(payments: Payments, spire: Spire):
    refund = ["--tool", "refund", "--arguments", json.dumps({"invoice_id": "INV-1002", "amount": 50})]
    before = len(payments.audit())
    billing, support, stranger = await asyncio.gather(
        spire.workload("billing", "call", "--address", payments.address, *refund),
        spire.workload("support", "call", "--address", payments.address, *refund),
        spire.workload("stranger", "call", "--address", payments.address),
    )
    assert billing["status"] == "OK", billing
    assert (support["status"], support["detail"]) == (
        "PERMISSION_DENIED", "permission denied: requires can_call on tool:payments/refund")
    assert stranger["status"] == "PERMISSION_DENIED", stranger
    deadline = time.monotonic() + 5
    while len(payments.audit()) < before + 3 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    records = payments.audit()[before:]
    assert sorted((r["principal"], r["proven_by"], r["decision"]) for r in records) == sorted([
        (BILLING_ID, "x509", "allow"), (SUPPORT_ID, "x509", "deny"), (STRANGER_ID, "x509", "deny")])


# -- JWT-SVIDs minted by the real server ---------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def behind_proxy(payments: Payments, tmp_path_factory) -> AsyncIterator[Payments]:
    """The same app where TLS does not authenticate the caller (as behind a TLS-terminating proxy): the server's
    authenticator, with the JWT bundles from the real agent's Workload API, must accept a JWT-SVID bearer."""
    from cryptography.hazmat.primitives import serialization

    svid = payments.identity.workload.x509.svid
    chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in svid.cert_chain)
    key = svid.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
    credentials = grpc.ssl_server_credentials([(key, chain)], require_client_auth=False)
    running = await start_payments(payments.identity, {"credentials": credentials,
                                                       "authenticator": payments.identity.authenticator},
                                   tmp_path_factory.mktemp("spire-jwt-audit") / "audit.jsonl")
    yield running
    await running.server.stop(0)
    running.sink.close()


async def bearer_call(server: Payments, bundle_pem: bytes, token: str | None, tool: str, arguments: dict) -> dict:
    from mcp_grpc.client import AsyncClient, McpCallError

    channel = grpc.aio.secure_channel(server.address, grpc.ssl_channel_credentials(root_certificates=bundle_pem),
                                      options=[("grpc.ssl_target_name_override", SERVER_DNS)])
    bearer = (("authorization", f"Bearer {token}"),) if token else ()
    client = AsyncClient(channel=channel, timeout=5, retry=None, metadata=lambda: bearer)
    try:
        result = await client.call_tool(tool, arguments)
        return {"status": "TOOL_ERROR" if result.is_error else "OK", "detail": result.text}
    except McpCallError as exc:
        return {"status": exc.status.name, "detail": exc.message}
    finally:
        await channel.close()


async def test_jwt_svid_from_real_spire_is_validated(behind_proxy: Payments, spire: Spire):
    bundle = spire.server.bundle_pem().encode()
    billing, support, wrong_audience = await asyncio.gather(
        spire.workload("billing", "jwt", "--audience", JWT_AUDIENCE),
        spire.workload("support", "jwt", "--audience", JWT_AUDIENCE),
        spire.workload("billing", "jwt", "--audience", f"spiffe://{TRUST_DOMAIN}/some-other-server"),
    )
    assert (billing["spiffe_id"], support["spiffe_id"]) == (BILLING_ID, SUPPORT_ID)
    refund = {"invoice_id": "INV-1002", "amount": 50}
    ok = await bearer_call(behind_proxy, bundle, billing["token"], "refund", refund)
    assert ok["status"] == "OK", ok
    denied = await bearer_call(behind_proxy, bundle, support["token"], "refund", refund)
    assert (denied["status"], denied["detail"]) == (
        "PERMISSION_DENIED", "permission denied: requires can_call on tool:payments/refund")
    other = await bearer_call(behind_proxy, bundle, wrong_audience["token"], "lookup_invoice",
                              {"invoice_id": "INV-1001"})
    assert other["status"] == "UNAUTHENTICATED"
    assert other["detail"].startswith("jwt-svid: claim aud does not include this server's audience"), other
    none = await bearer_call(behind_proxy, bundle, None, "lookup_invoice", {"invoice_id": "INV-1001"})
    assert none["status"] == "UNAUTHENTICATED"
    records = behind_proxy.audit()
    assert [(r["principal"], r["proven_by"], r["decision"]) for r in records[:2]] == [
        (BILLING_ID, "jwt", "allow"), (SUPPORT_ID, "jwt", "deny")]


# -- rotation under load -------------------------------------------------------------------------------------------


async def test_rotation_under_load_has_no_failed_call(payments: Payments, spire: Spire):
    """Server and caller both hold ROTATION_TTL SVIDs from SPIRE; callers run for ROTATION_SECONDS. Every call must
    succeed across every rotation of either side."""
    await _rotation_under_load(payments, spire, ROTATION_SECONDS)


@pytest.mark.reliability
async def test_long_rotation_under_load_has_no_failed_call(payments: Payments, spire: Spire, request):
    """The long variant: ROTATION_LONG_SECONDS of load, about one rotation of each side every ROTATION_TTL / 2."""
    if "reliability" not in (request.config.getoption("markexpr", "") or ""):
        pytest.skip("the long rotation run is selected with -m reliability")
    await _rotation_under_load(payments, spire, ROTATION_LONG_SECONDS)


async def _rotation_under_load(payments: Payments, spire: Spire, seconds: float) -> None:
    server_source = payments.identity.workload.x509
    server_serials = {server_source.svid.leaf.serial_number}

    async def watch_server() -> None:
        while True:
            server_serials.add(server_source.svid.leaf.serial_number)
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch_server())
    try:
        report = await spire.workload("rotating", "load", "--address", payments.address,
                                      "--seconds", str(seconds), "--concurrency", "8", timeout=seconds + 60)
    finally:
        watcher.cancel()
    client_svids = report["svids"]
    print(f"\nreal SPIRE rotation: ttl={ROTATION_TTL}s seconds={seconds} calls={report['calls']} "
          f"failures={report['failures']} client_svids={len(client_svids)} server_svids={len(server_serials)}")
    assert report["failures"] == 0, report["failure_samples"]
    assert report["calls"] > 100
    minimum = int(seconds // ROTATION_TTL)  # at least one renewal per TTL on each side
    assert len(client_svids) >= minimum + 1 and len(server_serials) >= minimum + 1, (client_svids, server_serials)
    for svid in client_svids:
        assert svid["spiffe_id"] == BILLING_ID
        # SPIRE backdates not_before by 10 s (clock skew allowance): the lifetime is TTL + 10 s
        assert svid["not_after"] - svid["not_before"] <= ROTATION_TTL + 11


# -- an entry deleted --------------------------------------------------------------------------------------------


#: How long a deleted entry may take to reach the workload, from SPIRE v1.13.3's code: the server's entry cache
#: reloads every 5 s (pkg/server/endpoints/endpoints.go, defaultCacheReloadInterval) and the agent syncs every 5 s
#: (pkg/agent/manager/manager.go, defaultSyncInterval); then the agent's Workload API ends the workload's stream
#: with PermissionDenied "no identity issued" (pkg/agent/endpoints/workload/handler.go, sendX509SVIDResponse).
#: 5 s more for our once-a-second calls and this shared machine.
DELETION_REACHES_WORKLOAD = 5 + 5 + 5


async def test_deleted_entry_is_refused_once_its_svid_lapses(payments: Payments, spire: Spire):
    """The caller keeps calling once a second; its entry is deleted after the first call.

    What SPIRE does (v1.13.3): the agent keeps the entry, and may even renew its SVID, until the deletion reaches it
    (DELETION_REACHES_WORKLOAD); then it ends the workload's X.509 stream with PermissionDenied. An SVID is valid
    from 10 s before issuance (pkg/server/credtemplate/builder.go, NotBeforeCushion) to issuance + TTL, so its
    lifetime is TTL + 10 s and the agent renews it past half of that (pkg/common/rotationutil, shouldRotateByHalf):
    the SVID in hand may outlive the deletion by up to about TTL. py-spiffe would keep serving it until it expires;
    our source stops serving it on PermissionDenied, so calls stop at the withdrawal, no later than the expiry of
    the last SVID the workload held, and a new fetch gets no SVID at all."""
    process = await spire.spawn("lapsing", "lapse", "--address", payments.address,
                                "--seconds", str(LAPSE_TTL + 20))
    assert process.stdout is not None
    results: list[dict[str, Any]] = []
    try:
        first = json.loads(await asyncio.wait_for(process.stdout.readline(), 30))
        assert first["status"] == "OK", first
        results.append(first)
        await asyncio.to_thread(spire.server.entry_delete, spire.entries.pop("lapsing"))
        deleted_at = time.time()
        while True:
            line = await asyncio.wait_for(process.stdout.readline(), LAPSE_TTL + 30)
            if not line:
                break
            item = json.loads(line)
            if item.get("done"):
                break
            results.append(item)
    finally:
        try:
            await asyncio.wait_for(process.wait(), 15)
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
    assert process.stderr is not None
    assert process.returncode == 0, (await process.stderr.read()).decode()[-3000:]
    held = [r for r in results if r["not_after"] is not None]
    last_not_after = max(r["not_after"] for r in held)
    late_ok = [r for r in results if r["status"] == "OK" and r["at"] > last_not_after]
    assert late_ok == [], late_ok  # never a call on an expired SVID
    refused = [r for r in results if r["status"] != "OK"]
    assert refused, results
    assert all(r["status"] != "OK" for r in results[results.index(refused[0]):]), results  # refused for good
    print(f"\ndeleted entry: calls {[(round(r['at'] - deleted_at, 1), r['status'], r['serial']) for r in results]}")
    assert refused[0]["at"] <= last_not_after + 1.0  # no later than the last SVID's expiry
    assert refused[0]["at"] - deleted_at <= DELETION_REACHES_WORKLOAD, (refused[0], deleted_at)
    serials = list(dict.fromkeys(r["serial"] for r in held))
    print(f"\ndeleted entry: deleted {deleted_at - first['at']:.1f} s after the first call; SVIDs held {len(serials)} "
          f"(renewed {len(serials) - 1}x before the deletion reached the agent); the last expired "
          f"{last_not_after - deleted_at:.1f} s after deletion; first refusal {refused[0]['at'] - deleted_at:.1f} s "
          f"after deletion ({refused[0]['at'] - last_not_after:+.1f} s from expiry): {refused[0]['status']} "
          f"{refused[0]['detail'][:160]}")
    again = await spire.workload("lapsing", "id", "--timeout", "8")
    assert "spiffe_id" not in again, again
