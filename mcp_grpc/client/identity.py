"""A caller's SPIFFE identity: mTLS channels from the Workload API, rebuilt when the SVID rotates.

    identity = ClientIdentity.from_workload_api(socket, server_dns_name="payments.example.org",
                                                server_trust_domain="example.org")
    client = identity.client("127.0.0.1:50051")
    ...
    await identity.aclose()
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from mcp_grpc.client.channel import channel_target
from mcp_grpc.client.client import AsyncClient

__all__ = ["ClientIdentity"]


@dataclasses.dataclass
class ClientIdentity:
    """A caller's SPIFFE identity: an mTLS channel rebuilt on SVID rotation, pinned to the server's DNS SAN."""

    x509_source: Any
    server_dns_name: str
    server_trust_domain: str
    _channels: list[Any] = dataclasses.field(default_factory=list, repr=False)

    @classmethod
    def from_workload_api(
        cls,
        socket_path: str | None = None,
        *,
        server_dns_name: str,
        server_trust_domain: str | None = None,
        timeout: float = 10.0,
    ) -> "ClientIdentity":
        """``server_trust_domain`` defaults to our own: only that domain's bundle is trusted for the server."""
        from mcp_grpc.identity.sources import WorkloadX509Source

        source = WorkloadX509Source(socket_path, timeout=timeout)
        domain = server_trust_domain or source.svid.spiffe_id.trust_domain.name
        return cls(source, server_dns_name, domain.removeprefix("spiffe://"))

    def channel(self, address: str, *, options: Sequence[tuple[str, Any]] = ()) -> Any:
        """A ``SpiffeChannel``: read ``.channel`` for each call, it is replaced when the SVID rotates. Retries,
        round_robin over several addresses or a ``dns:`` name, and size limits are those of every client channel."""
        from mcp_grpc.identity.credentials import SpiffeChannel

        target, channel_options = channel_target(address, options=options)
        channel = SpiffeChannel(
            target,
            self.x509_source,
            server_dns_name=self.server_dns_name,
            server_trust_domain=self.server_trust_domain,
            options=channel_options,
        )
        self._channels.append(channel)
        return channel

    def client(self, address: str, **client_options: Any) -> Any:
        """An ``AsyncClient`` whose every call uses the current SPIFFE channel (closed by :meth:`aclose`)."""
        spiffe_channel = self.channel(address)
        return AsyncClient(channel_provider=lambda: spiffe_channel.channel, **client_options)

    async def close_channel(self, channel: Any) -> None:
        """Close one channel made by :meth:`channel` before the identity itself is closed."""
        if channel in self._channels:
            self._channels.remove(channel)
            await channel.close()

    async def aclose(self) -> None:
        """Close every channel made here, then the X.509 source."""
        for channel in self._channels:
            await channel.close()
        self._channels.clear()
        self.x509_source.close()
