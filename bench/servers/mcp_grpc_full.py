"""The full mcp-grpc stack serving a trivial echo tool, as a production server would run it.

mTLS with the server's X.509-SVID from the development Workload API (rotating credentials, SpiffeAuthenticator
with its SVID checks on every call), the embedded OpenFGA engine over a temporary ``authz/`` folder granting the
bench agent ``can_call`` on the tool (through the same model shape as the demo: direct callers, server callers and
a ``blocked`` exclusion), the decision cache on (or off with ``--no-cache``) and audit on: ``JsonAuditSink`` writes
one JSON line per decision to a file, so every call pays for building and formatting its record.

``--tools N`` registers N more tools (``t0000`` ...) for the ListTools filtering scenario; the agent may call every
fourth one (directly) and nothing else, so ListTools returns N/4 + 1 tools.

``--no-authz`` and ``--no-audit`` take a layer out, only to measure what it costs (``bench/decompose.py``).

Usage: python -m bench.servers.mcp_grpc_full SERVER_SOCKET WORK_DIR [--no-cache] [--tools N] [--no-authz] [--no-audit]
Prints ``READY <port>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import pathlib
import signal

from bench.identities import AGENT_ID
from mcp_grpc.server import McpApp
from mcp_grpc.server.runtime import Server, ServerConfig, freeze_startup_heap
from mcp_grpc.server.security import ServerIdentity, authorizer_from_authz_dir, json_audit_sink

SERVER_NAME = "bench"
AGENT_USER = "agent:" + AGENT_ID.removeprefix("spiffe://")

MODEL = """\
model
  schema 1.1

type agent

type team
  relations
    define member: [agent, team#member]

type server
  relations
    define admin: [agent, team#member]
    define caller: [agent, team#member] or admin

type tool
  relations
    define server: [server]
    define caller: [agent, team#member, agent:*]
    define blocked: [agent, team#member]
    define can_call: (caller or caller from server) but not blocked
"""


def visible_filler(index: int) -> bool:
    """Which of the ``--tools`` filler tools the agent may call."""
    return index % 4 == 0


def write_authz_dir(path: pathlib.Path, extra_tools: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "model.fga").write_text(MODEL)
    lines = [
        "# The bench agent is in team bench-agents; the team may call the echo tool; another agent is blocked.",
        f"- {{user: '{AGENT_USER}', relation: member, object: 'team:bench-agents'}}",
        "- {user: 'team:bench-agents#member', relation: caller, object: 'tool:bench/echo'}",
        "- {user: 'server:bench', relation: server, object: 'tool:bench/echo'}",
        "- {user: 'agent:bench.example/bench/intruder', relation: blocked, object: 'tool:bench/echo'}",
    ]
    for i in range(extra_tools):
        lines.append(f"- {{user: 'server:bench', relation: server, object: 'tool:bench/t{i:04d}'}}")
        if visible_filler(i):
            lines.append(f"- {{user: '{AGENT_USER}', relation: caller, object: 'tool:bench/t{i:04d}'}}")
    (path / "tuples.yaml").write_text("\n".join(lines) + "\n")


def build_app(extra_tools: int) -> McpApp:
    app = McpApp(SERVER_NAME)

    @app.tool()
    async def echo(text: str) -> str:
        """Return the text unchanged."""
        return text

    for i in range(extra_tools):

        async def filler(text: str) -> str:
            return text

        app.tool(f"t{i:04d}", description=f"Filler tool {i} for the ListTools filtering benchmark.")(filler)
    return app


async def serve(args: argparse.Namespace) -> None:
    work_dir = pathlib.Path(args.work_dir)
    flags = {"nocache": args.no_cache, "noauthz": args.no_authz, "noaudit": args.no_audit,
             "proto": args.audit_prototype}
    variant = "-".join(["authz", *(flag for flag, on in flags.items() if on)])
    authz_dir = work_dir / variant / f"tools-{args.tools}"
    write_authz_dir(authz_dir, args.tools)
    audit_file = authz_dir / "audit.log"
    identity = ServerIdentity.from_workload_api(args.socket)
    authorizer = None if args.no_authz else authorizer_from_authz_dir(authz_dir, cache=not args.no_cache)
    if args.no_audit:
        audit = None
    elif args.audit_prototype:
        from bench.audit_sink import DequeAuditSink

        handler = logging.FileHandler(audit_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(message)s"))
        audit = DequeAuditSink(logger="mcp_grpc.audit", handler=handler)
    else:
        audit = json_audit_sink(str(audit_file))
    config = ServerConfig(
        port=0,
        **identity.config_fields(),
        authorizer=authorizer,
        audit_sink=audit,
        handle_signals=False,
        drain_seconds=0.5,
    )
    server = Server(build_app(args.tools), config)
    await server.start()
    freeze_startup_heap()  # as mcp_grpc.server.runtime.serve does
    print(f"READY {server.port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await server.stop(0.5)
        if audit is not None:
            audit.close()
        identity.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("socket", help="the server's Workload API socket")
    parser.add_argument("work_dir", help="where the authz folder and the audit log are written")
    parser.add_argument("--no-cache", action="store_true", help="turn the decision cache off")
    parser.add_argument("--no-authz", action="store_true",
                        help="no authorizer (every authenticated caller may call): to measure what authorization costs")
    parser.add_argument("--no-audit", action="store_true", help="no audit sink: to measure what auditing costs")
    parser.add_argument("--audit-prototype", action="store_true",
                        help="audit through bench.audit_sink.DequeAuditSink (a prototype of a suggested fix) instead "
                             "of the product's JsonAuditSink")
    parser.add_argument("--tools", type=int, default=0, help="extra filler tools for ListTools filtering")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
