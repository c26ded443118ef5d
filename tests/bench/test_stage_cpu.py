"""``python -m bench.stage_cpu`` runs end to end against real servers: every stage of a CallTool is timed once per
call, nested stages cost no more than the call around them. No timing is asserted."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.support.paths import REPO_ROOT


def test_every_stage_is_timed_once_per_call():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.stage_cpu", "--calls", "300", "--rounds", "1", "--concurrency", "4"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1"),
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert re.search(r"round 1 floor: +\d+ calls/s, server CPU +\d+ µs/call", proc.stdout)
    stages = {
        label: (float(per_call), float(times))
        for per_call, label, times in re.findall(r"^ +([\d.]+)  (\S+) \(x([\d.]+)\)$", proc.stdout, re.MULTILINE)
    }
    for label in ("McpServicer.CallTool", "Pipeline.begin", "Pipeline.authorize", "FgaAuthorizer.authorize",
                  "McpServicer._answer_tool", "Call.finish", "JsonAuditSink.emit"):
        assert stages[label][1] == 1.0, (label, stages[label])
    whole = stages["McpServicer.CallTool"][0]
    assert 0 < stages["Pipeline.authorize"][0] <= whole and 0 < stages["Pipeline.begin"][0] <= whole
