"""A security team edits authz/ while the server runs: a new grant and a revocation take effect without a restart,
and the decision cache does not keep serving the old answer."""

from __future__ import annotations

import asyncio
import shutil
import time

import pytest

from tests.support.e2e import agent_client, fresh_config_fields, outcome, start_server
from tests.support.paths import AUTHZ_DIR

pytestmark = pytest.mark.asyncio(loop_scope="package")

GRANT_SUPPORT_REFUND = """
- user: agent:example.org/ns/mcp-tools/sa/support-agent
  relation: caller
  object: tool:payments/refund
"""
FINANCE_MEMBERSHIP = """- user: agent:example.org/ns/mcp-tools/sa/billing-agent
  relation: member
  object: team:finance
"""


async def eventually(check, timeout: float = 20.0) -> bool:
    """Repeat the async ``check()`` until it is true (the folder is re-read about once a second); bounded."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def test_edited_tuples_take_effect_without_restart(server_identity, workload_api, tmp_path):
    from examples.demo.server import app
    from mcp_grpc.server.security import authorizer_from_authz_dir

    authz = tmp_path / "authz"
    shutil.copytree(AUTHZ_DIR, authz)
    tuples = authz / "tuples.yaml"
    assert FINANCE_MEMBERSHIP in tuples.read_text()
    authorizer = authorizer_from_authz_dir(authz)  # with its decision cache, as served by default
    server = await start_server(app, fresh_config_fields(server_identity), authorizer, tmp_path / "audit.jsonl")
    refund = {"invoice_id": "INV-1002", "amount": 10}
    try:
        async with agent_client(workload_api, "support-agent", server.address) as support, \
                agent_client(workload_api, "billing-agent", server.address) as billing:
            assert (await outcome(support.call_tool("refund", refund))).status == "PERMISSION_DENIED"
            assert (await outcome(billing.call_tool("refund", refund))).status == "OK"  # now cached

            # grant: support-agent becomes a caller of refund (but is no refunder: the ledger check still denies)
            tuples.write_text(tuples.read_text() + GRANT_SUPPORT_REFUND)
            async def support_sees_refund() -> bool:
                return "refund" in [t.name for t in await support.list_tools()]

            assert await eventually(support_sees_refund)
            denied = await outcome(support.call_tool("refund", refund))
            assert (denied.status, denied.detail) == (
                "PERMISSION_DENIED", "permission denied: requires can_refund on ledger:payments")

            # revoke: billing-agent leaves team finance, so it loses refund (cached as allowed a moment ago)
            tuples.write_text(tuples.read_text().replace(FINANCE_MEMBERSHIP, ""))
            async def billing_refund_denied() -> bool:
                return (await outcome(billing.call_tool("refund", refund))).status == "PERMISSION_DENIED"

            assert await eventually(billing_refund_denied)
            assert [t.name for t in await billing.list_tools()] == []
    finally:
        await server.stop()
        await authorizer.close()

