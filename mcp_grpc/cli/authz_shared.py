"""What the ``mcp-grpc authz`` commands share: exit codes, the user error, the ``--context`` argument."""

from __future__ import annotations

import argparse
import json
from typing import Any, Mapping

__all__ = ["EXIT_ERROR", "EXIT_FAILED", "EXIT_OK", "CommandError", "request_context"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_ERROR = 2


class CommandError(Exception):
    """A user error: printed as ``mcp-grpc authz: <message>`` with exit code 2."""


def request_context(args: argparse.Namespace) -> Mapping[str, Any] | None:
    """The ``--context`` JSON object, or None."""
    if not args.context:
        return None
    try:
        value = json.loads(args.context)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--context is not valid JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(value, dict):
        raise CommandError("--context must be a JSON object")
    return value
