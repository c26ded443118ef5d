"""Load over mTLS: the demo server (`mcp-grpc serve`, embedded OpenFGA engine on authz/) under concurrent callers
with both demo agents' SVIDs. Every call that the tuples allow succeeds, every other is denied, and the server's
resident memory stays bounded."""

from __future__ import annotations

import asyncio
import pathlib
import time

import pytest

from tests.reliability.reliability_support import BILLING_MIX, SUPPORT_MIX, Load, Scale, ServerProcess, client_identity, scales

# Calls per warm-up caller before the RSS baseline: caches, pools and allocator arenas fill up first.
WARMUP_CALLERS, WARMUP_CALLS_EACH = 8, 50
# Generous on purpose: the point is "bounded", not a tight budget (bench/ measures memory precisely).
RSS_GROWTH_LIMIT_KIB = {"short": 48 * 1024, "long": 96 * 1024}


@pytest.mark.parametrize("scale", scales(Scale("short", callers=16, seconds=5), Scale("long", callers=64, seconds=60)))
async def test_concurrent_callers_allowed_and_denied_exactly(
    scale: Scale, shared_workload_api, tmp_path: pathlib.Path
) -> None:
    server = await asyncio.to_thread(ServerProcess(shared_workload_api, tmp_path).start)
    billing = await client_identity(shared_workload_api, "billing")
    support = await client_identity(shared_workload_api, "support")
    try:
        clients = [(billing.client(server.address), BILLING_MIX), (support.client(server.address), SUPPORT_MIX)]
        warmup = await Load(clients, WARMUP_CALLERS, max_calls=WARMUP_CALLS_EACH).start().wait()
        assert not warmup.failed and not warmup.wrongly_allowed, warmup.summary()
        rss_before = server.rss_kib()
        started = time.monotonic()
        tally = await Load(clients, scale.callers, seconds=scale.seconds).start().wait()
        elapsed = time.monotonic() - started
        rss_after = server.rss_kib()
    finally:
        await billing.aclose()
        await support.aclose()
        code = await asyncio.to_thread(server.stop)
    growth = rss_after - rss_before
    print(f"\nload[{scale.name}]: {scale.callers} callers, {elapsed:.1f}s, {tally.summary()}, "
          f"{tally.calls / elapsed:.0f} calls/s; server RSS {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB "
          f"({growth / 1024:+.1f} MiB)")
    assert tally.failed == [], tally.failed[:5]
    assert tally.wrongly_allowed == [], tally.wrongly_allowed[:5]
    assert tally.allowed > scale.callers and tally.denied > scale.callers, tally.summary()
    assert growth < RSS_GROWTH_LIMIT_KIB[scale.name], f"server RSS grew by {growth} KiB under load"
    assert code == 0, f"the server did not stop cleanly: exit code {code}\n{server.log_path.read_text()[-2000:]}"
