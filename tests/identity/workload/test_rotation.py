"""Rotation under load: SVIDs with a 10 s TTL, a CA rotation, identity removal and a Workload API restart.

Each test runs its own `mcp-grpc identity dev` subprocess and a real grpc.aio mTLS echo server whose calls are
authenticated by SpiffeAuthenticator over WorkloadTrustBundles.
"""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import signal
import time
from typing import AsyncIterator

import grpc
import pytest
from cryptography import x509
from spiffe import X509Source

from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.credentials import SpiffeChannel, spiffe_server_credentials
from mcp_grpc.identity.sources import WorkloadJwtSource, WorkloadTrustBundles, WorkloadX509Source
from tests.support.workload_harness import AGENT_ID, SERVER_DNS, SERVER_ID, TD, DevServer, EchoServer, echo, short_tempdir, wait_for

pytestmark = pytest.mark.slow

WORKLOADS = ["--trust-domain", TD, "--workload", f"server={SERVER_ID}", "--dns-name", f"server={SERVER_DNS}",
             "--workload", f"agent={AGENT_ID}"]


@contextlib.asynccontextmanager
async def dev_server(log_dir: pathlib.Path, *args: str) -> AsyncIterator[DevServer]:
    server = DevServer(short_tempdir("rot"), [*WORKLOADS, *args], log_dir)
    await asyncio.to_thread(server.start)
    try:
        yield server
    finally:
        await asyncio.to_thread(server.cleanup)


@contextlib.asynccontextmanager
async def echo_service(dev: DevServer) -> AsyncIterator[tuple[EchoServer, int, WorkloadX509Source, WorkloadTrustBundles]]:
    server_x509 = await asyncio.to_thread(WorkloadX509Source, dev.socket("server"), timeout=15)
    server_jwt = await asyncio.to_thread(WorkloadJwtSource, dev.socket("server"), timeout=15)
    bundles = WorkloadTrustBundles(server_x509, server_jwt)
    server = EchoServer(SpiffeAuthenticator(bundles, accepted_trust_domains={TD}))
    port = await server.start(spiffe_server_credentials(server_x509))
    try:
        yield server, port, server_x509, bundles
    finally:
        await server.stop()
        bundles.close()
        server_x509.close()
        server_jwt.close()


class Caller:
    """Calls the echo server continuously from ``workers`` concurrent loops and records every outcome."""

    def __init__(self, channel: SpiffeChannel, workers: int = 3, pause: float = 0.02) -> None:
        self.channel = channel
        self.workers = workers
        self.pause = pause
        self.ok = 0
        self.failures: list[tuple[float, str, str]] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                assert await echo(self.channel.channel, timeout=10) == f"{AGENT_ID}|x509"
                self.ok += 1
            except grpc.RpcError as exc:
                self.failures.append((time.monotonic(), exc.code().name, exc.details() or ""))
            await asyncio.sleep(self.pause)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(self.workers)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def test_zero_failed_calls_across_svid_rotations_and_a_ca_rotation(tmp_path: pathlib.Path) -> None:
    # 10 s SVIDs rotate every ~5 s; a 24 s CA is prepared at ~11 s, activated at ~20 s and dropped at ~24 s.
    async with dev_server(tmp_path, "--x509-ttl", "10s", "--ca-ttl", "24s") as dev:
        first_ca = x509.load_pem_x509_certificates((dev.socket_dir / "bundle.pem").read_bytes())
        assert len(first_ca) == 1
        async with echo_service(dev) as (server, port, server_x509, bundles):
            agent = await asyncio.to_thread(WorkloadX509Source, dev.socket("agent"), timeout=15)
            issuers: set[str] = set()
            serials: set[int] = set()

            def seen() -> None:
                with contextlib.suppress(Exception):
                    leaf = agent.svid.leaf
                    issuers.add(leaf.issuer.rfc4514_string())
                    serials.add(leaf.serial_number)

            seen()
            agent.subscribe_for_updates(seen)
            generation = bundles.generation
            channel = SpiffeChannel(f"127.0.0.1:{port}", agent, server_dns_name=SERVER_DNS, server_trust_domain=TD)
            caller = Caller(channel)
            caller.start()
            await asyncio.sleep(30)
            await caller.stop()
            await channel.close()
            agent.close()

        status = await asyncio.to_thread(dev.admin, "status")
    print(f"rotation: {caller.ok} calls, {len(caller.failures)} failed, {len(serials)} agent SVIDs, "
          f"{channel.builds} channels, {len(issuers)} issuing CAs, bundle generation +{bundles.generation - generation}")
    assert caller.failures == [], caller.failures[:5]
    assert caller.ok >= 100 and server.accepted == caller.ok
    assert len(serials) >= 5, "the agent's SVID rotated several times"
    assert channel.builds >= 5, "the client channel was rebuilt for each rotation"
    assert len(issuers) >= 2, "SVIDs from the rotated CA were used"
    assert first_ca[0].subject.rfc4514_string() in issuers
    assert bundles.generation >= generation + 2, "the bundle gained the prepared CA and later dropped the old one"
    active = [a for a in status["authorities"]["x509"] if a["role"] == "active"]
    assert active and active[0]["id"] != format(first_ca[0].serial_number, "x")


async def test_a_removed_workload_is_refused_within_one_ttl(tmp_path: pathlib.Path) -> None:
    ttl = 10.0
    async with dev_server(tmp_path, "--x509-ttl", "10s") as dev:
        async with echo_service(dev) as (server, port, _, _):
            # py-spiffe's X509Source keeps serving the stale SVID after removal: the server must still refuse it.
            stale = await asyncio.to_thread(X509Source, socket_path=dev.socket("agent"), timeout_in_seconds=15)
            ours = await asyncio.to_thread(WorkloadX509Source, dev.socket("agent"), timeout=15)
            channel = SpiffeChannel(f"127.0.0.1:{port}", stale, server_dns_name=SERVER_DNS, server_trust_domain=TD)
            try:
                assert await echo(channel.channel) == f"{AGENT_ID}|x509"
                await asyncio.to_thread(dev.admin, "remove-identity", name="agent")
                removed_at = time.monotonic()
                assert await wait_for(lambda: not ours.has_identity, 5), "our source stops serving it at once"
                refused: tuple[float, grpc.StatusCode] | None = None
                while time.monotonic() - removed_at < ttl + 5:
                    try:
                        await echo(channel.channel, timeout=5)
                    except grpc.RpcError as exc:
                        refused = (time.monotonic() - removed_at, exc.code())
                        break
                    await asyncio.sleep(0.1)
                assert refused is not None, "the removed workload was still accepted after one TTL"
                print(f"removal: refused {refused[0]:.1f}s after removal with {refused[1].name}")
                assert refused[0] <= ttl + 2.0
                assert refused[1] in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.UNAVAILABLE)
                for _ in range(3):  # and it stays refused
                    with pytest.raises(grpc.RpcError):
                        await echo(channel.channel, timeout=5)
                if refused[1] is grpc.StatusCode.UNAUTHENTICATED:
                    assert any("expired" in reason for reason in server.rejected), server.rejected
            finally:
                await channel.close()
                stale.close()
                ours.close()


async def test_server_keeps_serving_through_a_workload_api_restart(tmp_path: pathlib.Path) -> None:
    state_dir = tmp_path / "state"
    async with dev_server(tmp_path, "--x509-ttl", "20s", "--state-dir", str(state_dir)) as dev:
        roots_before = (dev.socket_dir / "bundle.pem").read_bytes()
        async with echo_service(dev) as (server, port, server_x509, bundles):
            agent = await asyncio.to_thread(WorkloadX509Source, dev.socket("agent"), timeout=15)
            channel = SpiffeChannel(f"127.0.0.1:{port}", agent, server_dns_name=SERVER_DNS, server_trust_domain=TD)
            caller = Caller(channel, workers=2, pause=0.05)
            caller.start()
            try:
                # Fresh SVIDs first, so they comfortably outlive the outage below.
                for name in ("server", "agent"):
                    await asyncio.to_thread(dev.admin, "rotate-svid", name=name)
                assert await wait_for(lambda: server_x509.svid.leaf.not_valid_after_utc.timestamp() - time.time() > 17, 5)
                serial_before = server_x509.svid.leaf.serial_number
                generation = bundles.generation

                await asyncio.to_thread(dev.stop)
                ok_at_stop = caller.ok
                await asyncio.sleep(3)
                assert caller.ok > ok_at_stop, "calls kept succeeding while the Workload API was down"
                assert server_x509.has_identity and "UNAVAILABLE" in server_x509.last_error

                await asyncio.to_thread(dev.start)
                assert await wait_for(lambda: server_x509.svid.leaf.serial_number != serial_before, 15), \
                    "the server took the next SVID after reconnecting"
                ok_after_restart = caller.ok
                await asyncio.sleep(1.5)
                assert caller.ok > ok_after_restart
            finally:
                await caller.stop()
                await channel.close()
                agent.close()
    assert caller.failures == [], caller.failures[:5]
    assert roots_before and bundles.generation == generation, "--state-dir kept the CA: trust did not change"


async def test_manual_ca_rotation_in_two_steps_by_admin_and_sighup(tmp_path: pathlib.Path) -> None:
    from mcp_grpc.cli.main import main

    async with dev_server(tmp_path, "--x509-ttl", "1h", "--ca-rotation", "manual",
                          "--ca-activation-delay", "1s") as dev:
        source = await asyncio.to_thread(WorkloadX509Source, dev.socket("agent"), timeout=15)
        bundles = WorkloadTrustBundles(source)
        try:
            first = source.svid.leaf

            async def reissue() -> x509.Certificate:
                serial = source.svid.leaf.serial_number
                await asyncio.to_thread(dev.admin, "rotate-svid", name="agent")
                assert await wait_for(lambda: source.svid.leaf.serial_number != serial, 10)
                return source.svid.leaf

            # Prepare: the next CA reaches every consumer's bundle but signs nothing yet.
            argv = ["identity", "admin", "--socket-dir", str(dev.socket_dir), "rotate-ca", "--step", "prepare"]
            assert await asyncio.to_thread(main, argv) == 0
            assert await wait_for(lambda: len(bundles.x509_authorities(TD) or ()) == 2, 10)
            assert (await reissue()).issuer == first.issuer
            # Activate: it signs from now on; the old CA stays trusted while its SVIDs live.
            await asyncio.to_thread(dev.admin, "rotate-ca", step="activate")
            leaf = await reissue()
            assert leaf.issuer != first.issuer
            assert any(leaf.issuer == root.subject for root in bundles.x509_authorities(TD))
            assert len(bundles.x509_authorities(TD)) == 2
            # SIGHUP: a full rotation, prepared now and activated after --ca-activation-delay.
            dev.proc.send_signal(signal.SIGHUP)
            assert await wait_for(lambda: len(bundles.x509_authorities(TD) or ()) == 3, 10)

            def roles() -> list[str]:
                return sorted(a["role"] for a in dev.admin("status")["authorities"]["x509"])

            assert await wait_for(lambda: roles() == ["active", "retired", "retired"], 10)
        finally:
            bundles.close()
            source.close()
