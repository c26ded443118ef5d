"""OpenFgaBackend and the authorizer against a real OpenFGA server (``openfga run``, memory datastore, preshared key).

The same behaviour tests/authz/callpath/test_callpath_remote.py asks of the aiohttp stand-in, asked of the real
server: Check, BatchCheck (and its split over 50), ListObjects, ListUsers, contextual tuples, conditions, writes,
models, consistency, authentication, 400 for a bad object, 404 for an unknown store, a hung server (SIGSTOP: the
port accepts, nothing answers) past the timeout, and a stopped server: all fail closed.

Kept on the stand-in only, because the real server cannot be made to give them here: HTTP 429 (OpenFGA has no
request rate limiter that answers 429 on its own), HTTP 500/503 responses (a real server that fails answers no
HTTP at all, which is tested here as a stopped server), OAuth2 client credentials (would need an OIDC issuer), and
the exact request bodies the SDK sends (the real server records none).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.peers.openfga_peer import OPENFGA_KEY
from tests.peers.openfga_peer import OpenFgaServer
from tests.support.calls import principal, tool_target
from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.cache import ModelIndex
from mcp_grpc.authz.remote import OpenFgaBackend
from mcp_grpc.contract import Check, DecisionStatus, TargetKind
from tests.support.payments_store import BILLING, MODEL, TUPLES, assert_allows_denies_and_limits

UNKNOWN_STORE = "01JDQ3N3WW2K7ZFDJ9Y9Q2X5ZZ"


@pytest.fixture
def store(openfga_server: OpenFgaServer) -> tuple[str, str]:
    """A new store on the shared server with MODEL and TUPLES: (store id, model id)."""
    store_id = openfga_server.create_store("remote-suite")
    model_id = openfga_server.write_model(store_id, MODEL)
    openfga_server.write_tuples(store_id, model_id, TUPLES)
    return store_id, model_id


@pytest.fixture
async def remote(openfga_server, store):
    store_id, model_id = store
    backend = OpenFgaBackend(openfga_server.url, store_id, model_id=model_id, api_token=OPENFGA_KEY, timeout=5.0)
    yield backend
    await backend.close()


def real_authorizer(server: OpenFgaServer, store: tuple[str, str], **options) -> FgaAuthorizer:
    options.setdefault("timeout", 5.0)
    return FgaAuthorizer.from_openfga(server.url, store[0], model_id=store[1], api_token=OPENFGA_KEY, **options)


async def test_check_allowed_and_denied(remote):
    result = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/refund", context={"peer_ip": "10.0.0.1"}))
    assert result.outcome is Outcome.ALLOWED
    assert (await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/other"))).outcome is Outcome.DENIED


@pytest.mark.parametrize("consistency", [None, "MINIMIZE_LATENCY", "HIGHER_CONSISTENCY"])
async def test_batch_check_with_conditions(remote, consistency):
    requests = [
        CheckRequest(BILLING, "can_call", "tool:payments/refund"),
        CheckRequest(BILLING, "can_read", "bucket:restricted"),
        CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 500}),
        CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 50}),
        CheckRequest(BILLING, "can_refund", "ledger:payments"),  # missing condition parameter -> error
    ]
    results = await remote.batch_check(requests, consistency=consistency)
    assert [r.outcome for r in results] == [
        Outcome.ALLOWED, Outcome.DENIED, Outcome.DENIED, Outcome.ALLOWED, Outcome.ERROR,
    ]
    assert results[4].error  # the server's reason, not an empty string


async def test_single_check_missing_condition_parameter_is_an_error(remote):
    result = await remote.check(CheckRequest(BILLING, "can_refund", "ledger:payments"))
    assert result.outcome is Outcome.ERROR and result.error


async def test_batch_over_50_is_split(remote):
    """The real server refuses a BatchCheck of more than 50 checks; 120 must come back, in order."""
    requests = [CheckRequest(BILLING, "can_call", f"tool:payments/t{i}") for i in range(120)]
    requests[77] = CheckRequest(BILLING, "can_call", "tool:payments/refund")
    results = await remote.batch_check(requests)
    assert len(results) == 120
    assert [i for i, r in enumerate(results) if r.outcome is Outcome.ALLOWED] == [77]
    assert all(r.outcome is Outcome.DENIED for i, r in enumerate(results) if i != 77)


async def test_contextual_tuples_with_condition(remote):
    ctx = TupleKey(BILLING, "can_call", "tool:payments/new", "amount_within_limit", {"limit": 5})
    over = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/new", context={"amount": 10},
                                           contextual_tuples=(ctx,)))
    within = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/new", context={"amount": 1},
                                             contextual_tuples=(ctx,)))
    without = await remote.check(CheckRequest(BILLING, "can_call", "tool:payments/new", context={"amount": 1}))
    assert (over.outcome, within.outcome, without.outcome) == (Outcome.DENIED, Outcome.ALLOWED, Outcome.DENIED)


async def test_list_objects_and_list_users(remote):
    objects = await remote.list_objects(BILLING, "can_call", "tool", context={"amount": 1})
    assert objects.error is None and objects.items == ("tool:payments/refund",)
    agents = await remote.list_users("tool:payments/refund", "can_call", ["agent"])
    assert agents.error is None and set(agents.items) == {BILLING}
    teams = await remote.list_users("tool:payments/refund", "can_call", ["team#member"])
    assert teams.error is None and set(teams.items) == {"team:finance#member"}


async def test_list_users_with_several_filters(remote):
    """OpenFGA v1.22 ListUsers takes exactly one user filter (HTTP 400 'value must contain exactly 1 item(s)'):
    OpenFgaBackend sends one request per filter and merges them."""
    users = await remote.list_users("tool:payments/refund", "can_call", ["agent", "team#member"])
    assert users.error is None and set(users.items) == {BILLING, "team:finance#member"}


async def test_write_and_read_model(remote):
    new = TupleKey("agent:example.org/x", "can_call", "tool:payments/refund")
    assert await remote.write([new], [TUPLES[1]]) is None
    assert (await remote.check(CheckRequest("agent:example.org/x", "can_call", "tool:payments/refund"))).allowed
    assert (await remote.check(CheckRequest(BILLING, "can_read", "bucket:reports"))).outcome is Outcome.DENIED
    duplicate = await remote.write([new])  # on_duplicate "error": the real server refuses it
    assert duplicate is not None
    model = await remote.read_authorization_model()
    assert sorted(t["type"] for t in model["type_definitions"]) == sorted(t["type"] for t in MODEL["type_definitions"])
    index = ModelIndex(model)
    assert index.is_conditional("ledger", "can_refund") and not index.is_conditional("bucket", "can_read")
    assert model["conditions"]["amount_within_limit"]["expression"] == "amount <= limit"


async def test_read_latest_model_without_model_id(openfga_server, store):
    backend = OpenFgaBackend(openfga_server.url, store[0], api_token=OPENFGA_KEY, timeout=5.0)
    try:
        model = await backend.read_authorization_model()
        assert model["schema_version"] == "1.1" and model["id"] == store[1]
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))).allowed
    finally:
        await backend.close()


async def test_preshared_key_is_required(openfga_server, store):
    missing = OpenFgaBackend(openfga_server.url, store[0], model_id=store[1], timeout=5.0)
    wrong = OpenFgaBackend(openfga_server.url, store[0], model_id=store[1], api_token="wrong", timeout=5.0)
    try:
        for backend in (missing, wrong):
            result = await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
            assert result.outcome is Outcome.ERROR and "401" in result.error, result.error
            [batch] = await backend.batch_check([CheckRequest(BILLING, "can_call", "tool:payments/refund")])
            assert batch.outcome is Outcome.ERROR
            assert await backend.write([TupleKey(BILLING, "can_call", "tool:payments/grant-myself")]) is not None
    finally:
        await missing.close()
        await wrong.close()


async def test_bad_object_is_a_400_error(remote):
    result = await remote.check(CheckRequest(BILLING, "can_call", "no_such_type:x"))
    assert result.outcome is Outcome.ERROR and "400" in result.error, result.error
    listed = await remote.list_objects(BILLING, "can_call", "no_such_type")
    assert listed.error is not None


async def test_unknown_store_is_an_error(openfga_server):
    """The real server answers an unknown store without a model id with HTTP 400
    latest_authorization_model_not_found (the stand-in said 404 store_id_not_found): an error either way."""
    backend = OpenFgaBackend(openfga_server.url, UNKNOWN_STORE, api_token=OPENFGA_KEY, timeout=5.0)
    try:
        result = await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))
        assert result.outcome is Outcome.ERROR, result.error
        assert "latest_authorization_model_not_found" in result.error or "store_id_not_found" in result.error
    finally:
        await backend.close()


# -- the authorizer over the real server: fail closed -------------------------------------------------------------

async def test_authorizer_allows_denies_and_limits(openfga_server, store):
    authorizer = real_authorizer(openfga_server, store)
    try:
        await assert_allows_denies_and_limits(authorizer)
        limit = [Check("can_refund", "ledger:payments")]
        missing = await authorizer.authorize(principal(), tool_target("refund", {}, limit))
        assert missing.status is DecisionStatus.UNAVAILABLE
    finally:
        await authorizer.close()


async def test_authorizer_loads_the_model_index(openfga_server, store):
    authorizer = real_authorizer(openfga_server, store)
    try:
        assert await authorizer.load_model_index() is True
        assert authorizer.cache.model_index.is_conditional("ledger", "can_refund")
    finally:
        await authorizer.close()


async def test_tuple_written_at_run_time_is_honoured_within_the_cache_ttl(openfga_server, store):
    """from_openfga's documented rule: answers are cached 1 s, so a write made on the server is seen within ~1 s."""
    authorizer = real_authorizer(openfga_server, store)
    support = principal("ns/prod/sa/support")
    try:
        assert (await authorizer.authorize(support, tool_target("refund"))).status is DecisionStatus.DENY
        openfga_server.write_tuples(store[0], store[1], [
            TupleKey("agent:example.org/ns/prod/sa/support", "can_call", "tool:payments/refund")])
        written = time.monotonic()
        while not (await authorizer.authorize(support, tool_target("refund"))).allowed:
            assert time.monotonic() - written < 3.0, "a tuple written on the server was not honoured within 3 s"
            await asyncio.sleep(0.05)
        assert time.monotonic() - written <= 1.5
    finally:
        await authorizer.close()


async def test_hung_server_past_timeout_is_unavailable(openfga_server, store):
    authorizer = real_authorizer(openfga_server, store, timeout=0.3, cache=False)
    openfga_server.pause()
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        decision = await authorizer.authorize(principal(), tool_target("refund"))
        assert decision.status is DecisionStatus.UNAVAILABLE
        assert loop.time() - started < 3.0
    finally:
        openfga_server.resume()
        await authorizer.close()
    # and it answers again once resumed
    authorizer = real_authorizer(openfga_server, store, cache=False)
    try:
        assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed
    finally:
        await authorizer.close()


async def test_stopped_server_fails_closed():
    """Its own server, stopped by PID mid-run: every later decision is UNAVAILABLE, none is an allow."""
    from tests.peers import peer_binaries

    server = OpenFgaServer(peer_binaries.require("openfga")["openfga"], preshared_keys=[OPENFGA_KEY]).start()
    try:
        store_id = server.create_store("stop")
        model_id = server.write_model(store_id, MODEL)
        server.write_tuples(store_id, model_id, TUPLES)
        authorizer = real_authorizer(server, (store_id, model_id), timeout=1.0, cache=False)
        try:
            assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed
            server.stop()
            loop = asyncio.get_running_loop()
            started = loop.time()
            decision = await authorizer.authorize(principal(), tool_target("refund"))
            assert decision.status is DecisionStatus.UNAVAILABLE
            assert [c.result for c in decision.checks] == ["error"]
            assert loop.time() - started < 5.0
            from mcp_grpc.authz.authorizer import AuthorizationUnavailable

            with pytest.raises(AuthorizationUnavailable):  # lists fail closed by saying so, not by an empty list
                await authorizer.visible(principal(), "payments", TargetKind.TOOL, ["refund"])
        finally:
            await authorizer.close()
    finally:
        server.stop()
