"""OpenFgaBackend (openfga-sdk async client) against an OpenFGA HTTP API server: exact bodies, fail closed."""

from __future__ import annotations

import asyncio

import pytest

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.cache import ModelIndex
from mcp_grpc.authz.engine import EmbeddedBackend, Engine
from mcp_grpc.authz.remote import OpenFgaBackend
from mcp_grpc.contract import DecisionStatus
from tests.support.calls import principal, tool_target
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFga
from tests.support.ports import free_port
from tests.support.payments_store import BILLING, MODEL, TUPLES, assert_allows_denies_and_limits


@pytest.fixture
async def fake():
    engine = Engine()
    engine.write_model(MODEL)
    engine.write(TUPLES)
    async with FakeOpenFga(EmbeddedBackend(engine), model=MODEL) as server:
        yield server


@pytest.fixture
async def remote(fake):
    backend = OpenFgaBackend(fake.url, STORE_ID, model_id=MODEL_ID, timeout=2.0)
    yield backend
    await backend.close()


async def test_check_sends_openfga_check_body(fake, remote):
    result = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/refund", context={"peer_ip": "10.0.0.1"}))
    assert result.outcome is Outcome.ALLOWED
    request = fake.requests[-1]
    assert (request.method, request.path) == ("POST", f"/stores/{STORE_ID}/check")
    assert request.body == {
        "tuple_key": {"user": BILLING, "relation": "can_call", "object": "tool:payments/refund"},
        "context": {"peer_ip": "10.0.0.1"},
        "authorization_model_id": MODEL_ID,
    }
    denied = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/other"))
    assert denied.outcome is Outcome.DENIED


async def test_batch_check_sends_one_server_side_batch(fake, remote):
    requests = [
        CheckRequest(BILLING, "can_call", "tool:payments/refund"),
        CheckRequest(BILLING, "can_read", "bucket:restricted"),
        CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 500}),
        CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 50}),
        CheckRequest(BILLING, "can_refund", "ledger:payments"),  # missing condition parameter -> error
    ]
    results = await remote.batch_check(requests, consistency="HIGHER_CONSISTENCY")
    assert [r.outcome for r in results] == [
        Outcome.ALLOWED, Outcome.DENIED, Outcome.DENIED, Outcome.ALLOWED, Outcome.ERROR,
    ]
    assert "validation_error" in results[4].error and results[4].error_code == 2000
    assert len(fake.requests) == 1
    request = fake.requests[0]
    assert (request.method, request.path) == ("POST", f"/stores/{STORE_ID}/batch-check")
    assert request.body == {
        "checks": [
            {"tuple_key": {"user": BILLING, "relation": "can_call", "object": "tool:payments/refund"},
             "correlation_id": "0"},
            {"tuple_key": {"user": BILLING, "relation": "can_read", "object": "bucket:restricted"},
             "correlation_id": "1"},
            {"tuple_key": {"user": BILLING, "relation": "can_refund", "object": "ledger:payments"},
             "context": {"amount": 500}, "correlation_id": "2"},
            {"tuple_key": {"user": BILLING, "relation": "can_refund", "object": "ledger:payments"},
             "context": {"amount": 50}, "correlation_id": "3"},
            {"tuple_key": {"user": BILLING, "relation": "can_refund", "object": "ledger:payments"},
             "correlation_id": "4"},
        ],
        "authorization_model_id": MODEL_ID,
        "consistency": "HIGHER_CONSISTENCY",
    }


async def test_batch_over_50_is_split(fake, remote):
    requests = [CheckRequest(BILLING, "can_call", f"tool:payments/t{i}") for i in range(120)]
    results = await remote.batch_check(requests)
    assert len(results) == 120 and all(r.outcome is Outcome.DENIED for r in results)
    assert sorted(len(r.body["checks"]) for r in fake.requests) == [20, 50, 50]


async def test_contextual_tuples_with_condition_are_sent(fake, remote):
    ctx = TupleKey(BILLING, "can_call", "tool:payments/new", "amount_within_limit", {"limit": 5})
    await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/new", contextual_tuples=(ctx,)))
    assert fake.requests[-1].body["contextual_tuples"] == {
        "tuple_keys": [{
            "user": BILLING, "relation": "can_call", "object": "tool:payments/new",
            "condition": {"name": "amount_within_limit", "context": {"limit": 5}},
        }]
    }


async def test_list_objects_and_list_users(fake, remote):
    objects = await remote.list_objects(BILLING, "can_call", "tool", context={"a": 1})
    assert objects.items == ("tool:payments/refund",)
    assert fake.requests[-1].body == {
        "authorization_model_id": MODEL_ID, "type": "tool", "relation": "can_call", "user": BILLING, "context": {"a": 1},
    }
    users = await remote.list_users("tool:payments/refund", "can_call", ["agent", "team#member"])
    assert users.error is None and users.items == (BILLING, "team:finance#member")
    # OpenFGA's ListUsers takes exactly one user filter: one request per filter, sent together
    sent = fake.requests[-2:]
    assert [r.path for r in sent] == [f"/stores/{STORE_ID}/list-users"] * 2
    assert sorted((r.body for r in sent), key=lambda b: b["user_filters"][0]["type"]) == [
        {
            "authorization_model_id": MODEL_ID,
            "object": {"type": "tool", "id": "payments/refund"},
            "relation": "can_call",
            "user_filters": [user_filter],
        }
        for user_filter in ({"type": "agent"}, {"type": "team", "relation": "member"})
    ]


async def test_list_users_one_failed_filter_fails_the_whole_list(fake, remote):
    """A partial list is not the list: the filter the server refuses makes the merged answer an error."""
    users = await remote.list_users("tool:payments/refund", "can_call", ["agent", "robot"])
    assert users.items == () and users.error is not None and "HTTP 400" in users.error, users.error
    empty = await remote.list_users("tool:payments/refund", "can_call", [])
    assert empty.error is not None and empty.error_code == 2000 and empty.items == ()


async def test_write_and_read_model(fake, remote):
    new = TupleKey("agent:example.org/x", "can_call", "tool:payments/refund")
    assert await remote.write([new], [TUPLES[1]]) is None
    assert fake.requests[-1].body == {
        "writes": {
            "tuple_keys": [{"user": "agent:example.org/x", "relation": "can_call", "object": "tool:payments/refund"}],
            "on_duplicate": "error",
        },
        "deletes": {
            "tuple_keys": [{"user": BILLING, "relation": "can_read", "object": "bucket:reports"}],
            "on_missing": "error",
        },
        "authorization_model_id": MODEL_ID,
    }
    assert (await remote.check(CheckRequest("agent:example.org/x", "can_call", "tool:payments/refund"))).allowed
    model = await remote.read_authorization_model()
    assert fake.requests[-1].path == f"/stores/{STORE_ID}/authorization-models/{MODEL_ID}"
    assert [(t["type"], t.get("relations") or {}) for t in model["type_definitions"]] == [
        (t["type"], t.get("relations") or {}) for t in MODEL["type_definitions"]
    ]
    index = ModelIndex(model)  # what the authorizer's cache builds from it
    assert index.is_conditional("ledger", "can_refund") and not index.is_conditional("bucket", "can_read")
    assert model["conditions"]["amount_within_limit"]["expression"] == "amount <= limit"


async def test_read_latest_model_without_model_id(fake):
    backend = OpenFgaBackend(fake.url, STORE_ID)
    try:
        model = await backend.read_authorization_model()
        assert model["schema_version"] == "1.1"
        assert fake.requests[-1].path.startswith(f"/stores/{STORE_ID}/authorization-models?")
        await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
        assert "authorization_model_id" not in fake.requests[-1].body
    finally:
        await backend.close()


async def test_api_token_is_sent_as_bearer(fake):
    fake.required_token = "s3cret-token"
    good = OpenFgaBackend(fake.url, STORE_ID, model_id=MODEL_ID, api_token="s3cret-token")
    bad = OpenFgaBackend(fake.url, STORE_ID, model_id=MODEL_ID, api_token="wrong")
    try:
        assert (await good.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))).allowed
        assert fake.requests[-1].headers["Authorization"] == "Bearer s3cret-token"
        result = await bad.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
        assert result.outcome is Outcome.ERROR and "401" in result.error
    finally:
        await good.close()
        await bad.close()


@pytest.mark.parametrize("status", [500, 503, 429, 400, 404, 401])
async def test_http_errors_are_error_results(fake, remote, status):
    fake.fail_status = status
    result = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
    assert result.outcome is Outcome.ERROR
    assert f"HTTP {status}" in result.error
    batch = await remote.batch_check([CheckRequest(BILLING, "can_call", "tool:payments/refund")] * 2)
    assert [r.outcome for r in batch] == [Outcome.ERROR, Outcome.ERROR]
    assert (await remote.list_objects(BILLING, "can_call", "tool")).error is not None
    assert (await remote.list_users("tool:payments/refund", "can_call", ["agent"])).error is not None
    assert await remote.write([TUPLES[0]]) is not None


async def test_unknown_store_is_an_error(fake):
    backend = OpenFgaBackend(fake.url, "01JDQ3N3WW2K7ZFDJ9Y9Q2X5ZZ", timeout=2.0)
    try:
        result = await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
        assert result.outcome is Outcome.ERROR and "store_id_not_found" in result.error
    finally:
        await backend.close()


def test_malformed_configuration_is_refused_at_construction():
    with pytest.raises(Exception):
        OpenFgaBackend("http://127.0.0.1:1", STORE_ID, model_id="not-a-ulid")
    with pytest.raises(ValueError):
        OpenFgaBackend("http://127.0.0.1:1", STORE_ID, api_token="t", client_id="c")
    with pytest.raises(ValueError):
        OpenFgaBackend("http://127.0.0.1:1", STORE_ID, client_id="c")


# -- the authorizer over the remote backend: fail closed --------------------------------------------------------

async def test_authorizer_over_remote_allows_denies_and_limits(fake):
    authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, model_id=MODEL_ID, timeout=2.0)
    try:
        await assert_allows_denies_and_limits(authorizer)
    finally:
        await authorizer.close()


async def test_dead_address_is_unavailable_and_quick():
    authorizer = FgaAuthorizer.from_openfga(f"http://127.0.0.1:{free_port()}", STORE_ID, timeout=1.0, cache=False)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        decision = await authorizer.authorize(principal(), tool_target("refund"))
        assert decision.status is DecisionStatus.UNAVAILABLE
        assert [c.result for c in decision.checks] == ["error"]
        assert loop.time() - started < 5.0
    finally:
        await authorizer.close()


async def test_slow_server_past_timeout_is_unavailable(fake):
    fake.delay = 3.0
    authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, timeout=0.2, cache=False)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        decision = await authorizer.authorize(principal(), tool_target("refund"))
        assert decision.status is DecisionStatus.UNAVAILABLE
        assert loop.time() - started < 2.5
    finally:
        await authorizer.close()


@pytest.mark.parametrize("status", [500, 503])
async def test_server_error_is_unavailable(fake, status):
    fake.fail_status = status
    authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, timeout=2.0, cache=False)
    try:
        decision = await authorizer.authorize(principal(), tool_target("refund"))
        assert decision.status is DecisionStatus.UNAVAILABLE
        assert "could not be evaluated" in decision.reason
    finally:
        await authorizer.close()


async def test_client_credentials_fetch_a_token_then_send_it(fake):
    fake.oauth_clients = {"mcp-server": "client-secret"}
    fake.required_token = "not-yet-issued"
    backend = OpenFgaBackend(
        fake.url, STORE_ID, model_id=MODEL_ID, client_id="mcp-server", client_secret="client-secret",
        api_issuer=f"{fake.url}/oauth/token", api_audience="https://openfga.example/",
    )
    try:
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))).allowed
        assert fake.token_requests == [{
            "client_id": "mcp-server", "client_secret": "client-secret",
            "audience": "https://openfga.example/", "grant_type": "client_credentials",
        }]
        assert fake.requests[-1].headers["Authorization"] == "Bearer token-for-mcp-server"
    finally:
        await backend.close()


async def test_rejected_client_credentials_are_an_error_not_an_allow(fake):
    fake.oauth_clients = {"mcp-server": "client-secret"}
    backend = OpenFgaBackend(
        fake.url, STORE_ID, model_id=MODEL_ID, client_id="mcp-server", client_secret="wrong",
        api_issuer=f"{fake.url}/oauth/token",
    )
    try:
        result = await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
        assert result.outcome is Outcome.ERROR
        batch = await backend.batch_check([CheckRequest(BILLING, "can_call", "tool:payments/refund")])
        assert batch[0].outcome is Outcome.ERROR
    finally:
        await backend.close()


async def test_authorizer_loads_the_model_index_from_the_server(fake):
    authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, model_id=MODEL_ID, timeout=2.0)
    try:
        assert authorizer.cache.model_index is None
        assert await authorizer.load_model_index() is True
        assert not authorizer.cache.model_index.is_conditional("bucket", "can_read")
        fake.fail_status = 500
        assert await authorizer.load_model_index() is False  # kept the index, reported the failure
        assert authorizer.cache.model_index is not None
    finally:
        await authorizer.close()


async def test_pinned_model_index_is_fetched_in_the_background_on_first_use(fake):
    authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, model_id=MODEL_ID, timeout=2.0)
    try:
        assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed
        for _ in range(200):  # bounded wait for the background fetch
            if authorizer.cache.model_index is not None:
                break
            await asyncio.sleep(0.01)
        assert authorizer.cache.model_index is not None
        assert any(r.path.endswith(f"/authorization-models/{MODEL_ID}") for r in fake.requests)
    finally:
        await authorizer.close()
