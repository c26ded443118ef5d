"""``mcp-grpc authz``: tools for security teams, on the embedded OpenFGA engine.

- ``authz test FILE.fga.yaml [FILE ...] [--json]``: run ``fga model test`` store test files; exit 0 when every
  assertion passes, 1 otherwise (2 when a file cannot be read).
- ``authz check | list-objects | list-users | explain --model FILE [--tuples FILE ...]``: one query against a model
  file and tuple files, with ``--context JSON`` and ``--contextual-tuple "USER RELATION OBJECT"``. ``check`` exits 0
  when allowed, 1 when denied, 2 on an error.
- ``authz who-can TARGET TOOL`` / ``authz what-can TARGET SPIFFE_ID``: access review of a server app (``pkg.mod:app``
  or ``path/file.py:app``, as for ``serve``) against an ``authz/`` folder (``--authz-dir``); ``--matrix`` prints
  agents x tools; ``--json`` for machines.
- ``authz diff AUDIT_LOG ... (--model FILE [--tuples FILE ...] | --authz-dir DIR)``: replay the decisions of an
  audit log (``serve --audit-log``) against a candidate model and print who would gain or lose which tool; exit 0
  when nothing changes, 1 when something does, 2 for bad input (a bad line is named file:line).
"""

from __future__ import annotations

import argparse
import sys
from typing import Callable

from mcp_grpc.cli.authz_diff import add_diff_arguments, run_diff
from mcp_grpc.cli.authz_query import run_check, run_explain, run_list_objects, run_list_users
from mcp_grpc.cli.authz_review import run_what_can, run_who_can
from mcp_grpc.cli.authz_shared import EXIT_ERROR, CommandError
from mcp_grpc.cli.authz_store_test import run_test

__all__ = ["register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    authz = subparsers.add_parser(
        "authz",
        help="test and query OpenFGA models with the embedded engine; review who may call what",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = authz.add_subparsers(dest="authz_command", metavar="COMMAND")
    authz.set_defaults(handler=lambda args: _usage(authz))

    test = commands.add_parser("test", help="run OpenFGA CLI store test files (fga model test format)")
    test.add_argument("files", nargs="+", metavar="FILE", help="store test files (*.fga.yaml)")
    test.add_argument("--json", action="store_true", help="print one JSON record per assertion (JSON lines)")
    test.add_argument(
        "--allow-external-files",
        action="store_true",
        help="let model_file / tuple_file references leave the test file's directory (as the fga CLI flag)",
    )
    test.set_defaults(handler=_guarded(run_test))

    check = commands.add_parser("check", help="is USER related to OBJECT by RELATION?")
    _add_store_arguments(check)
    check.add_argument("user", metavar="USER", help="e.g. agent:example.org/ns/prod/sa/billing or team:a#member")
    check.add_argument("relation", metavar="RELATION")
    check.add_argument("object", metavar="OBJECT", help="type:id")
    check.set_defaults(handler=_guarded(run_check))

    list_objects = commands.add_parser("list-objects", help="the objects of TYPE that USER has RELATION on")
    _add_store_arguments(list_objects)
    list_objects.add_argument("user", metavar="USER")
    list_objects.add_argument("relation", metavar="RELATION")
    list_objects.add_argument("type", metavar="TYPE")
    list_objects.set_defaults(handler=_guarded(run_list_objects))

    list_users = commands.add_parser("list-users", help="the users that have RELATION on OBJECT")
    _add_store_arguments(list_users)
    list_users.add_argument("object", metavar="OBJECT")
    list_users.add_argument("relation", metavar="RELATION")
    list_users.add_argument(
        "--user-filter",
        action="append",
        required=True,
        metavar="TYPE[#RELATION]",
        help="which users to list, e.g. agent or team#member (OpenFGA takes exactly one)",
    )
    list_users.set_defaults(handler=_guarded(run_list_users))

    explain = commands.add_parser("explain", help="why a check is allowed or denied: the resolution path")
    _add_store_arguments(explain)
    explain.add_argument("user", metavar="USER")
    explain.add_argument("relation", metavar="RELATION")
    explain.add_argument("object", metavar="OBJECT")
    explain.set_defaults(handler=_guarded(run_explain))

    who_can = commands.add_parser("who-can", help="which agents may call TOOL of the server app TARGET")
    _add_review_arguments(who_can)
    who_can.add_argument("tool", metavar="TOOL", nargs="?", help="a tool name (omit with --matrix)")
    who_can.set_defaults(handler=_guarded(run_who_can))

    what_can = commands.add_parser("what-can", help="which tools, resources and prompts an agent may use")
    _add_review_arguments(what_can)
    what_can.add_argument("spiffe_id", metavar="SPIFFE_ID", nargs="?", help="spiffe://... (omit with --matrix)")
    what_can.set_defaults(handler=_guarded(run_what_can))

    diff = commands.add_parser(
        "diff", help="replay an audit log against a candidate model: who would gain or lose which tool"
    )
    add_diff_arguments(diff)
    diff.set_defaults(handler=_guarded(run_diff))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_ERROR


def _add_store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="FILE", help="model.fga, model.json or fga.mod")
    parser.add_argument(
        "--tuples", action="append", default=[], metavar="FILE", help="tuple file (yaml, json, jsonl, csv); repeat"
    )
    parser.add_argument("--context", metavar="JSON", help='request context for conditions, e.g. \'{"amount": 50}\'')
    parser.add_argument(
        "--contextual-tuple",
        action="append",
        default=[],
        metavar='"USER RELATION OBJECT"',
        help="a tuple that exists for this query only; repeat (at most 100)",
    )
    parser.add_argument("--contextual-tuples", metavar="FILE", help="a tuple file of contextual tuples")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")


def _add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", help="the server app: pkg.module:app or path/file.py:app")
    parser.add_argument("--authz-dir", default="authz", metavar="DIR", help="the model and tuples (default: authz/)")
    parser.add_argument("--matrix", action="store_true", help="print every agent x every tool of the server")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--user-type", default="agent", help="the FGA type of agents (default: agent)")
    parser.add_argument(
        "--context", metavar="JSON", help="condition context, as a call would send it (e.g. '{\"amount\": 50}')"
    )


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Turn known user errors into one line on stderr and exit code 2, instead of a traceback."""
    from mcp_grpc.authz.files import FileFormatError

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except (CommandError, FileFormatError) as exc:
            print(f"mcp-grpc authz: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except _engine_errors() as exc:
            print(f"mcp-grpc authz: {exc}", file=sys.stderr)
            return EXIT_ERROR

    return run


def _engine_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = []
    try:
        from mcp_grpc.authz.engine.errors import FgaError

        errors.append(FgaError)
    except ImportError:
        pass
    try:
        from mcp_grpc.authz.model import ModelError

        errors.append(ModelError)
    except ImportError:
        pass
    return tuple(errors)
