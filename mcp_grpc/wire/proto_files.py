"""Where the ``.proto`` files of the wire protocol are, as an include root for ``protoc`` and ``buf``.

A wheel ships them inside the package (``mcp_grpc/proto/``, put there by setup.py); a source checkout (or an
editable install of one) reads ``protos/`` at the repository root. Either way the directory holds
``mcp_grpc/v1/options.proto`` (the method options of proto-first tools), ``mcp_grpc/v1/streaming.proto`` and
``model_context_protocol/mcp*.proto``, so ``import "mcp_grpc/v1/options.proto";`` resolves against it.
"""

from __future__ import annotations

import pathlib

__all__ = ["ProtoFilesMissing", "include_dir"]

_PACKAGE = pathlib.Path(__file__).resolve().parent.parent  # .../mcp_grpc
_CANDIDATES = (_PACKAGE / "proto", _PACKAGE.parent / "protos")
_MARKER = pathlib.Path("mcp_grpc", "v1", "options.proto")


class ProtoFilesMissing(LookupError):
    """Neither the wheel's copy nor a checkout's ``protos/`` is present."""


def include_dir() -> pathlib.Path:
    """The include root holding ``mcp_grpc/v1/options.proto`` (``protoc -I "$(mcp-grpc proto-path)"``)."""
    for candidate in _CANDIDATES:
        if (candidate / _MARKER).is_file():
            return candidate
    raise ProtoFilesMissing(
        "the .proto files are not installed: looked in " + " and ".join(str(path) for path in _CANDIDATES)
    )
