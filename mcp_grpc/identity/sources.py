"""Identity and trust from the SPIFFE Workload API, with py-spiffe's known gaps closed.

:class:`WorkloadX509Source` and :class:`WorkloadJwtSource` are drop-in for py-spiffe's ``X509Source`` and
``JwtSource`` (same reading methods, same py-spiffe types, same ``subscribe_for_updates``), and differ where py-spiffe
falls short:

- The socket need not exist yet: the first update is awaited with a bound (``timeout``), reconnecting meanwhile;
  py-spiffe's client refuses to be created before the socket file exists.
- Identity removal is honoured: when the stream ends with PERMISSION_DENIED ("no identity issued") the source stops
  serving its SVID (``get_x509_context()`` raises) instead of serving the stale one until the process restarts.
- A Workload API restart is survived: on UNAVAILABLE the current SVID keeps being served until it expires (never
  after) while the stream reconnects with bounded backoff; the next update replaces it.

:class:`WorkloadTrustBundles` implements :class:`mcp_grpc.identity.trust.TrustBundles` on top of these sources (or
py-spiffe's own), bumping ``generation`` exactly when a bundle's content changes.
"""

from __future__ import annotations

import datetime
import logging
import os
import threading
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from spiffe import JwtBundle, JwtBundleSet, JwtSvid, SpiffeId, TrustDomain, X509Bundle, X509BundleSet, X509Svid
from spiffe._proto import workload_pb2
from spiffe.workloadapi.errors import JwtSourceError, X509SourceError
from spiffe.workloadapi.x509_context import X509Context

from mcp_grpc.identity.workload_stream import StreamedSource, rpc_status

__all__ = [
    "JwtSourceError",
    "NoIdentityError",
    "WorkloadJwtSource",
    "WorkloadTrustBundles",
    "WorkloadX509Source",
    "X509SourceError",
    "WorkloadIdentity",
    "X509SourceLike",
    "resolve_socket",
]

_log = logging.getLogger(__name__)
_HEADER = (("workload.spiffe.io", "true"),)


class NoIdentityError(X509SourceError):
    """The Workload API says this workload has no identity (PERMISSION_DENIED), or the SVID expired unreplaced."""


class X509SourceLike(Protocol):
    """What credentials and trust bundles need from an X.509 source; py-spiffe's X509Source fits too."""

    def get_x509_context(self) -> X509Context: ...

    def subscribe_for_updates(self, callback: Callable[[], None]) -> None: ...

    def unsubscribe_for_updates(self, callback: Callable[[], None]) -> None: ...


def resolve_socket(socket_path: str | None) -> str:
    """A gRPC target for the Workload API: ``socket_path`` or ``$SPIFFE_ENDPOINT_SOCKET``, as ``unix:/abs/path``."""
    value = socket_path or os.environ.get("SPIFFE_ENDPOINT_SOCKET")
    if not value:
        raise X509SourceError("no Workload API socket: pass socket_path or set SPIFFE_ENDPOINT_SOCKET")
    path = value[len("unix:") :] if value.startswith("unix:") else value
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    if not path.startswith("/"):
        raise X509SourceError(
            f"Workload API socket {value!r} must be an absolute Unix socket path (unix:///path or /path)"
        )
    return f"unix:{path}"


class WorkloadX509Source(StreamedSource[X509BundleSet]):
    """The current X.509-SVID and X.509 bundles from the Workload API (py-spiffe ``X509Source`` compatible).

    ``WorkloadX509Source("unix:///run/spire/agent.sock", timeout=10)`` blocks until the first SVID arrives or raises
    :class:`X509SourceError` after ``timeout`` seconds with the last reason (socket missing, no identity, ...).
    """

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        timeout: float = 10.0,
        max_backoff: float = 2.0,
        svid_picker: Callable[[list[X509Svid]], X509Svid] | None = None,
    ) -> None:
        super().__init__(resolve_socket(socket_path), "x509", max_backoff)
        self._picker = svid_picker
        self._svid: X509Svid | None = None
        self._svids: list[X509Svid] = []
        self._no_identity: str | None = None
        self._fatal: str | None = None
        self._revision = 0
        if not self._start(lambda stub: stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=_HEADER), timeout):
            self.close()
            raise X509SourceError(self._no_answer("X.509-SVID", timeout))
        if self._svid is None:
            self.close()
            raise NoIdentityError(f"cannot start the X.509 source: {self._fatal or self._no_identity}")

    # ------------------------------------------------------------------------------------------ reading
    def get_x509_context(self) -> X509Context:
        """The current SVID and bundles; raises :class:`NoIdentityError` once the identity is gone or expired."""
        with self._lock:
            svid, bundles, svids = self._svid, self._bundles, self._svids
            gone = self._no_identity or self._fatal
        if self._watcher.closed:
            raise X509SourceError("Cannot get X.509 context: source is closed")
        if gone or svid is None or bundles is None:
            raise NoIdentityError(f"no X.509-SVID: {gone or 'none received'}")
        if svid.leaf.not_valid_after_utc <= datetime.datetime.now(datetime.timezone.utc):
            raise NoIdentityError(
                f"the X.509-SVID expired at {svid.leaf.not_valid_after_utc.isoformat()} and the Workload API has not "
                f"sent a new one ({self._last_error})"
            )
        return X509Context([svid] + [s for s in svids if s is not svid], bundles)

    @property
    def svid(self) -> X509Svid:
        return self.get_x509_context().default_svid

    @property
    def revision(self) -> int:
        """Changes on every update (new SVID, new bundles, identity lost)."""
        return self._revision

    @property
    def has_identity(self) -> bool:
        with self._lock:
            return self._svid is not None and not self._no_identity and not self._fatal

    @property
    def last_error(self) -> str:
        return self._last_error

    # ------------------------------------------------------------------------------------------ updates
    def _on_message(self, message: object) -> None:
        assert isinstance(message, workload_pb2.X509SVIDResponse)
        svids = [X509Svid.parse_raw(s.x509_svid, s.x509_svid_key) for s in message.svids]
        if not svids:
            raise ValueError("X.509-SVID response is empty")
        bundles = [X509Bundle.parse_raw(TrustDomain(td), der) for td, der in message.federated_bundles.items()]
        for raw, svid in zip(message.svids, svids):
            bundles.append(X509Bundle.parse_raw(svid.spiffe_id.trust_domain, raw.bundle))
        picked = self._picker(svids) if self._picker else svids[0]
        with self._lock:
            self._svid, self._svids, self._bundles = picked, svids, X509BundleSet.of(bundles)
            self._no_identity = None
            self._revision += 1
        self._updated()

    def _on_error(self, code: grpc.StatusCode, details: str) -> None:
        self._last_error = f"{code.name}: {details}"
        if code is grpc.StatusCode.PERMISSION_DENIED:
            # The Workload API withdrew our identity. py-spiffe would keep serving the old SVID; we stop now.
            if self._lose_identity(no_identity=f"the Workload API says {details or 'permission denied'}"):
                _log.warning("X.509 identity withdrawn by the Workload API: %s", details)
        elif code is grpc.StatusCode.INVALID_ARGUMENT:
            # Not retryable per the SPIFFE spec: our request is wrong; stop serving rather than guess.
            self._lose_identity(fatal=f"the Workload API rejected the request: {details}")
            self._watcher.close()
        else:
            _log.info("X.509 Workload API stream interrupted (%s); reconnecting", self._last_error)

    def _lose_identity(self, *, no_identity: str | None = None, fatal: str | None = None) -> bool:
        """Stop serving the SVID for this reason and tell subscribers; True if an SVID was being served."""
        with self._lock:
            had = self._svid is not None and self._no_identity is None
            if no_identity is not None:
                self._no_identity = no_identity
            if fatal is not None:
                self._fatal = fatal
            self._svid, self._svids = None, []
            self._revision += 1
        self._ready.set()
        self._notify()
        return had


class WorkloadJwtSource(StreamedSource[JwtBundleSet]):
    """JWT bundles (streamed) and JWT-SVIDs (fetched) from the Workload API (py-spiffe ``JwtSource`` compatible)."""

    def __init__(self, socket_path: str | None = None, *, timeout: float = 10.0, max_backoff: float = 2.0) -> None:
        super().__init__(resolve_socket(socket_path), "jwt", max_backoff)
        started = self._start(
            lambda stub: stub.FetchJWTBundles(workload_pb2.JWTBundlesRequest(), metadata=_HEADER), timeout
        )
        if not started or self._bundles is None:
            self.close()
            if self._ready.is_set():
                raise JwtSourceError(f"cannot start the JWT source: {self._last_error}")
            raise JwtSourceError(self._no_answer("JWT bundles", timeout))

    @property
    def bundles(self) -> frozenset[JwtBundle]:
        bundles = self.bundle_set
        return frozenset(bundles.bundles) if bundles is not None else frozenset()

    def fetch_svid(self, audience: set[str], subject: SpiffeId | None = None, timeout: float | None = 10.0) -> JwtSvid:
        """Fetch a JWT-SVID for ``audience`` (raises :class:`JwtSourceError` with the Workload API's reason)."""
        if not audience:
            raise JwtSourceError("audience cannot be empty")
        try:
            response = self._watcher.stub.FetchJWTSVID(
                workload_pb2.JWTSVIDRequest(audience=sorted(audience), spiffe_id=str(subject) if subject else ""),
                metadata=_HEADER,
                timeout=timeout,
            )
        except grpc.RpcError as exc:
            code, details = rpc_status(exc)
            raise JwtSourceError(f"cannot fetch a JWT-SVID: {code.name}: {details}") from None
        if not response.svids:
            raise JwtSourceError("cannot fetch a JWT-SVID: the Workload API returned none")
        return JwtSvid.parse_insecure(response.svids[0].svid, audience)

    def _on_message(self, message: object) -> None:
        assert isinstance(message, workload_pb2.JWTBundlesResponse)
        bundles = JwtBundleSet.of([JwtBundle.parse(TrustDomain(td), data) for td, data in message.bundles.items()])
        with self._lock:
            self._bundles = bundles
        self._updated()

    def _on_error(self, code: grpc.StatusCode, details: str) -> None:
        # Bundles are trust data, not identity: keep the last good ones while reconnecting.
        self._last_error = f"{code.name}: {details}"
        if code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.INVALID_ARGUMENT) and self._bundles is None:
            self._ready.set()  # fail the constructor now: waiting will not help
            return
        _log.info("JWT bundle stream interrupted (%s); reconnecting", self._last_error)


class WorkloadTrustBundles:
    """:class:`~mcp_grpc.identity.trust.TrustBundles` fed by the Workload API's X.509 and JWT bundle streams.

    ``WorkloadTrustBundles(x509_source, jwt_source)``; either source may be py-spiffe's own. ``generation`` is bumped
    exactly when the content of some bundle changes (an SVID rotation alone does not bump it).
    """

    def __init__(self, x509_source: X509SourceLike | None = None, jwt_source: object | None = None) -> None:
        self._lock = threading.Lock()
        self._x509_source = x509_source
        self._jwt_source = jwt_source
        # Per kind ("x509", "jwt"): the authorities by trust domain, and their DER to tell a real change.
        self._authorities: dict[str, dict[str, Any]] = {"x509": {}, "jwt": {}}
        self._fingerprints: dict[str, dict[str, frozenset[Any]]] = {"x509": {}, "jwt": {}}
        self._generation = 0
        for source, refresh in self._feeds():
            source.subscribe_for_updates(refresh)
            refresh()

    @property
    def generation(self) -> int:
        return self._generation

    def x509_authorities(self, trust_domain: str) -> Sequence[x509.Certificate] | None:
        return self._authorities["x509"].get(trust_domain)

    def jwt_authorities(self, trust_domain: str) -> Mapping[str, PublicKeyTypes] | None:
        return self._authorities["jwt"].get(trust_domain)

    def trust_domains(self) -> frozenset[str]:
        """Every trust domain with an X.509 or JWT bundle."""
        return frozenset(self._authorities["x509"]) | frozenset(self._authorities["jwt"])

    def close(self) -> None:
        for source, refresh in self._feeds():
            source.unsubscribe_for_updates(refresh)

    def _feeds(self) -> list[tuple[Any, Callable[[], None]]]:
        pairs = ((self._x509_source, self._refresh_x509), (self._jwt_source, self._refresh_jwt))
        return [(source, refresh) for source, refresh in pairs if source is not None]

    def _refresh_x509(self) -> None:
        source = self._x509_source
        bundle_set = getattr(source, "bundle_set", None)
        if bundle_set is None:
            try:
                bundle_set = source.get_x509_context().x509_bundle_set  # type: ignore[union-attr]
            except X509SourceError:
                return  # py-spiffe's source without identity: keep the last bundles
        self._install("x509", bundle_set.bundles, _x509_authorities)

    def _refresh_jwt(self) -> None:
        source = self._jwt_source
        bundle_set = getattr(source, "bundle_set", None)
        bundles = bundle_set.bundles if bundle_set is not None else source.bundles  # type: ignore[union-attr]
        self._install("jwt", bundles, _jwt_authorities)

    def _install(self, kind: str, bundles: Iterable[Any], read: Callable[[Any], tuple[Any, frozenset[Any]]]) -> None:
        """Take in the authorities of ``kind`` from ``bundles``; bump ``generation`` only if their content differs."""
        authorities: dict[str, Any] = {}
        fingerprints: dict[str, frozenset[Any]] = {}
        for bundle in bundles:
            authorities[bundle.trust_domain.name], fingerprints[bundle.trust_domain.name] = read(bundle)
        with self._lock:
            if fingerprints != self._fingerprints[kind]:
                self._authorities[kind], self._fingerprints[kind] = authorities, fingerprints
                self._generation += 1


def _x509_authorities(bundle: X509Bundle) -> tuple[tuple[x509.Certificate, ...], frozenset[bytes]]:
    """A bundle's CA certificates (in a stable order) and their DER."""
    certs = tuple(sorted(bundle.x509_authorities, key=lambda c: c.fingerprint(hashes.SHA256())))
    return certs, frozenset(c.public_bytes(serialization.Encoding.DER) for c in certs)


def _jwt_authorities(bundle: JwtBundle) -> tuple[dict[str, PublicKeyTypes], frozenset[tuple[str, bytes]]]:
    """A bundle's JWT keys by key id, and each key id with its key's DER."""
    keys = dict(bundle.jwt_authorities)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return keys, frozenset((kid, key.public_bytes(*spki)) for kid, key in keys.items())


class WorkloadIdentity:
    """Everything a server or client needs from one Workload API socket: X.509 source, JWT source, trust bundles.

        identity = WorkloadIdentity("unix:///tmp/spiffe/server.sock")   # or $SPIFFE_ENDPOINT_SOCKET
        credentials = spiffe_server_credentials(identity.x509)
        authenticator = SpiffeAuthenticator(identity.trust_bundles, accepted_trust_domains={"example.org"})
        ...
        identity.close()
    """

    def __init__(self, socket_path: str | None = None, *, timeout: float = 10.0, jwt: bool = True) -> None:
        self.x509 = WorkloadX509Source(socket_path, timeout=timeout)
        try:
            self.jwt = WorkloadJwtSource(socket_path, timeout=timeout) if jwt else None
        except Exception:
            self.x509.close()
            raise
        self.trust_bundles = WorkloadTrustBundles(self.x509, self.jwt)

    def close(self) -> None:
        self.trust_bundles.close()
        self.x509.close()
        if self.jwt is not None:
            self.jwt.close()

    def __enter__(self) -> "WorkloadIdentity":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
