"""``mcp-grpc proto-path``: the include root of the shipped ``.proto`` files, for ``protoc -I`` and buf.

    python -m grpc_tools.protoc -I "$(mcp-grpc proto-path)" -I protos --python_out=. protos/storage.proto
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def _proto_path(args: argparse.Namespace) -> int:
    from mcp_grpc.wire.proto_files import ProtoFilesMissing, include_dir

    try:
        print(include_dir())
    except ProtoFilesMissing as exc:
        print(f"mcp-grpc proto-path: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "proto-path",
        help="print the directory holding mcp_grpc/v1/options.proto (for protoc -I and buf)",
        description="Print the include root of the .proto files shipped with mcp-grpc: mcp_grpc/v1/options.proto "
        "(options of proto-first tools), mcp_grpc/v1/streaming.proto, model_context_protocol/mcp*.proto.",
    )
    command.set_defaults(handler=_proto_path)
