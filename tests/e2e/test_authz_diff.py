"""Issue 18, ``mcp-grpc authz diff``: an audit log recorded by real calls to the demo app over mTLS (authorized by
authz/) is replayed against changed copies of its tuples and model; exactly the changed decisions are listed."""

from __future__ import annotations

import json
import pathlib
import shutil
from typing import Any

import pytest
import pytest_asyncio

from mcp_grpc.cli.main import main
from tests.e2e.test_shadow import SUPPORT_LOOKUP, SUPPORT_READS, run_calls
from tests.support.e2e import BILLING_ID, SUPPORT_ID, agent_client, fresh_config_fields, start_server
from tests.support.paths import AUTHZ_DIR

pytestmark = pytest.mark.asyncio(loop_scope="package")

CALLS = [
    ("billing-agent", "lookup_invoice", {"invoice_id": "INV-1001"}),
    ("billing-agent", "lookup_invoice", {"invoice_id": "INV-1001"}),
    ("support-agent", "lookup_invoice", {"invoice_id": "INV-1002"}),
    ("support-agent", "lookup_invoice", {"invoice_id": "INV-1002"}),
    ("support-agent", "read_report", {"bucket": "reports", "name": "q3.txt"}),
    ("billing-agent", "refund", {"invoice_id": "INV-1002", "amount": 50}),
    ("billing-agent", "refund", {"invoice_id": "INV-1002", "amount": 500}),
]


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def recorded_log(
    server_identity: Any, workload_api: Any, tmp_path_factory: pytest.TempPathFactory
) -> pathlib.Path:
    """The audit log (with argument values, as ``serve --audit-arguments`` writes it) of CALLS and one ListTools."""
    from examples.demo.server import app
    from mcp_grpc.server.security import authorizer_from_authz_dir

    path = tmp_path_factory.mktemp("diff") / "audit.jsonl"
    authorizer = authorizer_from_authz_dir(AUTHZ_DIR)
    server = await start_server(app, fresh_config_fields(server_identity), authorizer, path,
                                audit_arguments=True, include_arguments=True)
    try:
        statuses = await run_calls(server, workload_api, CALLS)
        async with agent_client(workload_api, "support-agent", server.address) as client:
            await client.list_tools()
    finally:
        await server.stop()
        await authorizer.close()
    assert statuses == ["OK", "OK", "OK", "OK", "PERMISSION_DENIED", "OK", "PERMISSION_DENIED"]
    assert len(path.read_text().splitlines()) == len(CALLS) + 1
    return path


def changed_tuples(tmp_path: pathlib.Path) -> pathlib.Path:
    """authz/ where support-agent loses lookup_invoice and gains read_report on bucket reports."""
    folder = tmp_path / "authz-next"
    shutil.copytree(AUTHZ_DIR, folder)
    tuples = folder / "tuples.yaml"
    tuples.write_text(tuples.read_text().replace(SUPPORT_LOOKUP, "") + SUPPORT_READS)
    return folder


def diff(capsys: Any, *argv: str) -> tuple[int, str, str]:
    code = main(["authz", "diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_the_same_model_changes_nothing(recorded_log, capsys):
    code, out, err = diff(capsys, str(recorded_log), "--authz-dir", str(AUTHZ_DIR))
    assert (code, out) == (0, "")
    assert "0 changed (0 gained, 0 lost) of 5 distinct decisions in 8 records; skipped: 1 without checks" in err


async def test_changed_tuples_list_exactly_who_gains_and_loses_which_tool(recorded_log, capsys, tmp_path):
    folder = changed_tuples(tmp_path)
    code, out, err = diff(capsys, str(recorded_log), "--authz-dir", str(folder))
    assert code == 1, err
    assert out.splitlines() == [  # by principal, kind, target
        f"loses  {SUPPORT_ID}  tool lookup_invoice  (now denied: can_call on tool:payments/lookup_invoice)  [2 calls]",
        f"gains  {SUPPORT_ID}  tool read_report  (was denied: can_call on tool:payments/read_report)  [1 call]",
    ]
    assert "2 changed (1 gained, 1 lost) of 5 distinct decisions" in err

    code, out, _ = diff(capsys, str(recorded_log), "--authz-dir", str(folder), "--json")
    report = json.loads(out)
    assert code == 1
    assert [(c["change"], c["principal"], c["kind"], c["target"], c["before"], c["after"], c["records"])
            for c in report["changes"]] == [
        ("loses", SUPPORT_ID, "tool", "lookup_invoice", "allow", "deny", 2),
        ("gains", SUPPORT_ID, "tool", "read_report", "deny", "allow", 1),
    ]
    assert report["changes"][1]["checks"] == [
        {"relation": "can_call", "object": "tool:payments/read_report"},
        {"relation": "can_read", "object": "bucket:reports"},
    ]
    assert report["changes"][0]["denied_by"] == {"relation": "can_call", "object": "tool:payments/lookup_invoice"}
    assert (report["records"], report["decisions"], report["skipped_without_checks"]) == (8, 5, 1)


async def test_a_changed_model_condition_is_decided_with_the_recorded_arguments(recorded_log, capsys, tmp_path):
    model = tmp_path / "model.fga"
    model.write_text((AUTHZ_DIR / "model.fga").read_text().replace("amount <= limit", "amount * 2.0 < limit"))
    code, out, _ = diff(capsys, str(recorded_log), "--model", str(model), "--tuples", str(AUTHZ_DIR / "tuples.yaml"))
    assert code == 1
    # refund 50 of a limit of 100 is now denied; refund 500 was denied and stays so; nothing else moves
    assert out.splitlines() == [
        f"loses  {BILLING_ID}  tool refund  (now denied: can_refund on ledger:payments)  [1 call]",
    ]


async def test_bad_log_lines_are_named_with_file_and_line_and_exit_2(recorded_log, capsys, tmp_path):
    log = tmp_path / "broken.jsonl"
    good = recorded_log.read_text().splitlines()[0]
    log.write_text("\n".join([good, "{not json", "", '["a list"]', '{"time": "t", "decision": "allow", '
                              '"checks": [{"relation": "can_call"}]}']) + "\n")
    code, out, err = diff(capsys, str(log), "--authz-dir", str(AUTHZ_DIR))
    assert (code, out) == (2, "")
    assert f"{log}:2: not JSON" in err
    assert f"{log}:4: not an audit record" in err
    assert f"{log}:5: checks[0] must have string relation, object and result" in err
    assert f"{log}:1:" not in err and f"{log}:3:" not in err
    code, _, err = diff(capsys, str(tmp_path / "missing.jsonl"), "--authz-dir", str(AUTHZ_DIR))
    assert code == 2 and "cannot read" in err and "missing.jsonl" in err
    code, _, err = diff(capsys, str(recorded_log))
    assert code == 2 and "--model FILE [--tuples FILE ...] or as --authz-dir DIR" in err


async def test_decisions_that_cannot_be_replayed_are_counted_not_listed(recorded_log, capsys, tmp_path):
    """Without argument values (serve without --audit-arguments) a condition cannot be decided; a record whose own
    checks erred (the backend was down) has no decision to compare."""
    records = [json.loads(line) for line in recorded_log.read_text().splitlines()]
    for record in records:
        record.pop("arguments", None)
    erred = dict(records[0], checks=[dict(records[0]["checks"][0], result="error")], decision="unavailable")
    log = tmp_path / "no-values.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in [*records, erred]))
    code, out, err = diff(capsys, str(log), "--authz-dir", str(AUTHZ_DIR), "--json")
    report = json.loads(out)
    assert code == 0 and report["changes"] == []
    assert (report["records"], report["skipped_without_checks"], report["skipped_undecided"]) == (9, 1, 1)
    assert (report["decisions"], report["candidate_errors"]) == (4, 1)  # the two refunds are one decision now
