"""What every client command shares: how to reach the server (address, identity or static certificates, metadata,
timeout), reading ``-d`` data, and turning a failed rpc into a message and an exit code.

    mcp-grpc call ADDRESS TOOL -d @args.json -H 'mcp-authz-consistency: HIGHER_CONSISTENCY'
    mcp-grpc tools ADDRESS --cacert bundle.pem --cert svid.pem --key svid.key --server-dns-name payments.local
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import pathlib
import re
import sys
from typing import Any, Callable

from mcp_grpc.cli import exit_codes
from mcp_grpc.cli.workload_socket import missing_socket_reason

__all__ = [
    "CommandError",
    "UsageError",
    "add_connection_flags",
    "client_security",
    "open_client",
    "parse_metadata",
    "read_json_object",
    "run_client_command",
]


class UsageError(Exception):
    """Bad command-line input: the command's usage is printed above the message, exit 2."""


class CommandError(Exception):
    """A precise reason the command cannot run (a missing file, a bad certificate): one line, exit 2."""


# -- flags ------------------------------------------------------------------------------------------------------


def add_connection_flags(parser: argparse.ArgumentParser, *, timeout: float) -> None:
    """ADDRESS, ``--timeout``, ``-H`` and the identity flags of a client command."""
    parser.add_argument("address", metavar="ADDRESS", help="host:port, unix:PATH or a gRPC target")
    parser.add_argument("--timeout", type=float, default=timeout, help=f"seconds to wait (default {timeout:g})")
    parser.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        dest="headers",
        metavar="'KEY: VALUE'",
        help="send this gRPC metadata with the call (repeatable), e.g. -H 'mcp-authz-consistency: HIGHER_CONSISTENCY'",
    )
    spiffe = parser.add_argument_group("identity (SPIFFE)")
    spiffe.add_argument(
        "--spiffe-socket",
        default=os.environ.get("SPIFFE_ENDPOINT_SOCKET"),
        help="SPIFFE Workload API socket: call with this workload's X.509-SVID (default $SPIFFE_ENDPOINT_SOCKET)",
    )
    spiffe.add_argument(
        "--server-dns-name",
        help="DNS SAN the server's certificate carries (grpcio verifies the server by it; also with --cacert)",
    )
    spiffe.add_argument("--server-trust-domain", help="the server's trust domain (default: ours)")
    spiffe.add_argument(
        "--insecure-local", action="store_true", help="plaintext even if SPIFFE_ENDPOINT_SOCKET is set"
    )
    static = parser.add_argument_group(
        "static certificates (instead of the Workload API, e.g. files written by spiffe-helper)"
    )
    static.add_argument("--cacert", metavar="FILE", help="PEM bundle that verifies the server's certificate")
    static.add_argument("--cert", metavar="FILE", help="PEM client certificate (chain) to present: our X.509-SVID")
    static.add_argument("--key", metavar="FILE", help="PEM private key of --cert")


# -- input --------------------------------------------------------------------------------------------------------


def read_json_object(value: str, flag: str) -> dict[str, Any]:
    """``value`` as a JSON object: inline JSON, ``@FILE`` or ``@-`` (standard input), as curl and grpcurl read -d."""
    where = flag
    if value.startswith("@"):
        source = value[1:]
        if source == "-":
            text, where = sys.stdin.read(), f"{flag} @- (standard input)"
        else:
            try:
                text = pathlib.Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{flag} {value}: cannot read {source}: {exc.strerror or exc}") from None
            except UnicodeDecodeError:
                raise UsageError(f"{flag} {value}: {source} is not UTF-8 text") from None
            where = f"{flag} {value}"
    else:
        text = value
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{where} must be a JSON object, got {_json_type(data)}")
    return data


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# gRPC metadata keys: lowercase letters, digits, '-', '_' and '.' (uppercase is folded, as HTTP/2 requires).
_METADATA_KEY = re.compile(r"[0-9a-z_.-]+")
_RESERVED_PREFIXES = ("grpc-", ":")


def parse_metadata(headers: list[str]) -> list[tuple[str, str | bytes]]:
    """``-H 'key: value'`` flags as gRPC metadata; ``-bin`` keys take base64 values (as grpcurl)."""
    metadata: list[tuple[str, str | bytes]] = []
    for header in headers:
        key, sep, value = header.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key:
            raise UsageError(f"-H {header!r}: expected 'KEY: VALUE'")
        if not _METADATA_KEY.fullmatch(key) or key.startswith(_RESERVED_PREFIXES):
            raise UsageError(
                f"-H {header!r}: {key!r} is not a metadata key a client may send (lowercase letters, digits, "
                f"'-', '_', '.'; not grpc-*)"
            )
        if key.endswith("-bin"):
            try:
                metadata.append((key, base64.b64decode(value, validate=True)))
            except binascii.Error:
                raise UsageError(f"-H {header!r}: a -bin key takes a base64 value") from None
        elif not value.isprintable() or not value.isascii():
            raise UsageError(f"-H {header!r}: the value must be printable ASCII (use a -bin key for bytes)")
        else:
            metadata.append((key, value))
    return metadata


# -- the client ---------------------------------------------------------------------------------------------------


def client_security(args: argparse.Namespace) -> dict[str, Any]:
    """AsyncClient keyword arguments for the caller's identity: static certificates, a rotating SPIFFE channel from
    the Workload API, or plaintext (only an --insecure-local server, on loopback or a Unix socket, answers that)."""
    static = [flag for flag in ("cacert", "cert", "key") if getattr(args, flag)]
    if static:
        if args.insecure_local:
            raise UsageError("--insecure-local is plaintext: it cannot be combined with --cacert/--cert/--key")
        return _static_credentials(args)
    if args.insecure_local or not args.spiffe_socket:
        return {}
    if not args.server_dns_name:
        raise UsageError("--spiffe-socket needs --server-dns-name: grpcio verifies the server by a DNS SAN")
    reason = missing_socket_reason(args.spiffe_socket)
    if reason:
        raise CommandError(reason)
    from mcp_grpc.client import ClientIdentity

    try:
        identity = ClientIdentity.from_workload_api(
            args.spiffe_socket, server_dns_name=args.server_dns_name, server_trust_domain=args.server_trust_domain
        )
    except Exception as exc:  # X509SourceError and friends: say why and stop
        raise CommandError(f"cannot get an X.509-SVID from {args.spiffe_socket}: {exc}") from None
    channel = identity.channel(args.address)
    return {"channel_provider": lambda: channel.channel}


def _static_credentials(args: argparse.Namespace) -> dict[str, Any]:
    import grpc

    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together: the certificate to present and its private key")
    if not args.cacert:
        raise UsageError("--cert/--key need --cacert: the bundle that verifies the server")
    contents: dict[str, bytes | None] = {}
    for flag in ("cacert", "cert", "key"):
        path = getattr(args, flag)
        if path is None:
            contents[flag] = None
            continue
        try:
            data = pathlib.Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"--{flag} {path}: {exc.strerror or exc}") from None
        if b"-----BEGIN " not in data:
            raise CommandError(f"--{flag} {path}: not a PEM file (no -----BEGIN line)")
        contents[flag] = data
    if contents["cert"] is not None:
        _check_client_certificate(args.cert, contents["cert"])
    credentials = grpc.ssl_channel_credentials(
        root_certificates=contents["cacert"], private_key=contents["key"], certificate_chain=contents["cert"]
    )
    return {"credentials": credentials, "server_name_override": args.server_dns_name}


def _check_client_certificate(path: str, data: bytes) -> None:
    """Refuse a ``--cert`` whose leaf is not valid now: the server's TLS handshake would refuse it before any
    mcp-grpc code runs, so the caller would only see UNAVAILABLE and the server would audit nothing."""
    import datetime

    from cryptography import x509

    try:
        leaf = x509.load_pem_x509_certificates(data)[0]
    except ValueError as exc:
        raise CommandError(f"--cert {path}: not a PEM certificate ({exc})") from None
    now = datetime.datetime.now(datetime.timezone.utc)
    if leaf.not_valid_after_utc <= now:
        raise CommandError(
            f"--cert {path}: the certificate expired at {leaf.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}; a server's "
            "TLS handshake refuses it before the call (fetch a fresh SVID, or use --spiffe-socket)"
        )
    if leaf.not_valid_before_utc > now:
        raise CommandError(
            f"--cert {path}: the certificate is not valid before {leaf.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}"
        )


def open_client(args: argparse.Namespace) -> Any:
    """An ``AsyncClient`` for ``args.address`` with the flags' identity, metadata and timeout."""
    from mcp_grpc.client import AsyncClient

    metadata = parse_metadata(args.headers)
    security = client_security(args)
    args.plaintext = not security  # for the explanation of a failure
    return AsyncClient(
        args.address, timeout=args.timeout, metadata=(lambda: metadata) if metadata else None, **security
    )


# -- running and reporting ----------------------------------------------------------------------------------------


def run_client_command(command: Callable[[argparse.Namespace], Any]) -> Callable[[argparse.Namespace], int]:
    """Run an async command; a failed rpc becomes a message and exit 64 + its status (see ``exit_codes``)."""

    def handler(args: argparse.Namespace) -> int:
        import asyncio

        from mcp_grpc.client import AddressError, McpCallError

        try:
            return asyncio.run(command(args))
        except AddressError as exc:
            raise UsageError(str(exc)) from None
        except CommandError as exc:
            print(f"mcp-grpc {args.command}: {exc}", file=sys.stderr)
            return exit_codes.USAGE
        except McpCallError as exc:
            print(f"mcp-grpc {args.command}: {explain(exc, args)}", file=sys.stderr)
            return exit_codes.for_status(exc.status)

    return handler


def explain(error: Any, args: argparse.Namespace) -> str:
    """One line for a failed rpc: the status and the server's reason, and what is likely wrong when the failure
    happened before the server could answer."""
    import grpc

    status, message = error.status, error.message
    if status == grpc.StatusCode.UNAVAILABLE and message.startswith("authorization unavailable"):
        return f"{args.address} could not authorize the call (its authorization backend failed): {message}"
    if status == grpc.StatusCode.UNAVAILABLE:
        hint = _connection_hint(message, plaintext=getattr(args, "plaintext", False))
        return f"cannot reach {args.address}: {message}" + (f"\n  hint: {hint}" if hint else "")
    if status == grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"{args.address} did not answer within {args.timeout:g}s"
    return f"{status.name}: {message}"


def _connection_hint(message: str, *, plaintext: bool) -> str | None:
    lowered = message.lower()
    if plaintext and any(sign in lowered for sign in ("socket closed", "connection reset", "eof", "goaway")):
        return (
            "this call was plaintext and the server closed the connection: it probably requires mTLS. Call with an "
            "identity: --spiffe-socket PATH --server-dns-name NAME (or --cacert/--cert/--key)"
        )
    if not plaintext and any(sign in lowered for sign in ("wrong version number", "ssl", "handshake")):
        return (
            "the TLS handshake failed: the server may be plaintext (--insecure-local: call it with --insecure-local), "
            "may not trust our certificate, or its certificate may not carry --server-dns-name"
        )
    return None
