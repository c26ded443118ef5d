"""The app of the ``serve --workers`` tests: a tool that says which process answered."""

from __future__ import annotations

import os

from mcp_grpc.server import McpApp

app = McpApp("workers-test")


@app.tool()
def whoami() -> str:
    """The process id of the worker that ran this call."""
    return str(os.getpid())
