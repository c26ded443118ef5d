"""gRPC mTLS credentials from an X.509 source that rotates: server credentials and a self-rebuilding client channel.

Server side, :func:`spiffe_server_credentials` uses ``grpc.dynamic_ssl_server_credentials``: grpcio re-runs our
fetcher before each new handshake, so a rotated SVID or a changed trust bundle takes effect for new connections with
no restart and no effect on open ones. A client certificate is required; its roots are the bundles of every accepted
trust domain pooled (TLS cannot do better). Pooling is safe only because the authenticator then re-verifies the
peer's leaf against the bundle of the peer's OWN trust domain; never use these credentials without it.

Client side, grpcio cannot rotate a channel's credentials and cannot verify a server's SPIFFE ID. :class:`SpiffeChannel`
therefore (1) trusts only the bundle of the server's trust domain, (2) pins the server by a DNS SAN its SVID carries
(``grpc.ssl_target_name_override``), which is weaker than checking its SPIFFE ID: any workload of that trust domain
whose SVID carries that DNS name is accepted as the server, and (3) builds a new channel whenever our SVID or the
server's trust bundle changes, retiring the old one after in-flight calls had time to finish.

Connections outlive certificates: pair these credentials with :func:`spiffe_server_options` (bounded connection age)
and a per-call expiry check of the peer's certificate.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any, Callable, Iterable, Sequence

import grpc
from cryptography.hazmat.primitives import serialization
from spiffe import SpiffeId
from spiffe.workloadapi.errors import X509SourceError
from spiffe.workloadapi.x509_context import X509Context

from mcp_grpc.identity.sources import X509SourceLike

__all__ = [
    "JwtBearer",
    "SpiffeChannel",
    "spiffe_channel",
    "spiffe_server_credentials",
    "spiffe_server_options",
]

_log = logging.getLogger(__name__)
_PEM = serialization.Encoding.PEM


def _roots_pem(context: X509Context, trust_domains: Iterable[str] | None) -> bytes:
    wanted = None if trust_domains is None else frozenset(trust_domains)
    certs = []
    for bundle in sorted(context.x509_bundle_set.bundles, key=lambda b: b.trust_domain.name):
        if wanted is None or bundle.trust_domain.name in wanted:
            certs.extend(sorted(bundle.x509_authorities, key=lambda c: c.serial_number))
    return b"".join(c.public_bytes(_PEM) for c in certs)


def _svid_pems(context: X509Context) -> tuple[bytes, bytes]:
    svid = context.default_svid
    chain = b"".join(c.public_bytes(_PEM) for c in svid.cert_chain)
    key = svid.private_key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key, chain


class _ServerCertificateFetcher:
    """Returns a new certificate configuration only when the SVID or the accepted roots changed (None = keep)."""

    def __init__(self, source: X509SourceLike, trust_domains: Sequence[str] | None) -> None:
        self._source = source
        self._trust_domains = trust_domains
        self._lock = threading.Lock()
        self._key: tuple[bytes, bytes] | None = None
        self._revision: object = object()
        self._warned = False

    def build(self) -> grpc.ServerCertificateConfiguration:
        config = self()
        if config is None:
            raise X509SourceError("the X.509 source has no SVID to serve with")
        return config

    def __call__(self) -> grpc.ServerCertificateConfiguration | None:
        revision = getattr(self._source, "revision", None)
        with self._lock:
            if revision is not None and revision == self._revision:
                return None
            try:
                context = self._source.get_x509_context()
            except X509SourceError as exc:
                if not self._warned:
                    _log.warning("keeping the last server certificate: %s", exc)
                    self._warned = True
                return None
            self._warned = False
            key_pem, chain_pem = _svid_pems(context)
            roots = _roots_pem(context, self._trust_domains)
            if not roots:
                _log.error("no trust roots for the accepted trust domains %s; keeping the last ones",
                           self._trust_domains)
                return None
            key = (chain_pem, roots)
            self._revision = revision
            if key == self._key:
                return None
            self._key = key
            _log.info("server certificate: %s until %s", context.default_svid.spiffe_id,
                      context.default_svid.leaf.not_valid_after_utc.isoformat())
            return grpc.ssl_server_certificate_configuration([(key_pem, chain_pem)], root_certificates=roots)


def spiffe_server_credentials(
    source: X509SourceLike,
    *,
    accepted_trust_domains: Sequence[str] | None = None,
    require_client_certificate: bool = True,
) -> grpc.ServerCredentials:
    """mTLS server credentials that follow ``source``: current SVID, roots of every accepted trust domain.

    ``accepted_trust_domains`` (names without scheme) limits whose clients can complete a handshake; None accepts
    every trust domain in the source's bundles (ours and federated). A client certificate is required unless
    ``require_client_certificate`` is False: TLS then authenticates the server only (the listener for callers behind
    an L7 proxy, who prove themselves with a JWT-SVID per call; grpcio then requests no client certificate at all).
    """
    fetcher = _ServerCertificateFetcher(source, accepted_trust_domains)
    return grpc.dynamic_ssl_server_credentials(
        fetcher.build(), fetcher, require_client_authentication=require_client_certificate)


def spiffe_server_options(max_connection_age: float = 300.0, grace: float = 30.0) -> list[tuple[str, int]]:
    """Server options so connections do not outlive identities: close each connection after ``max_connection_age``
    seconds (clients reconnect and handshake with their current SVID), letting in-flight calls finish within ``grace``.
    """
    return [
        ("grpc.max_connection_age_ms", int(max_connection_age * 1000)),
        ("grpc.max_connection_age_grace_ms", int(grace * 1000)),
    ]


class SpiffeChannel:
    """A client channel authenticated with our X.509-SVID, rebuilt whenever the SVID or the server's bundle changes.

    Use ``spiffe_channel.channel`` for every call (not a stored reference): it is the current channel.

        sc = SpiffeChannel("127.0.0.1:50051", source, server_dns_name="echo.example.org",
                           server_trust_domain="example.org")
        stub = EchoStub(sc.channel)

    Limitation (grpcio): the server's SPIFFE ID is not verified. We trust only ``server_trust_domain``'s bundle and
    require the server certificate to carry ``server_dns_name`` as a DNS SAN, so any workload of that trust domain
    holding that DNS name passes. Have the server's SVID alone carry that DNS name.

    When the source loses its identity (removed, or expired unreplaced), ``.channel`` closes the current channel and
    raises :class:`~mcp_grpc.identity.sources.NoIdentityError` (an ``X509SourceError``): we stop presenting a
    stale SVID.
    """

    def __init__(
        self,
        target: str,
        source: X509SourceLike,
        *,
        server_dns_name: str,
        server_trust_domain: str,
        options: Sequence[tuple[str, Any]] = (),
        aio: bool = True,
        retire_after: float = 1.0,
        retire_grace: float = 10.0,
    ) -> None:
        if not server_dns_name:
            raise ValueError("server_dns_name is required: grpcio verifies the server by a DNS SAN")
        self.target = target
        self.server_dns_name = server_dns_name
        self.server_trust_domain = server_trust_domain.removeprefix("spiffe://")
        self._source = source
        self._options = list(options)
        self._aio = aio
        self._retire_after = retire_after
        self._retire_grace = retire_grace
        self._lock = threading.Lock()
        self._dirty = True
        self._channel: Any = None
        self._key: tuple[bytes, bytes] | None = None
        self._not_after = 0.0
        self._retiring: set[Any] = set()
        self._closed = False
        #: How many channels were built (1 + rotations that changed something).
        self.builds = 0
        source.subscribe_for_updates(self._on_update)

    @property
    def channel(self) -> Any:
        """The current channel (``grpc.aio.Channel`` or ``grpc.Channel``), rebuilt first if our SVID changed."""
        if self._closed:
            raise RuntimeError("SpiffeChannel is closed")
        if self._dirty or self._channel is None or time.time() >= self._not_after:
            self._rebuild()
        return self._channel

    def _on_update(self) -> None:
        self._dirty = True

    def _rebuild(self) -> None:
        with self._lock:
            self._dirty = False
            try:
                context = self._source.get_x509_context()
            except X509SourceError:
                old, self._channel, self._key = self._channel, None, None
                if old is not None:
                    self._retire(old, immediately=True)
                raise
            key_pem, chain_pem = _svid_pems(context)
            roots = _roots_pem(context, [self.server_trust_domain])
            if not roots:
                raise X509SourceError(f"no X.509 bundle for the server's trust domain {self.server_trust_domain!r}")
            self._not_after = context.default_svid.leaf.not_valid_after_utc.timestamp()
            key = (chain_pem, roots)
            if key == self._key and self._channel is not None:
                return
            credentials = grpc.ssl_channel_credentials(
                root_certificates=roots, private_key=key_pem, certificate_chain=chain_pem
            )
            options = self._options + [
                ("grpc.ssl_target_name_override", self.server_dns_name),
                ("grpc.default_authority", self.server_dns_name),
            ]
            factory = grpc.aio.secure_channel if self._aio else grpc.secure_channel
            old, self._channel, self._key = self._channel, factory(self.target, credentials, options), key
            self.builds += 1
            if old is not None:
                self._retire(old)

    def _retire(self, old: Any, immediately: bool = False) -> None:
        """Close a replaced channel once calls that already hold it had time to start and finish."""
        delay = 0.0 if immediately else self._retire_after
        if self._aio:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # not on a loop: nothing to schedule on; the channel is closed when collected

            async def close_later() -> None:
                await asyncio.sleep(delay)
                await old.close(grace=None if immediately else self._retire_grace)

            task = loop.create_task(close_later())
            self._retiring.add(task)
            task.add_done_callback(self._retiring.discard)
        else:
            timer = threading.Timer(delay, old.close)
            timer.daemon = True
            timer.start()

    async def close(self) -> None:
        """Close the current channel (and any being retired). For ``aio=False`` use :meth:`close_sync`."""
        self._closed = True
        self._source.unsubscribe_for_updates(self._on_update)
        if self._channel is not None:
            await self._channel.close()
        for task in list(self._retiring):
            task.cancel()

    def close_sync(self) -> None:
        self._closed = True
        self._source.unsubscribe_for_updates(self._on_update)
        if self._channel is not None:
            self._channel.close()


def spiffe_channel(
    target: str, source: X509SourceLike, server_dns_name: str, server_trust_domain: str, **kwargs: Any
) -> SpiffeChannel:
    """Shorthand for :class:`SpiffeChannel`."""
    return SpiffeChannel(
        target, source, server_dns_name=server_dns_name, server_trust_domain=server_trust_domain, **kwargs
    )


class JwtBearer:
    """``authorization: Bearer <JWT-SVID>`` metadata for hops where TLS ends at a proxy.

    ``JwtBearer(jwt_source, "spiffe://example.org/ns/prod/sa/server").metadata()`` fetches a JWT-SVID for the audience
    and reuses it until ``refresh_fraction`` of its lifetime has passed. Works with py-spiffe's JwtSource too.
    """

    def __init__(
        self,
        source: Any,
        audience: str | Iterable[str],
        *,
        subject: str | None = None,
        refresh_fraction: float = 0.5,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._audience = {audience} if isinstance(audience, str) else set(audience)
        if not self._audience or any(not a for a in self._audience):
            raise ValueError("JwtBearer needs a non-empty audience")
        self._subject = SpiffeId(subject) if subject else None
        self._refresh_fraction = refresh_fraction
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._refresh_at:
                svid = self._source.fetch_svid(audience=self._audience, subject=self._subject)
                self._token = svid.token
                self._refresh_at = now + max(0.0, svid.expiry - now) * self._refresh_fraction
            return self._token

    def metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token()}"),)
