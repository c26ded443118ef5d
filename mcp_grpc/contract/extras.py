"""Optional extras: what a part of mcp-grpc that most servers never use needs, and the error that names the extra.

The core (serving, the client, the CLI, the embedded authorization engine) installs with ``pip install mcp-grpc``.
The official MCP SDK (the bridge, ``mount_official``, ``mcp_grpc.sdk``), the OpenTelemetry SDK and exporters, the
remote OpenFGA backend and the CEL libraries of model conditions come with extras. A part that needs one calls
:func:`require` where it starts, so a missing extra is one clear message (``pip install 'mcp-grpc[bridge]'``), not a
``ModuleNotFoundError`` from deep inside; the CLI prints it and exits 2.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

__all__ = ["MCP_SDK_MODULES", "MissingExtra", "require", "require_installed", "require_mcp_sdk"]


class MissingExtra(ImportError):
    """A module of an optional extra is not installed: the message says what needs it and what to install."""

    def __init__(self, message: str, *, extra: str, module: str) -> None:
        super().__init__(message, name=module)
        self.extra = extra


def require(module: str, *, extra: str, needed_by: str, what: str | None = None) -> ModuleType:
    """Import ``module`` (one that the extra ``extra`` installs) or raise MissingExtra naming the extra:
    ``"{needed_by} needs {what}: pip install 'mcp-grpc[{extra}]'"`` (``what`` defaults to the module's name)."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # only the extra's own module (or a package of it) being absent is this error; a broken install of it is not
        missing = exc.name or ""
        if not (module == missing or module.startswith(missing + ".") or missing.startswith(module + ".")):
            raise
        raise _missing(module, extra, needed_by, what) from exc


def require_installed(module: str, *, extra: str, needed_by: str, what: str | None = None) -> None:
    """Like :func:`require` without importing: whether the top-level ``module`` can be found (a few stat calls),
    for a package whose own import is kept lazy (``import mcp_grpc.bridge`` must stay cheap)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # ValueError: the module is in sys.modules as None (import blocked)
        found = False
    if not found:
        raise _missing(module, extra, needed_by, what)


#: The official MCP SDK's packages, both installed by the ``bridge`` extra.
MCP_SDK_MODULES = ("mcp_types", "mcp")


def require_mcp_sdk(needed_by: str) -> None:
    """The official MCP SDK is installed (found, not imported), else MissingExtra naming ``[bridge]``."""
    for module in MCP_SDK_MODULES:
        require_installed(module, extra="bridge", needed_by=needed_by, what="the official MCP SDK (mcp)")


def _missing(module: str, extra: str, needed_by: str, what: str | None) -> MissingExtra:
    return MissingExtra(
        f"{needed_by} needs {what or module + ' (not installed)'}: pip install 'mcp-grpc[{extra}]'",
        extra=extra, module=module,
    )
