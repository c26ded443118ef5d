"""Server lifecycle on grpc.aio: one typed configuration, health, reflection, graceful shutdown.

    server = Server(app, ServerConfig(port=0, insecure_local=True))
    await server.start()          # server.address -> "127.0.0.1:41234"
    ...
    await server.stop()

Identity and authorization plug in as objects on ``ServerConfig``: ``credentials`` (any ``grpc.ServerCredentials``,
e.g. mTLS built from a SPIFFE X509Source), ``authenticator`` (``contract.Authenticator``), ``authorizer``
(``contract.Authorizer``) and ``audit_sink`` (``contract.AuditSink``). Without credentials the server only starts in
``insecure_local`` mode, which is plaintext on a loopback address or a Unix socket and warns at every start.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import datetime
import gc
import logging
import signal
from typing import Any, Callable, Protocol, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc

from mcp_grpc import wire
from mcp_grpc.contract import AuditSink, Authenticator, Authorizer
from mcp_grpc.contract.address import is_loopback_host, join_host_port
from mcp_grpc.server.decoding import method_handlers
from mcp_grpc.server.ecosystem import GuardedReflection, ProbeHealth
from mcp_grpc.server.lifespan import Entered, StartupError
from mcp_grpc.server.messages import ListSettings
from mcp_grpc.server.pipeline import Pipeline
from mcp_grpc.server.proto_first.methods import generic_handler
from mcp_grpc.server.registry import Registry
from mcp_grpc.server.servicer import McpServicer
from mcp_grpc.server.stream_limits import DEFAULT_MAX_LISTEN_STREAMS
from mcp_grpc.server.streaming import McpStreamingServicer
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire import mcp_pb2, streaming_pb2

__all__ = [
    "DEFAULT_CONNECTION_AGE_GRACE",
    "INSECURE_LOCAL_WARNING",
    "ConfigError",
    "Served",
    "Server",
    "ServerConfig",
    "StartupError",
    "freeze_startup_heap",
    "serve",
]

log = logging.getLogger("mcp_grpc.server")

MCP_DESCRIPTOR = mcp_pb2.DESCRIPTOR.services_by_name["Mcp"]
STREAMING_DESCRIPTOR = streaming_pb2.DESCRIPTOR.services_by_name["McpStreaming"]

INSECURE_LOCAL_WARNING = (
    "mcp-grpc is running with --insecure-local: plaintext, no caller identity, every caller is "
    "spiffe://insecure.local/dev. For development on this machine only."
)


#: Seconds calls get past ``max_connection_age`` when no grace is configured.
DEFAULT_CONNECTION_AGE_GRACE = 5.0


class ConfigError(ValueError):
    """The configuration cannot be served safely; the message says what is missing and how to fix it."""


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Everything a server needs, in one place. Times are seconds; sizes bytes."""

    host: str = "127.0.0.1"
    port: int = 50051
    """0 picks a free port (see ``Server.port`` after start)."""
    uds: str | None = None
    """Serve on this Unix socket path instead of host:port."""

    # -- identity and authorization: plugged in as objects --
    credentials: grpc.ServerCredentials | None = None
    authenticator: Authenticator | None = None
    authorizer: Authorizer | None = None
    audit_sink: AuditSink | None = None
    """Flushed when the server stops (after the calls of the drain finished); ``serve`` also closes it."""
    audit_required: bool = False
    """Fail closed on audit: while the sink cannot write records (its ``writable`` is False: a full disk, a full
    queue), every call is refused with UNAVAILABLE."""
    limiter: Any = None
    """The ``mcp_grpc.server.limits.Limiter`` of tool calls (limits.yaml, a Redis store); None: one that enforces
    only the limits declared on tools, in this process."""
    request_state_keys: Any = None
    """The ``RequestStateKeys`` that seal MRTR ``request_state`` (the first seals, all open: rotation). None: a random
    key of this process, which only it can open; replicas behind one name need the same keys."""
    request_state_ttl: float = 600.0
    """How long a retry may take to bring a ``request_state`` back."""
    audit_arguments: bool = False
    """Copy validated arguments into audit events (off by default: arguments may be sensitive)."""
    insecure_local: bool = False
    """Plaintext development mode: loopback or Unix socket only, warning at every start."""

    # -- the gRPC ecosystem --
    health: bool = True
    health_port: int | None = None
    """Also serve grpc.health.v1 alone, in plaintext, on this port of ``host`` (kubelet probes cannot present an
    SVID). It reports the main server's overall status (service ``""``) and serves nothing else."""
    health_port_services: bool = False
    """Let the plaintext health port also answer each service's status (it then confirms service names to anyone
    who reaches the port)."""
    reflection: bool | None = None
    """Serve gRPC server reflection, authenticated, authorized (``can_call`` on
    ``method:{server}//grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo``) and audited. None: only in
    insecure-local development; a server with transport security serves it only when this is True."""
    drain_seconds: float = 5.0
    """On SIGTERM/SIGINT: health turns NOT_SERVING, new calls are refused, calls in flight get this long."""
    handle_signals: bool = True
    reuse_port: bool = False
    """Bind with SO_REUSEPORT, so other processes of this user may listen on the same port and the kernel spreads
    connections over them (the workers of ``serve --workers N``). Off by default: a second server started by
    mistake on a port in use must fail, not silently take half of its connections."""
    announce: bool = True
    """Log "mcp-grpc serving ... on ADDRESS" once listening. The workers of ``serve --workers N`` leave it to their
    supervisor (``mcp_grpc.server.workers``), which logs it once, when every worker listens."""
    keepalive_time: float = 60.0
    keepalive_timeout: float = 20.0
    keepalive_min_ping_interval: float = 10.0
    """The shortest ping interval clients may use (grpc.http2.min_ping_interval_without_data_ms)."""
    max_message_bytes: int = 4 * 1024 * 1024
    max_connection_age: float | None = None
    """Close each connection after this long (clients reconnect with their current SVID)."""
    max_connection_age_grace: float | None = None
    """How long calls still running on a connection past its age get; None with ``max_connection_age`` set:
    ``DEFAULT_CONNECTION_AGE_GRACE`` (without a grace gRPC waits forever, so a long stream keeps the connection)."""
    max_listen_streams: int | None = DEFAULT_MAX_LISTEN_STREAMS
    """Concurrent ``McpStreaming/Listen`` streams one caller (SPIFFE ID) may hold; more are RESOURCE_EXHAUSTED.
    None: no limit."""
    max_concurrent_rpcs: int | None = None
    handler_threads: int = 16
    """Thread pool size for synchronous handlers (they never run on the event loop)."""
    grpc_options: Sequence[tuple[str, Any]] = ()
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()
    """Extra grpc.aio interceptors run before the pipeline on every service (e.g. OpenTelemetry's)."""

    # -- lists --
    page_size: int = 100
    list_ttl: datetime.timedelta | None = None
    """Published as ``ttl`` on list results; None leaves it unset (clients decide)."""

    def check(self) -> None:
        """Raise ConfigError when this configuration must not be served."""
        if self.port < 0 or self.port > 65535:
            raise ConfigError(f"port {self.port} is out of range 0-65535")
        if self.credentials is None and not self.insecure_local:
            raise ConfigError(
                "refusing to start without transport security: configure server credentials (mTLS from a SPIFFE "
                "Workload API) and an authenticator, or pass --insecure-local for plaintext development on "
                "loopback or a Unix socket"
            )
        if self.authenticator is None and not self.insecure_local:
            raise ConfigError(
                "refusing to start without an authenticator: server credentials alone do not identify callers; "
                "configure an Authenticator (mcp_grpc.identity) or use --insecure-local for development"
            )
        if self.insecure_local and self.credentials is None and self.uds is None and not is_loopback_host(self.host):
            raise ConfigError(
                f"--insecure-local serves plaintext and is allowed only on a loopback address or a Unix socket, "
                f"not on {self.host!r}"
            )
        if self.audit_required and not hasattr(self.audit_sink, "writable"):
            raise ConfigError(
                "audit_required needs an audit sink that reports whether it can write (JsonAuditSink does)"
            )
        if self.page_size < 1:
            raise ConfigError("page_size must be at least 1")
        if self.max_listen_streams is not None and self.max_listen_streams < 1:
            raise ConfigError("max_listen_streams must be at least 1 (or None for no limit)")
        if self.max_connection_age_grace is not None and self.max_connection_age_grace < 0:
            raise ConfigError("max_connection_age_grace must be >= 0 seconds")
        if self.health_port is not None and (not self.health or not 0 < self.health_port <= 65535):
            raise ConfigError("health_port needs health checking on and a port in 1-65535")
        if self.health_port_services and self.health_port is None:
            raise ConfigError("health_port_services needs a health_port")

    @property
    def serves_reflection(self) -> bool:
        return self.insecure_local if self.reflection is None else self.reflection

    def max_send_bytes(self) -> int:
        """The largest message the server sends (``max_message_bytes`` unless ``grpc_options`` overrides it)."""
        limit = self.max_message_bytes
        for key, value in self.grpc_options:
            if key == "grpc.max_send_message_length":
                limit = int(value)
        return limit

    def channel_options(self) -> list[tuple[str, Any]]:
        options: list[tuple[str, Any]] = [
            ("grpc.keepalive_time_ms", int(self.keepalive_time * 1000)),
            ("grpc.keepalive_timeout_ms", int(self.keepalive_timeout * 1000)),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_ping_interval_without_data_ms", int(self.keepalive_min_ping_interval * 1000)),
            ("grpc.max_receive_message_length", self.max_message_bytes),
            ("grpc.max_send_message_length", self.max_message_bytes),
            ("grpc.so_reuseport", int(self.reuse_port)),
        ]
        grace = self.max_connection_age_grace
        if self.max_connection_age is not None:
            options.append(("grpc.max_connection_age_ms", int(self.max_connection_age * 1000)))
            if grace is None:
                grace = DEFAULT_CONNECTION_AGE_GRACE
        if grace is not None:
            options.append(("grpc.max_connection_age_grace_ms", int(grace * 1000)))
        options.extend(self.grpc_options)
        return options


class Served(Protocol):
    """What a ``Server`` serves: an ``McpApp``, or anything with a name and a ``Registry``."""

    name: str
    registry: Registry


class Server:
    """One grpc.aio server serving an ``McpApp``: Mcp, McpStreaming, proto-first services, health, reflection."""

    def __init__(self, app: Served, config: ServerConfig | None = None) -> None:
        self.app = app
        self.registry = app.registry
        self.config = config or ServerConfig()
        self.config.check()
        self.pipeline = Pipeline(
            server_name=app.name,
            authenticator=self.config.authenticator,
            authorizer=self.config.authorizer,
            audit_sink=self.config.audit_sink,
            insecure_local=self.config.insecure_local,
            audit_arguments=self.config.audit_arguments,
            audit_required=self.config.audit_required,
            max_reply_bytes=self.config.max_send_bytes(),
            limiter=self._limiter(),
            request_state_keys=self.config.request_state_keys,
            request_state_ttl=self.config.request_state_ttl,
        )
        self.port: int | None = None
        self._server: grpc.aio.Server | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._health: Any = None
        self._health_server: grpc.aio.Server | None = None
        self._probe_health: ProbeHealth | None = None
        self._streaming: McpStreamingServicer | None = None
        self._lifespan: Entered | None = None
        self._stopping = False

    def _limiter(self) -> Any:
        from mcp_grpc.server.limits import Limiter

        limiter = self.config.limiter if self.config.limiter is not None else Limiter()
        limiter.attach(self.app.name, self.config.authorizer)
        return limiter

    @property
    def address(self) -> str:
        """The target a client dials: ``host:port`` or ``unix:PATH``."""
        if self.config.uds is not None:
            return f"unix:{self.config.uds}"
        return join_host_port(self.config.host, self.port or 0)

    async def start(self) -> str:
        """Enter the app's lifespans (its startup hooks), listen, serve. ``StartupError``: a hook failed and nothing
        listens; ``ConfigError``: the address cannot be used (the lifespans are exited again)."""
        config = self.config
        if config.insecure_local:
            log.warning(INSECURE_LOCAL_WARNING)
        if config.authorizer is None and not config.insecure_local:
            log.warning("no authorizer configured: every authenticated caller may use every tool")
        self._validate_declared_checks()
        lifespans = getattr(self.app, "lifespans", None)
        if lifespans:  # before the port is bound: a failing hook leaves nothing listening
            self._lifespan = await lifespans.enter(self.app)
        try:
            return await self._start(config)
        except BaseException:
            if self._server is None and self._lifespan is not None:
                await self._lifespan.exit()
                self._lifespan = None
            raise

    async def _start(self, config: ServerConfig) -> str:
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=config.handler_threads, thread_name_prefix="mcp-grpc-handler"
        )
        server = grpc.aio.server(
            interceptors=tuple(config.interceptors) or None,
            options=config.channel_options(),
            maximum_concurrent_rpcs=config.max_concurrent_rpcs,
        )
        cache_scope = pb.CACHE_SCOPE_PRIVATE if config.authorizer is not None else pb.CACHE_SCOPE_PUBLIC
        mcp = McpServicer(
            self.registry,
            self.pipeline,
            executor=self._executor,
            lists=ListSettings(config.page_size, config.list_ttl, cache_scope, getattr(self.app, "instructions", None)),
        )
        self._streaming = McpStreamingServicer(mcp, max_listen_streams=config.max_listen_streams)
        for servicer, descriptor in ((mcp, MCP_DESCRIPTOR), (self._streaming, STREAMING_DESCRIPTOR)):
            # Not the generated add_*_to_server: those deserialize with FromString, which answers undecodable
            # bytes UNKNOWN before our code runs; method_handlers answers INVALID_ARGUMENT and audits it.
            behaviors = {method.name: getattr(servicer, method.name) for method in descriptor.methods}
            handlers = method_handlers(descriptor, behaviors, self.pipeline, check_version=True)
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))
            server.add_registered_method_handlers(descriptor.full_name, handlers)
        service_names = [wire.MCP_SERVICE, wire.STREAMING_SERVICE]
        for service in self.registry.proto_services:
            server.add_generic_rpc_handlers((generic_handler(service, self.pipeline, self._executor),))
            service_names.append(service.descriptor.full_name)
        if config.health:
            self._health = health.aio.HealthServicer()
            health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
            service_names.append(health.SERVICE_NAME)
        if config.serves_reflection:
            service_names.append(reflection.SERVICE_NAME)
            reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
                GuardedReflection(service_names, self.pipeline), server
            )
        target = f"unix:{config.uds}" if config.uds is not None else join_host_port(config.host, config.port)
        try:
            if config.credentials is not None:
                port = server.add_secure_port(target, config.credentials)
            else:
                port = server.add_insecure_port(target)
        except RuntimeError as exc:
            self._executor.shutdown(wait=False)
            raise ConfigError(f"cannot listen on {target}: {exc}") from exc
        if port == 0 and config.uds is None:
            self._executor.shutdown(wait=False)
            raise ConfigError(f"cannot listen on {target}: address in use or not available")
        self.port = port
        await server.start()
        self._server = server
        if self._health is not None:
            for name in ("", *service_names):
                await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        if config.health_port is not None:
            self._probe_health = ProbeHealth(services=config.health_port_services)
            await self._probe_health.serving(service_names)
            await self._start_health_port(config)
        if config.announce:
            log.info("mcp-grpc serving %r on %s", self.app.name, self.address)
        return self.address

    def _validate_declared_checks(self) -> None:
        """A malformed ``authorize=`` check fails the start, not the first call."""
        authorizer = self.config.authorizer
        if authorizer is None:
            return
        for kind, name, entry in self.registry.declared():
            checks = getattr(entry, "checks", ())
            if checks:
                try:
                    authorizer.validate_declared(checks)
                except ValueError as exc:
                    raise ConfigError(f"{kind} {name!r}: bad authorize= check: {exc}") from None

    async def _start_health_port(self, config: ServerConfig) -> None:
        # grpc binds with SO_REUSEPORT unless told not to: a second process (or a stale server) on the same port
        # would then share it silently. Only the workers of one ``serve --workers`` may share it.
        health_server = grpc.aio.server(options=(("grpc.so_reuseport", int(config.reuse_port)),))
        assert self._probe_health is not None
        health_pb2_grpc.add_HealthServicer_to_server(self._probe_health.servicer, health_server)
        address = join_host_port("127.0.0.1" if config.uds is not None else config.host, config.health_port or 0)
        try:
            bound = health_server.add_insecure_port(address)
        except RuntimeError as exc:
            bound, error = 0, exc
        else:
            error = None
        if bound == 0:
            await self.stop(0)
            raise ConfigError(f"cannot listen for health checks on {address}: {error or 'in use'}")
        await health_server.start()
        self._health_server = health_server
        log.info("health checks (plaintext, grpc.health.v1 only, %s) on %s",
                 "every service" if config.health_port_services else "overall status only", address)

    async def stop(self, grace: float | None = None) -> None:
        """Drain: health NOT_SERVING, refuse new calls, give calls in flight ``grace`` seconds, then stop and exit the
        app's lifespans (its shutdown hooks)."""
        if self._server is None or self._stopping:
            return
        self._stopping = True
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self._probe_health is not None:
            await self._probe_health.enter_graceful_shutdown()
        if self._streaming is not None:
            self._streaming.close()
        await self._server.stop(self.config.drain_seconds if grace is None else grace)
        if self._health_server is not None:
            await self._health_server.stop(0)
        if self._lifespan is not None:
            await self._lifespan.exit()
            self._lifespan = None
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        await self._flush_audit()
        await self.pipeline.limiter.close()

    async def _flush_audit(self) -> None:
        """Write every record of the calls that ended, including those cancelled at the end of the drain."""
        sink = self.config.audit_sink
        flush = getattr(sink, "flush", None)
        if flush is None:
            return
        await asyncio.sleep(0)  # let the handlers cancelled by grpc's stop reach their audit record
        settle = getattr(self.config.authorizer, "settle", None)
        if settle is not None:  # a shadow model's verdicts still pending hold their calls' records back
            try:
                await settle()
            except Exception:  # noqa: BLE001 - the records are flushed whatever happened
                log.exception("waiting for the shadow authorizer failed")
        if not await asyncio.to_thread(flush):
            log.error("audit records still pending after the server stopped: they may be lost")

    async def close_audit(self) -> None:
        """Flush and close the audit sink (``serve`` does it when the process is about to exit)."""
        close = getattr(self.config.audit_sink, "close", None)
        if close is not None:
            await asyncio.to_thread(close)

    async def wait_for_termination(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def __aenter__(self) -> "Server":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop(0)


def freeze_startup_heap() -> None:
    """Move every object alive now (modules, the app, the engine and its tuples, the registry) out of the cyclic
    garbage collector's sight (``gc.freeze``).

    A serving process keeps these until it exits, yet each full (generation 2) collection walked all of them: on
    the bench server, one full collection every ~10,000 calls cost about 80 ms, 8 µs per call on average and a
    latency spike for the calls it stalled. Objects made by calls are still collected as before. No collection runs
    first (it would cost ~40 ms of every start): the little cyclic garbage start-up left is kept, once. ``serve``
    calls this once, after the server started; a program that runs ``Server`` itself may call it too. Not for a
    process that starts and stops many servers (a test suite): what one froze is never collected.
    """
    gc.freeze()


async def serve(app: Served, config: ServerConfig, *, on_started: Callable[[Server], None] | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then drain for ``config.drain_seconds``. ``on_started`` runs once the server
    listens (a worker of ``serve --workers`` tells its supervisor there)."""
    server = Server(app, config)
    await server.start()
    freeze_startup_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if config.handle_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
    if on_started is not None:  # after the signal handlers: a SIGTERM from here on drains
        on_started(server)
    waiter = asyncio.ensure_future(server.wait_for_termination())
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    if stop.is_set():
        log.info("signal received: draining for %.1fs", config.drain_seconds)
    try:
        await server.stop()
    finally:
        await server.close_audit()
    waiter.cancel()
    stopper.cancel()
