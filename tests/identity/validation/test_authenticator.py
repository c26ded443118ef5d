"""SpiffeAuthenticator: the verdict cache (once per certificate, bounded, dropped on bundle change, expiry per call),
and the whole path over a real grpcio mTLS connection, where TLS accepts what only we refuse."""

from __future__ import annotations

import datetime
import threading
from concurrent import futures
from typing import Any, Iterator

import grpc
import pytest
from cryptography.hazmat.primitives import serialization

from mcp_grpc.identity import errors
from mcp_grpc.identity.authenticator import SpiffeAuthenticator
from mcp_grpc.contract import ProofKind
from mcp_grpc.identity.trust import StaticTrustBundles
from mcp_grpc.contract import AuthenticationFailed
from tests.support import certfactory as cf
from tests.support.certfactory import World, make_jwt

HOUR = datetime.timedelta(hours=1)


class Clock:
    """Epoch seconds that a test moves by hand."""

    def __init__(self) -> None:
        self.now = cf.now().timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ca() -> cf.CA:
    return cf.make_ca("example.org")


@pytest.fixture
def bundles(ca: cf.CA) -> StaticTrustBundles:
    return StaticTrustBundles(x509_bundles={"example.org": [ca.cert]})


def _context(cert: Any) -> dict[str, list[bytes]]:
    return {"transport_security_type": [b"ssl"], "x509_pem_cert": [cf.pem(cert)]}


def _cause(exc_info: Any) -> type:
    return type(exc_info.value.__cause__)


def test_validated_once_per_certificate(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    authn = SpiffeAuthenticator(bundles)
    leaf_a, _ = ca.issue_leaf("spiffe://example.org/a")
    leaf_b, _ = ca.issue_leaf("spiffe://example.org/b")
    first = authn.authenticate(_context(leaf_a), {})
    for _ in range(50):
        # A fresh bytes object each time, as grpcio hands out per call: the cache keys on content, not identity.
        assert authn.authenticate(_context(leaf_a), {}) is first
    assert authn.validations == 1
    assert authn.authenticate(_context(leaf_b), {}).spiffe_id == "spiffe://example.org/b"
    assert authn.validations == 2


def test_expiry_is_checked_per_call_after_caching(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    clock = Clock()
    authn = SpiffeAuthenticator(bundles, clock=clock)
    leaf, _ = ca.issue_leaf(not_after=cf.now() + datetime.timedelta(seconds=30))
    assert authn.authenticate(_context(leaf), {}).proven_by is ProofKind.X509
    clock.now += 29
    authn.authenticate(_context(leaf), {})
    assert authn.validations == 1
    clock.now += 2  # past notAfter: refused from the cache, without validating again
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(_context(leaf), {})
    assert _cause(info) is errors.CertificateExpired
    assert "certificate expired at" in info.value.reason
    assert authn.validations == 1
    with pytest.raises(AuthenticationFailed) as again:  # the expired verdict is gone; a new validation refuses it too
        authn.authenticate(_context(leaf), {})
    assert _cause(again) is errors.CertificateExpired
    assert authn.validations == 2


def test_chain_expiry_bounds_the_principal(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    intermediate = cf.make_ca("example.org", parent=ca, not_after=cf.now() + datetime.timedelta(minutes=10))
    leaf, _ = intermediate.issue_leaf(not_after=cf.now() + HOUR)
    clock = Clock()
    authn = SpiffeAuthenticator(bundles, clock=clock)
    context = _context(leaf) | {"x509_pem_cert_chain": [cf.pem(intermediate.cert)]}
    principal = authn.authenticate(context, {})
    assert principal.not_after == intermediate.cert.not_valid_after_utc
    clock.now += 11 * 60
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(context, {})
    assert _cause(info) is errors.CertificateExpired


def test_bundle_change_drops_the_cache(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    authn = SpiffeAuthenticator(bundles)
    leaf, _ = ca.issue_leaf()
    authn.authenticate(_context(leaf), {})
    authn.authenticate(_context(leaf), {})
    assert authn.validations == 1
    bundles.replace(x509_bundles={"example.org": [ca.cert]})  # same content, new generation
    authn.authenticate(_context(leaf), {})
    assert authn.validations == 2
    # CA rotation that retires the old root: the cached acceptance must not survive it.
    bundles.replace(x509_bundles={"example.org": [cf.make_ca("example.org").cert]})
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(_context(leaf), {})
    assert _cause(info) is errors.UntrustedChain
    # A trust domain removed from the bundles entirely.
    bundles.replace(x509_bundles={})
    with pytest.raises(AuthenticationFailed) as gone:
        authn.authenticate(_context(leaf), {})
    assert _cause(gone) is errors.UnknownTrustDomain


def test_cache_is_a_bounded_lru(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    authn = SpiffeAuthenticator(bundles, cache_size=3)
    leaves = [ca.issue_leaf(f"spiffe://example.org/w{i}")[0] for i in range(4)]
    for leaf in leaves[:3]:
        authn.authenticate(_context(leaf), {})
    authn.authenticate(_context(leaves[0]), {})  # touch w0: w1 is now the least recently used
    authn.authenticate(_context(leaves[3]), {})  # evicts w1
    assert authn.cached == 3 and authn.validations == 4
    authn.authenticate(_context(leaves[0]), {})
    assert authn.validations == 4
    authn.authenticate(_context(leaves[1]), {})
    assert authn.validations == 5
    assert authn.cached == 3


def test_structural_refusals_are_cached_transient_ones_are_not(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    authn = SpiffeAuthenticator(bundles)
    ca_leaf, _ = ca.issue_leaf(ca=True)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed) as info:
            authn.authenticate(_context(ca_leaf), {})
        assert _cause(info) is errors.LeafIsCa
    assert authn.validations == 1
    early, _ = ca.issue_leaf(not_before=cf.now() + HOUR, not_after=cf.now() + 2 * HOUR)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            authn.authenticate(_context(early), {})
    assert authn.validations == 3  # not-yet-valid becomes valid with time: validated again each call


def test_not_yet_valid_becomes_valid(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    clock = Clock()
    authn = SpiffeAuthenticator(bundles, clock=clock)
    leaf, _ = ca.issue_leaf(not_before=cf.now() + datetime.timedelta(minutes=1))
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(_context(leaf), {})
    assert _cause(info) is errors.CertificateNotYetValid
    clock.now += 61
    assert authn.authenticate(_context(leaf), {}).spiffe_id == "spiffe://example.org/workload"


def test_jwt_verdict_cached_and_expiry_checked_per_call(world: World) -> None:
    clock = Clock()
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp", clock=clock, jwt_leeway=datetime.timedelta(0))
    token = make_jwt(world.ec_jwt_key, exp=int(clock.now) + 60)
    metadata = {"authorization": f"Bearer {token}"}
    first = authn.authenticate({}, metadata)
    assert authn.authenticate({}, metadata) is first
    assert authn.validations == 1
    clock.now += 61
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate({}, metadata)
    assert _cause(info) is errors.TokenExpired
    assert authn.validations == 1


def test_jwt_refusals_are_not_cached(world: World) -> None:
    authn = SpiffeAuthenticator(world.bundles, jwt_audience="mcp")
    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            authn.authenticate({}, {"authorization": f"Bearer garbage{i}"})
    assert authn.cached == 0


def test_concurrent_calls(ca: cf.CA, bundles: StaticTrustBundles) -> None:
    authn = SpiffeAuthenticator(bundles, cache_size=2)  # smaller than the working set: constant eviction
    leaves = [ca.issue_leaf(f"spiffe://example.org/t{i}")[0] for i in range(4)]
    contexts = [_context(leaf) for leaf in leaves]
    failures: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(200):
                index = (i + offset) % 4
                assert authn.authenticate(contexts[index], {}).spiffe_id == f"spiffe://example.org/t{index}"
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not failures
    assert authn.cached <= 2


def test_invalid_cache_size(bundles: StaticTrustBundles) -> None:
    with pytest.raises(ValueError):
        SpiffeAuthenticator(bundles, cache_size=0)


def test_accepted_trust_domains_are_validated(bundles: StaticTrustBundles) -> None:
    with pytest.raises(errors.UppercaseTrustDomain):
        SpiffeAuthenticator(bundles, accepted_trust_domains=["Example.org"])


# --- over a real grpcio mTLS connection -----------------------------------------------------------------------------


def _key_pem(key: Any) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class MtlsServer:
    """A grpcio server trusting the pooled roots of example.org and other.org, as TLS must, whose one method runs the
    authenticator and answers the caller's SPIFFE ID or aborts UNAUTHENTICATED with the reason."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.authn = SpiffeAuthenticator(world.bundles, accepted_trust_domains=["example.org"], jwt_audience="mcp")
        self.server_cert, self.server_key = world.ca.issue_leaf(
            "spiffe://example.org/server", dns_names=["server.example.org"], with_eku=True
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(
            "test.Who", {"Am": grpc.unary_unary_rpc_method_handler(self._who)}
        )])
        pooled_roots = cf.pem(world.ca.cert) + cf.pem(world.other_ca.cert)
        credentials = grpc.ssl_server_credentials(
            [(_key_pem(self.server_key), cf.pem(self.server_cert))],
            root_certificates=pooled_roots,
            require_client_auth=True,
        )
        self.port = self.server.add_secure_port("127.0.0.1:0", credentials)
        self.server.start()

    def _who(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            principal = self.authn.authenticate(context.auth_context(), dict(context.invocation_metadata()))
        except AuthenticationFailed as exc:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, exc.reason)
        return principal.spiffe_id.encode()

    def call(self, cert: Any, key: Any, chain: bytes = b"") -> bytes:
        credentials = grpc.ssl_channel_credentials(cf.pem(self.world.ca.cert), _key_pem(key), cf.pem(cert) + chain)
        with grpc.secure_channel(
            f"127.0.0.1:{self.port}", credentials, options=[("grpc.ssl_target_name_override", "server.example.org")]
        ) as channel:
            return channel.unary_unary("/test.Who/Am")(b"", timeout=10)


@pytest.fixture(scope="module")
def mtls(world: World) -> Iterator[MtlsServer]:
    server = MtlsServer(world)
    yield server
    server.server.stop(0)


def test_mtls_good_client(mtls: MtlsServer, world: World) -> None:
    cert, key = world.ca.issue_leaf("spiffe://example.org/ns/prod/sa/billing", with_eku=True)
    assert mtls.call(cert, key) == b"spiffe://example.org/ns/prod/sa/billing"


def test_mtls_client_via_intermediate(mtls: MtlsServer, world: World) -> None:
    intermediate = world.ca.issue_intermediate()
    cert, key = intermediate.issue_leaf("spiffe://example.org/via-intermediate", with_eku=True)
    assert mtls.call(cert, key, chain=cf.pem(intermediate.cert)) == b"spiffe://example.org/via-intermediate"


@pytest.mark.parametrize(
    ("build", "phrase"),
    [
        (lambda w: w.other_ca.issue_leaf("spiffe://example.org/admin", with_eku=True),
         "does not chain to the X.509 bundle of trust domain example.org"),
        (lambda w: w.ca.issue_leaf(uris=["spiffe://example.org/a", "spiffe://example.org/b"], with_eku=True),
         "2 URI SANs"),
        (lambda w: w.ca.issue_leaf(ca=True), "CA=true"),
        (lambda w: w.ca.issue_leaf("spiffe://example.org/a/../admin", with_eku=True), "'..' segment"),
        (lambda w: w.other_ca.issue_leaf(with_eku=True), "trust domain other.org is not accepted"),
    ],
    ids=["federated-ca-claims-our-domain", "two-uri-sans", "ca-leaf", "dot-dot-path", "foreign-domain"],
)
def test_mtls_refusals_that_tls_lets_through(mtls: MtlsServer, world: World, build: Any, phrase: str) -> None:
    cert, key = build(world)
    with pytest.raises(grpc.RpcError) as info:
        mtls.call(cert, key)
    assert info.value.code() is grpc.StatusCode.UNAUTHENTICATED
    assert phrase in info.value.details()


# --- interoperability with the development CA (mcp_grpc.identity.workload_dev.ca) ------------------------------------


def test_svids_of_the_development_ca_across_a_rotation() -> None:
    from mcp_grpc.identity.workload_dev.ca import SvidAuthority

    authority = SvidAuthority("example.org")
    bundles = StaticTrustBundles()

    def sync() -> None:
        bundles.replace(x509_bundles={"example.org": list(authority.x509_bundle())},
                        jwt_bundles={"example.org": authority.jwt_bundle()})

    sync()
    authn = SpiffeAuthenticator(bundles, accepted_trust_domains=["example.org"], jwt_audience="mcp")
    old = authority.issue_x509_svid("spiffe://example.org/billing", dns_names=["billing.example.org"]).leaf
    old_token = authority.issue_jwt_svid("spiffe://example.org/billing", ["mcp"])
    assert authn.authenticate(_context(old), {}).spiffe_id == "spiffe://example.org/billing"
    assert authn.authenticate({}, {"authorization": f"Bearer {old_token}"}).proven_by is ProofKind.JWT

    assert authority.prepare_x509() and authority.prepare_jwt()
    sync()  # the next authorities are in the bundle before they sign anything
    assert authority.activate_x509() and authority.activate_jwt()
    sync()
    new = authority.issue_x509_svid("spiffe://example.org/billing").leaf
    new_token = authority.issue_jwt_svid("spiffe://example.org/billing", ["mcp"])
    assert new.issuer != old.issuer
    for context, metadata in ((_context(old), {}), (_context(new), {}), ({}, {"authorization": f"Bearer {old_token}"}),
                              ({}, {"authorization": f"Bearer {new_token}"})):
        assert authn.authenticate(context, metadata).spiffe_id == "spiffe://example.org/billing"
    # The retired CA leaves the bundle: what it signed is refused from then on, cached verdict or not.
    bundles.replace(x509_bundles={"example.org": [authority.active_x509.certificate]})
    with pytest.raises(AuthenticationFailed) as info:
        authn.authenticate(_context(old), {})
    assert _cause(info) is errors.UntrustedChain
    assert authn.authenticate(_context(new), {}).spiffe_id == "spiffe://example.org/billing"
