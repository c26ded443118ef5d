"""``mcp-grpc serve``: run an app (the client commands are in client_commands.py).

    mcp-grpc serve examples/quickstart/server.py:app --insecure-local --port 50051
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib
import importlib.util
import logging
import os
import pathlib
import sys
from typing import Any

from mcp_grpc.cli.server_authz import add_authz_flags, authorizer_from_args, check_authz_flags
from mcp_grpc.cli.transport_flags import add_transport_flags, port_number, transport_fields

__all__ = ["TargetError", "load_app", "register", "server_security", "worker_count"]

#: The request_state key the supervisor of ``--workers`` gives its workers when ``--request-state-keys`` is not set
#: (hex, in their environment, which only this user can read): a retry must open wherever it lands.
WORKER_STATE_KEY_ENV = "MCP_GRPC_WORKER_REQUEST_STATE_KEY"


class TargetError(Exception):
    """TARGET does not name an application object."""


def load_app(target: str) -> Any:
    """Load ``package.module:attr`` or ``path/to/file.py:attr`` (attr defaults to ``app``)."""
    from mcp_grpc.server import McpApp

    location, _, attribute = target.rpartition(":") if ":" in target else (target, ":", "app")
    attribute = attribute or "app"
    if not location:
        raise TargetError(f"bad TARGET {target!r}: expected package.module:app or path/to/file.py:app")
    cwd = os.getcwd()
    if cwd not in sys.path:  # like uvicorn: modules beside the working directory are importable
        sys.path.insert(0, cwd)
    if location.endswith(".py") or os.sep in location:
        path = pathlib.Path(location)
        if not path.is_file():
            raise TargetError(f"bad TARGET {target!r}: no file {location}")
        module_name = _module_name_for(path)
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise TargetError(f"bad TARGET {target!r}: cannot load {location}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(location)
        except ModuleNotFoundError as exc:
            raise TargetError(f"bad TARGET {target!r}: no module named {exc.name!r}") from None
    app = getattr(module, attribute, None)
    if app is None:
        raise TargetError(f"bad TARGET {target!r}: {location} has no attribute {attribute!r}")
    if not isinstance(app, McpApp):
        raise TargetError(f"bad TARGET {target!r}: {attribute} is a {type(app).__name__}, not an McpApp")
    return app


def _module_name_for(path: pathlib.Path) -> str:
    """A dotted name when the file sits inside packages under the working directory, so its relative imports work."""
    try:
        relative = path.resolve().relative_to(pathlib.Path.cwd().resolve())
    except ValueError:
        return path.stem
    parts = list(relative.with_suffix("").parts)
    return ".".join(parts) if all(part.isidentifier() for part in parts) else path.stem


# -- the security plug points: identity and authorization are wired in here ---------------------------------------


def add_security_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of the identity and authorization layers (read by ``server_security``)."""
    identity = parser.add_argument_group("identity (SPIFFE)")
    identity.add_argument(
        "--spiffe-socket",
        default=os.environ.get("SPIFFE_ENDPOINT_SOCKET"),
        help="SPIFFE Workload API socket; mTLS with its X.509-SVID (default $SPIFFE_ENDPOINT_SOCKET)",
    )
    identity.add_argument(
        "--trust-domain",
        action="append",
        default=[],
        metavar="NAME",
        help="accept callers of this trust domain (repeatable; default: our own trust domain only)",
    )
    identity.add_argument(
        "--jwt-audience", help="accept JWT-SVID bearer tokens for this audience (authorization: Bearer ...)"
    )
    identity.add_argument(
        "--client-auth",
        choices=("mtls", "jwt"),
        default="mtls",
        help="mtls (default): callers present an X.509-SVID; a JWT-SVID they add must name the same SPIFFE ID. "
        "jwt: for callers behind an L7 proxy that ends their TLS: TLS authenticates this server only and every call "
        "must carry a JWT-SVID (needs --jwt-audience)",
    )
    identity.add_argument(
        "--jwt-delegate",
        action="append",
        default=[],
        metavar="SPIFFE_ID",
        help="a proxy or bridge whose mTLS connection may carry its callers' JWT-SVIDs; the call is authorized as the "
        "token's subject and audited with the delegate as actor (repeatable; needs --jwt-audience)",
    )
    identity.add_argument(
        "--jwt-max-lifetime",
        type=float,
        default=3600.0,
        metavar="SECONDS",
        help="refuse JWT-SVIDs living longer than this (exp - iat, and exp - now; default 3600)",
    )
    identity.add_argument(
        "--max-connection-age",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="close connections after this long so they never outlive identities (default 300)",
    )
    identity.add_argument(
        "--max-connection-age-grace",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="calls still running on a connection past --max-connection-age get this long, then the connection "
        "closes, streams included (default 5)",
    )
    add_authz_flags(parser)
    limits = parser.add_argument_group("rate limits (docs/security-teams.md, Limits)")
    limits.add_argument(
        "--limits",
        metavar="FILE",
        help="rate limits and concurrency caps of tool calls, reloaded on change (default: limits.yaml in "
        "--authz-dir when present)",
    )
    limits.add_argument(
        "--limits-redis",
        metavar="URL",
        default=os.environ.get("MCP_GRPC_LIMITS_REDIS"),
        help="keep rate-limit buckets in this Redis, shared by every replica (redis://host:port/db; needs "
        "mcp-grpc[redis]; default $MCP_GRPC_LIMITS_REDIS, else in this process)",
    )
    inputs = parser.add_argument_group("input requests (MRTR)")
    inputs.add_argument(
        "--request-state-keys",
        metavar="FILE",
        default=os.environ.get("MCP_GRPC_REQUEST_STATE_KEYS"),
        help="AES-256 keys sealing request_state, one per line (64 hex digits or base64); the first seals, all open, "
        "so keys rotate; every replica needs the same file (default $MCP_GRPC_REQUEST_STATE_KEYS, else a random key "
        "of this process)",
    )
    inputs.add_argument(
        "--request-state-ttl", type=float, default=600.0, metavar="SECONDS",
        help="how long a client may take to answer and retry (default 600)",
    )
    audit = parser.add_argument_group("audit")
    audit.add_argument("--audit-log", metavar="FILE", help="write audit records (JSON lines) here; default: stderr")
    audit.add_argument("--audit-arguments", action="store_true", help="include argument values in audit records")
    audit.add_argument(
        "--audit-required",
        action="store_true",
        help="refuse every call (UNAVAILABLE) while audit records cannot be written, e.g. on a full disk",
    )
    parser.add_argument(
        "--health-port",
        type=port_number(1),
        metavar="PORT",
        help="also serve grpc.health.v1 alone, in plaintext, on this port (for kubelet probes); it answers only "
        "the overall status",
    )
    parser.add_argument(
        "--health-port-services",
        action="store_true",
        help="let --health-port also answer each service's status (it then confirms service names to anyone)",
    )
    parser.add_argument(
        "--reflection",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve gRPC server reflection to authenticated callers allowed can_call on "
        "method:SERVER//grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo, audited "
        "(default: only with --insecure-local)",
    )


def server_security(args: argparse.Namespace) -> dict[str, Any]:
    """ServerConfig fields for identity (``credentials``, ``authenticator``) and authorization (``authorizer``,
    ``audit_sink``) from the command line.

    Fails closed: an mTLS server must name its authorization (``--authz-dir``, ``--openfga-url``) or say
    ``--no-authz``; a Workload API that gives no SVID stops the start with the reason.
    """
    from mcp_grpc.server import security

    fields: dict[str, Any] = {}
    check_authz_flags(args, TargetError)
    has_authz = bool(args.authz_dir or args.openfga_url)
    if args.spiffe_socket and not args.insecure_local:
        if not has_authz and not args.no_authz:
            raise TargetError(
                "no authorization configured: give --authz-dir DIR or --openfga-url URL --openfga-store ID "
                "(or --no-authz to let every authenticated caller use every tool)"
            )
        _check_jwt_flags(args)
        if not args.max_connection_age > 0:
            raise TargetError("--max-connection-age must be > 0 seconds")
        if not args.max_connection_age_grace >= 0:
            raise TargetError("--max-connection-age-grace must be >= 0 seconds")
        try:
            identity = security.ServerIdentity.from_workload_api(
                args.spiffe_socket,
                accepted_trust_domains=args.trust_domain or None,
                jwt_audience=args.jwt_audience,
                client_auth=args.client_auth,
                jwt_delegates=args.jwt_delegate,
                jwt_max_lifetime=datetime.timedelta(seconds=args.jwt_max_lifetime),
                max_connection_age=args.max_connection_age,
                max_connection_age_grace=args.max_connection_age_grace,
            )
        except Exception as exc:  # X509SourceError and friends: say why and stop
            raise TargetError(f"cannot get an X.509-SVID from {args.spiffe_socket}: {exc}") from None
        fields.update(identity.config_fields())
        args.svid_not_after = identity.svid_not_after  # for the expiry gauge (configure_telemetry)
    authorizer = authorizer_from_args(args, security, TargetError)
    if authorizer is not None:
        fields["authorizer"] = authorizer
    limiter = _limiter(args, security)
    if limiter is not None:
        fields["limiter"] = limiter
    if args.request_state_ttl <= 0:
        raise TargetError("--request-state-ttl must be > 0 seconds")
    fields["request_state_ttl"] = args.request_state_ttl
    if args.request_state_keys:
        from mcp_grpc.server import RequestStateKeys

        try:
            fields["request_state_keys"] = RequestStateKeys.from_file(args.request_state_keys)
        except ValueError as exc:
            raise TargetError(f"--request-state-keys: {exc}") from None
    fields["audit_sink"] = security.json_audit_sink(args.audit_log, include_arguments=args.audit_arguments)
    fields["audit_arguments"] = args.audit_arguments
    fields["audit_required"] = args.audit_required
    if args.health_port is not None:
        fields["health_port"] = args.health_port
    elif args.health_port_services:
        raise TargetError("--health-port-services needs --health-port PORT")
    fields["health_port_services"] = args.health_port_services
    fields["reflection"] = args.reflection
    return fields


def _limiter(args: argparse.Namespace, security: Any) -> Any:
    """The limiter of ``--limits`` (or ``--authz-dir``'s limits.yaml) and ``--limits-redis``; None without them."""
    from mcp_grpc.authz.limits import LIMITS_FILE_NAME, LimitsFileError

    path = args.limits
    if path is None and args.authz_dir and (pathlib.Path(args.authz_dir) / LIMITS_FILE_NAME).is_file():
        path = str(pathlib.Path(args.authz_dir) / LIMITS_FILE_NAME)
    if path is None and not args.limits_redis:
        return None
    try:
        return security.limiter(path, redis_url=args.limits_redis)
    except LimitsFileError as exc:
        raise TargetError(f"bad limits file: {exc}") from None
    except (ImportError, ValueError) as exc:
        raise TargetError(f"--limits-redis: {exc}") from None


def _check_jwt_flags(args: argparse.Namespace) -> None:
    """The JWT-SVID flags make sense together, or the start stops with which one is wrong."""
    from mcp_grpc.identity.errors import SpiffeIdError
    from mcp_grpc.identity.spiffeid import parse_spiffe_id

    if args.client_auth == "jwt" and not args.jwt_audience:
        raise TargetError("--client-auth jwt needs --jwt-audience AUDIENCE: every call must carry a JWT-SVID for it")
    if args.jwt_delegate and not args.jwt_audience:
        raise TargetError("--jwt-delegate needs --jwt-audience AUDIENCE (delegates relay JWT-SVIDs)")
    if not args.jwt_max_lifetime > 0:
        raise TargetError("--jwt-max-lifetime must be > 0 seconds")
    for delegate in args.jwt_delegate:
        try:
            parse_spiffe_id(delegate)
        except SpiffeIdError as exc:
            raise TargetError(f"--jwt-delegate {delegate[:80]!r}: {exc}") from None


def add_telemetry_flags(parser: argparse.ArgumentParser) -> None:
    """``--otel-console``: spans and metrics on stdout for development. Otherwise install OpenTelemetry SDK providers
    the standard way (e.g. run under ``opentelemetry-instrument``, configured by ``OTEL_*`` variables); the server
    follows the global providers."""
    group = parser.add_argument_group("telemetry (OpenTelemetry)")
    group.add_argument(
        "--otel-console",
        action="store_true",
        help="print call spans and periodic metrics to stdout (development; production: OTEL_* with an SDK)",
    )
    group.add_argument(
        "--otel-metrics-interval",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="with --otel-console: seconds between metric printouts (default 10)",
    )
    group.add_argument(
        "--otlp",
        action="store_true",
        help="export spans and metrics over OTLP/HTTP, configured by OTEL_EXPORTER_OTLP_ENDPOINT and the other "
        "OTEL_* variables (extra: mcp-grpc[otel])",
    )
    group.add_argument(
        "--metrics-port",
        type=port_number(0),
        metavar="PORT",
        help="serve Prometheus /metrics in plaintext on this port of --host (0 picks one; extra: mcp-grpc[otel])",
    )
    group.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="json: one JSON object per log line (time, level, logger, message); gRPC's own C-core logging is "
        "quieted to errors unless GRPC_VERBOSITY is set",
    )


def configure_telemetry(args: argparse.Namespace, service_name: str, config: Any = None) -> None:
    """Install the exporters asked for (``--otel-console``, ``--otlp``, ``--metrics-port``) and the operational
    gauges of ``config``'s audit sink."""
    console, otlp = getattr(args, "otel_console", False), getattr(args, "otlp", False)
    metrics_port = getattr(args, "metrics_port", None)
    if console and args.otel_metrics_interval <= 0:
        raise TargetError("--otel-metrics-interval must be > 0")
    if console or otlp or metrics_port is not None:
        from mcp_grpc.server.exporters import ExporterMissing, install_exporters

        try:
            bound = install_exporters(
                service_name=service_name, otlp=otlp, console=console, console_interval=args.otel_metrics_interval,
                prometheus=(args.host, metrics_port) if metrics_port is not None else None,
            )
        except (ExporterMissing, ValueError) as exc:
            raise TargetError(str(exc)) from None
        if bound is not None:
            logging.getLogger("mcp_grpc.server").info("Prometheus metrics on http://%s:%d/metrics", args.host, bound)
    if config is not None:
        from mcp_grpc.server.exporters import observe_operations

        observe_operations(audit_sink=config.audit_sink, svid_not_after=getattr(args, "svid_not_after", None))


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (UTC, ms), ``level``, ``logger``, ``message`` (and ``exception``)."""

    def format(self, record: logging.LogRecord) -> str:
        import datetime
        import json

        stamp = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc)
        out = {"time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"), "level": record.levelname,
               "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(args: argparse.Namespace) -> None:
    if getattr(args, "log_format", "text") == "json":
        os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # read by grpc's core when it starts
        handler = logging.StreamHandler()
        handler.setFormatter(JsonLogFormatter())
        logging.basicConfig(level=args.log_level.upper(), handlers=[handler])
    else:
        logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# -- commands -----------------------------------------------------------------------------------------------------


def _serve(args: argparse.Namespace) -> int:
    from mcp_grpc.server import ConfigError, ServerConfig, StartupError, serve

    configure_logging(args)
    if args.workers > 1 and args.worker_fd is None:
        return _supervise(args)
    on_started = None
    if args.worker_fd is not None:  # one worker of `serve --workers N`: its supervisor announces, not us
        from mcp_grpc.server.workers import worker_started

        on_started = worker_started(args.worker_fd)
        if args.audit_log:
            args.audit_log = f"{args.audit_log}.w{args.worker_index}"
    shared_key = os.environ.pop(WORKER_STATE_KEY_ENV, None)  # popped: the app's own subprocesses never see it
    try:
        app = load_app(args.target)
        fields = server_security(args)
        if shared_key is not None and args.worker_fd is not None and not args.request_state_keys:
            from mcp_grpc.server import RequestStateKeys

            fields["request_state_keys"] = RequestStateKeys([bytes.fromhex(shared_key)])
        config = ServerConfig(
            host=args.host,
            port=args.port,
            uds=args.uds,
            insecure_local=args.insecure_local,
            drain_seconds=args.drain,
            **_transport_fields(args),
            **fields,
        )
        config.check()
        configure_telemetry(args, app.name, config)
    except (TargetError, ConfigError) as exc:
        print(f"mcp-grpc serve: {exc}", file=sys.stderr)
        return 2
    try:
        asyncio.run(serve(app, config, on_started=on_started))
    except (ConfigError, StartupError) as exc:
        print(f"mcp-grpc serve: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


def _transport_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The transport flags' fields; a worker of ``--workers N`` also shares its port with the others (SO_REUSEPORT,
    which ServerConfig turns off otherwise) and leaves the "serving" line to its supervisor."""
    fields = transport_fields(args)
    if args.worker_fd is not None:
        fields["reuse_port"] = True
        fields["announce"] = False
    return fields


def _supervise(args: argparse.Namespace) -> int:
    """``--workers N`` (N > 1): start N copies of this command as workers on one port and keep them."""
    from mcp_grpc.server.workers import Supervisor, reserve_port

    if args.uds:
        print("mcp-grpc serve: --workers needs --host/--port: a Unix socket cannot be shared by worker processes "
              "(run one server per socket)", file=sys.stderr)
        return 2
    if getattr(args, "metrics_port", None) is not None:
        print("mcp-grpc serve: --metrics-port is not supported with --workers > 1 (each worker has its own "
              "metrics; export them with --otlp)", file=sys.stderr)
        return 2
    try:
        port, holder = reserve_port(args.host, args.port)
    except OSError as exc:
        print(f"mcp-grpc serve: cannot pick a port on {args.host}: {exc}", file=sys.stderr)
        return 2
    argv = list(getattr(args, "argv", None) or sys.argv[1:])
    env = dict(os.environ)
    if not args.request_state_keys:  # one key for all: a retry may reach another worker than the first round
        env[WORKER_STATE_KEY_ENV] = os.urandom(32).hex()

    def command(index: int, fd: int) -> list[str]:
        return [sys.executable, "-m", "mcp_grpc", *argv, "--workers", "1", "--port", str(port),
                "--worker-index", str(index), "--worker-fd", str(fd)]

    supervisor = Supervisor(args.workers, command, drain_seconds=args.drain, port_holder=holder, env=env)
    return supervisor.run()


def worker_count(text: str) -> int:
    """An argparse type: ``auto`` (one worker per CPU) or a whole number >= 1."""
    if text == "auto":
        return os.cpu_count() or 1
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers (a whole number >= 1, or auto)") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} workers: give at least 1 (or auto)")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="serve an McpApp over gRPC")
    serve.add_argument("target", metavar="TARGET", help="package.module:app or path/to/file.py:app")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number(0), default=50051, help="port to listen on (default 50051; 0 picks one)")
    serve.add_argument("--uds", metavar="PATH", help="listen on this Unix socket instead of host:port")
    serve.add_argument(
        "--insecure-local",
        action="store_true",
        help="plaintext for development: loopback or Unix socket only, every caller is spiffe://insecure.local/dev",
    )
    serve.add_argument("--drain", type=float, default=5.0, help="seconds calls in flight get on SIGTERM (default 5)")
    serve.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    serve.add_argument(
        "--workers",
        type=worker_count,
        default=1,
        metavar="N",
        help="serve from N processes sharing --port (SO_REUSEPORT), each with its own app, engine and cache; "
        "auto: one per CPU. A supervisor forwards SIGTERM/SIGINT (each worker drains) and restarts a worker that "
        "crashes; --audit-log FILE becomes FILE.w0, FILE.w1, ... (default 1: this process serves)",
    )
    serve.add_argument("--worker-index", type=int, default=0, help=argparse.SUPPRESS)  # set by the supervisor
    serve.add_argument("--worker-fd", type=int, default=None, help=argparse.SUPPRESS)  # set by the supervisor
    add_security_flags(serve)
    add_transport_flags(serve)
    add_telemetry_flags(serve)
    serve.set_defaults(handler=_serve)
