"""OpenFGA's language conformance cases (openfga-language/tests/data), every case, run on our model language."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from mcp_grpc.authz.model import (
    ModelError,
    ModelSyntaxError,
    ModelValidationError,
    collect_issues,
    is_valid_object_id,
    load_model,
    parse_dsl,
    parse_dsl_with_errors,
    to_dsl,
)
from tests.support.paths import CONFORMANCE_DIR

DATA = CONFORMANCE_DIR / "openfga-language" / "tests" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"conformance data not found at {DATA}")


def _yaml_cases(name: str) -> list:
    path = DATA / name
    if not path.is_file():
        return []
    cases = yaml.safe_load(path.read_text()) or []
    seen: dict[str, int] = {}
    params = []
    for case in cases:
        base = case["name"]
        seen[base] = seen.get(base, 0) + 1
        case_id = base if seen[base] == 1 else f"{base} #{seen[base]}"
        marks = [pytest.mark.skip(reason="marked skip in the reference data")] if case.get("skip") else []
        params.append(pytest.param(case, id=case_id, marks=marks))
    return params


def _transformer_dirs() -> list[pathlib.Path]:
    root = DATA / "transformer"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _matches(got: dict, expected: dict) -> bool:
    """Every field the reference states (msg, line, column, metadata keys) must be equal."""
    if got.get("msg") != expected["msg"]:
        return False
    for key in ("line", "column"):
        if key in expected and got.get(key) != expected[key]:
            return False
    for key, value in (expected.get("metadata") or {}).items():
        if (got.get("metadata") or {}).get(key) != value:
            return False
    return True


def _assert_issues(got: list[dict], expected: list[dict]) -> None:
    assert len(got) == len(expected), f"expected {len(expected)} errors, got {len(got)}:\n{got}\nexpected:\n{expected}"
    for g, e in zip(got, expected):
        assert _matches(g, e), f"\n got: {g}\nwant: {e}"


# --- DSL -> JSON and JSON -> DSL pairs ----------------------------------------------------------------------------


@pytest.mark.parametrize("case_dir", _transformer_dirs(), ids=lambda p: p.name)
def test_dsl_to_json(case_dir: pathlib.Path) -> None:
    dsl = (case_dir / "authorization-model.fga").read_text()
    expected = json.loads((case_dir / "authorization-model.json").read_text())
    assert parse_dsl(dsl) == expected


@pytest.mark.parametrize("case_dir", _transformer_dirs(), ids=lambda p: p.name)
def test_json_to_dsl(case_dir: pathlib.Path) -> None:
    model = json.loads((case_dir / "authorization-model.json").read_text())
    assert to_dsl(model) == (case_dir / "authorization-model.fga").read_text()


# Transform-only pairs: these models are deliberately not all semantically valid (undefined conditions, ...).
_NOT_VALID_MODELS = {"14-mixed-operators", "15-mixed-operators-with-direct-assignments-once-beginning-of-line"}


@pytest.mark.parametrize("case_dir", _transformer_dirs(), ids=lambda p: p.name)
def test_round_trip_and_load(case_dir: pathlib.Path) -> None:
    dsl = (case_dir / "authorization-model.fga").read_text()
    model = parse_dsl(dsl)
    assert parse_dsl(to_dsl(model)) == model
    if case_dir.name in _NOT_VALID_MODELS:
        with pytest.raises(ModelValidationError):
            load_model(dsl)
        return
    assert load_model(dsl) == model
    wrapped = {"authorization_model": {**model, "id": "01HVMMBCMGZNT3SED4Z17ECXCA"}}
    assert load_model(wrapped).get("type_definitions") == model.get("type_definitions")
    assert load_model(json.dumps(model)) == model


# --- syntax and semantic validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _yaml_cases("dsl-syntax-validation-cases.yaml"))
def test_dsl_syntax_case(case: dict) -> None:
    result = parse_dsl_with_errors(case["dsl"])
    expected = case.get("expected_errors") or []
    _assert_issues([i.to_dict() for i in result.issues], expected)
    if expected:
        with pytest.raises(ModelSyntaxError) as info:
            parse_dsl(case["dsl"])
        assert all(i.line is not None and i.column is not None for i in info.value.issues)


@pytest.mark.parametrize("case", _yaml_cases("dsl-semantic-validation-cases.yaml"))
def test_dsl_semantic_case(case: dict) -> None:
    result = parse_dsl_with_errors(case["dsl"])
    issues = result.issues or collect_issues(result.model, case["dsl"])
    expected = case.get("expected_errors") or []
    _assert_issues([i.to_dict() for i in issues], expected)
    if expected:
        with pytest.raises(ModelError) as info:
            load_model(case["dsl"])
        assert all(i.line is not None and i.column is not None for i in info.value.issues)
    elif not result.modular:
        load_model(case["dsl"])


@pytest.mark.parametrize("case", _yaml_cases("json-validation-cases.yaml"))
def test_json_validation_case(case: dict) -> None:
    expected = case.get("expected_errors") or []
    try:
        load_model(case["json"])
        got: list[dict] = []
    except ModelValidationError as exc:
        got = [i.to_dict() for i in exc.issues]
    _assert_issues(got, expected)


@pytest.mark.parametrize("case", _yaml_cases("json-syntax-transformer-validation-cases.yaml"))
def test_json_to_dsl_case(case: dict) -> None:
    model = json.loads(case["json"])
    if case.get("valid", True):
        text = to_dsl(model)
        # What we write must read back to the same relations (direct assignments moved first are equivalent).
        assert parse_dsl_with_errors(text).issues == []
    else:
        with pytest.raises(ModelError) as info:
            to_dsl(model)
        assert info.value.issues[0].message == case["error_message"]


@pytest.mark.parametrize("case", _yaml_cases("object-id-validation-cases.yaml"))
def test_object_id_case(case: dict) -> None:
    assert is_valid_object_id(case["object_id"]) is case["valid"]
