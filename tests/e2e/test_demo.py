"""``make demo`` (``python -m examples.demo``) as a user runs it: a real process tree (Workload API, tool server, two
agents). Its table must show the allowed and denied calls, it must exit 0, and nothing it started may outlive it."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import pytest

from tests.support.paths import REPO_ROOT

# (agent, call, decision) in the order the demo prints them
EXPECTED_ROWS = [
    ("billing-agent", "list tools", "allowed"),
    ("billing-agent", "lookup_invoice INV-1001", "allowed"),
    ("billing-agent", "read_report reports/q3.txt", "allowed"),
    ("billing-agent", "read_report restricted/salaries.txt", "PERMISSION_DENIED"),
    ("billing-agent", "refund 50 on INV-1002", "allowed"),
    ("billing-agent", "refund 500 on INV-1002", "PERMISSION_DENIED"),
    ("support-agent", "list tools", "allowed"),
    ("support-agent", "lookup_invoice INV-1002", "allowed"),
    ("support-agent", "read_report reports/q3.txt", "PERMISSION_DENIED"),
    ("support-agent", "refund 10 on INV-1001", "PERMISSION_DENIED"),
]
DETAILS = {
    ("billing-agent", "list tools"): "lookup_invoice, read_report, refund",
    ("support-agent", "list tools"): "lookup_invoice",
    ("billing-agent", "read_report restricted/salaries.txt"):
        "permission denied: requires can_read on bucket:restricted",
    ("billing-agent", "refund 500 on INV-1002"): "permission denied: requires can_refund on ledger:payments",
    ("support-agent", "refund 10 on INV-1001"): "permission denied: requires can_call on tool:payments/refund",
}


def parse_table(stdout: str) -> list[tuple[str, str, str, str]]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("agent ") and line.rstrip().endswith("detail"))
    assert set(lines[start + 1].replace(" ", "")) == {"-"}
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        # fixed columns: agent 22, call 36, decision 18, two spaces between
        rows.append((line[:22].strip(), line[24:60].strip(), line[62:80].strip(), line[82:].strip()))
    return rows


def processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in pathlib.Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{proc.name}: {cmdline}")
    return found


def test_make_demo_runs_this_entry_point():
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    # --no-print-directory: under `make test` this runs in a sub-make, which would print "Leaving directory".
    dry = subprocess.run(
        ["make", "-n", "--no-print-directory", "demo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert dry.returncode == 0, dry.stderr
    assert dry.stdout.splitlines()[-1].split()[-2:] == ["-m", "examples.demo"]


def test_make_demo_prints_decisions_exits_0_and_leaves_nothing_running():
    # A private TMPDIR: the demo's temporary directory (sockets, logs) lands in it, so every process the demo
    # starts names it on its command line, and we can see that the directory is removed afterwards. Short,
    # because Unix socket paths must stay under 108 bytes.
    tmp = tempfile.mkdtemp(prefix="e2edemo")
    try:
        done = subprocess.run(
            [sys.executable, "-m", "examples.demo"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=150,
            env={**os.environ, "TMPDIR": tmp, "PYTHONUNBUFFERED": "1"},
        )
        assert done.returncode == 0, done.stdout + done.stderr
        rows = parse_table(done.stdout)
        assert [row[:3] for row in rows] == EXPECTED_ROWS
        for agent, call, _, detail in rows:
            if (agent, call) in DETAILS:
                assert detail == DETAILS[agent, call]

        # the audit records it prints: the count, then the denials as JSON
        lines = done.stdout.splitlines()
        [summary] = [line for line in lines if "audit records in" in line]
        assert summary.startswith(f"4. {len(EXPECTED_ROWS)} audit records in ")
        printed = [json.loads(line) for line in lines if line.startswith("   {")]
        assert [(r["principal"].rsplit("/", 1)[-1], r["target"], r["decision"]) for r in printed] == [
            ("billing-agent", "read_report", "deny"),
            ("billing-agent", "refund", "deny"),
            ("support-agent", "read_report", "deny"),
            ("support-agent", "refund", "deny"),
        ]
        assert printed[1]["arguments"] == {"amount": 500.0, "invoice_id": "INV-1002"}  # the demo audits values
        assert done.stdout.rstrip().endswith("Everything the demo started has stopped.")

        assert processes_mentioning(tmp) == []
        assert os.listdir(tmp) == []  # its temporary directory is gone too
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
