"""``python -m bench.workers`` runs end to end: the CLI full stack with 1 and 2 workers, real mTLS, real load.

No timing is asserted; the report's shape is: both runs made calls with zero errors, the server drained (exit 0),
and with 2 workers both workers did work (the calls reached both processes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.support.paths import REPO_ROOT


def test_one_and_two_workers_both_serve(tmp_path):
    out = tmp_path / "workers.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.workers", "--seconds", "1", "--warmup", "0.2", "--out", str(out)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=240,
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT), PYTHONUNBUFFERED="1"),
    )
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    runs = json.loads(out.read_text())["runs"]
    assert set(runs) == {"1", "2"}
    for row in runs.values():
        assert row["calls"] > 0 and row["errors"] == 0 and row["exit_code"] == 0
    by_pid = runs["2"]["server_cpu_seconds_by_pid"]
    assert len(by_pid) == 3  # the supervisor and two workers
    assert sorted(by_pid.values())[1] > 0.05, f"one worker did no work: {by_pid}"
