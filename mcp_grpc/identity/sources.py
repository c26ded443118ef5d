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
from typing import Callable, Iterable, Mapping, Protocol, Sequence

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from spiffe import JwtBundle, JwtBundleSet, JwtSvid, SpiffeId, TrustDomain, X509Bundle, X509BundleSet, X509Svid
from spiffe._proto import workload_pb2, workload_pb2_grpc
from spiffe.workloadapi.errors import JwtSourceError, X509SourceError
from spiffe.workloadapi.x509_context import X509Context

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
_FIRST_BACKOFF = 0.1


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


class _Watcher:
    """A Workload API stream kept open in a thread: reconnects with bounded backoff, reports each outcome."""

    def __init__(self, target: str, name: str, max_backoff: float) -> None:
        # Reconnect to a restarted Workload API within our own backoff bound, not grpc's default (up to 120 s).
        self._channel = grpc.insecure_channel(
            target,
            options=[
                ("grpc.initial_reconnect_backoff_ms", 100),
                ("grpc.max_reconnect_backoff_ms", int(max_backoff * 1000)),
            ],
        )
        self.stub = workload_pb2_grpc.SpiffeWorkloadAPIStub(self._channel)
        self.target = target
        self._name = name
        self._max_backoff = max_backoff
        self._closed = threading.Event()
        self._call: grpc.Call | None = None
        self._lock = threading.Lock()

    def start(
        self,
        open_stream: Callable[[], Iterable[object]],
        on_message: Callable[[object], None],
        on_error: Callable[[grpc.StatusCode, str], None],
    ) -> None:
        def loop() -> None:
            backoff = _FIRST_BACKOFF
            while not self._closed.is_set():
                call = None
                try:
                    call = open_stream()
                    with self._lock:
                        self._call = call  # type: ignore[assignment]
                    if self._closed.is_set():
                        break
                    for message in call:
                        on_message(message)
                        backoff = _FIRST_BACKOFF
                    code, details = grpc.StatusCode.UNAVAILABLE, "the Workload API ended the stream"
                except grpc.RpcError as exc:
                    code = exc.code() if isinstance(exc, grpc.Call) else grpc.StatusCode.UNKNOWN
                    details = (exc.details() if isinstance(exc, grpc.Call) else str(exc)) or ""
                except Exception as exc:  # a malformed response: keep what we have, retry
                    code, details = grpc.StatusCode.INTERNAL, f"cannot parse the Workload API response: {exc}"
                finally:
                    if call is not None:
                        call.cancel()  # type: ignore[attr-defined]
                if self._closed.is_set():
                    break
                on_error(code, details)
                self._closed.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)

        threading.Thread(target=loop, name=f"spiffe-{self._name}-watcher", daemon=True).start()

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()  # type: ignore[attr-defined]
        self._channel.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()


class _Subscribers:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def add(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def remove(self, callback: Callable[[], None]) -> None:
        with self._lock:
            try:
                self._callbacks.remove(callback)
            except ValueError:
                pass

    def notify(self) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.exception("an update subscriber failed")


class WorkloadX509Source:
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
        self._watcher = _Watcher(resolve_socket(socket_path), "x509", max_backoff)
        self._picker = svid_picker
        self._lock = threading.Lock()
        self._svid: X509Svid | None = None
        self._bundles: X509BundleSet | None = None
        self._svids: list[X509Svid] = []
        self._no_identity: str | None = None
        self._last_error = "no answer from the Workload API yet"
        self._fatal: str | None = None
        self._revision = 0
        self._ready = threading.Event()
        self._subscribers = _Subscribers()
        self._watcher.start(
            lambda: self._watcher.stub.FetchX509SVID(workload_pb2.X509SVIDRequest(), metadata=_HEADER),
            self._on_message,
            self._on_error,
        )
        if not self._ready.wait(timeout):
            self.close()
            raise X509SourceError(
                f"no X.509-SVID from the Workload API at {self._watcher.target} within {timeout:g}s: "
                f"{self._last_error}"
            )
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

    def get_bundle_for_trust_domain(self, trust_domain: TrustDomain) -> X509Bundle | None:
        with self._lock:
            bundles = self._bundles
        return bundles.get_bundle_for_trust_domain(trust_domain) if bundles is not None else None

    @property
    def bundle_set(self) -> X509BundleSet | None:
        """The X.509 bundles last received (kept when the identity is removed: they are trust data, not identity)."""
        with self._lock:
            return self._bundles

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

    # ------------------------------------------------------------------------------------------ lifecycle
    def subscribe_for_updates(self, callback: Callable[[], None]) -> None:
        self._subscribers.add(callback)

    def unsubscribe_for_updates(self, callback: Callable[[], None]) -> None:
        self._subscribers.remove(callback)

    def close(self) -> None:
        self._watcher.close()

    def is_closed(self) -> bool:
        return self._watcher.closed

    def __enter__(self) -> "WorkloadX509Source":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        self._last_error = "none"
        self._ready.set()
        self._subscribers.notify()

    def _on_error(self, code: grpc.StatusCode, details: str) -> None:
        self._last_error = f"{code.name}: {details}"
        if code is grpc.StatusCode.PERMISSION_DENIED:
            # The Workload API withdrew our identity. py-spiffe would keep serving the old SVID; we stop now.
            with self._lock:
                had = self._svid is not None and self._no_identity is None
                self._no_identity = f"the Workload API says {details or 'permission denied'}"
                self._svid, self._svids = None, []
                self._revision += 1
            if had:
                _log.warning("X.509 identity withdrawn by the Workload API: %s", details)
            self._ready.set()
            self._subscribers.notify()
        elif code is grpc.StatusCode.INVALID_ARGUMENT:
            # Not retryable per the SPIFFE spec: our request is wrong; stop serving rather than guess.
            with self._lock:
                self._fatal = f"the Workload API rejected the request: {details}"
                self._svid, self._svids = None, []
                self._revision += 1
            self._ready.set()
            self._subscribers.notify()
            self._watcher.close()
        else:
            _log.info("X.509 Workload API stream interrupted (%s); reconnecting", self._last_error)


class WorkloadJwtSource:
    """JWT bundles (streamed) and JWT-SVIDs (fetched) from the Workload API (py-spiffe ``JwtSource`` compatible)."""

    def __init__(self, socket_path: str | None = None, *, timeout: float = 10.0, max_backoff: float = 2.0) -> None:
        self._watcher = _Watcher(resolve_socket(socket_path), "jwt", max_backoff)
        self._lock = threading.Lock()
        self._bundles: JwtBundleSet | None = None
        self._last_error = "no answer from the Workload API yet"
        self._ready = threading.Event()
        self._subscribers = _Subscribers()
        self._watcher.start(
            lambda: self._watcher.stub.FetchJWTBundles(workload_pb2.JWTBundlesRequest(), metadata=_HEADER),
            self._on_message,
            self._on_error,
        )
        if not self._ready.wait(timeout) or self._bundles is None:
            self.close()
            if self._ready.is_set():
                raise JwtSourceError(f"cannot start the JWT source: {self._last_error}")
            raise JwtSourceError(
                f"no JWT bundles from the Workload API at {self._watcher.target} within {timeout:g}s: "
                f"{self._last_error}"
            )

    @property
    def bundles(self) -> frozenset[JwtBundle]:
        with self._lock:
            bundles = self._bundles
        return frozenset(bundles.bundles) if bundles is not None else frozenset()

    @property
    def bundle_set(self) -> JwtBundleSet | None:
        with self._lock:
            return self._bundles

    def get_bundle_for_trust_domain(self, trust_domain: TrustDomain) -> JwtBundle | None:
        with self._lock:
            bundles = self._bundles
        return bundles.get_bundle_for_trust_domain(trust_domain) if bundles is not None else None

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
            code = exc.code().name if isinstance(exc, grpc.Call) else "UNKNOWN"
            details = exc.details() if isinstance(exc, grpc.Call) else str(exc)
            raise JwtSourceError(f"cannot fetch a JWT-SVID: {code}: {details}") from None
        if not response.svids:
            raise JwtSourceError("cannot fetch a JWT-SVID: the Workload API returned none")
        return JwtSvid.parse_insecure(response.svids[0].svid, audience)

    def subscribe_for_updates(self, callback: Callable[[], None]) -> None:
        self._subscribers.add(callback)

    def unsubscribe_for_updates(self, callback: Callable[[], None]) -> None:
        self._subscribers.remove(callback)

    def close(self) -> None:
        self._watcher.close()

    def is_closed(self) -> bool:
        return self._watcher.closed

    def __enter__(self) -> "WorkloadJwtSource":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_message(self, message: object) -> None:
        assert isinstance(message, workload_pb2.JWTBundlesResponse)
        bundles = JwtBundleSet.of([JwtBundle.parse(TrustDomain(td), data) for td, data in message.bundles.items()])
        with self._lock:
            self._bundles = bundles
        self._last_error = "none"
        self._ready.set()
        self._subscribers.notify()

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
        self._x509: dict[str, tuple[x509.Certificate, ...]] = {}
        self._x509_der: dict[str, frozenset[bytes]] = {}
        self._jwt: dict[str, dict[str, PublicKeyTypes]] = {}
        self._jwt_der: dict[str, frozenset[tuple[str, bytes]]] = {}
        self._generation = 0
        if x509_source is not None:
            x509_source.subscribe_for_updates(self._refresh_x509)
            self._refresh_x509()
        if jwt_source is not None:
            jwt_source.subscribe_for_updates(self._refresh_jwt)  # type: ignore[attr-defined]
            self._refresh_jwt()

    @property
    def generation(self) -> int:
        return self._generation

    def x509_authorities(self, trust_domain: str) -> Sequence[x509.Certificate] | None:
        return self._x509.get(trust_domain)

    def jwt_authorities(self, trust_domain: str) -> Mapping[str, PublicKeyTypes] | None:
        return self._jwt.get(trust_domain)

    def trust_domains(self) -> frozenset[str]:
        """Every trust domain with an X.509 or JWT bundle."""
        return frozenset(self._x509) | frozenset(self._jwt)

    def close(self) -> None:
        if self._x509_source is not None:
            self._x509_source.unsubscribe_for_updates(self._refresh_x509)
        if self._jwt_source is not None:
            self._jwt_source.unsubscribe_for_updates(self._refresh_jwt)  # type: ignore[attr-defined]

    def _refresh_x509(self) -> None:
        source = self._x509_source
        bundle_set = getattr(source, "bundle_set", None)
        if bundle_set is None:
            try:
                bundle_set = source.get_x509_context().x509_bundle_set  # type: ignore[union-attr]
            except X509SourceError:
                return  # py-spiffe's source without identity: keep the last bundles
        x509_map: dict[str, tuple[x509.Certificate, ...]] = {}
        der_map: dict[str, frozenset[bytes]] = {}
        for bundle in bundle_set.bundles:
            certs = tuple(sorted(bundle.x509_authorities, key=lambda c: c.fingerprint(hashes.SHA256())))
            x509_map[bundle.trust_domain.name] = certs
            der_map[bundle.trust_domain.name] = frozenset(c.public_bytes(serialization.Encoding.DER) for c in certs)
        with self._lock:
            if der_map != self._x509_der:
                self._x509, self._x509_der = x509_map, der_map
                self._generation += 1

    def _refresh_jwt(self) -> None:
        source = self._jwt_source
        bundle_set = getattr(source, "bundle_set", None)
        bundles = bundle_set.bundles if bundle_set is not None else source.bundles  # type: ignore[union-attr]
        jwt_map: dict[str, dict[str, PublicKeyTypes]] = {}
        der_map: dict[str, frozenset[tuple[str, bytes]]] = {}
        for bundle in bundles:
            keys = bundle.jwt_authorities
            jwt_map[bundle.trust_domain.name] = dict(keys)
            der_map[bundle.trust_domain.name] = frozenset(
                (kid, key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))
                for kid, key in keys.items()
            )
        with self._lock:
            if der_map != self._jwt_der:
                self._jwt, self._jwt_der = jwt_map, der_map
                self._generation += 1



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
