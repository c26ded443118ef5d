"""``--spiffe-socket``: fail at once, naming the flag and the variable, when the Workload API socket is absent.

The library's Workload API sources wait (a SPIRE agent started beside the workload may create its socket a moment
later); a command given a path that does not exist should say so now, not after ten seconds of retries.
"""

from __future__ import annotations

import os
import stat

__all__ = ["missing_socket_reason"]


def missing_socket_reason(value: str) -> str | None:
    """Why ``--spiffe-socket VALUE`` cannot be a Workload API socket, or None when it can be tried."""
    from mcp_grpc.identity.sources import X509SourceError, resolve_socket

    try:
        path = resolve_socket(value).removeprefix("unix:")
    except X509SourceError as exc:
        return f"--spiffe-socket {value}: {exc}"
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return (
            f"--spiffe-socket {value}: no such socket {path}; is the SPIFFE agent (SPIRE, or `mcp-grpc identity dev`) "
            f"running, and is SPIFFE_ENDPOINT_SOCKET right?"
        )
    except OSError as exc:
        return f"--spiffe-socket {value}: cannot reach {path}: {exc.strerror or exc}"
    if not stat.S_ISSOCK(mode):
        return f"--spiffe-socket {value}: {path} is not a Unix socket"
    return None
