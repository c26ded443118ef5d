"""Regression tests for product bugs the end-to-end tests found: one ServerIdentity serving two servers, lists
answering an empty OK while OpenFGA is unreachable, and two audit sinks writing into each other's files."""

from __future__ import annotations

import pytest

from tests.e2e.recording_app import recording_payments_app
from tests.support.e2e import BILLING_ID, agent_client, outcome, start_server
from tests.support.fake_openfga import MODEL_ID, STORE_ID
from tests.support.ports import closed_port

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_one_server_identity_serves_a_second_server(server_identity, workload_api, demo_authorizer, tmp_path):
    app, _ = recording_payments_app()
    first = await start_server(app, server_identity.config_fields(), demo_authorizer, tmp_path / "first.jsonl")
    await first.stop()
    second = await start_server(app, server_identity.config_fields(), demo_authorizer, tmp_path / "second.jsonl")
    try:
        async with agent_client(workload_api, "billing-agent", second.address, retry=None) as client:
            assert (await outcome(client.call_tool("lookup_invoice", {"invoice_id": "INV-1"}))).status == "OK"
    finally:
        await second.stop()


async def test_lists_are_unavailable_when_openfga_is_unreachable(server_identity, workload_api, tmp_path):
    from tests.support.e2e import fresh_config_fields
    from mcp_grpc.server.security import authorizer_from_openfga

    app, _ = recording_payments_app()
    with closed_port() as port:
        authorizer = authorizer_from_openfga(f"http://127.0.0.1:{port}", STORE_ID, model_id=MODEL_ID)
        server = await start_server(app, fresh_config_fields(server_identity), authorizer, tmp_path / "audit.jsonl")
        try:
            mark = server.audit_mark()
            async with agent_client(workload_api, "billing-agent", server.address, retry=None) as client:
                result = await outcome(client.list_tools())
            [record] = server.audit_since(mark, expect=1)
        finally:
            await server.stop()
            await authorizer.close()
    assert (record["method"], record["principal"]) == ("ListTools", BILLING_ID)
    assert (result.status, record["decision"]) == ("UNAVAILABLE", "unavailable")


async def test_audit_file_holds_only_its_own_servers_decisions(payments, billing, tmp_path):
    from mcp_grpc.server.security import json_audit_sink

    other_path = tmp_path / "other-server.jsonl"
    other = json_audit_sink(str(other_path))  # what a second server in this process would be given
    try:
        mark = payments.audit_mark()
        assert (await outcome(billing.call_tool("lookup_invoice", {"invoice_id": "INV-1001"}))).status == "OK"
        [record] = payments.audit_since(mark, expect=1)
        assert record["principal"] == BILLING_ID
        other.flush()
    finally:
        other.close()
    assert not other_path.exists() or other_path.read_text() == ""
