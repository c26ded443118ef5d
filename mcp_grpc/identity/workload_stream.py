"""One SPIFFE Workload API stream kept open, and what the Workload API sources share around it.

:class:`StreamWatcher` keeps a server stream (FetchX509SVID, FetchJWTBundles) open in a daemon thread, reconnecting with
bounded backoff and reporting every message and every interruption. :class:`StreamedSource` is the common part of
:class:`~mcp_grpc.identity.sources.WorkloadX509Source` and :class:`~mcp_grpc.identity.sources.WorkloadJwtSource`: the
wait for the first update, the bundles last received, update subscribers and the lifecycle.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable, Generic, Iterable, Self, TypeVar

import grpc
from spiffe import JwtBundleSet, TrustDomain, X509BundleSet
from spiffe._proto import workload_pb2_grpc

__all__ = ["StreamWatcher", "StreamedSource", "rpc_status"]

_log = logging.getLogger("mcp_grpc.identity.sources")  # the sources' logger: where operators already look
_FIRST_BACKOFF = 0.1
BundleSetT = TypeVar("BundleSetT", X509BundleSet, JwtBundleSet)


def rpc_status(error: grpc.RpcError) -> tuple[grpc.StatusCode, str | None]:
    """The status code and details of a failed call (UNKNOWN and the text of an error that is no call)."""
    if isinstance(error, grpc.Call):
        return error.code(), error.details()
    return grpc.StatusCode.UNKNOWN, str(error)


class StreamWatcher:
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
                    code, text = rpc_status(exc)
                    details = text or ""
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


class StreamedSource(Generic[BundleSetT]):
    """What both Workload API sources share: one watched stream, the wait for its first update, the bundles last
    received, update subscribers and the lifecycle (``close``, ``with``).

    A subclass sets up its own fields, then calls :meth:`_start`, and implements ``_on_message``/``_on_error``,
    ending a successful update with :meth:`_updated`.
    """

    def __init__(self, target: str, name: str, max_backoff: float) -> None:
        self._watcher = StreamWatcher(target, name, max_backoff)
        self._lock = threading.Lock()
        self._bundles: BundleSetT | None = None
        self._last_error = "no answer from the Workload API yet"
        self._ready = threading.Event()
        self._callbacks_lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []

    def _start(self, open_stream: Callable[[workload_pb2_grpc.SpiffeWorkloadAPIStub], Iterable[object]],
               timeout: float) -> bool:
        """Open the stream; True if the first update (or an error that ends the waiting) came within ``timeout``."""
        self._watcher.start(lambda: open_stream(self._watcher.stub), self._on_message, self._on_error)
        return self._ready.wait(timeout)

    def _no_answer(self, what: str, timeout: float) -> str:
        return (
            f"no {what} from the Workload API at {self._watcher.target} within {timeout:g}s: {self._last_error}"
        )

    def _on_message(self, message: object) -> None: ...  # noqa: E704 - each source takes in its own response

    def _on_error(self, code: grpc.StatusCode, details: str) -> None: ...  # noqa: E704

    def _updated(self) -> None:
        """An update was taken in: the stream is healthy, the constructor may return, subscribers are told."""
        self._last_error = "none"
        self._ready.set()
        self._notify()

    def _notify(self) -> None:
        with self._callbacks_lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback()
            except Exception:
                _log.exception("an update subscriber failed")

    # ------------------------------------------------------------------------------------------ reading
    @property
    def bundle_set(self) -> BundleSetT | None:
        """The bundles last received (kept while reconnecting or without identity: they are trust data)."""
        with self._lock:
            return self._bundles

    def get_bundle_for_trust_domain(self, trust_domain: TrustDomain) -> Any:
        bundles = self.bundle_set
        return bundles.get_bundle_for_trust_domain(trust_domain) if bundles is not None else None

    # ------------------------------------------------------------------------------------------ lifecycle
    def subscribe_for_updates(self, callback: Callable[[], None]) -> None:
        with self._callbacks_lock:
            self._callbacks.append(callback)

    def unsubscribe_for_updates(self, callback: Callable[[], None]) -> None:
        with self._callbacks_lock:
            try:
                self._callbacks.remove(callback)
            except ValueError:
                pass

    def close(self) -> None:
        self._watcher.close()

    def is_closed(self) -> bool:
        return self._watcher.closed

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
