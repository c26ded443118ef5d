"""FgaAuthorizer over the embedded engine loaded from authz/: the demo scenario, reload, cache invalidation."""

from __future__ import annotations

import os
import shutil

import pytest

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.cache import DecisionCache
from mcp_grpc.contract import Check
from mcp_grpc.contract import DecisionStatus, TargetKind
from tests.support.calls import principal, tool_target
from tests.support.paths import AUTHZ_DIR
from mcp_grpc.authz.policy import CallPolicy

pytest.importorskip("mcp_grpc.authz.engine", reason="the embedded engine is not available")

BILLING = principal("ns/mcp-tools/sa/billing-agent")
SUPPORT = principal("ns/mcp-tools/sa/support-agent")
LIMIT = [Check("can_refund", "ledger:payments")]
BUCKET = [Check("can_read", "bucket:{bucket}")]


@pytest.fixture
def authz_copy(tmp_path):
    target = tmp_path / "authz"
    target.mkdir()
    for name in ("model.fga", "tuples.yaml"):
        shutil.copy(AUTHZ_DIR / name, target / name)
    return target


@pytest.fixture
async def demo():
    authorizer = FgaAuthorizer.from_authz_dir(AUTHZ_DIR)
    yield authorizer
    await authorizer.close()


async def test_demo_agents_allowed_and_denied(demo):
    assert (await demo.authorize(BILLING, tool_target("refund"))).allowed
    denied = await demo.authorize(SUPPORT, tool_target("refund"))
    assert denied.status is DecisionStatus.DENY
    assert denied.reason == "permission denied: requires can_call on tool:payments/refund"
    assert (await demo.authorize(SUPPORT, tool_target("lookup_invoice"))).allowed


async def test_demo_restricted_bucket_argument(demo):
    assert (await demo.authorize(BILLING, tool_target("read_report", {"bucket": "reports"}, BUCKET))).allowed
    denied = await demo.authorize(BILLING, tool_target("read_report", {"bucket": "restricted"}, BUCKET))
    assert denied.status is DecisionStatus.DENY
    assert denied.reason == "permission denied: requires can_read on bucket:restricted"


@pytest.mark.parametrize(("amount", "allowed"), [(50, True), (100, True), (100.01, False), (500, False)])
async def test_demo_refund_limit(demo, amount, allowed):
    decision = await demo.authorize(BILLING, tool_target("refund", {"amount": amount}, LIMIT))
    assert decision.allowed is allowed
    if not allowed:
        assert decision.reason == "permission denied: requires can_refund on ledger:payments"


async def test_refund_without_amount_is_unavailable_never_allowed(demo):
    decision = await demo.authorize(BILLING, tool_target("refund", {}, LIMIT))
    assert decision.status is DecisionStatus.UNAVAILABLE


@pytest.mark.parametrize("strategy", ["batch", "list_objects"])
async def test_demo_visible_tools(strategy):
    authorizer = FgaAuthorizer.from_authz_dir(AUTHZ_DIR, list_strategy=strategy)
    names = ["refund", "read_report", "lookup_invoice", "unlisted"]
    assert await authorizer.visible(SUPPORT, "payments", TargetKind.TOOL, names) == {"lookup_invoice"}
    assert await authorizer.visible(BILLING, "payments", TargetKind.TOOL, names) == {"refund", "read_report", "lookup_invoice"}
    uri = "docs://policies/refunds.md"
    assert await authorizer.visible(BILLING, "payments", TargetKind.RESOURCE, [uri]) == {uri}
    assert await authorizer.visible(SUPPORT, "payments", TargetKind.RESOURCE, [uri]) == set()


async def test_write_through_the_engine_invalidates_the_cache(demo):
    assert isinstance(demo.cache, DecisionCache)
    assert not (await demo.authorize(SUPPORT, tool_target("refund"))).allowed
    assert not (await demo.authorize(SUPPORT, tool_target("refund"))).allowed
    hits_before = demo.cache.stats().hits
    assert hits_before >= 1
    demo.backend.engine.write([TupleKey(CallPolicy().user(SUPPORT), "caller", "tool:payments/refund")])
    assert (await demo.authorize(SUPPORT, tool_target("refund"))).allowed
    # the billing agent's cached answer on another tool survives the exact invalidation
    await demo.authorize(BILLING, tool_target("lookup_invoice"))
    demo.backend.engine.write([TupleKey(CallPolicy().user(SUPPORT), "blocked", "tool:payments/read_report")])
    before = demo.cache.stats().hits
    assert (await demo.authorize(BILLING, tool_target("lookup_invoice"))).allowed
    assert demo.cache.stats().hits == before + 1


async def test_reload_when_tuples_change(authz_copy):
    authorizer = FgaAuthorizer.from_authz_dir(authz_copy, reload_interval=0)
    assert not (await authorizer.authorize(SUPPORT, tool_target("refund"))).allowed
    tuples = authz_copy / "tuples.yaml"
    tuples.write_text(
        tuples.read_text()
        + "\n- user: agent:example.org/ns/mcp-tools/sa/support-agent\n  relation: caller\n  object: tool:payments/refund\n"
    )
    os.utime(tuples, ns=(tuples.stat().st_atime_ns, tuples.stat().st_mtime_ns + 10_000_000))
    assert (await authorizer.authorize(SUPPORT, tool_target("refund"))).allowed
    assert authorizer.backend.generation == 2


async def test_broken_reload_keeps_the_last_good_version(authz_copy):
    authorizer = FgaAuthorizer.from_authz_dir(authz_copy, reload_interval=0)
    (authz_copy / "model.fga").write_text("model\n  schema 1.1\ntype agent\n  relations\n    define x: [nope]\n")
    assert (await authorizer.authorize(BILLING, tool_target("refund"))).allowed
    assert authorizer.backend.last_error is not None
    assert authorizer.backend.generation == 1


async def test_invalid_tuple_file_fails_the_first_load(authz_copy):
    (authz_copy / "tuples.yaml").write_text("- user: agent:a\n  relation: no_such_relation\n  object: tool:s/t\n")
    with pytest.raises(Exception):
        FgaAuthorizer.from_authz_dir(authz_copy)


def test_missing_directory_or_model_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError):
        FgaAuthorizer.from_authz_dir(tmp_path / "absent")
    with pytest.raises(FileNotFoundError):
        FgaAuthorizer.from_authz_dir(tmp_path)


async def test_list_filtering_is_reused_across_pages_until_a_write(demo):
    """Paging through ListTools filters once; a grant written through the engine shows on the very next list."""
    names = ["refund", "read_report", "lookup_invoice"]
    first = await demo.visible(SUPPORT, "payments", TargetKind.TOOL, names)
    again = await demo.visible(SUPPORT, "payments", TargetKind.TOOL, names)
    assert first == {"lookup_invoice"} and again is first  # the remembered answer, not a second filtering
    other_caller = await demo.visible(BILLING, "payments", TargetKind.TOOL, names)
    assert other_caller == {"refund", "read_report", "lookup_invoice"}  # remembered per caller
    demo.backend.engine.write([TupleKey(CallPolicy().user(SUPPORT), "caller", "tool:payments/refund")])
    after = await demo.visible(SUPPORT, "payments", TargetKind.TOOL, names)
    assert after == {"lookup_invoice", "refund"}


async def test_list_filtering_is_not_reused_without_a_decision_cache():
    authorizer = FgaAuthorizer.from_authz_dir(AUTHZ_DIR, cache=False)
    names = ["refund", "lookup_invoice"]
    first = await authorizer.visible(SUPPORT, "payments", TargetKind.TOOL, names)
    assert await authorizer.visible(SUPPORT, "payments", TargetKind.TOOL, names) is not first
