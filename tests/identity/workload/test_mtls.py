"""mTLS between a real grpc.aio echo server and client, with SVIDs from `mcp-grpc identity dev`.

The echo server authenticates each call with the identity layer's SpiffeAuthenticator fed by WorkloadTrustBundles.
"""

from __future__ import annotations

import asyncio
import os
import shutil

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from spiffe import JwtSource, WorkloadApiClient, X509Source
from spiffe.errors import ArgumentError

from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.identity.credentials import (
    JwtBearer,
    SpiffeChannel,
    spiffe_server_credentials,
    spiffe_channel,
    spiffe_server_options,
)
from mcp_grpc.identity.sources import (
    JwtSourceError,
    NoIdentityError,
    WorkloadJwtSource,
    WorkloadTrustBundles,
    WorkloadX509Source,
    X509SourceError,
)
from tests.support.workload_harness import (
    AGENT_ID,
    ECHO_METHOD,
    SERVER_DNS,
    TD,
    DevServer,
    EchoServer,
    echo,
    short_tempdir,
    wait_for,
)


@pytest.fixture()
async def identities(dev_server: DevServer):
    server_x509 = await asyncio.to_thread(WorkloadX509Source, dev_server.socket("server"), timeout=10)
    server_jwt = await asyncio.to_thread(WorkloadJwtSource, dev_server.socket("server"), timeout=10)
    agent_x509 = await asyncio.to_thread(WorkloadX509Source, dev_server.socket("agent"), timeout=10)
    agent_jwt = await asyncio.to_thread(WorkloadJwtSource, dev_server.socket("agent"), timeout=10)
    bundles = WorkloadTrustBundles(server_x509, server_jwt)
    yield server_x509, agent_x509, agent_jwt, bundles
    bundles.close()
    for source in (server_x509, server_jwt, agent_x509, agent_jwt):
        source.close()


@pytest.fixture()
async def mtls_echo(identities):
    server_x509, _, _, bundles = identities
    authenticator = SpiffeAuthenticator(bundles, accepted_trust_domains={TD}, jwt_audience="echo")
    server = EchoServer(authenticator)
    port = await server.start(spiffe_server_credentials(server_x509))
    yield server, port
    await server.stop()


@pytest.mark.parametrize("client_source", ["ours", "py-spiffe"])
async def test_mtls_call_authenticates_the_client_svid(dev_server, identities, mtls_echo, client_source) -> None:
    server, port = mtls_echo
    source = identities[1] if client_source == "ours" else await asyncio.to_thread(
        X509Source, socket_path=dev_server.socket("agent"), timeout_in_seconds=10)
    channel = SpiffeChannel(f"127.0.0.1:{port}", source, server_dns_name=SERVER_DNS, server_trust_domain=TD)
    try:
        assert await echo(channel.channel) == f"{AGENT_ID}|x509"
        assert await echo(channel.channel) == f"{AGENT_ID}|x509"
        assert channel.builds == 1  # no rotation: the channel is reused
        assert server.accepted == 2
    finally:
        await channel.close()
        if client_source == "py-spiffe":
            source.close()


@pytest.mark.parametrize(
    "dns_name, trust_domain",
    [("nope.example.org", TD), (SERVER_DNS, "other.org")],
    ids=["dns-name-not-on-server-svid", "trusting-another-trust-domain"],
)
async def test_client_refuses_a_server_it_cannot_pin(identities, mtls_echo, dns_name, trust_domain) -> None:
    server, port = mtls_echo
    channel = SpiffeChannel(f"127.0.0.1:{port}", identities[1], server_dns_name=dns_name,
                            server_trust_domain=trust_domain)
    try:
        with pytest.raises(grpc.RpcError) as info:
            await echo(channel.channel, timeout=5)
        assert info.value.code() is grpc.StatusCode.UNAVAILABLE
        assert server.accepted == 0
    finally:
        await channel.close()


async def test_server_requires_a_client_certificate(dev_server, mtls_echo) -> None:
    server, port = mtls_echo
    roots = (dev_server.socket_dir / "bundle.pem").read_bytes()
    credentials = grpc.ssl_channel_credentials(root_certificates=roots)
    async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials,
                                       [("grpc.ssl_target_name_override", SERVER_DNS)]) as channel:
        with pytest.raises(grpc.RpcError) as info:
            await echo(channel, timeout=5)
    assert info.value.code() is grpc.StatusCode.UNAVAILABLE
    assert server.accepted == 0


async def test_jwt_bearer_over_a_hop_without_client_tls(identities) -> None:
    """Where TLS ends at a proxy: the JWT-SVID in `authorization: Bearer` is the proof."""
    _, _, agent_jwt, bundles = identities
    server = EchoServer(SpiffeAuthenticator(bundles, accepted_trust_domains={TD}, jwt_audience="echo"))
    port = await server.start(None)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            bearer = JwtBearer(agent_jwt, "echo")
            assert await echo(channel, metadata=bearer.metadata()) == f"{AGENT_ID}|jwt"
            assert bearer.token() == bearer.token()  # reused until half its lifetime
            with pytest.raises(grpc.RpcError) as info:
                await echo(channel, metadata=JwtBearer(agent_jwt, "someone-else").metadata())
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
            with pytest.raises(grpc.RpcError) as info:
                await echo(channel)
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    finally:
        await server.stop()


async def test_trust_bundles_follow_the_workload_api(dev_server, identities) -> None:
    server_x509, _, _, bundles = identities
    roots = x509.load_pem_x509_certificates((dev_server.socket_dir / "bundle.pem").read_bytes())
    assert set(bundles.x509_authorities(TD)) == set(roots)
    assert bundles.x509_authorities("other.org")
    assert len(bundles.jwt_authorities(TD)) == 1 and bundles.jwt_authorities("other.org") is not None
    assert bundles.x509_authorities("unknown.org") is None and bundles.jwt_authorities("unknown.org") is None
    # py-spiffe's own sources plug in the same way.
    py_x509 = await asyncio.to_thread(X509Source, socket_path=dev_server.socket("server"), timeout_in_seconds=10)
    py_jwt = await asyncio.to_thread(JwtSource, socket_path=dev_server.socket("server"), timeout_in_seconds=10)
    try:
        theirs = WorkloadTrustBundles(py_x509, py_jwt)
        for td in (TD, "other.org"):
            assert set(theirs.x509_authorities(td)) == set(bundles.x509_authorities(td))
            assert theirs.jwt_authorities(td).keys() == bundles.jwt_authorities(td).keys()
        theirs.close()
    finally:
        py_x509.close()
        py_jwt.close()
    generation, revision = bundles.generation, server_x509.revision
    await asyncio.to_thread(dev_server.admin, "rotate-svid", name="server")
    assert await wait_for(lambda: server_x509.revision != revision, 10)
    assert bundles.generation == generation  # a new SVID alone changes no bundle


async def test_source_waits_a_bounded_time_for_a_socket_that_does_not_exist_yet(dev_server) -> None:
    directory = short_tempdir("late")
    late = directory / "late.sock"
    # py-spiffe's own client refuses outright; ours waits, bounded, and connects once the socket appears.
    with pytest.raises(ArgumentError, match="does not exist"):
        WorkloadApiClient(f"unix://{late}")
    with pytest.raises(X509SourceError, match="within 0.5s"):
        await asyncio.to_thread(WorkloadX509Source, f"unix://{late}", timeout=0.5)

    async def appear() -> None:
        await asyncio.sleep(0.5)
        os.symlink(str(dev_server.socket_dir / "agent.sock"), late)

    task = asyncio.create_task(appear())
    source = await asyncio.to_thread(WorkloadX509Source, f"unix://{late}", timeout=15)
    await task
    try:
        assert str(source.svid.spiffe_id) == AGENT_ID
    finally:
        source.close()
        shutil.rmtree(directory, ignore_errors=True)


async def test_source_for_a_socket_without_identity_fails_fast(dev_server) -> None:
    started = asyncio.get_running_loop().time()
    with pytest.raises(NoIdentityError, match="no identity issued"):
        await asyncio.to_thread(WorkloadX509Source, dev_server.socket("ghost"), timeout=10)
    with pytest.raises(JwtSourceError, match="PERMISSION_DENIED: no identity issued"):
        await asyncio.to_thread(WorkloadJwtSource, dev_server.socket("ghost"), timeout=10)
    assert asyncio.get_running_loop().time() - started < 5  # not the full timeouts


def test_socket_setting_errors() -> None:
    with pytest.raises(X509SourceError, match="absolute Unix socket path"):
        WorkloadX509Source("tcp://127.0.0.1:1", timeout=0.1)
    env = os.environ.pop("SPIFFE_ENDPOINT_SOCKET", None)
    try:
        with pytest.raises(X509SourceError, match="SPIFFE_ENDPOINT_SOCKET"):
            WorkloadX509Source(timeout=0.1)
    finally:
        if env is not None:
            os.environ["SPIFFE_ENDPOINT_SOCKET"] = env


async def test_channel_stops_presenting_a_removed_identity(dev_server) -> None:
    source = await asyncio.to_thread(WorkloadX509Source, dev_server.socket("agent"), timeout=10)
    channel = SpiffeChannel("127.0.0.1:1", source, server_dns_name=SERVER_DNS, server_trust_domain=TD)
    try:
        assert channel.channel is not None
        await asyncio.to_thread(dev_server.admin, "remove-identity", name="agent")
        assert await wait_for(lambda: not source.has_identity, 10)
        with pytest.raises(NoIdentityError, match="no identity issued"):
            channel.channel
        with pytest.raises(NoIdentityError):
            source.get_x509_context()
        # what a client built on the channel says: a call error, not the identity layer's exception (issue 16)
        from mcp_grpc.client import AsyncClient, McpCallError

        client = AsyncClient(channel_provider=lambda: channel.channel, retry=None)
        with pytest.raises(McpCallError) as failed:
            await client.list_tools()
        assert failed.value.status.name == "UNAVAILABLE"
        assert failed.value.message.startswith("no client identity to call with: ")
        await asyncio.to_thread(dev_server.admin, "restore-identity", name="agent")
        assert await wait_for(lambda: source.has_identity, 15)
        assert channel.channel is not None
    finally:
        await asyncio.to_thread(dev_server.admin, "restore-identity", name="agent")
        await channel.close()
        source.close()


@pytest.mark.parametrize("accepted", [None, [TD]], ids=["tls-accepts-federated", "tls-limited-to-own-domain"])
async def test_federated_client_is_refused_by_tls_or_by_the_authenticator(
    identities, federated_authority, accepted
) -> None:
    """A client of the federated domain other.org: its chain is valid there, but this server accepts only example.org."""
    server_x509, _, _, bundles = identities
    server = EchoServer(SpiffeAuthenticator(bundles, accepted_trust_domains={TD}))
    port = await server.start(spiffe_server_credentials(server_x509, accepted_trust_domains=accepted))
    svid = federated_authority.issue_x509_svid("spiffe://other.org/ns/x/sa/intruder")
    pem = serialization.Encoding.PEM
    credentials = grpc.ssl_channel_credentials(
        root_certificates=b"".join(c.public_bytes(pem) for c in bundles.x509_authorities(TD)),
        private_key=svid.private_key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                                   serialization.NoEncryption()),
        certificate_chain=svid.leaf.public_bytes(pem),
    )
    try:
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", credentials,
                                           [("grpc.ssl_target_name_override", SERVER_DNS)]) as channel:
            with pytest.raises(grpc.RpcError) as info:
                await echo(channel, timeout=5)
        if accepted is None:  # TLS pools every bundle's roots; the authenticator refuses the foreign domain
            assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
            assert "other.org" in info.value.details()
        else:  # TLS itself trusts only example.org's roots
            assert info.value.code() is grpc.StatusCode.UNAVAILABLE
        assert server.accepted == 0
    finally:
        await server.stop()


async def test_bounded_connection_age_makes_clients_reconnect_without_failures(identities) -> None:
    server_x509, agent_x509, _, bundles = identities
    server = EchoServer(SpiffeAuthenticator(bundles, accepted_trust_domains={TD}))
    port = await server.start(spiffe_server_credentials(server_x509),
                              options=spiffe_server_options(max_connection_age=0.5, grace=0.5))
    channel = SpiffeChannel(f"127.0.0.1:{port}", agent_x509, server_dns_name=SERVER_DNS, server_trust_domain=TD)
    try:
        deadline = asyncio.get_running_loop().time() + 3
        while asyncio.get_running_loop().time() < deadline:
            assert await echo(channel.channel) == f"{AGENT_ID}|x509"
            await asyncio.sleep(0.05)
        assert len(set(server.peers)) >= 2, "each connection was closed at its maximum age and re-established"
        assert channel.builds == 1  # the same channel reconnected by itself
    finally:
        await channel.close()
        await server.stop()


async def test_sync_channel_variant(dev_server, identities, mtls_echo) -> None:
    server, port = mtls_echo
    channel = spiffe_channel(f"127.0.0.1:{port}", identities[1], SERVER_DNS, TD, aio=False)

    def call() -> str:
        return channel.channel.unary_unary(ECHO_METHOD)(b"ping", timeout=10).decode()

    try:
        assert await asyncio.to_thread(call) == f"{AGENT_ID}|x509"
        revision = identities[1].revision
        await asyncio.to_thread(dev_server.admin, "rotate-svid", name="agent")
        assert await wait_for(lambda: identities[1].revision != revision, 10)  # the source has the new SVID
        assert await asyncio.to_thread(call) == f"{AGENT_ID}|x509"
        assert channel.builds == 2
    finally:
        channel.close_sync()
