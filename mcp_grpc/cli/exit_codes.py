"""The exit codes of the client commands (``tools``, ``describe``, ``call``, ``resources``, ``read``, ``prompts``,
``prompt``, ``complete``), following grpcurl: a failed rpc exits 64 + its gRPC status code.

=====  ===============================================================================================
code   meaning
=====  ===============================================================================================
0      the call succeeded
1      the tool ran and reported an error (``is_error``: e.g. invalid arguments, the handler raised)
2      bad usage or input: an unknown flag, bad JSON, a bad address, an unreadable file, a bad certificate
64+N   the rpc failed with gRPC status N: 69 NOT_FOUND, 71 PERMISSION_DENIED, 78 UNAVAILABLE,
       80 UNAUTHENTICATED, 68 DEADLINE_EXCEEDED, 67 INVALID_ARGUMENT, 72 RESOURCE_EXHAUSTED, ...
=====  ===============================================================================================

``serve`` exits 0 after a clean stop and 2 when it refuses to start; ``authz`` has its own (0 pass/allowed,
1 failed/denied, 2 error). docs/agent-developers.md lists them; tests/docs/test_accuracy.py checks that table.
"""

from __future__ import annotations

from typing import Any

__all__ = ["OK", "STATUS_OFFSET", "TOOL_ERROR", "USAGE", "for_status"]

OK = 0
TOOL_ERROR = 1
USAGE = 2
STATUS_OFFSET = 64
"""grpcurl's offset: a failed rpc exits STATUS_OFFSET + its status code."""


def for_status(status: Any) -> int:
    """64 + the numeric code of a ``grpc.StatusCode`` (e.g. PERMISSION_DENIED, 7 → 71)."""
    return STATUS_OFFSET + int(status.value[0])
