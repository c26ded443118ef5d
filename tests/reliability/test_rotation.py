"""Identity faults under load, full stack (mTLS with SVIDs from a real development Workload API, the demo app, the
embedded engine on authz/): SVID and CA rotations, and the Workload API killed and restarted. Callers must see no
failed call and no wrongly allowed call; the server and the agents must end up on the new SVIDs."""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
from typing import Any

import pytest

from examples.demo.server import app as demo_app
from mcp_grpc.server.security import authorizer_from_authz_dir
from tests.reliability.reliability_support import (
    BILLING_MIX, SUPPORT_MIX, Load, client_identity, client_over, in_process_server, kill, server_identity, wait_for,
    workload_api,
)
from tests.support.paths import AUTHZ_DIR


@dataclasses.dataclass(frozen=True)
class RotationScale:
    name: str
    callers: int
    seconds: float
    """How long the load runs after the forced rotations (TTL-driven rotations happen meanwhile)."""
    dev_args: tuple[str, ...]


ROTATION_SCALES = [
    pytest.param(RotationScale("short", 4, 0.5, ("--x509-ttl", "1h", "--ca-activation-delay", "1s")), id="short"),
    pytest.param(
        # 10 s SVIDs renew every ~5 s; a 24 s CA is prepared at ~12 s and activated at ~20 s, on its own.
        RotationScale("long", 32, 40.0, ("--x509-ttl", "10s", "--ca-ttl", "24s", "--ca-activation-delay", "1s")),
        id="long", marks=pytest.mark.reliability,
    ),
]


def leaf_of(source: Any) -> Any:
    return source.svid.leaf


class Identities:
    """The server's and both agents' X.509 sources, and every leaf each of them was seen to hold."""

    def __init__(self, server: Any, billing: Any, support: Any) -> None:
        self.sources = {"server": server.workload.x509, "billing": billing.x509_source, "support": support.x509_source}
        self.serials: dict[str, set[int]] = {name: set() for name in self.sources}
        self.issuers: dict[str, set[str]] = {name: set() for name in self.sources}
        for name, source in self.sources.items():
            self._seen(name)
            source.subscribe_for_updates(lambda name=name: self._seen(name))

    def _seen(self, name: str) -> None:
        try:
            leaf = leaf_of(self.sources[name])
        except Exception:  # noqa: BLE001 - no SVID at this moment: nothing to record
            return
        self.serials[name].add(leaf.serial_number)
        self.issuers[name].add(leaf.issuer.rfc4514_string())

    def serial(self, name: str) -> int:
        return leaf_of(self.sources[name]).serial_number


async def rotate_svids(dev: Any, ids: Identities) -> None:
    """Re-issue every SVID now and wait until each holder has its new one."""
    before = {name: ids.serial(name) for name in ids.sources}
    for name in ids.sources:
        await asyncio.to_thread(dev.admin, "rotate-svid", name=name)
    for name in ids.sources:
        assert await wait_for(lambda: ids.serial(name) != before[name], 15), f"{name} did not get its new SVID"


def active_ca(dev: Any) -> str:
    return [a["id"] for a in dev.admin("status")["authorities"]["x509"] if a["role"] == "active"][0]


@pytest.mark.parametrize("scale", ROTATION_SCALES)
async def test_svid_and_ca_rotation_under_load(scale: RotationScale, tmp_path: pathlib.Path) -> None:
    with workload_api(tmp_path, *scale.dev_args) as dev:
        identity = await server_identity(dev)
        billing = await client_identity(dev, "billing")
        support = await client_identity(dev, "support")
        authorizer = authorizer_from_authz_dir(AUTHZ_DIR)
        try:
            async with in_process_server(demo_app, identity, authorizer=authorizer) as server:
                (billing_client, billing_channel), (support_client, support_channel) = (
                    client_over(billing, server.address), client_over(support, server.address))
                clients = [(billing_client, BILLING_MIX), (support_client, SUPPORT_MIX)]
                ids = Identities(identity, billing, support)
                first_ca = await asyncio.to_thread(active_ca, dev)
                load = Load(clients, scale.callers).start()
                try:
                    await asyncio.sleep(0.5)
                    await rotate_svids(dev, ids)
                    await asyncio.to_thread(dev.admin, "rotate-ca", step="full")
                    assert await wait_for(lambda: active_ca(dev) != first_ca, 15), "the new CA never became active"
                    await rotate_svids(dev, ids)  # now signed by the new CA
                    await asyncio.sleep(scale.seconds)
                finally:
                    tally = await load.stop()
                builds = [billing_channel.builds, support_channel.builds]
        finally:
            await billing.aclose()
            await support.aclose()
            await authorizer.close()
            identity.close()
    print(f"\nrotation[{scale.name}]: {tally.summary()}; SVIDs seen {({k: len(v) for k, v in ids.serials.items()})}, "
          f"issuing CAs {({k: len(v) for k, v in ids.issuers.items()})}, client channel builds {builds}")
    assert tally.failed == [], tally.failed[:5]
    assert tally.wrongly_allowed == [], tally.wrongly_allowed[:5]
    assert tally.allowed > 0 and tally.denied > 0
    for name in ids.sources:
        assert len(ids.serials[name]) >= 3, f"{name}: expected the first SVID and two rotations"
        assert len(ids.issuers[name]) >= 2, f"{name}: never held an SVID from the rotated CA"
    assert all(b >= 2 for b in builds), "client channels are rebuilt when the agent's SVID rotates"


@pytest.mark.parametrize("scale", [
    pytest.param(RotationScale("short", 4, 1.0, ()), id="short"),
    pytest.param(RotationScale("long", 16, 5.0, ()), id="long", marks=pytest.mark.reliability),
])
async def test_workload_api_killed_and_restarted_under_load(scale: RotationScale, tmp_path: pathlib.Path) -> None:
    cycles = 1 if scale.name == "short" else 3
    with workload_api(tmp_path, "--x509-ttl", "1h", "--state-dir", str(tmp_path / "state")) as dev:
        identity = await server_identity(dev)
        billing = await client_identity(dev, "billing")
        support = await client_identity(dev, "support")
        authorizer = authorizer_from_authz_dir(AUTHZ_DIR)
        try:
            async with in_process_server(demo_app, identity, authorizer=authorizer) as server:
                clients = [(billing.client(server.address), BILLING_MIX), (support.client(server.address), SUPPORT_MIX)]
                ids = Identities(identity, billing, support)
                load = Load(clients, scale.callers).start()
                outages = []
                try:
                    for _ in range(cycles):
                        await asyncio.to_thread(kill, dev)
                        calls_at_kill = load.tally.calls
                        await asyncio.sleep(scale.seconds)
                        outages.append(load.tally.calls - calls_at_kill)
                        # Calls keep working on the SVIDs already held while the Workload API is gone.
                        assert load.tally.calls > calls_at_kill and not load.tally.failed, load.tally.summary()
                        assert "UNAVAILABLE" in identity.workload.x509.last_error
                        await asyncio.to_thread(dev.start)
                        # The next rotation reaches the server and both agents once they have reconnected.
                        await rotate_svids(dev, ids)
                    await asyncio.sleep(0.5)
                finally:
                    tally = await load.stop()
        finally:
            await billing.aclose()
            await support.aclose()
            await authorizer.close()
            identity.close()
    print(f"\nworkload api restart[{scale.name}]: {cycles} kill/restart cycles, calls during each outage {outages}; "
          f"{tally.summary()}; SVIDs seen {({k: len(v) for k, v in ids.serials.items()})}")
    assert tally.failed == [], tally.failed[:5]
    assert tally.wrongly_allowed == [], tally.wrongly_allowed[:5]
    for name in ids.sources:
        assert len(ids.serials[name]) >= 1 + cycles
