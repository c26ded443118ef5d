"""The floor: bare grpcio asyncio unary echo over mTLS with the same certificates as the full stack.

Usage: python -m bench.servers.grpc_echo CERT_DIR [--auth-context]
(reads server.pem, server.key, bundle.pem; client cert required). ``--auth-context`` also reads the peer's
``auth_context()`` on every call, as an mTLS authenticator must, to measure what that costs alone.
"""

from __future__ import annotations

import asyncio
import pathlib
import sys

import grpc

SERVICE = "bench.Echo"
METHOD = f"/{SERVICE}/Echo"


async def _echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return request


async def _echo_reading_peer(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    if not context.auth_context().get("x509_pem_cert"):
        raise RuntimeError("no peer certificate")
    return request


async def serve(cert_dir: pathlib.Path, read_auth_context: bool = False) -> None:
    credentials = grpc.ssl_server_credentials(
        [((cert_dir / "server.key").read_bytes(), (cert_dir / "server.pem").read_bytes())],
        root_certificates=(cert_dir / "bundle.pem").read_bytes(),
        require_client_auth=True,
    )
    server = grpc.aio.server()
    handler = grpc.method_handlers_generic_handler(
        SERVICE, {"Echo": grpc.unary_unary_rpc_method_handler(_echo_reading_peer if read_auth_context else _echo)}
    )
    server.add_generic_rpc_handlers((handler,))
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    print(f"READY {port}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(pathlib.Path(sys.argv[1]), read_auth_context="--auth-context" in sys.argv[2:]))
