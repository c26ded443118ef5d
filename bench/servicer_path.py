"""The Python cost of one CallTool inside the server, without grpc: ``McpServicer.CallTool`` called directly with a
stand-in for grpc's servicer context that hands out the same things grpc would (metadata, peer, and an
``auth_context()`` with the agent's real X.509-SVID PEM from the development Workload API).

Comparing this with the server CPU per call of ``bench.decompose`` separates what our Python code costs from what
the call costs inside grpc (its Cython layer, HTTP/2, TLS), which Python profilers cannot break down.

Variants as in ``bench.decompose``: authentication only; + authorization (warm cache); + audit; everything. Reported
per call: event-loop thread CPU (``thread_time``) and process CPU (``process_time``, including the audit writer
thread, measured after the audit queue drained).

Run: python -m bench.servicer_path [--calls 5000]   (prints JSON)
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import json
import pathlib
import tempfile
import time
from typing import Any

from bench.identities import SERVER_DNS_NAME, bench_identities
from bench.servers.mcp_grpc_full import build_app, write_authz_dir


class _StandInContext:
    """What ``McpServicer`` reads from ``grpc.aio.ServicerContext`` on a unary call, with real values."""

    def __init__(self, auth_context: dict[str, list[bytes]], metadata: tuple[tuple[str, str], ...]) -> None:
        self._auth_context = auth_context
        self._metadata = metadata

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def peer(self) -> str:
        return "ipv4:127.0.0.1:40000"

    def auth_context(self) -> dict[str, list[bytes]]:
        # grpc builds this dict anew on every call; so do we, to pay for the same copies.
        return {key: list(values) for key, values in self._auth_context.items()}

    def time_remaining(self) -> float:
        return 30.0

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return False


async def measure(calls: int) -> dict[str, Any]:
    from mcp_grpc import wire
    from mcp_grpc.server.pipeline import Pipeline
    from mcp_grpc.server.security import ServerIdentity, authorizer_from_authz_dir, json_audit_sink
    from mcp_grpc.server.servicer import McpServicer
    from mcp_grpc.wire.structs import python_to_struct
    from mcp_grpc.wire import mcp_messages_pb2 as pb

    results: dict[str, Any] = {"calls": calls}
    with tempfile.TemporaryDirectory(prefix="bench-servicer-") as tmp:
        work = pathlib.Path(tmp)
        authz_dir = work / "authz"
        write_authz_dir(authz_dir, 0)
        with bench_identities(work) as ids:
            identity = ServerIdentity.from_workload_api(str(ids.socket("server")))
            agent_pem = ids.read("agent.pem")
            leaf = agent_pem[: agent_pem.index(b"-----END CERTIFICATE-----") + len(b"-----END CERTIFICATE-----\n")]
            auth_context = {
                "transport_security_type": [b"ssl"],
                "x509_pem_cert": [leaf],
                "x509_subject_alternative_name": [b"spiffe://bench.example/bench/agent"],
                "peer_spiffe_id": [b"spiffe://bench.example/bench/agent"],
                "ssl_session_reused": [b"false"],
                "security_level": [b"TSI_PRIVACY_AND_INTEGRITY"],
            }
            metadata = ((wire.PROTOCOL_VERSION_METADATA_KEY, wire.LATEST_PROTOCOL_VERSION), ("mcp_tool", "echo"),
                        ("user-agent", "grpc-python-asyncio/1.85"), (":authority", SERVER_DNS_NAME))
            request = pb.CallToolRequest()
            request.request.name = "echo"
            python_to_struct({"text": "hi"}, request.request.arguments)
            executor = concurrent.futures.ThreadPoolExecutor(4)
            try:
                variants = {
                    "authn": (False, False),
                    "authn_authz": (True, False),
                    "authn_audit": (False, True),
                    "full_stack": (True, True),
                }
                for name, (with_authz, with_audit) in variants.items():
                    authorizer = authorizer_from_authz_dir(authz_dir) if with_authz else None
                    audit = json_audit_sink(str(work / f"audit-{name}.log")) if with_audit else None
                    pipeline = Pipeline(server_name="bench", authenticator=identity.authenticator,
                                        authorizer=authorizer, audit_sink=audit, insecure_local=False)
                    servicer = McpServicer(build_app(0).registry, pipeline, executor=executor)
                    context = _StandInContext(auth_context, metadata)
                    for _ in range(200):  # warm-up: caches, the first validation of the certificate
                        response = await servicer.CallTool(request, context)
                    if response.content[0].text.text != "hi":
                        raise RuntimeError(f"unexpected response {response}")
                    if audit is not None:
                        audit.flush()
                    process0, thread0 = time.process_time(), time.thread_time()
                    for _ in range(calls):
                        await servicer.CallTool(request, context)
                    thread_cpu = time.thread_time() - thread0
                    if audit is not None:
                        audit.flush(timeout=60)
                    process_cpu = time.process_time() - process0
                    results[name] = {
                        "loop_thread_cpu_us_per_call": round(1e6 * thread_cpu / calls, 1),
                        "process_cpu_us_per_call": round(1e6 * process_cpu / calls, 1),
                    }
                    if audit is not None:
                        audit.close()
                    if authorizer is not None:
                        await authorizer.close()
            finally:
                executor.shutdown()
                identity.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args(argv)
    print(json.dumps(asyncio.run(measure(args.calls)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
