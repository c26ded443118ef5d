"""The ``mcp-grpc`` console script: a thin dispatcher.

Each command group lives in its own module with ``register(subparsers)``; a command's handler receives the parsed
``argparse.Namespace`` and returns the process exit code (see ``exit_codes``). A ``UsageError`` from a handler, like
an argument argparse cannot place, prints the usage of the command that was given (not the top level's) and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from mcp_grpc.cli.client_options import UsageError
from mcp_grpc.cli.examples import attach_examples
from mcp_grpc.contract.extras import MissingExtra

__all__ = ["build_parser", "main", "version"]

# (module, purpose). A module that is missing (not yet written) is skipped, so groups can land independently.
_COMMAND_MODULES = (
    "mcp_grpc.cli.server_commands",  # serve
    "mcp_grpc.cli.client_commands",  # tools, describe, call, resources, read, prompts, prompt, complete
    "mcp_grpc.cli.identity_commands",  # identity dev
    "mcp_grpc.cli.authz_commands",  # authz test | check | list-objects | list-users | explain | who-can | what-can
    "mcp_grpc.cli.bridge_commands",  # bridge
    "mcp_grpc.cli.proto_commands",  # proto-path
)


def version() -> str:
    """The installed distribution's version (the package's own when run from a checkout that is not installed)."""
    from importlib import metadata

    try:
        return metadata.version("mcp-grpc")
    except metadata.PackageNotFoundError:
        from mcp_grpc import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mcp-grpc", description="MCP over gRPC with SPIFFE and OpenFGA.")
    parser.add_argument("--version", action="version", version=f"mcp-grpc {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue
        module.register(subparsers)
    attach_examples(parser)
    return parser


def chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser of the deepest command named on the command line."""
    while True:
        actions = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
        name = getattr(args, actions[0].dest, None) if actions else None
        if name is None or name not in actions[0].choices:
            return parser
        parser = actions[0].choices[name]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    command = chosen_parser(parser, args)
    if extra:  # argparse would report these with the top-level usage; the command's own is the helpful one
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    args.argv = list(sys.argv[1:] if argv is None else argv)  # `serve --workers` reruns it in each worker
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(handler(args) or 0)
    except UsageError as exc:
        command.print_usage(sys.stderr)
        print(f"{command.prog}: error: {exc}", file=sys.stderr)
        return 2
    except MissingExtra as exc:  # a command whose part is an uninstalled extra: the message names the extra
        print(f"{command.prog}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `mcp-grpc tools --json | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
