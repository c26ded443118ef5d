"""``serve``'s transport flags: keepalive, message size, concurrency, Listen streams per caller and compression, as
ServerConfig fields.

Each flag is checked by argparse with the flag's own name in the message (``--health-port: 0 is not ...``), never
the Python field's. Defaults are ServerConfig's, so the flags and the library agree.
"""

from __future__ import annotations

import argparse
from typing import Any, Callable

__all__ = ["add_transport_flags", "port_number", "positive", "transport_fields"]

_COMPRESSION = ("none", "gzip", "deflate")


def positive(kind: type, *, name: str) -> Callable[[str], Any]:
    """An argparse type: a number > 0 of ``kind`` (int or float)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} must be greater than 0")
        return value

    return parse


def port_number(lowest: int) -> Callable[[str], int]:
    """An argparse type: a TCP port from ``lowest`` (0 lets the OS pick; probes need a fixed port, so 1) to 65535."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
        if not lowest <= value <= 65535:
            raise argparse.ArgumentTypeError(f"{value} is not a port in {lowest}-65535")
        return value

    return parse


def add_transport_flags(parser: argparse.ArgumentParser) -> None:
    from mcp_grpc.server import ServerConfig

    defaults = ServerConfig()
    seconds = positive(float, name="a number of seconds")
    count = positive(int, name="a whole number")
    group = parser.add_argument_group("transport (gRPC)")
    group.add_argument("--keepalive-time", type=seconds, default=defaults.keepalive_time, metavar="SECONDS",
                       help=f"ping idle connections this often (default {defaults.keepalive_time:g})")
    group.add_argument("--keepalive-timeout", type=seconds, default=defaults.keepalive_timeout, metavar="SECONDS",
                       help=f"close a connection whose ping is unanswered this long (default {defaults.keepalive_timeout:g})")
    group.add_argument("--keepalive-min-ping-interval", type=seconds, default=defaults.keepalive_min_ping_interval,
                       metavar="SECONDS",
                       help=f"the shortest ping interval clients may use (default {defaults.keepalive_min_ping_interval:g})")
    group.add_argument("--max-message-bytes", type=count, default=defaults.max_message_bytes, metavar="BYTES",
                       help=f"largest message received or sent (default {defaults.max_message_bytes})")
    group.add_argument("--max-concurrent-rpcs", type=count, metavar="N",
                       help="calls in flight on the whole server; more are refused RESOURCE_EXHAUSTED (default: no limit)")
    group.add_argument("--max-concurrent-streams", type=count, metavar="N",
                       help="calls in flight on one connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS; default: gRPC's)")
    group.add_argument("--max-listen-streams", type=count, default=defaults.max_listen_streams, metavar="N",
                       help="McpStreaming Listen streams one caller (SPIFFE ID) may hold at once; more are refused "
                       f"RESOURCE_EXHAUSTED (default {defaults.max_listen_streams})")
    group.add_argument("--compression", choices=_COMPRESSION, default="none",
                       help="compress responses (gzip or deflate; clients decompress transparently; default none)")


def transport_fields(args: argparse.Namespace) -> dict[str, Any]:
    """ServerConfig keyword arguments from the transport flags."""
    import grpc

    options: list[tuple[str, Any]] = []
    if args.max_concurrent_streams is not None:
        options.append(("grpc.max_concurrent_streams", args.max_concurrent_streams))
    if args.compression != "none":
        algorithm = {"gzip": grpc.Compression.Gzip, "deflate": grpc.Compression.Deflate}[args.compression]
        options.append(("grpc.default_compression_algorithm", int(algorithm)))
    return {
        "keepalive_time": args.keepalive_time,
        "keepalive_timeout": args.keepalive_timeout,
        "keepalive_min_ping_interval": args.keepalive_min_ping_interval,
        "max_message_bytes": args.max_message_bytes,
        "max_concurrent_rpcs": args.max_concurrent_rpcs,
        "max_listen_streams": args.max_listen_streams,
        "grpc_options": tuple(options),
    }
