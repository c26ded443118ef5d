"""Issue 18, shadow models: over real mTLS, the demo app is authorized by authz/ while a changed copy of it decides
every call too. The shadow never changes what the caller gets; its disagreements are in the audit record and the
``mcp_grpc.authz.shadow.disagreements`` metric; a shadow backend that errors or stalls changes nothing either."""

from __future__ import annotations

import asyncio
import pathlib
import shutil
import time
from typing import Any

import pytest

from tests.support.e2e import BILLING_ID, SUPPORT_ID, agent_client, fresh_config_fields, outcome, start_server
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFga
from tests.support.paths import AUTHZ_DIR
from tests.support.ports import closed_port

pytestmark = pytest.mark.asyncio(loop_scope="package")

SUPPORT_LOOKUP = """- user: agent:example.org/ns/mcp-tools/sa/support-agent
  relation: caller
  object: tool:payments/lookup_invoice
"""
SUPPORT_READS = """
- user: agent:example.org/ns/mcp-tools/sa/support-agent
  relation: caller
  object: tool:payments/read_report
- user: agent:example.org/ns/mcp-tools/sa/support-agent
  relation: reader
  object: bucket:reports
"""

CALLS = [  # (agent, tool, arguments)
    ("billing-agent", "lookup_invoice", {"invoice_id": "INV-1001"}),  # both allow
    ("support-agent", "lookup_invoice", {"invoice_id": "INV-1002"}),  # allowed; the shadow would deny
    ("support-agent", "read_report", {"bucket": "reports", "name": "q3.txt"}),  # denied; the shadow would allow
    ("support-agent", "refund", {"invoice_id": "INV-1002", "amount": 5}),  # both deny
]


def next_model(tmp_path: pathlib.Path) -> pathlib.Path:
    """A copy of authz/ where support-agent loses lookup_invoice and gains read_report on bucket reports."""
    shadow = tmp_path / "authz-next"
    shutil.copytree(AUTHZ_DIR, shadow)
    tuples = shadow / "tuples.yaml"
    text = tuples.read_text(encoding="utf-8")
    assert SUPPORT_LOOKUP in text
    tuples.write_text(text.replace(SUPPORT_LOOKUP, "") + SUPPORT_READS, encoding="utf-8")
    return shadow


async def run_calls(server: Any, workload_api: Any, calls: list[tuple[str, str, dict]]) -> list[str]:
    statuses = []
    for agent, tool, arguments in calls:
        async with agent_client(workload_api, agent, server.address) as client:
            statuses.append((await outcome(client.call_tool(tool, arguments))).status)
    return statuses


async def served(server_identity: Any, authorizer: Any, tmp_path: pathlib.Path) -> Any:
    from examples.demo.server import app

    return await start_server(app, fresh_config_fields(server_identity), authorizer, tmp_path / "audit.jsonl")


async def test_a_shadow_model_is_never_enforced_and_its_disagreements_are_audited_and_counted(
    server_identity, workload_api, tmp_path
):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from mcp_grpc.authz.shadow import ShadowAuthorizer, ShadowTelemetry
    from mcp_grpc.server.security import authorizer_from_authz_dir

    reader = InMemoryMetricReader()
    authorizer = ShadowAuthorizer(
        authorizer_from_authz_dir(AUTHZ_DIR), authorizer_from_authz_dir(next_model(tmp_path)),
        telemetry=ShadowTelemetry(meter_provider=MeterProvider(metric_readers=[reader])),
    )
    server = await served(server_identity, authorizer, tmp_path)
    try:
        statuses = await run_calls(server, workload_api, CALLS)
        await authorizer.settle()  # the records wait for the shadow verdicts (the replies did not)
        records = await asyncio.to_thread(server.audit_since, 0, len(CALLS))  # the loop keeps emitting
    finally:
        await server.stop()
        await authorizer.close()

    # exactly what authz/ alone decides
    assert statuses == ["OK", "OK", "PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert [(r["principal"], r["target"], r["decision"]) for r in records] == [
        (BILLING_ID, "lookup_invoice", "allow"), (SUPPORT_ID, "lookup_invoice", "allow"),
        (SUPPORT_ID, "read_report", "deny"), (SUPPORT_ID, "refund", "deny")]
    assert [r.get("shadow") for r in records] == [None, "allow→deny", "deny→allow", None]
    assert records[1]["shadow_reason"] == "permission denied: requires can_call on tool:payments/lookup_invoice"
    assert records[2]["shadow_reason"] == ""
    assert not any("shadow_error" in r for r in records)
    assert "shadow_reason" not in records[0] and "shadow_reason" not in records[3]
    points = {
        (tuple(sorted(point.attributes.items())), point.value)
        for resource in reader.get_metrics_data().resource_metrics
        for scope in resource.scope_metrics for metric in scope.metrics
        if metric.name == "mcp_grpc.authz.shadow.disagreements"
        for point in metric.data.data_points
    }
    assert points == {
        ((("from", "allow"), ("kind", "tool"), ("to", "deny")), 1),
        ((("from", "deny"), ("kind", "tool"), ("to", "allow")), 1),
    }


@pytest.mark.parametrize("failure", ["dead", "error", "stalled"])
async def test_a_shadow_backend_that_fails_or_stalls_changes_nothing_for_the_caller(
    failure, server_identity, workload_api, demo_model, tmp_path
):
    from mcp_grpc.authz.engine import EmbeddedBackend
    from mcp_grpc.authz.shadow import ShadowAuthorizer
    from mcp_grpc.server.security import authorizer_from_authz_dir, authorizer_from_openfga
    from tests.e2e.test_backends import demo_engine

    fake = await FakeOpenFga(EmbeddedBackend(demo_engine(demo_model)), model=demo_model).start()
    if failure == "error":
        fake.fail_status = 500
    elif failure == "stalled":
        fake.delay = 30.0
    with closed_port() as port:
        url = f"http://127.0.0.1:{port}" if failure == "dead" else fake.url
        shadow = authorizer_from_openfga(url, STORE_ID, model_id=MODEL_ID, timeout=10.0, cache=False)
        authorizer = ShadowAuthorizer(authorizer_from_authz_dir(AUTHZ_DIR), shadow, timeout=0.3)
        server = await served(server_identity, authorizer, tmp_path)
        try:
            started = time.monotonic()
            statuses = await run_calls(server, workload_api, CALLS)
            elapsed = time.monotonic() - started
            await authorizer.settle()
            records = await asyncio.to_thread(server.audit_since, 0, len(CALLS))  # the loop keeps emitting
        finally:
            await server.stop()
            await authorizer.close()
            await fake.stop()
    assert statuses == ["OK", "OK", "PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert [r["decision"] for r in records] == ["allow", "allow", "deny", "deny"]
    assert not any("shadow" in r for r in records)
    errors = [r["shadow_error"] for r in records]
    if failure == "stalled":
        assert errors == ["timed out after 0.3s"] * len(CALLS)
    else:
        assert all(e.startswith("authorization unavailable") for e in errors), errors
    assert elapsed < 20, elapsed  # a stalled shadow (30 s) held no call: each waited for nothing but its handshake


async def test_serve_shadow_authz_dir_audits_the_disagreements_of_live_calls(workload_api, tmp_path):
    """The command line, as an operator runs it: `mcp-grpc serve --authz-dir authz/ --shadow-authz-dir DIR`."""
    import json

    from tests.reliability.reliability_support import ServerProcess

    server = ServerProcess(workload_api, tmp_path, "--shadow-authz-dir", str(next_model(tmp_path)))
    await asyncio.to_thread(server.start)
    try:
        statuses = await run_calls(server, workload_api, CALLS)
    finally:
        code = await asyncio.to_thread(server.stop)
    assert code == 0, (tmp_path / "server.log").read_text()
    records = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert statuses == ["OK", "OK", "PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert [(r["target"], r["decision"], r.get("shadow")) for r in records] == [
        ("lookup_invoice", "allow", None), ("lookup_invoice", "allow", "allow→deny"),
        ("read_report", "deny", "deny→allow"), ("refund", "deny", None)]
