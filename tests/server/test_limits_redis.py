"""Rate limits shared through a real redis-server (``make redis``): one fleet-wide limit for two servers, and the
configured answer while Redis is down (read-only tools go on, audited; other tools are refused, fail closed)."""

from __future__ import annotations

import pathlib
from typing import Iterator

import grpc
import pytest

from mcp_grpc.authz.limits import LimitPolicy
from mcp_grpc.contract import RateLimit
from mcp_grpc.server.limits import Bucket, Limiter, StoreUnavailable
from mcp_grpc.server.limits.redis_gcra import RedisGcra, redacted
from tests.server.limits_support import BILLING, SUPPORT, LimitedApp, make_pki, raw_call
from tests.server.server_support import ListAuditSink
from tests.support.redis_server import RedisServer, require_redis
from tests.support.servers import running


@pytest.fixture(scope="module")
def redis_binary() -> str:
    return require_redis()


@pytest.fixture(scope="module")
def redis_server(redis_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(redis_binary, tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def pki():
    return make_pki(BILLING, SUPPORT)


async def test_the_script_takes_every_bucket_or_none(redis_server: RedisServer):
    store = RedisGcra(redis_server.url)
    try:
        a, b = Bucket("test:script:a", 100.0, 2), Bucket("test:script:b", 100.0, 1)
        assert (await store.take([a, b])).allowed
        refused = await store.take([a, b])  # b is empty: a keeps its second token
        assert not refused.allowed and refused.index == 1 and 99 < refused.retry_after <= 100
        assert (await store.take([a])).allowed
        assert not (await store.take([a])).allowed
    finally:
        await store.close()


async def test_two_servers_sharing_redis_enforce_one_fleet_wide_limit(redis_server: RedisServer, pki):
    policy = LimitPolicy(rates=(RateLimit(rate=0.01, burst=3, per="principal", name="fleet"),))
    limiters = [Limiter(policy, store=RedisGcra(redis_server.url)) for _ in range(2)]
    app = LimitedApp("fleet-test").app
    async with running(app, None, limiter=limiters[0], **pki.server_fields()) as one, \
            running(app, None, limiter=limiters[1], **pki.server_fields()) as two:
        async with pki.client(BILLING, one.address) as via_one, pki.client(BILLING, two.address) as via_two, \
                pki.client(SUPPORT, two.address) as support:
            codes = [(await raw_call(client, "echo", {"text": "x"}))[0]
                     for client in (via_one, via_two, via_one, via_two, via_one)]
            other, _, _ = await raw_call(support, "echo", {"text": "y"})
    ok, exhausted = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED
    assert codes == [ok, ok, ok, exhausted, exhausted]  # 3 tokens for the fleet, not 3 per server
    assert other is ok
    assert limiters[0].counts() == limiters[1].counts() == {("fleet", "limited"): 1}


async def test_redis_stopped_mid_test_lets_read_only_tools_on_and_refuses_the_others(
    redis_binary: str, tmp_path: pathlib.Path, pki
):
    redis_server = RedisServer(redis_binary, tmp_path).start()
    policy = LimitPolicy(rates=(RateLimit(rate=100, burst=100, per="principal", name="outage"),))
    limiter = Limiter(policy, store=RedisGcra(redis_server.url, backoff=0.2))
    audit = ListAuditSink()
    try:
        async with running(LimitedApp().app, None, limiter=limiter, audit_sink=audit, **pki.server_fields()) as server:
            async with pki.client(BILLING, server.address) as billing:
                assert (await raw_call(billing, "transfer", {"amount": 1}))[0] is grpc.StatusCode.OK
                redis_server.stop()
                read_only = await raw_call(billing, "echo", {"text": "still here"})
                destructive = await raw_call(billing, "transfer", {"amount": 2})
                unannotated = await raw_call(billing, "hold", {})
    finally:
        redis_server.stop()
    assert read_only[0] is grpc.StatusCode.OK
    code, details, trailing = destructive
    assert code is grpc.StatusCode.UNAVAILABLE
    assert "rate limits unavailable" in details and "'transfer' is not marked read-only" in details
    assert "fail closed" in details and trailing["grpc-retry-pushback-ms"] == "-1"
    assert unannotated[0] is grpc.StatusCode.UNAVAILABLE  # no readOnlyHint: treated as destructive
    assert redis_server.url.split("//")[1] not in details  # the caller learns no address
    records = [(e.target, e.decision.value, e.reason) for e in audit.events]
    assert records[0][:2] == ("transfer", "allow")
    assert records[1][:2] == ("echo", "allow") and "rate limits not checked" in records[1][2]
    assert records[2][:2] == ("transfer", "unavailable") and "rate limits unavailable" in records[2][2]
    counts = limiter.counts()
    assert counts[("store", "store_unavailable_allowed")] == 1
    assert counts[("store", "store_unavailable_refused")] == 2


async def test_the_file_can_open_every_tool_or_close_read_only_ones_too(redis_binary: str, tmp_path, pki):
    """``when_store_unavailable`` reverses both defaults; a Redis that was never there behaves the same."""
    down = RedisServer(redis_binary, tmp_path)  # never started: its port refuses connections
    rule = (RateLimit(rate=100, per="principal"),)
    for policy, expected in (
        (LimitPolicy(rates=rule, read_only_open=False, other_open=True),
         (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.OK)),
        (LimitPolicy(rates=rule), (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE)),
    ):
        limiter = Limiter(policy, store=RedisGcra(down.url, backoff=0))
        async with running(LimitedApp().app, None, limiter=limiter, **pki.server_fields()) as server:
            async with pki.client(BILLING, server.address) as billing:
                echo = (await raw_call(billing, "echo", {"text": "x"}))[0]
                transfer = (await raw_call(billing, "transfer", {"amount": 1}))[0]
        assert (echo, transfer) == expected


async def test_a_store_that_stays_down_answers_at_once_during_its_backoff(redis_binary: str, tmp_path):
    down = RedisServer(redis_binary, tmp_path)
    store = RedisGcra(down.url, backoff=60)
    try:
        for _ in range(2):
            with pytest.raises(StoreUnavailable, match="did not answer"):
                await store.take([Bucket("k", 1.0, 1)])
    finally:
        await store.close()
    assert redacted("redis://user:secret@cache:6380/0") == "redis://user:***@cache:6380/0"
