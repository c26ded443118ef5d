"""The storage example over real SPIFFE mTLS: its server (examples/storage/server.py) authorized by its own store
(examples/storage/authz/), its agent run as three identities from a development Workload API, and the allow/deny
matrix the tuples promise. The store's tests pass with the real `fga model test` and with `mcp-grpc authz test`."""

from __future__ import annotations

import asyncio
import copy
import json
import pathlib
import subprocess
import sys

import pytest
import pytest_asyncio

from tests.support.e2e import DevWorkloadApi, agent_client, fresh_config_fields, outcome  # the Workload API harness
from tests.support.paths import REPO_ROOT

EXAMPLE = REPO_ROOT / "examples" / "storage"

TD = "example.org"
SERVER_DNS = "storage.example.local"
AGENTS = {
    "report-builder": f"spiffe://{TD}/ns/analytics/sa/report-builder",  # team analytics
    "ledger-keeper": f"spiffe://{TD}/ns/finance/sa/ledger-keeper",  # team finance
    "notebook": f"spiffe://{TD}/ns/sandbox/sa/notebook",  # no team
}
ALL_TOOLS = "list_files, read_file, write_file"
CALLS = ["list events", "read events", "write events", "list ledgers", "read ledgers", "write ledgers", "list archive"]
DENIED = "PERMISSION_DENIED"

# agent -> the outcome of each call in CALLS; a denial names the failing "relation on object"
MATRIX = {
    "report-builder": ["OK", "OK", "can_write on bucket:events", "can_read on bucket:ledgers",
                       "can_read on bucket:ledgers", "can_write on bucket:ledgers", "can_read on bucket:archive"],
    "ledger-keeper": ["can_read on bucket:events", "can_read on bucket:events", "can_write on bucket:events",
                      "OK", "OK", "OK", "can_read on bucket:archive"],
    "notebook": ["can_call on tool:storage/list_files", "can_call on tool:storage/read_file",
                 "can_call on tool:storage/write_file", "can_call on tool:storage/list_files",
                 "can_call on tool:storage/read_file", "can_call on tool:storage/write_file",
                 "can_call on tool:storage/list_files"],
}


@pytest.fixture(scope="module")
def workload_api():
    api = DevWorkloadApi(TD, {"storage-server": f"spiffe://{TD}/ns/storage/sa/storage-server", **AGENTS},
                         dns_names={"storage-server": SERVER_DNS}).start()
    yield api
    api.stop()


@pytest.fixture
def buckets():
    """The example keeps its files in memory; put them back after the agents wrote."""
    from examples.storage import server

    saved = copy.deepcopy(server._BUCKETS)
    yield server._BUCKETS
    server._BUCKETS.clear()
    server._BUCKETS.update(saved)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def storage_server(workload_api, tmp_path_factory):
    from tests.support.e2e import start_server
    from examples.storage.server import app
    from mcp_grpc.server.security import ServerIdentity, authorizer_from_authz_dir

    identity = await asyncio.to_thread(ServerIdentity.from_workload_api, workload_api.socket("storage-server"))
    authorizer = authorizer_from_authz_dir(EXAMPLE / "authz")
    audit = tmp_path_factory.mktemp("storage-audit") / "audit.jsonl"
    running = await start_server(app, fresh_config_fields(identity, [TD]), authorizer, audit)
    try:
        yield running
    finally:
        await running.stop()
        await authorizer.close()
        identity.close()


@pytest.mark.asyncio(loop_scope="module")
async def test_agents_over_mtls_see_the_allow_deny_matrix(storage_server, workload_api, buckets):
    from examples.storage import agent

    mark = storage_server.audit_mark()
    seen = {}
    for name in AGENTS:
        rows = await agent.run(workload_api.socket(name), storage_server.address, SERVER_DNS)
        assert {row["agent"] for row in rows} == {AGENTS[name]}
        seen[name] = rows

    visible = {name: rows[0]["detail"] for name, rows in seen.items()}
    assert visible == {"report-builder": ALL_TOOLS, "ledger-keeper": ALL_TOOLS, "notebook": "(none visible)"}
    for name, rows in seen.items():
        assert [row["call"] for row in rows[1:]] == CALLS
        got = [row["detail"].removeprefix("permission denied: requires ") if row["outcome"] == DENIED
               else row["outcome"] for row in rows[1:]]
        assert got == MATRIX[name], name
        assert all(row["outcome"] in ("OK", DENIED) for row in rows)

    ok = {name: {row["call"]: row["detail"] for row in rows[1:] if row["outcome"] == "OK"}
          for name, rows in seen.items()}
    assert json.loads(ok["report-builder"]["list events"]) == ["2026-11-01.jsonl", "2026-11-02.jsonl"]
    assert ok["ledger-keeper"]["read ledgers"] == "account,amount\nrevenue,1200000\n"
    assert json.loads(ok["ledger-keeper"]["write ledgers"]) == {"bucket": "ledgers", "path": "2026-q4.csv", "size": 15}
    # the allowed write happened; the denied ones never reached the handler
    assert buckets["ledgers"]["2026-q4.csv"] == "account,amount\n"
    assert "notes.txt" not in buckets["events"] and "2026-q4.csv" not in buckets["events"]

    # one audit record per decision (3 agents x (1 list + 7 calls)), the denials as the matrix says
    records = storage_server.audit_since(mark, expect=3 * (1 + len(CALLS)))
    denials = sum(1 for row in MATRIX.values() for value in row if value != "OK")
    assert len(records) == 3 * (1 + len(CALLS))
    assert sum(1 for r in records if r["decision"] == "deny") == denials


@pytest.mark.asyncio(loop_scope="module")
@pytest.mark.parametrize("bucket", ["Events", "events:all", "", "a" * 70])
async def test_bad_bucket_names(storage_server, workload_api, bucket):
    """A caller who may call the tool learns what is wrong with the argument (a tool error the model can correct,
    as MCP says for invalid input); a caller who may not call it learns nothing about its schema."""
    results = {}
    for name in ("report-builder", "notebook"):
        async with agent_client(workload_api, name, storage_server.address, server_dns_name=SERVER_DNS) as client:
            results[name] = await outcome(client.call_tool("list_files", {"bucket": bucket}))
    assert results["report-builder"].status == "TOOL_ERROR", results
    assert results["report-builder"].detail.startswith("invalid arguments: bucket: String should ")
    assert results["notebook"].status == DENIED
    assert results["notebook"].detail == "permission denied: requires can_call on tool:storage/list_files"


def test_store_tests_pass_with_fga_and_with_mcp_grpc(capsys):
    store_tests = "examples/storage/authz/storage.fga.yaml"
    bin_dir = pathlib.Path(sys.executable).parent
    fga = subprocess.run([str(bin_dir / "fga"), "model", "test", "--tests", store_tests], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=60)
    assert fga.returncode == 0, fga.stdout + fga.stderr
    assert "Tests 3/3 passing" in fga.stdout + fga.stderr
    from mcp_grpc.cli.main import main

    assert main(["authz", "test", str(REPO_ROOT / store_tests)]) == 0
    assert "Checks 15/15 passing" in capsys.readouterr().out
