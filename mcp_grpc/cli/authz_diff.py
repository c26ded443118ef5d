"""``mcp-grpc authz diff AUDIT_LOG ... (--model FILE [--tuples FILE ...] | --authz-dir DIR)``: who would gain or lose
which tool if the candidate model were enforced, from the decisions an audit log recorded (``mcp_grpc.authz.replay``).

Exit 0 when no decision changes, 1 when some do, 2 for bad input (a bad log line is named ``file:line``)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from mcp_grpc.cli.authz_shared import EXIT_FAILED, EXIT_OK, CommandError

__all__ = ["add_diff_arguments", "run_diff"]


def add_diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("logs", nargs="+", metavar="AUDIT_LOG", help="JSON lines written by serve --audit-log")
    parser.add_argument("--model", metavar="FILE", help="the candidate model (model.fga, model.json or fga.mod)")
    parser.add_argument(
        "--tuples", action="append", default=[], metavar="FILE", help="the candidate's tuple file; repeat"
    )
    parser.add_argument("--authz-dir", metavar="DIR", help="the candidate as an authz/ folder (model and tuples)")
    parser.add_argument("--user-type", default="agent", help="the FGA type of agents (default: agent)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object")


def _candidate(args: argparse.Namespace) -> Any:
    """The candidate's synchronous ``check``."""
    if bool(args.model) == bool(args.authz_dir):
        raise CommandError("give the candidate as --model FILE [--tuples FILE ...] or as --authz-dir DIR")
    if args.authz_dir:
        if args.tuples:
            raise CommandError("--tuples goes with --model; --authz-dir reads the folder's own tuple files")
        from mcp_grpc.authz.directory import AuthzDirectory

        try:
            return AuthzDirectory(args.authz_dir).engine.check
        except FileNotFoundError as exc:
            raise CommandError(f"--authz-dir {args.authz_dir}: {exc}") from None
    from mcp_grpc.authz.files import load_model_file, load_tuples
    from mcp_grpc.authz.storetest import build_engine

    tuples = [t for path in args.tuples for t in load_tuples(path)]
    return build_engine(load_model_file(args.model), tuples).check


def run_diff(args: argparse.Namespace) -> int:
    from mcp_grpc.authz.replay import AuditLogError, read_audit_log, replay

    check = _candidate(args)
    try:
        records = read_audit_log(args.logs)
    except OSError as exc:
        raise CommandError(f"cannot read {exc.filename}: {exc.strerror}") from None
    except AuditLogError as exc:
        shown = exc.problems[:20]
        more = len(exc.problems) - len(shown)
        raise CommandError(
            "not audit records:\n  " + "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
        ) from None
    report = replay(records, check, user_type=args.user_type)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        for change in report.changes:
            why = ""
            if change.check is not None:
                relation, obj = change.check
                why = f"  (now denied: {relation} on {obj})" if change.change == "loses" else (
                    f"  (was denied: {relation} on {obj})")
            calls = f"  [{change.records} call{'s' if change.records != 1 else ''}]"
            print(f"{change.change}  {change.principal}  {change.kind} {change.target}{why}{calls}")
        gained = sum(c.change == "gains" for c in report.changes)
        print(
            f"{len(report.changes)} changed ({gained} gained, {len(report.changes) - gained} lost) of "
            f"{report.decisions} distinct decisions in {report.records} records; skipped: "
            f"{report.skipped_without_checks} without checks (unauthenticated, limited, lists), "
            f"{report.skipped_undecided} whose checks erred, {report.candidate_errors} the candidate could not decide",
            file=sys.stderr,
        )
    return EXIT_FAILED if report.changes else EXIT_OK
