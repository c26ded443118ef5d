"""Modular models (fga.mod, module files, extend type): OpenFGA's transformer-module and fga.mod cases."""

from __future__ import annotations

import json
import pathlib

import pytest
import yaml

from mcp_grpc.authz.model import (
    ModelError,
    ModuleError,
    load_model,
    load_modular,
    module_names,
    parse_fga_mod,
    to_dsl,
    transform_modules,
)
from tests.support.paths import CONFORMANCE_DIR

DATA = CONFORMANCE_DIR / "openfga-language" / "tests" / "data"
MODULES = DATA / "transformer-module"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"conformance data not found at {DATA}")


def _mod_cases() -> list:
    path = DATA / "fga-mod-transformer-cases.yaml"
    cases = yaml.safe_load(path.read_text()) if path.is_file() else []
    return [pytest.param(c, id=c["name"]) for c in cases]


def _module_dirs(with_file: str) -> list:
    if not MODULES.is_dir():
        return []
    return [pytest.param(d, id=d.name) for d in sorted(MODULES.iterdir()) if (d / with_file).is_file()]


def _files(case_dir: pathlib.Path) -> dict[str, str]:
    return {f.name: f.read_text() for f in sorted((case_dir / "module").iterdir())}


@pytest.mark.parametrize("case", _mod_cases())
def test_fga_mod_case(case: dict) -> None:
    if case.get("expected_errors"):
        with pytest.raises(ModuleError) as info:
            parse_fga_mod(case["modFile"])
        assert [i.to_dict() for i in info.value.issues] == case["expected_errors"]
    else:
        assert parse_fga_mod(case["modFile"]).to_dict() == json.loads(case["json"])


@pytest.mark.parametrize("case_dir", [p for p in _module_dirs("authorization-model.json") if (p.values[0] / "module").is_dir()])
def test_modules_combine_to_model(case_dir: pathlib.Path) -> None:
    expected = json.loads((case_dir / "authorization-model.json").read_text())
    model = transform_modules(_files(case_dir))
    assert model == expected
    assert load_model(model) == model  # the combined JSON is itself a valid 1.2 model


@pytest.mark.parametrize("case_dir", _module_dirs("expected_errors.json"))
def test_modules_errors(case_dir: pathlib.Path) -> None:
    expected = json.loads((case_dir / "expected_errors.json").read_text())
    with pytest.raises(ModuleError) as info:
        transform_modules(_files(case_dir))
    got = info.value.issues
    assert len(got) == len(expected), [i.to_dict() for i in got]
    for issue, want in zip(got, expected):
        have = issue.to_dict()
        assert have["msg"] == want["msg"]
        assert issue.metadata.get("file") == want["file"]
        assert have.get("line") == want["line"] and have.get("column") == want["column"], (have, want)
        if want.get("type") == "syntax":
            assert issue.metadata.get("kind") == "syntax"
        for key, value in (want.get("metadata") or {}).items():
            assert issue.metadata.get(key) == value


@pytest.mark.parametrize("case_dir", _module_dirs("expected_modules.json"))
def test_module_names(case_dir: pathlib.Path) -> None:
    model = json.loads((case_dir / "authorization-model.json").read_text())
    assert module_names(model) == json.loads((case_dir / "expected_modules.json").read_text())


@pytest.mark.parametrize("case_dir", _module_dirs("combined.fga"))
@pytest.mark.parametrize("source_info", [False, True], ids=["plain", "sourceinfo"])
def test_combined_dsl(case_dir: pathlib.Path, source_info: bool) -> None:
    model = json.loads((case_dir / "authorization-model.json").read_text())
    name = "combined-sourceinfo.fga" if source_info else "combined.fga"
    assert to_dsl(model, include_source_info=source_info) == (case_dir / name).read_text()


def test_load_modular_reads_manifest_and_files(tmp_path: pathlib.Path) -> None:
    case_dir = MODULES / "02-module-with-extends"
    files = _files(case_dir)
    (tmp_path / "mods").mkdir()
    for name, text in files.items():
        (tmp_path / "mods" / name).write_text(text)
    listed = "\n".join(f"  - mods/{name}" for name in files)
    (tmp_path / "fga.mod").write_text(f"schema: '1.2'\ncontents:\n{listed}\n")
    model = load_modular(tmp_path / "fga.mod")
    assert {td["type"] for td in model["type_definitions"]} == {"user", "other", "org"}
    assert module_names(model) == ["board", "core", "org"]


def test_load_modular_missing_file_is_a_positioned_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "fga.mod").write_text("schema: '1.2'\ncontents:\n  - core.fga\n")
    with pytest.raises(ModuleError) as info:
        load_modular(tmp_path / "fga.mod")
    issue = info.value.issues[0]
    assert "core.fga" in issue.message and issue.line is not None and issue.line.start == 2


def test_module_file_without_module_header_is_rejected() -> None:
    with pytest.raises(ModelError) as info:
        transform_modules({"a.fga": "model\n  schema 1.1\ntype user\n"})
    assert info.value.issues[0].message == "file is not a module"


# --- store test files (fga model test format) --------------------------------------------------------------------

STORES = DATA / "stores"


def _store_dirs() -> list:
    return [pytest.param(d, id=d.name) for d in sorted(STORES.iterdir()) if d.is_dir()] if STORES.is_dir() else []


@pytest.mark.parametrize("store_dir", _store_dirs())
def test_store_file_case(store_dir: pathlib.Path) -> None:
    from mcp_grpc.authz.storetest import StoreFileError, validate_store_file

    data = yaml.safe_load((store_dir / "store.fga.yaml").read_text())
    expected_path = store_dir / "expected_errors.json"
    if not expected_path.is_file():
        validate_store_file(data)
        model_text = data.get("model") or (store_dir / data["model_file"]).read_text()
        assert load_model(model_text)["schema_version"] == "1.1"
        return
    expected = json.loads(expected_path.read_text())
    with pytest.raises(StoreFileError) as info:
        validate_store_file(data)
    got = info.value.errors
    assert len(got) == len(expected), got
    for have, want in zip(got, expected):
        for key in ("keyword", "instancePath", "schemaPath", "message"):
            assert have[key] == want[key], (key, have, want)
        if "params" in want:
            assert have["params"] == want["params"]


def test_store_file_formats_and_types() -> None:
    from mcp_grpc.authz.storetest import StoreFileError, validate_store_file

    bad = {
        "model": "model\n  schema 1.1\n",
        "tuples": [{"user": "daniel", "relation": "member", "object": "org:1"}],
        "tests": [{"check": [{"user": "user:1", "object": "org:1", "assertions": {"member": "yes"}}]}],
    }
    with pytest.raises(StoreFileError) as info:
        validate_store_file(bad)
    assert [(e["instancePath"], e["message"]) for e in info.value.errors] == [
        ("/tuples/0/user", 'must match format "user"'),
        ("/tests/0/check/0/assertions/member", "must be boolean"),
    ]
    with pytest.raises(StoreFileError, match="must be object"):
        validate_store_file(["not", "a", "mapping"])


def test_store_file_formats_follow_openfgas_grammar() -> None:
    from mcp_grpc.authz.storetest import StoreFileError, validate_store_file

    bad = {
        "model": "model\n  schema 1.1\n",
        "tuples": [{"user": "user:1", "relation": "r" * 51, "object": "org:*"}],
        "tests": [{"list_objects": [{"user": "user:1", "type": "org\n", "assertions": {}}]}],
    }
    with pytest.raises(StoreFileError) as info:
        validate_store_file(bad)
    assert [(e["instancePath"], e["message"]) for e in info.value.errors] == [
        ("/tuples/0/relation", 'must match format "relation"'),
        ("/tuples/0/object", 'must match format "object"'),
        ("/tests/0/list_objects/0/type", 'must match format "type"'),
    ]
