"""``mcp-grpc bridge``: expose an mcp-grpc server to JSON-RPC MCP clients over stdio or streamable HTTP.

    mcp-grpc bridge 127.0.0.1:50051 --insecure-local --stdio
    mcp-grpc bridge tools.example.org:443 --spiffe-socket /run/spire/agent.sock \\
        --server-dns-name tools.example.org --http 8000

Calls through the bridge are authorized as the BRIDGE's identity: see ``mcp_grpc.bridge.gateway``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from typing import Any

__all__ = ["register"]

_DESCRIPTION = """\
Expose an mcp-grpc server as a standard MCP server (stdio or streamable HTTP) for MCP clients that do not speak gRPC.

IDENTITY: the bridge authenticates to the gRPC server with its OWN identity (its SPIFFE X.509-SVID, or the
insecure-local development principal), and every call made through it is authorized AS THE BRIDGE. The MCP clients
behind the bridge are not identified to the server: anyone who can reach the bridge acts with the bridge's
permissions. Give the bridge an identity with only the permissions its clients should share.

With --forward-bearer (HTTP only), every MCP client must send its own JWT-SVID (Authorization: Bearer ...) and the
bridge forwards it: a server started with --jwt-audience and --jwt-delegate <the bridge's SPIFFE ID> authorizes each
call as the token's SPIFFE ID and audits the bridge as its actor.
"""


def _build_backend(args: argparse.Namespace) -> Any:
    from mcp_grpc.bridge.gateway import BridgeError, GrpcBackend

    socket_path = args.spiffe_socket or os.environ.get("SPIFFE_ENDPOINT_SOCKET")
    if args.insecure_local and args.spiffe_socket:
        raise BridgeError("choose one of --insecure-local and --spiffe-socket")
    if args.insecure_local:
        print(
            "mcp-grpc bridge: --insecure-local: plaintext to the server; calls are authorized as the server's "
            "insecure-local principal. For development on this machine only.",
            file=sys.stderr,
        )
        return GrpcBackend.insecure_local(args.address, timeout=args.timeout)
    if not socket_path:
        raise BridgeError(
            "the bridge needs an identity: pass --spiffe-socket PATH (or set SPIFFE_ENDPOINT_SOCKET) with "
            "--server-dns-name NAME for mTLS, or --insecure-local for a plaintext server on loopback or a Unix socket"
        )
    return GrpcBackend.spiffe(
        args.address,
        socket_path=socket_path,
        server_dns_name=args.server_dns_name or "",
        server_trust_domain=args.server_trust_domain,
        timeout=args.timeout,
    )


async def _run(args: argparse.Namespace) -> int:
    from mcp_grpc.bridge.gateway import BridgeError, build_bridge_server, serve_http, serve_stdio

    backend = _build_backend(args)
    try:
        if args.forward_bearer and args.stdio:
            raise BridgeError("--forward-bearer needs --http: a stdio client sends no HTTP Authorization header")
        instructions = None if args.forward_bearer else await _server_instructions(backend)
        server = build_bridge_server(backend, name=args.name, instructions=instructions,
                                     forward_bearer=args.forward_bearer)
        if args.stdio:
            print(f"mcp-grpc bridge: {args.address} on stdio as {backend.identity}", file=sys.stderr)
            await serve_stdio(server)
            return 0
        async with serve_http(server, host=args.host, port=args.http, allowed_hosts=args.allowed_host,
                              allowed_origins=args.allowed_origin, require_bearer=args.forward_bearer) as endpoint:
            who = f"{backend.identity}, forwarding each client's JWT-SVID" if args.forward_bearer else backend.identity
            shown = f"mcp-grpc bridge: {args.address} at {endpoint.url} as {who}"
            print(shown, file=sys.stderr, flush=True)
            await _until_signal_or(endpoint.wait_closed())
        return 0
    finally:
        await backend.close()


async def _server_instructions(backend: Any) -> str | None:
    """The server's instructions (its list responses carry them) for the bridge's initialize result; None when the
    server gives none or cannot be asked now (the bridge still starts: every call reports its own failure)."""
    client = backend.client()
    try:
        await client.list_tools(timeout=5)
    except Exception as error:  # noqa: BLE001
        print(f"mcp-grpc bridge: no server instructions ({type(error).__name__}: {str(error)[:120]})", file=sys.stderr)
        return None
    return client.instructions


async def _until_signal_or(closed: Any) -> None:
    """Wait for SIGTERM/SIGINT (then stop gracefully) or for the server to stop by itself."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    stopper = asyncio.ensure_future(stop.wait())
    waiter = asyncio.ensure_future(closed)
    try:
        await asyncio.wait({stopper, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        stopper.cancel()
        waiter.cancel()


def _bridge(args: argparse.Namespace) -> int:
    from mcp_grpc.bridge.gateway import BridgeError, is_local_address

    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.http is not None and not is_local_address(f"{args.host}:{args.http}") and not args.allow_remote_clients:
        print(
            f"mcp-grpc bridge: refusing to listen on {args.host}: the bridge has no client authentication and lends "
            f"its identity to every caller; keep it on loopback or pass --allow-remote-clients",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(_run(args))
    except BridgeError as error:
        print(f"mcp-grpc bridge: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    bridge = subparsers.add_parser(
        "bridge",
        help="expose an mcp-grpc server to JSON-RPC MCP clients (stdio or HTTP); calls are authorized as the bridge",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bridge.add_argument("address", metavar="ADDRESS", help="the gRPC server: host:port, unix:PATH or a gRPC target")
    transport = bridge.add_mutually_exclusive_group(required=True)
    transport.add_argument("--stdio", action="store_true", help="serve one MCP client on stdin/stdout")
    transport.add_argument(
        "--http", type=int, metavar="PORT", help="serve streamable HTTP at http://HOST:PORT/mcp (0 picks a port)"
    )
    bridge.add_argument("--host", default="127.0.0.1", help="address the HTTP bridge listens on (default 127.0.0.1)")
    bridge.add_argument(
        "--allow-remote-clients",
        action="store_true",
        help="allow --host to be a non-loopback address (every client there acts with the bridge's identity)",
    )
    bridge.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept this HTTP Host header (NAME, NAME:PORT or NAME:* for any port; repeatable). Default: the "
        "--host address, plus the loopback names on a loopback or wildcard address; others get 421 (DNS rebinding)",
    )
    bridge.add_argument(
        "--allowed-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="also accept this Origin header (SCHEME://NAME[:PORT|:*]; repeatable). Default: http(s):// of every "
        "allowed host; others get 403. Requests without an Origin (clients that are not browsers) pass",
    )
    bridge.add_argument(
        "--forward-bearer",
        action="store_true",
        help="require Authorization: Bearer <JWT-SVID> from every HTTP client (401 without) and forward it; the "
        "server must list the bridge as --jwt-delegate to authorize calls as each token's SPIFFE ID",
    )
    identity = bridge.add_argument_group(
        "the bridge's identity (calls are authorized as the bridge, not as its MCP clients)"
    )
    identity.add_argument(
        "--spiffe-socket",
        metavar="PATH",
        help="SPIFFE Workload API socket giving the bridge its X.509-SVID for mTLS (default: $SPIFFE_ENDPOINT_SOCKET)",
    )
    identity.add_argument(
        "--server-dns-name", metavar="NAME", help="DNS SAN the server's SVID carries (required for mTLS)"
    )
    identity.add_argument(
        "--server-trust-domain", metavar="DOMAIN", help="the server's trust domain (default: the bridge's own)"
    )
    identity.add_argument(
        "--insecure-local",
        action="store_true",
        help="plaintext to a server on loopback or a Unix socket (development; the server sees its "
        "insecure-local principal)",
    )
    bridge.add_argument(
        "--timeout", type=float, default=30.0, help="deadline of each forwarded call in seconds (default 30)"
    )
    bridge.add_argument("--name", default="mcp-grpc-bridge", help="server name announced to MCP clients")
    bridge.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    bridge.set_defaults(handler=_bridge)
