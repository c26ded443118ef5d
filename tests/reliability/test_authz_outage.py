"""The authorization backend goes away and comes back: OpenFGA's HTTP API (the fake server on the embedded engine,
loaded with authz/) behind `authorizer_from_openfga`, asked on every call (no decision cache). While it is slow or
down every call fails closed with UNAVAILABLE, the handler never runs and each refusal is audited; once it is back
calls succeed again without restarting anything."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated, Any
from unittest import mock

import grpc
import pytest
from aiohttp import web
from pydantic import Field

from mcp_grpc.authz.engine import EmbeddedBackend, Engine
from mcp_grpc.authz.files import load_model_file, load_tuples
from mcp_grpc.client import McpCallError
from mcp_grpc.server import McpApp
from mcp_grpc.contract import AuditEvent
from mcp_grpc.server.security import authorizer_from_openfga
from tests.reliability.reliability_support import Scale, client_identity, in_process_server, scales, server_identity
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFga
from tests.support.paths import AUTHZ_DIR

AUTHZ_TIMEOUT = 1.0


class ListSink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)


def counting_app() -> tuple[McpApp, list[str]]:
    """The demo's server name and tool name (so authz/ tuples apply), with a handler that records each run."""
    app = McpApp("payments")
    runs: list[str] = []

    @app.tool
    def lookup_invoice(invoice_id: Annotated[str, Field(description="Invoice number.")]) -> str:
        runs.append(invoice_id)
        return f"invoice {invoice_id}"

    return app, runs


async def restart_on_same_port(fake: FakeOpenFga) -> None:
    """Start the stopped fake again at its old address (``FakeOpenFga.start`` binds port 0 otherwise)."""
    port = int(fake.url.rsplit(":", 1)[1])
    original = web.TCPSite

    def same_port(runner: Any, host: str, _port: int, **kwargs: Any) -> web.TCPSite:
        return original(runner, host, port, reuse_address=True, **kwargs)

    with mock.patch.object(web, "TCPSite", same_port):
        await fake.start()
    assert fake.url.endswith(f":{port}")


async def burst(client: Any, n: int) -> list[Any]:
    """``n`` concurrent calls; each outcome is the result or the McpCallError."""
    async def one(i: int) -> Any:
        try:
            return await client.call_tool("lookup_invoice", {"invoice_id": f"INV-{i}"}, timeout=10)
        except McpCallError as exc:
            return exc

    return await asyncio.gather(*(one(i) for i in range(n)))


def assert_all_ok(outcomes: list[Any]) -> None:
    bad = [o for o in outcomes if isinstance(o, McpCallError) or o.is_error]
    assert not bad, bad[:3]


def assert_all_unavailable(outcomes: list[Any]) -> None:
    assert all(isinstance(o, McpCallError) and o.status is grpc.StatusCode.UNAVAILABLE for o in outcomes), \
        [o for o in outcomes if not (isinstance(o, McpCallError) and o.status is grpc.StatusCode.UNAVAILABLE)][:3]


@pytest.mark.parametrize("scale", scales(Scale("short", callers=8, seconds=1), Scale("long", callers=32, seconds=5)))
async def test_backend_slow_then_down_fails_closed_and_recovers_without_restart(
    scale: Scale, shared_workload_api
) -> None:
    cycles = 1 if scale.name == "short" else 3
    model = load_model_file(AUTHZ_DIR / "model.fga")
    engine = Engine()
    engine.write_model(model)
    engine.write(load_tuples(AUTHZ_DIR / "tuples.yaml"))
    app, runs = counting_app()
    audit = ListSink()
    identity = await server_identity(shared_workload_api)
    support = await client_identity(shared_workload_api, "support")
    fake = await FakeOpenFga(EmbeddedBackend(engine), model=model).start()
    authorizer = authorizer_from_openfga(fake.url, STORE_ID, model_id=MODEL_ID, timeout=AUTHZ_TIMEOUT, cache=False)
    recoveries: list[float] = []
    try:
        async with in_process_server(app, identity, authorizer=authorizer, audit_sink=audit) as server:
            client = support.client(server.address)
            assert_all_ok(await burst(client, scale.callers))

            # Slow: answers later than the authorizer's timeout.
            fake.delay = 3 * AUTHZ_TIMEOUT
            runs_before, started = len(runs), time.monotonic()
            slow = await burst(client, scale.callers)
            slow_seconds = time.monotonic() - started
            assert_all_unavailable(slow)
            assert slow_seconds < 3 * AUTHZ_TIMEOUT, "the authorizer's timeout bounds a slow backend"
            assert len(runs) == runs_before, "a handler ran without an authorization decision"
            fake.delay = 0.0

            for _ in range(cycles):
                assert_all_ok(await burst(client, scale.callers))
                # Down: connection refused.
                await fake.stop()
                runs_before, events_before = len(runs), len(audit.events)
                down = await burst(client, scale.callers)
                await asyncio.sleep(scale.seconds)
                down += await burst(client, scale.callers)
                assert_all_unavailable(down)
                assert len(runs) == runs_before, "a handler ran while the authorization backend was down"
                refusals = [e for e in audit.events[events_before:] if e.method == "CallTool"]
                assert len(refusals) == len(down) and all(e.decision == "unavailable" for e in refusals), \
                    {e.decision for e in refusals}
                assert all(e.reason for e in refusals), "every refusal says why"
                # Back, at the same address: the same server and authorizer recover on their own.
                await restart_on_same_port(fake)
                back_at = time.monotonic()
                recovered = False
                for _ in range(50):
                    outcomes = await burst(client, 1)
                    if not isinstance(outcomes[0], McpCallError):
                        recovered = True
                        break
                    assert outcomes[0].status is grpc.StatusCode.UNAVAILABLE
                    await asyncio.sleep(0.1)
                assert recovered, "calls did not recover after the backend came back"
                recoveries.append(time.monotonic() - back_at)
                assert_all_ok(await burst(client, scale.callers))
    finally:
        await support.aclose()
        await authorizer.close()
        await fake.stop()
        identity.close()
    print(f"\nauthz outage[{scale.name}]: slow backend refused {len(slow)} calls in {slow_seconds:.2f}s; "
          f"{cycles} outages, recovered {', '.join(f'{r:.2f}s' for r in recoveries)} after the backend returned; "
          f"handler ran {len(runs)} times, {len(audit.events)} audit records")
