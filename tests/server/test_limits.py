"""Rate limits and concurrency caps over the wire: real mTLS with one SVID per caller, the in-process GCRA store.

A call over a limit is RESOURCE_EXHAUSTED with ``retry-after`` and ``grpc-retry-pushback-ms`` in its trailing
metadata, audited ``limited``, and never reaches the authorizer; a limit per caller does not throttle another caller.
"""

from __future__ import annotations

import asyncio
import pathlib

import grpc
import pytest

from mcp_grpc.authz.limits import LimitPolicy
from mcp_grpc.client import McpCallError
from mcp_grpc.contract import ConcurrencyLimit, RateLimit
from mcp_grpc.server.limits import Limiter
from tests.server.limits_support import (
    AUDITOR, BILLING, SUPPORT, CountingAuthorizer, LimitedApp, make_pki, raw_call, wait_for,
)
from tests.server.server_support import ListAuditSink
from tests.support.servers import running


@pytest.fixture(scope="module")
def pki():
    return make_pki(BILLING, SUPPORT, AUDITOR)


async def test_a_burst_over_a_tool_limit_is_resource_exhausted_with_retry_after_and_audited(pki):
    limited = LimitedApp()
    authorizer, audit = CountingAuthorizer(), ListAuditSink()
    async with running(limited.app, authorizer, audit_sink=audit, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as client:
            for amount in (1, 2):  # the burst of 2
                assert (await client.call_tool("transfer", {"amount": amount})).text == f"moved {amount}"
            code, details, trailing = await raw_call(client, "transfer", {"amount": 3})
            with pytest.raises(McpCallError) as again:
                await client.call_tool("transfer", {"amount": 4})
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "rate limit 'transfer#0' exceeded" in details
    retry_after = int(trailing["retry-after"])
    assert 90 <= retry_after <= 100  # one token per 100 s
    assert 90_000 <= int(trailing["grpc-retry-pushback-ms"]) <= 100_000
    assert again.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED and again.value.retry_after == retry_after
    # the two limited calls cost no authorization
    assert authorizer.decided == [(BILLING, "transfer"), (BILLING, "transfer")]
    decisions = [(e.principal, e.target, e.decision.value) for e in audit.events]
    assert decisions == [(BILLING, "transfer", "allow")] * 2 + [(BILLING, "transfer", "limited")] * 2
    assert "rate limit 'transfer#0' exceeded" in audit.events[-1].reason


async def test_a_limit_per_principal_does_not_throttle_another_principal(pki):
    limited = LimitedApp()
    policy = LimitPolicy(rates=(RateLimit(rate=0.01, burst=3, per="principal", name="per-caller"),))
    limiter = Limiter(policy)
    async with running(limited.app, CountingAuthorizer(), limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing, pki.client(SUPPORT, server.address) as support:
            for _ in range(3):
                await billing.call_tool("echo", {"text": "b"})
            with pytest.raises(McpCallError) as refused:
                await billing.call_tool("echo", {"text": "b"})
            for _ in range(3):  # support's own bucket is full
                assert (await support.call_tool("echo", {"text": "s"})).text == "s"
            with pytest.raises(McpCallError) as support_refused:
                await support.call_tool("echo", {"text": "s"})
    assert refused.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED and "per-caller" in refused.value.message
    assert support_refused.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert limiter.counts() == {("per-caller", "limited"): 2}


async def test_a_tool_limit_is_shared_by_every_caller_and_other_tools_are_untouched(pki):
    limited = LimitedApp()
    limiter = Limiter(LimitPolicy(rates=(RateLimit(rate=0.01, burst=2, per="tool", tool="echo"),)))
    async with running(limited.app, None, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing, pki.client(SUPPORT, server.address) as support:
            await billing.call_tool("echo", {"text": "1"})
            await support.call_tool("echo", {"text": "2"})
            code, _, _ = await raw_call(billing, "echo", {"text": "3"})
            code_other, _, _ = await raw_call(support, "echo", {"text": "4"})
            assert (await support.call_tool("transfer", {"amount": 1})).text == "moved 1"
    assert code is code_other is grpc.StatusCode.RESOURCE_EXHAUSTED


async def test_a_concurrency_cap_per_principal_refuses_a_second_call_in_flight_and_frees_its_slot(pki):
    limited = LimitedApp()
    audit = ListAuditSink()
    async with running(limited.app, None, audit_sink=audit, **pki.server_fields()) as server:
        limiter = server.pipeline.limiter
        async with pki.client(BILLING, server.address) as billing, pki.client(SUPPORT, server.address) as support:
            first = asyncio.ensure_future(billing.call_tool("hold"))
            await asyncio.wait_for(limited.holding.wait(), 5)
            code, details, trailing = await raw_call(billing, "hold", {})
            other = asyncio.ensure_future(support.call_tool("hold"))  # another caller has its own slot
            await wait_for(lambda: limiter.in_flight("hold#concurrency0", SUPPORT) == 1)
            limited.release.set()
            assert (await first).text == (await other).text == "released"
            assert limiter.in_flight("hold#concurrency0", BILLING) == 0
            assert (await billing.call_tool("hold")).text == "released"  # the slot came back
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED and "at most 1 calls in flight" in details
    assert trailing["retry-after"] == "1"
    assert [e.decision.value for e in audit.events if e.principal == BILLING].count("limited") == 1


async def test_a_team_limit_is_one_bucket_for_the_members_found_by_an_fga_check(pki, tmp_path: pathlib.Path):
    """The team's members share one bucket; a caller outside the team is not counted. Membership comes from the
    authorizer's check API (the embedded engine over an authz/ folder)."""
    from mcp_grpc.authz.authorizer import FgaAuthorizer

    (tmp_path / "model.fga").write_text(
        "model\n  schema 1.1\ntype agent\ntype team\n  relations\n    define member: [agent]\n"
        "type tool\n  relations\n    define can_call: [agent, team#member]\n"
    )
    members = "".join(
        f"- user: agent:{who.removeprefix('spiffe://')}\n  relation: member\n  object: team:finance\n"
        for who in (BILLING, AUDITOR)
    )
    callers = "".join(
        f"- user: agent:{who.removeprefix('spiffe://')}\n  relation: can_call\n  object: tool:limits/echo\n"
        for who in (BILLING, AUDITOR, SUPPORT)
    )
    (tmp_path / "tuples.yaml").write_text(members + callers)
    authorizer = FgaAuthorizer.from_authz_dir(tmp_path)
    limiter = Limiter(LimitPolicy(rates=(RateLimit(rate=0.01, burst=2, per="team", team="team:finance#member"),)))
    async with running(LimitedApp().app, authorizer, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing, pki.client(AUDITOR, server.address) as auditor, \
                pki.client(SUPPORT, server.address) as support:
            await billing.call_tool("echo", {"text": "1"})
            await auditor.call_tool("echo", {"text": "2"})
            code, details, _ = await raw_call(billing, "echo", {"text": "3"})
            code_auditor, _, _ = await raw_call(auditor, "echo", {"text": "4"})
            for _ in range(3):
                assert (await support.call_tool("echo", {"text": "s"})).text == "s"
    await authorizer.close()
    assert code is code_auditor is grpc.StatusCode.RESOURCE_EXHAUSTED and "'rate_limits[0]'" in details


async def test_limits_of_the_file_and_of_the_tool_both_apply_and_a_refusal_takes_no_token(pki):
    """A call refused by one bucket takes nothing from the others (GCRA, all or none)."""
    limited = LimitedApp()
    policy = LimitPolicy(
        rates=(RateLimit(rate=0.01, burst=5, per="principal", name="caller"),),
        concurrency=(ConcurrencyLimit(4, name="in-flight"),),
    )
    limiter = Limiter(policy)
    async with running(limited.app, None, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing:
            results = [(await raw_call(billing, "transfer", {"amount": i}))[0] for i in range(4)]
            # transfer's own limit refused calls 3 and 4; the caller's 5 tokens lost only 2
            for _ in range(3):
                await billing.call_tool("echo", {"text": "x"})
            code, details, _ = await raw_call(billing, "echo", {"text": "x"})
    ok, exhausted = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED
    assert results == [ok, ok, exhausted, exhausted]
    assert code is exhausted and "'caller'" in details
    assert limiter.in_flight("in-flight", BILLING) == 0


async def test_an_unknown_tool_gets_no_bucket_of_its_own(pki):
    """Limits keyed by tool name apply to registered tools only: made-up names cannot grow the store."""
    limiter = Limiter(LimitPolicy(rates=(RateLimit(rate=0.01, burst=1, per="principal_tool"),)))
    async with running(LimitedApp().app, None, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing:
            codes = [(await raw_call(billing, f"nope{i}", {}))[0] for i in range(3)]
    assert set(codes) == {grpc.StatusCode.NOT_FOUND}
    assert len(limiter.store) == 0  # type: ignore[arg-type]


async def test_call_tool_stream_and_typed_proto_first_calls_meet_the_same_limits(pki):
    from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
    from examples.proto_tools.server import StorageService

    limited = LimitedApp()
    limited.app.add_proto_service(StorageService(), storage_pb2.DESCRIPTOR.services_by_name["StorageService"])
    limiter = Limiter(LimitPolicy(rates=(RateLimit(rate=0.01, burst=1, per="tool", tool="list_objects"),)))
    async with running(limited.app, None, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing:
            await billing.call_tool("transfer", {"amount": 1}, progress=lambda update: None)
            await billing.call_tool("transfer", {"amount": 2}, progress=lambda update: None)
            with pytest.raises(McpCallError) as streamed:
                await billing.call_tool("transfer", {"amount": 3}, progress=lambda update: None)
            stub = storage_pb2_grpc.StorageServiceStub(billing.channel)
            await stub.ListObjects(storage_pb2.ListObjectsRequest(bucket="docs"), timeout=10)
            with pytest.raises(grpc.aio.AioRpcError) as typed:
                await stub.ListObjects(storage_pb2.ListObjectsRequest(bucket="docs"), timeout=10)
    assert streamed.value.status is grpc.StatusCode.RESOURCE_EXHAUSTED and streamed.value.retry_after is not None
    assert typed.value.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "retry-after" in dict(typed.value.trailing_metadata())


async def test_each_limit_is_a_metric_series(pki):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    limiter = Limiter(LimitPolicy(rates=(RateLimit(rate=0.01, burst=1, per="principal", name="caller"),)),
                      meter_provider=MeterProvider(metric_readers=[reader]))
    async with running(LimitedApp().app, None, limiter=limiter, **pki.server_fields()) as server:
        async with pki.client(BILLING, server.address) as billing:
            codes = [(await raw_call(billing, tool, args))[0]
                     for tool, args in (("echo", {"text": "x"}), ("echo", {"text": "x"}), ("transfer", {"amount": 1}))]
    assert codes[1:] == [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
    points = {
        (tuple(sorted(point.attributes.items())), point.value)
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics for metric in scope.metrics if metric.name == "mcp_grpc.server.limits"
        for point in metric.data.data_points
    }
    assert points == {((("limit", "caller"), ("outcome", "limited")), 2)}
