"""Channel construction: credentials, retries through service config, round_robin over several addresses."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from typing import Any, Sequence

import grpc

from mcp_grpc import wire
from mcp_grpc.contract.address import AddressError, split_host_port


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """gRPC's transparent retry policy (service config ``retryPolicy``), applied to every MCP method.

    Only UNAVAILABLE is retried by default: the other statuses are answers (denials, bad input) and retrying them
    would only repeat them.
    """

    max_attempts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 2.0
    backoff_multiplier: float = 2.0
    retryable_status_codes: Sequence[str] = ("UNAVAILABLE",)

    def as_config(self) -> dict[str, Any]:
        return {
            "maxAttempts": self.max_attempts,
            "initialBackoff": f"{self.initial_backoff}s",
            "maxBackoff": f"{self.max_backoff}s",
            "backoffMultiplier": self.backoff_multiplier,
            "retryableStatusCodes": list(self.retryable_status_codes),
        }


def resolve_target(addresses: str | Sequence[str]) -> tuple[str, bool]:
    """The gRPC target for one address or several, and whether round_robin applies.

    One address: ``host:port``, ``unix:/path`` or any gRPC target URI (``dns:///...``). Several: IP literals with
    ports, dialled with round_robin (``ipv4:a:1,b:2``).
    """
    if isinstance(addresses, str):
        addresses = [part.strip() for part in addresses.split(",")] if "," in addresses else [addresses]
    addresses = [address for address in addresses if address]
    if not addresses:
        raise AddressError("no address given")
    if len(addresses) == 1:
        address = addresses[0]
        if address.startswith(("unix:", "unix-abstract:", "dns:", "ipv4:", "ipv6:", "xds:")):
            return address, False
        split_host_port(address)
        return address, False
    families = set()
    parts = []
    for address in addresses:
        host, port = split_host_port(address)
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            raise AddressError(
                f"bad address {address!r}: several addresses must be IP literals (use one dns:/// name instead)"
            ) from None
        families.add(ip.version)
        parts.append(f"[{host}]:{port}" if ip.version == 6 else f"{host}:{port}")
    if len(families) > 1:
        raise AddressError("several addresses must all be IPv4 or all IPv6")
    return ("ipv4:" if families == {4} else "ipv6:") + ",".join(parts), True


def service_config(retry: RetryPolicy | None, round_robin: bool) -> str:
    config: dict[str, Any] = {}
    if retry is not None:
        config["methodConfig"] = [
            {
                "name": [{"service": wire.MCP_SERVICE}, {"service": wire.STREAMING_SERVICE}],
                "retryPolicy": retry.as_config(),
            }
        ]
    if round_robin:
        config["loadBalancingConfig"] = [{"round_robin": {}}]
    return json.dumps(config)


def channel_target(
    addresses: str | Sequence[str],
    *,
    retry: RetryPolicy | None = RetryPolicy(),
    round_robin: bool | None = None,
    max_message_bytes: int = 4 * 1024 * 1024,
    options: Sequence[tuple[str, Any]] = (),
) -> tuple[str, list[tuple[str, Any]]]:
    """The gRPC target and channel options every client channel uses (retries, load balancing, size limits),
    whoever builds the channel: ``make_channel`` here, or a SPIFFE channel rebuilt on rotation."""
    target, several = resolve_target(addresses)
    if round_robin is None:
        # A DNS name may resolve to several replicas (a headless Service): spread calls over all of them.
        round_robin = several or target.startswith("dns:")
    channel_options: list[tuple[str, Any]] = [
        ("grpc.service_config", service_config(retry, round_robin)),
        ("grpc.enable_retries", 1 if retry is not None else 0),
        ("grpc.max_receive_message_length", max_message_bytes),
        ("grpc.max_send_message_length", max_message_bytes),
    ]
    channel_options.extend(options)
    return target, channel_options


def make_channel(
    addresses: str | Sequence[str],
    *,
    credentials: grpc.ChannelCredentials | None = None,
    retry: RetryPolicy | None = RetryPolicy(),
    round_robin: bool | None = None,
    max_message_bytes: int = 4 * 1024 * 1024,
    server_name_override: str | None = None,
    options: Sequence[tuple[str, Any]] = (),
) -> grpc.aio.Channel:
    """An aio channel: TLS when ``credentials`` is given, else plaintext (for insecure-local servers)."""
    extra = list(options)
    if server_name_override:
        extra.insert(0, ("grpc.ssl_target_name_override", server_name_override))
    target, channel_options = channel_target(
        addresses, retry=retry, round_robin=round_robin, max_message_bytes=max_message_bytes, options=extra
    )
    if credentials is not None:
        return grpc.aio.secure_channel(target, credentials, options=channel_options)
    return grpc.aio.insecure_channel(target, options=channel_options)
