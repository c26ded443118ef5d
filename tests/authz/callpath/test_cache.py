"""DecisionCache: hits, TTL, bounded size, context-aware keys, exact invalidation, consistency bypass."""

from __future__ import annotations

import pytest

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import CheckResult, Outcome, TupleKey
from mcp_grpc.authz.cache import DecisionCache, ModelIndex, context_digest
from mcp_grpc.authz.files import load_model_file
from mcp_grpc.authz.policy import CallPolicy
from mcp_grpc.contract import Check
from tests.authz.callpath.callpath_support import TupleBackend
from tests.support.calls import principal, tool_target
from tests.support.paths import AUTHZ_DIR

ALLOW = CheckResult(Outcome.ALLOWED)
DENY = CheckResult(Outcome.DENIED)
A = "agent:example.org/a"
B = "agent:example.org/b"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def index() -> ModelIndex:
    return ModelIndex(load_model_file(AUTHZ_DIR / "model.fga"))


def test_hit_then_ttl_expiry():
    clock = Clock()
    cache = DecisionCache(ttl=5, clock=clock)
    key = cache.key(A, "can_call", "tool:s/t")
    assert cache.get(key) is None
    cache.put(key, ALLOW)
    assert cache.get(key) == ALLOW
    clock.now += 4.9
    assert cache.get(key) == ALLOW
    clock.now += 0.2
    assert cache.get(key) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.entries) == (2, 2, 0)
    assert stats.hit_ratio == 0.5


def test_errors_are_never_cached():
    cache = DecisionCache()
    key = cache.key(A, "r", "t:x")
    cache.put(key, CheckResult(Outcome.ERROR, "boom"))
    assert cache.get(key) is None


def test_bounded_size_drops_oldest():
    cache = DecisionCache(max_entries=3)
    keys = [cache.key(A, "r", f"t:{i}") for i in range(5)]
    for key in keys:
        cache.put(key, ALLOW)
    assert cache.stats().entries == 3
    assert cache.get(keys[0]) is None and cache.get(keys[1]) is None
    assert cache.get(keys[4]) == ALLOW


def test_key_includes_context_hash_without_a_model():
    cache = DecisionCache()
    assert cache.key(A, "r", "t:x", {"amount": 50}) != cache.key(A, "r", "t:x", {"amount": 500})
    assert cache.key(A, "r", "t:x", {"a": 1, "b": 2}) == cache.key(A, "r", "t:x", {"b": 2, "a": 1})
    ctx = TupleKey(A, "r", "t:x")
    assert cache.key(A, "r", "t:x", None, (ctx,)) != cache.key(A, "r", "t:x")
    assert context_digest(None) == ""


def test_model_index_drops_context_only_for_unconditional_relations(index):
    cache = DecisionCache(model_index=index)
    # tool#can_call never reaches a condition: the request time and arguments do not matter
    assert cache.key(A, "can_call", "tool:s/t", {"current_time": "1"}) == cache.key(A, "can_call", "tool:s/t", {"current_time": "2"})
    # ledger#can_refund is conditional: the amount matters
    assert cache.key(A, "can_refund", "ledger:p", {"amount": 50}) != cache.key(A, "can_refund", "ledger:p", {"amount": 500})
    # unknown relations are treated as conditional
    assert cache.key(A, "nope", "tool:s/t", {"x": 1}) != cache.key(A, "nope", "tool:s/t", {"x": 2})


def test_model_index_conditional_relations(index):
    assert index.is_conditional("ledger", "can_refund")
    assert index.is_conditional("ledger", "refunder")
    assert not index.is_conditional("tool", "can_call")
    assert not index.is_conditional("bucket", "can_read")


def _filled(cache, entries):
    keys = {}
    for user, relation, obj in entries:
        keys[(user, relation, obj)] = cache.key(user, relation, obj)
        cache.put(keys[(user, relation, obj)], ALLOW)
    return keys


def test_exact_invalidation_for_a_direct_concrete_user_write(index):
    cache = DecisionCache(model_index=index)
    keys = _filled(cache, [
        (A, "can_read", "bucket:x"), (A, "reader", "bucket:x"), (B, "can_read", "bucket:x"),
        (A, "can_read", "bucket:y"), (A, "can_write", "bucket:x"),
    ])
    dropped = cache.on_tuples_changed([TupleKey(A, "reader", "bucket:x")])
    assert dropped == 2
    assert cache.get(keys[(A, "can_read", "bucket:x")]) is None
    assert cache.get(keys[(A, "reader", "bucket:x")]) is None
    assert cache.get(keys[(B, "can_read", "bucket:x")]) == ALLOW
    assert cache.get(keys[(A, "can_read", "bucket:y")]) == ALLOW
    assert cache.get(keys[(A, "can_write", "bucket:x")]) == ALLOW  # can_write does not depend on reader


def test_userset_write_drops_every_user_on_that_object(index):
    cache = DecisionCache(model_index=index)
    keys = _filled(cache, [(A, "can_read", "bucket:x"), (B, "can_read", "bucket:x"), (A, "can_read", "bucket:y")])
    cache.on_tuples_changed([TupleKey("team:t#member", "reader", "bucket:x")])
    assert cache.get(keys[(A, "can_read", "bucket:x")]) is None
    assert cache.get(keys[(B, "can_read", "bucket:x")]) is None
    assert cache.get(keys[(A, "can_read", "bucket:y")]) == ALLOW


def test_team_membership_write_drops_everything_it_can_reach(index):
    cache = DecisionCache(model_index=index)
    keys = _filled(cache, [(A, "can_read", "bucket:x"), (B, "can_call", "tool:s/t"), (B, "member", "team:other")])
    cache.on_tuples_changed(deletes=[TupleKey(A, "member", "team:finance")])
    assert cache.get(keys[(A, "can_read", "bucket:x")]) is None  # through team#member usersets
    assert cache.get(keys[(B, "can_call", "tool:s/t")]) is None
    assert cache.get(keys[(B, "member", "team:other")]) is None  # team nesting: team#member of team:finance


def test_tupleset_write_drops_every_user_of_that_object(index):
    cache = DecisionCache(model_index=index)
    keys = _filled(cache, [(A, "can_call", "tool:s/t"), (B, "can_call", "tool:s/t"), (A, "can_call", "tool:s/u")])
    cache.on_tuples_changed([TupleKey("server:s", "server", "tool:s/t")])
    assert cache.get(keys[(A, "can_call", "tool:s/t")]) is None
    assert cache.get(keys[(B, "can_call", "tool:s/t")]) is None
    assert cache.get(keys[(A, "can_call", "tool:s/u")]) == ALLOW


def test_server_caller_write_drops_all_tools_and_prompts(index):
    cache = DecisionCache(model_index=index)
    keys = _filled(cache, [(B, "can_call", "tool:s/t"), (B, "can_get", "prompt:s/p"), (B, "can_read", "bucket:x")])
    cache.on_tuples_changed([TupleKey(A, "caller", "server:s")])
    assert cache.get(keys[(B, "can_call", "tool:s/t")]) is None
    assert cache.get(keys[(B, "can_get", "prompt:s/p")]) is None
    assert cache.get(keys[(B, "can_read", "bucket:x")]) == ALLOW


def test_without_a_model_any_write_clears_everything():
    cache = DecisionCache()
    keys = _filled(cache, [(A, "r", "t:x"), (B, "q", "u:y")])
    assert cache.on_tuples_changed([TupleKey(A, "r", "t:x")]) == 2
    assert all(cache.get(k) is None for k in keys.values())


def test_higher_consistency_bypasses_the_cache():
    assert DecisionCache.bypass("HIGHER_CONSISTENCY")
    assert not DecisionCache.bypass("MINIMIZE_LATENCY") and not DecisionCache.bypass(None)


async def test_authorizer_caches_per_context_for_conditional_checks():
    backend = TupleBackend([TupleKey("agent:example.org/ns/prod/sa/billing", "can_call", "tool:payments/refund")])
    authorizer = FgaAuthorizer(backend, CallPolicy(clock=lambda: 1000.0), cache=DecisionCache(ttl=60))
    target = tool_target("refund", {"amount": 50}, [Check("can_call", "tool:payments/refund")])
    await authorizer.authorize(principal(), target)
    await authorizer.authorize(principal(), target)
    assert len(backend.batch_calls) == 1
    await authorizer.authorize(principal(), tool_target("refund", {"amount": 51}))
    assert len(backend.batch_calls) == 2  # no model index: a different context is a different key


def test_an_answer_computed_before_an_invalidation_is_not_cached():
    cache = DecisionCache()
    key = cache.key(A, "r", "t:x")
    epoch = cache.epoch
    cache.on_tuples_changed([TupleKey(A, "r", "t:x")])
    cache.put(key, ALLOW, epoch)
    assert cache.get(key) is None
    cache.put(key, ALLOW, cache.epoch)
    assert cache.get(key) == ALLOW


async def test_in_flight_check_racing_a_write_does_not_poison_the_cache():
    import asyncio

    class SlowAfterReading(TupleBackend):
        """Reads the tuples, then takes a while to answer (like a remote server under load)."""

        async def batch_check(self, requests, *, consistency=None):
            answers = [self._evaluate(r) for r in requests]
            self.read.set()
            await asyncio.sleep(self.stall)
            return answers

    backend = SlowAfterReading([])
    backend.read = asyncio.Event()
    cache = DecisionCache(ttl=60)
    authorizer = FgaAuthorizer(backend, cache=cache, timeout=30)
    backend.stall = 0.2
    call = asyncio.ensure_future(authorizer.authorize(principal(), tool_target("refund")))
    await asyncio.wait_for(backend.read.wait(), 30)  # the check has read the tuples and now waits on the backend
    grant = TupleKey("agent:example.org/ns/prod/sa/billing", "can_call", "tool:payments/refund")
    backend.tuples.append(grant)
    cache.on_tuples_changed([grant])
    assert not (await call).allowed  # answered from the state before the write
    backend.stall = 0
    assert (await authorizer.authorize(principal(), tool_target("refund"))).allowed  # the stale denial was not kept


def test_a_cycle_flagged_denial_is_never_cached():
    cache = DecisionCache()
    key = cache.key(A, "r", "t:x")
    cache.put(key, CheckResult(Outcome.DENIED, cycle=True))
    assert cache.get(key) is None and cache.stats().entries == 0
    cache.put(key, DENY)
    assert cache.get(key) == DENY


# t2's intersection on a tuple cycle stops OpenFGA's weighted graph from building, so t1#r0's recursive
# tuple-to-userset takes the default strategy and a parent loop ends in a cycle-flagged denial (issue 13, item 1).
CYCLE_MODEL = """model
  schema 1.1
type agent
type tool
  relations
    define can_call: [agent]
type t1
  relations
    define p: [t1]
    define r0: [agent] or r0 from p
type t2
  relations
    define p: [t2]
    define r1: [agent]
    define r0: [agent] or (r1 and r0 from p)
"""


async def test_the_authorizer_does_not_cache_a_cycle_flagged_denial_from_the_engine():
    from mcp_grpc.authz.engine import EmbeddedBackend, Engine
    from mcp_grpc.authz.engine.engine import parse_model

    engine = Engine()
    engine.write_model(CYCLE_MODEL)
    user = "agent:example.org/ns/prod/sa/billing"
    engine.write([("t1:loop", "p", "t1:loop"), (user, "can_call", "tool:payments/refund")])
    cache = DecisionCache(ttl=60, model_index=ModelIndex(parse_model(CYCLE_MODEL)))  # keys without the context
    authorizer = FgaAuthorizer(EmbeddedBackend(engine), cache=cache)
    assert engine.check(user, "r0", "t1:loop").cycle  # the engine reports the flag ...
    assert not engine.check(user, "r0", "t1:plain").cycle
    looped = await authorizer.authorize(principal(), tool_target("refund", {}, [Check("r0", "t1:loop")]))
    assert "requires r0 on t1:loop" in looped.reason  # ... the caller is denied by that check ...
    assert cache.get(cache.key(user, "r0", "t1:loop")) is None  # ... and the denial is not remembered
    assert cache.get(cache.key(user, "can_call", "tool:payments/refund")) is not None  # the other check is
    plain = await authorizer.authorize(principal(), tool_target("refund", {}, [Check("r0", "t1:plain")]))
    assert not plain.allowed
    assert cache.get(cache.key(user, "r0", "t1:plain")) is not None  # a plain denial is remembered
