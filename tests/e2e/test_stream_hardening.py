"""Security hardening, findings 3 and 4, over the wire (real SPIFFE mTLS, the embedded engine over authz/, the audit
log): Listen needs a grant and one caller holds a bounded number of streams; streams end when the caller's
certificate expires, and connections past their age close streams included."""

from __future__ import annotations

import asyncio
import datetime
import time
from typing import Any, AsyncIterator

import grpc
import pytest
import pytest_asyncio

from mcp_grpc.server import Context, McpApp
from mcp_grpc.wire import streaming_pb2, streaming_pb2_grpc
from tests.support.certfactory import key_pem, pem
from tests.support.e2e import (
    BILLING_ID,
    PREFIX,
    SUPPORT_ID,
    RunningServer,
    bundle_pem,
    fresh_config_fields,
    mtls_channel,
    start_server,
)

pytestmark = pytest.mark.asyncio(loop_scope="package")

LISTEN = "/mcp_grpc.v1.McpStreaming/Listen"
STRANGER_ID = f"{PREFIX}/stranger"


def channel_for(server: RunningServer, api: Any, ca: Any, spiffe_id: str, *,
                lifetime: datetime.timedelta | None = None) -> tuple[grpc.aio.Channel, datetime.datetime]:
    """An mTLS channel presenting a fresh leaf for ``spiffe_id`` from our CA, and that leaf's expiry."""
    not_after = None
    if lifetime is not None:
        not_after = datetime.datetime.now(datetime.timezone.utc) + lifetime
    cert, key = ca.issue_leaf(spiffe_id, with_eku=True, not_after=not_after)
    return mtls_channel(server.address, bundle_pem(api), pem(cert), key_pem(key)), cert.not_valid_after_utc


def listen(channel: grpc.aio.Channel) -> Any:
    request = streaming_pb2.ListenRequest()
    request.notifications.tools_list_changed = True
    return streaming_pb2_grpc.McpStreamingStub(channel).Listen(request, timeout=30)


async def acknowledged(call: Any) -> None:
    frame = await asyncio.wait_for(call.read(), 10)
    assert frame.WhichOneof("event") == "acknowledged", frame


async def status_of(call: Any, timeout: float = 20) -> grpc.aio.AioRpcError:
    """The status ending ``call``, read to its end (bounded)."""
    with pytest.raises(grpc.aio.AioRpcError) as ended:
        async with asyncio.timeout(timeout):
            while (await call.read()) is not grpc.aio.EOF:
                pass
    return ended.value


async def eventually(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest_asyncio.fixture(loop_scope="package")
async def capped(server_identity, demo_authorizer, tmp_path) -> AsyncIterator[RunningServer]:
    """The demo app allowing two Listen streams per caller."""
    from examples.demo.server import app

    fields = {**fresh_config_fields(server_identity), "max_listen_streams": 2}
    running = await start_server(app, fields, demo_authorizer, tmp_path / "audit.jsonl")
    yield running
    await running.stop()


# -- 3a: Listen needs a grant ----------------------------------------------------------------------------------------


async def test_listen_without_a_grant_is_permission_denied_and_audited(payments, workload_api, our_ca):
    channel, _ = channel_for(payments, workload_api, our_ca, STRANGER_ID)
    mark = payments.audit_mark()
    async with channel:
        ended = await status_of(listen(channel))
    assert ended.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"method:payments/{LISTEN}" in ended.details()
    [record] = payments.audit_since(mark, expect=1)
    assert (record["principal"], record["method"], record["decision"], record["kind"], record["target"]) == (
        STRANGER_ID, "Listen", "deny", "method", LISTEN)


async def test_the_demo_agents_may_listen(payments, workload_api, our_ca):
    mark = payments.audit_mark()
    for spiffe_id in (BILLING_ID, SUPPORT_ID):
        channel, _ = channel_for(payments, workload_api, our_ca, spiffe_id)
        async with channel:
            call = listen(channel)
            await acknowledged(call)
            call.cancel()
    records = payments.audit_since(mark, expect=2)
    assert [(r["principal"], r["decision"]) for r in records] == [(BILLING_ID, "allow"), (SUPPORT_ID, "allow")]
    assert [c["object"] for c in records[0]["checks"]] == [f"method:payments/{LISTEN}"]


# -- 3b: streams per caller --------------------------------------------------------------------------------------------


async def test_one_caller_holds_at_most_the_cap_and_slots_come_back(capped, workload_api, our_ca):
    counter = capped.server._streaming.listen_streams
    billing, _ = channel_for(capped, workload_api, our_ca, BILLING_ID)
    support, _ = channel_for(capped, workload_api, our_ca, SUPPORT_ID)
    async with billing, support:
        first, second = listen(billing), listen(billing)
        await acknowledged(first)
        await acknowledged(second)
        mark = capped.audit_mark()
        ended = await status_of(listen(billing))
        assert ended.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert ended.details().startswith(f"too many Listen streams: {BILLING_ID} already holds 2")
        [record] = capped.audit_since(mark, expect=1)
        assert (record["principal"], record["decision"], record["target"]) == (BILLING_ID, "limited", LISTEN)
        assert record["reason"] == ended.details()

        other = listen(support)  # the cap is per caller
        await acknowledged(other)

        first.cancel()  # a client cancel gives the slot back
        assert await eventually(lambda: counter.held(BILLING_ID) == 1)
        third = listen(billing)
        await acknowledged(third)
        second.cancel()
        third.cancel()
        other.cancel()
    assert await eventually(lambda: counter.held(BILLING_ID) == 0 and counter.held(SUPPORT_ID) == 0)


async def test_a_server_close_gives_the_slots_back(server_identity, demo_authorizer, workload_api, our_ca, tmp_path):
    from examples.demo.server import app

    fields = {**fresh_config_fields(server_identity), "max_listen_streams": 1, "drain_seconds": 0.5}
    running = await start_server(app, fields, demo_authorizer, tmp_path / "audit.jsonl")
    counter = running.server._streaming.listen_streams
    try:
        channel, _ = channel_for(running, workload_api, our_ca, BILLING_ID)
        async with channel:
            call = listen(channel)
            await acknowledged(call)
            assert counter.held(BILLING_ID) == 1
            await running.server.stop()
            assert (await call.code()) == grpc.StatusCode.OK
    finally:
        await running.stop()
    assert await eventually(lambda: counter.held(BILLING_ID) == 0)


# -- 4b: streams end when the caller's certificate expires ------------------------------------------------------------


async def test_a_listen_stream_ends_when_the_callers_certificate_expires(payments, workload_api, our_ca):
    counter = payments.server._streaming.listen_streams
    channel, expires = channel_for(payments, workload_api, our_ca, BILLING_ID, lifetime=datetime.timedelta(seconds=4))
    mark = payments.audit_mark()
    async with channel:
        call = listen(channel)
        await acknowledged(call)
        ended = await status_of(call)
    late = (datetime.datetime.now(datetime.timezone.utc) - expires).total_seconds()
    assert ended.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ended.details().startswith(f"credential expired: the credential of {BILLING_ID} expired at")
    assert -0.5 < late < 2.0, f"ended {late:.2f}s after the certificate expired"
    allow, end = payments.audit_since(mark, expect=2)
    assert (allow["method"], allow["decision"]) == ("Listen", "allow")
    assert (end["principal"], end["method"], end["decision"], end["target"]) == (
        BILLING_ID, "Listen", "unauthenticated", LISTEN)
    assert end["reason"] == ended.details()
    assert await eventually(lambda: counter.held(BILLING_ID) == 0)


@pytest_asyncio.fixture(loop_scope="package")
async def slow_payments(server_identity, demo_authorizer, tmp_path) -> AsyncIterator[tuple[RunningServer, Any]]:
    """An app named payments whose lookup_invoice (granted to billing by authz/) reports progress, then waits."""
    app = McpApp("payments")
    cancelled = asyncio.Event()

    @app.tool()
    async def lookup_invoice(invoice_id: str, ctx: Context) -> str:
        await ctx.report_progress(1, 2, "looking")
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return invoice_id

    running = await start_server(app, fresh_config_fields(server_identity), demo_authorizer,
                                 tmp_path / "audit.jsonl")
    yield running, cancelled
    await running.stop()


async def test_a_long_call_tool_stream_ends_when_the_callers_certificate_expires(slow_payments, workload_api,
                                                                                   our_ca):
    server, cancelled = slow_payments
    channel, expires = channel_for(server, workload_api, our_ca, BILLING_ID, lifetime=datetime.timedelta(seconds=3))
    request = streaming_pb2.CallToolStreamRequest()
    request.request.name = "lookup_invoice"
    request.request.arguments.update({"invoice_id": "INV-1001"})
    mark = server.audit_mark()
    async with channel:
        call = streaming_pb2_grpc.McpStreamingStub(channel).CallToolStream(request, timeout=30)
        frame = await asyncio.wait_for(call.read(), 10)
        assert frame.WhichOneof("frame") == "progress"
        ended = await status_of(call)
    late = (datetime.datetime.now(datetime.timezone.utc) - expires).total_seconds()
    assert ended.code() == grpc.StatusCode.UNAUTHENTICATED
    assert ended.details().startswith("credential expired")
    assert -0.5 < late < 2.0, f"ended {late:.2f}s after the certificate expired"
    await asyncio.wait_for(cancelled.wait(), 5)  # the handler was stopped too
    [record] = server.audit_since(mark, expect=1)
    assert (record["principal"], record["method"], record["decision"], record["target"]) == (
        BILLING_ID, "CallToolStream", "unauthenticated", "lookup_invoice")
    assert record["reason"] == ended.details()


# -- 4a: a connection past its age closes, streams included ----------------------------------------------------------


async def test_max_connection_age_with_its_grace_ends_long_streams(server_identity, demo_authorizer, workload_api,
                                                                   our_ca, tmp_path):
    from examples.demo.server import app

    fields = {**fresh_config_fields(server_identity), "max_connection_age": 1.0, "max_connection_age_grace": 1.0}
    running = await start_server(app, fields, demo_authorizer, tmp_path / "audit.jsonl")
    counter = running.server._streaming.listen_streams
    try:
        channel, _ = channel_for(running, workload_api, our_ca, BILLING_ID)  # valid for an hour
        async with channel:
            started = time.monotonic()
            call = listen(channel)
            await acknowledged(call)
            code = await asyncio.wait_for(call.code(), 10)
            lasted = time.monotonic() - started
        assert code != grpc.StatusCode.OK
        assert lasted < 6.0, f"the stream lasted {lasted:.1f}s on a connection of age 1 s + 1 s grace"
        assert await eventually(lambda: counter.held(BILLING_ID) == 0)
    finally:
        await running.stop()
