"""``mcp-grpc identity``: the development SPIFFE Workload API server and its admin client.

    mcp-grpc identity dev --trust-domain example.org --socket-dir DIR --workload NAME=SPIFFE_ID [...]
    mcp-grpc identity admin --socket-dir DIR status | rotate-ca | remove-identity NAME | ...
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import pathlib
import re
import sys
from typing import Any

__all__ = ["UsageError", "parse_duration", "register"]

_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # fullmatch: "$" would let a final newline through
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


class UsageError(Exception):
    """A flag value is invalid; the message names the flag and says what is wrong."""


def parse_duration(flag: str, text: str) -> datetime.timedelta:
    """Parse ``90s``, ``5m``, ``1h30m``, ``500ms`` or a bare number of seconds."""
    text = text.strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        seconds = float(text)
    else:
        pos, seconds = 0, 0.0
        for match in _DURATION_PART.finditer(text):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
            pos = match.end()
        if pos != len(text) or not text:
            raise UsageError(f"{flag}: {text!r} is not a duration such as 30s, 5m, 1h or 1h30m")
    if seconds <= 0:
        raise UsageError(f"{flag}: the duration must be positive, got {text!r}")
    return datetime.timedelta(seconds=seconds)


def _pair(flag: str, value: str, what: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name or not rest:
        raise UsageError(f"{flag}: expected {what}, got {value!r}")
    return name, rest


def register(subparsers: argparse._SubParsersAction) -> None:
    identity = subparsers.add_parser("identity", help="SPIFFE identity tools (development Workload API)")
    sub = identity.add_subparsers(dest="identity_command", metavar="SUBCOMMAND")
    identity.set_defaults(handler=lambda args: (identity.print_help(sys.stderr), 2)[1])

    dev = sub.add_parser(
        "dev",
        help="run a development SPIFFE Workload API server",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=(
            "Serve the SPIFFE Workload API for local development and tests: one Unix socket per workload at\n"
            "DIR/NAME.sock (gRPC Python cannot see a peer's uid or pid, so the socket is the attestation), the\n"
            "trust bundle at DIR/bundle.pem and the full SPIFFE bundle (with JWT keys) at DIR/bundle.spiffe.json.\n"
            "Runs in the foreground until SIGTERM or SIGINT.\n\n"
            "Rotation: X.509-SVIDs are re-issued at half their TTL. The generated CA and the JWT signing key rotate\n"
            "in two steps, as in SPIRE: at 1/2 of --ca-ttl the next one is added to the bundle (prepare), at 5/6 it\n"
            "starts signing (activate); the old one leaves the bundle once what it signed has expired.\n"
            "SIGHUP (or `identity admin rotate-ca`) prepares a new CA and JWT key now and activates them after\n"
            "--ca-activation-delay.\n\n"
            "Admin socket (DIR/_admin.sock): see `mcp-grpc identity admin --help` to rotate the CA in steps, remove\n"
            "or restore a workload's identity, force an SVID rotation or read the status.\n\n"
            "Leaves are signed directly by the bundle root (no intermediate), so verifiers that see only the peer's\n"
            "leaf certificate can still verify it.\n\n"
            "Security: whoever can open DIR/NAME.sock receives NAME's identity. A DIR created here is mode 0700;\n"
            "this server is for development and tests, not production (use SPIRE there)."
        ),
        epilog=(
            "example:\n"
            "  mcp-grpc identity dev --trust-domain example.org --socket-dir /tmp/spiffe \\\n"
            "      --workload server=spiffe://example.org/ns/dev/sa/server --dns-name server=server.example.org \\\n"
            "      --workload agent=spiffe://example.org/ns/dev/sa/agent --x509-ttl 10m\n"
            "  SPIFFE_ENDPOINT_SOCKET=unix:///tmp/spiffe/server.sock mcp-grpc serve ..."
        ),
    )
    dev.add_argument("--trust-domain", required=True, help="trust domain name, e.g. example.org")
    dev.add_argument("--socket-dir", required=True, type=pathlib.Path, help="directory for sockets and bundle files")
    dev.add_argument("--workload", action="append", default=[], metavar="NAME=SPIFFE_ID",
                     help="a workload served at DIR/NAME.sock (repeatable; at least one)")
    dev.add_argument("--dns-name", action="append", default=[], metavar="NAME=DNS_NAME",
                     help="add a DNS SAN to workload NAME's X.509-SVID (repeatable); servers need one for TLS clients")
    dev.add_argument("--ca-cert", type=pathlib.Path, metavar="FILE",
                     help="bring your own CA certificate (PEM; CA=true); it signs SVIDs directly")
    dev.add_argument("--ca-key", type=pathlib.Path, metavar="FILE", help="the private key of --ca-cert (PEM)")
    dev.add_argument("--federate", action="append", default=[], metavar="TRUST_DOMAIN=BUNDLE",
                     help="trust another domain: BUNDLE is PEM certificates or a SPIFFE bundle JSON (e.g. another "
                          "dev server's bundle.spiffe.json); the file is re-read when it changes (repeatable)")
    dev.add_argument("--x509-ttl", default="1h", metavar="DURATION", help="X.509-SVID lifetime (default 1h)")
    dev.add_argument("--jwt-ttl", default="5m", metavar="DURATION", help="JWT-SVID lifetime (default 5m)")
    dev.add_argument("--ca-ttl", default=None, metavar="DURATION",
                     help="lifetime of the generated CA and JWT key; drives automatic rotation (default 24h; "
                          "at least twice --x509-ttl; not with --ca-cert)")
    dev.add_argument("--ca-rotation", choices=("auto", "manual"), default="auto",
                     help="auto: rotate by --ca-ttl; manual: only on SIGHUP or admin command (default auto)")
    dev.add_argument("--ca-activation-delay", default="5s", metavar="DURATION",
                     help="for SIGHUP and `admin rotate-ca`: how long a prepared CA sits in the bundle before it "
                          "signs, so every consumer learns it first (default 5s)")
    dev.add_argument("--state-dir", type=pathlib.Path, metavar="DIR",
                     help="keep the CA and JWT keys here (private keys, mode 0600) so a restart keeps trust")
    dev.add_argument("--admin-socket", type=pathlib.Path, metavar="PATH",
                     help="admin socket path (default DIR/_admin.sock)")
    dev.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    dev.set_defaults(handler=_run_dev)

    admin = sub.add_parser(
        "admin",
        help="control a running development Workload API server",
        description="Send a command to a running `mcp-grpc identity dev` through its admin socket; prints JSON.",
    )
    target = admin.add_mutually_exclusive_group(required=True)
    target.add_argument("--socket-dir", type=pathlib.Path, help="the dev server's --socket-dir")
    target.add_argument("--admin-socket", type=pathlib.Path, help="the dev server's admin socket path")
    commands = admin.add_subparsers(dest="admin_command", metavar="COMMAND", required=True)
    commands.add_parser("status", help="workloads, current SVIDs, CA and JWT authorities")
    rotate = commands.add_parser("rotate-ca", help="rotate the CA and/or JWT signing key")
    rotate.add_argument("--step", choices=("prepare", "activate", "full"), default="full",
                        help="prepare: add the next authority to the bundle; activate: make it sign; full: prepare "
                             "now and activate after --ca-activation-delay (default)")
    rotate.add_argument("--which", choices=("x509", "jwt", "both"), default="both",
                        help="for prepare/activate: which authority (default both)")
    for name, text in (
        ("remove-identity", "stop issuing for a workload: its streams end with PermissionDenied"),
        ("restore-identity", "issue for a removed workload again"),
        ("rotate-svid", "re-issue a workload's X.509-SVID now"),
    ):
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("name", help="the workload NAME given to --workload")
    admin.set_defaults(handler=_run_admin)


def build_dev_config(args: argparse.Namespace) -> Any:
    """Turn parsed ``identity dev`` flags into a DevServerConfig, or raise UsageError naming the bad flag."""
    from mcp_grpc.identity.workload_dev.authorities import load_ca
    from mcp_grpc.identity.workload_dev.ca_inputs import CaError, validate_dns_name, validate_spiffe_id_for, validate_trust_domain
    from mcp_grpc.identity.workload_dev.runner import MAX_SOCKET_PATH, DevServerConfig
    from mcp_grpc.identity.workload_dev.state import FederationError, WorkloadSpec, load_federated_bundle

    try:
        trust_domain = validate_trust_domain(args.trust_domain)
    except CaError as exc:
        raise UsageError(f"--trust-domain: {exc}") from None
    if not args.workload:
        raise UsageError("--workload: at least one NAME=SPIFFE_ID is required")
    ids: dict[str, str] = {}
    for value in args.workload:
        name, spiffe_id = _pair("--workload", value, "NAME=SPIFFE_ID")
        if not _NAME_RE.fullmatch(name):
            raise UsageError(
                f"--workload: name {name!r} must be 1-64 of [A-Za-z0-9._-], starting with a letter or digit"
            )
        if name in ids:
            raise UsageError(f"--workload: name {name!r} is given twice")
        try:
            validate_spiffe_id_for(trust_domain, spiffe_id)
        except CaError as exc:
            raise UsageError(f"--workload {name}: {exc}") from None
        ids[name] = spiffe_id
    dns: dict[str, list[str]] = {name: [] for name in ids}
    for value in args.dns_name:
        name, dns_name = _pair("--dns-name", value, "NAME=DNS_NAME")
        if name not in ids:
            raise UsageError(f"--dns-name: no --workload named {name!r}")
        try:
            dns[name].append(validate_dns_name(dns_name))
        except CaError:
            raise UsageError(f"--dns-name: {dns_name!r} is not a valid DNS host name") from None

    socket_dir = args.socket_dir.resolve()
    if socket_dir.exists() and not socket_dir.is_dir():
        raise UsageError(f"--socket-dir: {socket_dir} exists and is not a directory")
    longest = max([f"{n}.sock" for n in ids] + ["_admin.sock"], key=len)
    if len(str(socket_dir / longest).encode()) > MAX_SOCKET_PATH:
        raise UsageError(
            f"--socket-dir: {socket_dir / longest} is longer than the {MAX_SOCKET_PATH}-byte limit of a Unix socket "
            "path; use a shorter directory"
        )

    x509_ttl = parse_duration("--x509-ttl", args.x509_ttl)
    jwt_ttl = parse_duration("--jwt-ttl", args.jwt_ttl)
    delay = parse_duration("--ca-activation-delay", args.ca_activation_delay)
    if x509_ttl < datetime.timedelta(seconds=2):
        raise UsageError("--x509-ttl: must be at least 2s")
    if jwt_ttl < datetime.timedelta(seconds=2):
        raise UsageError("--jwt-ttl: must be at least 2s")

    ca = None
    if (args.ca_cert is None) != (args.ca_key is None):
        raise UsageError("--ca-cert and --ca-key go together: give both or neither")
    if args.ca_cert is not None:
        if args.ca_ttl is not None:
            raise UsageError("--ca-ttl: applies to the generated CA only; a CA given with --ca-cert is not rotated")
        try:
            cert_pem = args.ca_cert.read_bytes()
        except OSError as exc:
            raise UsageError(f"--ca-cert: cannot read {args.ca_cert}: {exc.strerror}") from None
        try:
            key_pem = args.ca_key.read_bytes()
        except OSError as exc:
            raise UsageError(f"--ca-key: cannot read {args.ca_key}: {exc.strerror}") from None
        try:
            ca = load_ca(cert_pem, key_pem)
        except CaError as exc:
            raise UsageError(f"--ca-cert/--ca-key: {exc}") from None
        if ca.not_after - datetime.datetime.now(datetime.timezone.utc) < x509_ttl:
            logging.getLogger("mcp_grpc.identity.dev").warning(
                "the CA expires at %s, before a full --x509-ttl; SVIDs will be cut short", ca.not_after.isoformat()
            )
    ca_ttl = parse_duration("--ca-ttl", args.ca_ttl) if args.ca_ttl is not None else datetime.timedelta(hours=24)
    if ca is None and ca_ttl < 2 * x509_ttl:
        raise UsageError(
            f"--ca-ttl: {args.ca_ttl or '24h'} must be at least twice --x509-ttl ({args.x509_ttl}) so a rotated CA "
            "outlives the SVIDs it signed"
        )

    federate: dict[str, pathlib.Path] = {}
    for value in args.federate:
        td, path = _pair("--federate", value, "TRUST_DOMAIN=BUNDLE_FILE")
        try:
            validate_trust_domain(td)
        except CaError as exc:
            raise UsageError(f"--federate: {exc}") from None
        if td == trust_domain:
            raise UsageError(f"--federate: {td} is our own trust domain")
        if td in federate:
            raise UsageError(f"--federate: trust domain {td} is given twice")
        try:
            load_federated_bundle(td, pathlib.Path(path))
        except FederationError as exc:
            raise UsageError(f"--federate: {exc}") from None
        federate[td] = pathlib.Path(path).resolve()

    state_dir = args.state_dir.resolve() if args.state_dir is not None else None
    if state_dir is not None and state_dir.exists() and not state_dir.is_dir():
        raise UsageError(f"--state-dir: {state_dir} exists and is not a directory")
    admin_socket = args.admin_socket.resolve() if args.admin_socket is not None else None
    if admin_socket is not None and len(str(admin_socket).encode()) > MAX_SOCKET_PATH:
        raise UsageError(f"--admin-socket: {admin_socket} is longer than {MAX_SOCKET_PATH} bytes")

    return DevServerConfig(
        trust_domain=trust_domain,
        socket_dir=socket_dir,
        workloads=[WorkloadSpec(n, ids[n], tuple(dns[n])) for n in ids],
        x509_ttl=x509_ttl,
        jwt_ttl=jwt_ttl,
        ca_ttl=ca_ttl,
        automatic_ca_rotation=args.ca_rotation == "auto",
        ca=ca,
        federate=federate,
        state_dir=state_dir,
        ca_activation_delay=delay,
        admin_socket=admin_socket,
    )


def _run_dev(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, args.log_level.upper()),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        config = build_dev_config(args)
    except UsageError as exc:
        print(f"mcp-grpc identity dev: error: {exc}", file=sys.stderr)
        return 2
    from mcp_grpc.identity.workload_dev.runner import run

    return run(config)


def _run_admin(args: argparse.Namespace) -> int:
    from mcp_grpc.identity.workload_dev.admin import ADMIN_SOCKET_NAME, AdminError, admin_request

    path = str(args.admin_socket if args.admin_socket is not None else args.socket_dir / ADMIN_SOCKET_NAME)
    command = args.admin_command
    kwargs: dict[str, Any] = {}
    if command == "rotate-ca":
        kwargs = {"step": args.step, "which": args.which}
    elif command != "status":
        kwargs = {"name": args.name}
    try:
        result = admin_request(path, command, **kwargs)
    except AdminError as exc:
        print(f"mcp-grpc identity admin: error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0
