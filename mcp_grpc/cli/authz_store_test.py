"""``mcp-grpc authz test``: run ``fga model test`` store test files on the embedded engine."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Sequence

from mcp_grpc.cli.authz_shared import EXIT_ERROR, EXIT_FAILED, EXIT_OK, CommandError

__all__ = ["run_test"]


def run_test(args: argparse.Namespace) -> int:
    from mcp_grpc.authz.storetest import run_store_test_files

    results, load_errors = run_store_test_files(
        _expand_globs(args.files), allow_external_files=args.allow_external_files
    )
    out = sys.stdout
    if args.json:
        for error in load_errors:
            out.write(json.dumps({"file": error.path, "kind": "load", "error": str(error), "passed": False}) + "\n")
        for result in results:
            out.write(json.dumps(result.to_json(), sort_keys=False) + "\n")
    else:
        for error in load_errors:
            out.write(f"ERROR {error}\n")
        _print_test_summary(results, out)
    if load_errors:
        return EXIT_ERROR
    return EXIT_OK if all(result.passed for result in results) else EXIT_FAILED


def _expand_globs(patterns: Sequence[str]) -> list[str]:
    """Like ``fga model test --tests``: a pattern that names no file is a glob (quoted so the shell left it)."""
    import glob

    files: list[str] = []
    for pattern in patterns:
        if os.path.exists(pattern) or not glob.has_magic(pattern):
            files.append(pattern)
            continue
        matches = sorted(glob.glob(pattern, recursive=True))
        if not matches:
            raise CommandError(f"no test file matches {pattern!r}")
        files.extend(matches)
    return files


def _print_test_summary(results: Sequence[Any], out: Any) -> None:
    by_test: dict[tuple[str, str], list[Any]] = {}
    for result in results:
        by_test.setdefault((result.file, result.test), []).append(result)
    failed_tests = 0
    for (file, test), items in by_test.items():
        failures = [item for item in items if not item.passed]
        if failures:
            failed_tests += 1
            out.write(f"FAIL {file}: {test} ({len(items) - len(failures)}/{len(items)} passing)\n")
            for failure in failures:
                out.write(f"  x {failure.describe()}\n")
    out.write(f"Tests {len(by_test) - failed_tests}/{len(by_test)} passing\n")
    for kind, label in (("check", "Checks"), ("list_objects", "ListObjects"), ("list_users", "ListUsers")):
        items = [result for result in results if result.kind == kind]
        if items:
            passing = sum(result.passed for result in items)
            out.write(f"{label} {passing}/{len(items)} passing\n")
