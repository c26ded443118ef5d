"""The ``mcp-grpc`` console script: a thin dispatcher.

Each command group lives in its own module with ``register(subparsers)``; a command's handler receives the parsed
``argparse.Namespace`` and returns the process exit code.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

# (module, purpose). A module that is missing (not yet written) is skipped, so groups can land independently.
_COMMAND_MODULES = (
    "mcp_grpc.cli.server_commands",  # serve, tools, call
    "mcp_grpc.cli.identity_commands",  # identity dev
    "mcp_grpc.cli.authz_commands",  # authz test | check | list-objects | list-users | explain | who-can | what-can
    "mcp_grpc.cli.bridge_commands",  # bridge
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcp-grpc", description="MCP over gRPC with SPIFFE and OpenFGA.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except BrokenPipeError:  # e.g. `mcp-grpc tools --json | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
