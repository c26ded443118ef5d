"""Addresses as every layer writes them: ``host:port``, ``[IPv6]:port`` or ``unix:PATH``. One parser, strict.

The server formats where it listens, the client checks what it dials and the bridge decides whether plaintext is
allowed (only to loopback or a Unix socket): all three read addresses with these functions.
"""

from __future__ import annotations

import ipaddress

__all__ = ["AddressError", "is_local_target", "is_loopback_host", "join_host_port", "split_host_port"]

#: gRPC target schemes that name a local socket.
LOCAL_SCHEMES = ("unix:", "unix-abstract:")


class AddressError(ValueError):
    """The address cannot be dialled (malformed, or several addresses that are not IP literals)."""


def split_host_port(address: str) -> tuple[str, str]:
    """``host:port`` or ``[IPv6]:port`` -> (host, port); the port must be 1-65535. Raises ``AddressError``."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        if not rest.startswith(":") or not rest[1:].isdigit() or not 0 < int(rest[1:]) < 65536:
            raise AddressError(f"bad address {address[:256]!r}: expected [IPv6]:PORT")
        return host, rest[1:]
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise AddressError(f"bad address {address[:256]!r}: expected HOST:PORT, unix:PATH or a gRPC target URI")
    return host, port


def join_host_port(host: str, port: int | str) -> str:
    """The inverse of ``split_host_port``: an IPv6 literal gets its brackets."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


def is_loopback_host(host: str) -> bool:
    """``localhost`` or a loopback IP literal (brackets allowed)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_local_target(address: str) -> bool:
    """True for a Unix socket target, or host:port pairs (comma-separated, optionally ``dns:///``, ``ipv4:`` or
    ``ipv6:``) whose hosts are all loopback: the only places plaintext is allowed."""
    if address.startswith(LOCAL_SCHEMES):
        return True
    for prefix in ("dns:///", "ipv4:", "ipv6:"):
        if address.startswith(prefix):
            address = address[len(prefix) :]
            break
    parts = [part.strip() for part in address.split(",") if part.strip()]
    if not parts:
        return False
    for part in parts:
        host = part[1:].partition("]")[0] if part.startswith("[") else part.rpartition(":")[0]
        if not is_loopback_host(host):
            return False
    return True
