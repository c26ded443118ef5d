"""Runs OpenFGA's conformance cases (../shared/conformance/openfga) on the embedded engine.

Used by test_conformance.py (one pytest case per test and variant) and runnable as a script that prints the
pass counts per file and kind::

    .venv/bin/python -m tests.authz.engine.engine_conformance [--verbose]    # from the repository root

The runner follows OpenFGA's own (tests/check, tests/listobjects, tests/listusers): all stages of a test run against
one store in order (a later stage writes a new model; older tuples stay and are ignored where invalid), and every
single-stage test is run a second time with its tuples passed as contextual tuples instead of written (skipped when
there are more than 100). For the check matrix (derived from OpenFGA's Go tables) every check assertion also derives
a ListObjects and a ListUsers assertion, as OpenFGA's check tests do (``listObjectsErrorCode`` /
``listUsersErrorCode`` give the expected error where the list call fails although the check does not).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
from typing import Iterator

import yaml

from mcp_grpc.authz.backend import Outcome
from mcp_grpc.authz.engine import Engine
from tests.support import paths

CONFORMANCE_DIR = paths.CONFORMANCE_DIR / "openfga"
FILES = (
    "consolidated_1_1_tests.yaml",
    "abac_tests.yaml",
    "derived/check_matrix_tests.yaml",
    "derived/listobjects_matrix_tests.yaml",
)
FGA_CLI = paths.REPO_ROOT / ".venv" / "bin" / "fga"

_MODEL_CACHE: dict[str, dict] = {}


def fga_cli_transform(dsl: str) -> dict:
    """The JSON model from the real ``fga model transform`` (cached on disk by content hash)."""
    digest = hashlib.sha256(dsl.encode()).hexdigest()[:32]
    cache_dir = pathlib.Path(tempfile.gettempdir()) / "mcp-grpc-fga-transform-cache"
    cache_dir.mkdir(exist_ok=True)
    cached = cache_dir / f"{digest}.json"
    if cached.exists():
        return json.loads(cached.read_text())
    with tempfile.NamedTemporaryFile("w", suffix=".fga", delete=False) as fh:
        fh.write(dsl)
        src = fh.name
    try:
        out = subprocess.run([str(FGA_CLI), "model", "transform", "--input-format", "fga", "--file", src],
                             check=True, capture_output=True, text=True, timeout=60).stdout
    finally:
        os.unlink(src)
    model = json.loads(out)
    tmp = cached.with_suffix(".tmp")
    tmp.write_text(json.dumps(model))
    tmp.replace(cached)
    return model


def dsl_to_model(dsl: str) -> dict:
    """The project's own DSL parser when present, else the ``fga`` CLI."""
    model = _MODEL_CACHE.get(dsl)
    if model is None:
        try:
            from mcp_grpc.authz.model import parse_dsl
        except ImportError:
            model = fga_cli_transform(dsl)
        else:
            model = parse_dsl(dsl)
        _MODEL_CACHE[dsl] = model
    return model


def _tuple(raw: dict) -> dict:
    out = {"user": raw["user"], "relation": raw["relation"], "object": raw["object"]}
    if raw.get("condition"):
        out["condition"] = {"name": raw["condition"]["name"], "context": raw["condition"].get("context") or {}}
    return out


@dataclasses.dataclass
class Case:
    file: str
    name: str
    test: dict
    contextual: bool

    @property
    def id(self) -> str:
        stem = self.file.split("/")[-1].removesuffix("_tests.yaml").removesuffix(".yaml")
        return f"{stem}::{self.name}" + ("::as-contextual-tuples" if self.contextual else "")


@dataclasses.dataclass
class Outcome_:
    kind: str  # check | list_objects | list_users (+ "derived_" prefix for matrix-derived list assertions)
    passed: bool
    detail: str


def load_cases() -> list[Case]:
    cases = []
    for file in FILES:
        path = CONFORMANCE_DIR / file
        data = yaml.safe_load(path.read_text())
        for test in data["tests"]:
            cases.append(Case(file, test["name"], test, False))
            stages = test["stages"]
            if len(stages) == 1 and len(stages[0].get("tuples") or []) <= 100:
                cases.append(Case(file, test["name"], test, True))
    return cases


def _expect_error(result_code: int | None, outcome_is_error: bool, expected: int) -> tuple[bool, str]:
    if not outcome_is_error:
        return False, f"expected error {expected}, got a result"
    if result_code != expected:
        return False, f"expected error {expected}, got error {result_code}"
    return True, ""


def run_case(case: Case) -> Iterator[Outcome_]:
    """Every assertion of one case, as outcomes."""
    engine = Engine()
    for stage_no, stage in enumerate(case.test["stages"]):
        model = dsl_to_model(stage["model"])
        engine.write_model(model)
        tuples = [_tuple(t) for t in stage.get("tuples") or []]
        stage_ctx: list[dict] = []
        if case.contextual:
            stage_ctx = tuples
        elif tuples:
            engine.write(tuples)
        for i, a in enumerate(stage.get("checkAssertions") or []):
            tk = a["tuple"]
            ctx_tuples = [_tuple(t) for t in a.get("contextualTuples") or []] + stage_ctx
            res = engine.check(tk["user"], tk["relation"], tk["object"], context=a.get("context"),
                               contextual_tuples=ctx_tuples)
            label = f"stage {stage_no} check[{a.get('name', i)}] {tk['user']} {tk['relation']} {tk['object']}"
            if a.get("errorCode"):
                ok, why = _expect_error(res.error_code, res.outcome is Outcome.ERROR, a["errorCode"])
            elif res.outcome is Outcome.ERROR:
                ok, why = False, f"expected {bool(a.get('expectation'))}, got error {res.error_code}: {res.error}"
            else:
                ok = res.allowed == bool(a.get("expectation"))
                why = f"expected {bool(a.get('expectation'))}, got {res.allowed}"
            yield Outcome_("check", ok, "" if ok else f"{label}: {why}")
            if "name" in a and not a.get("errorCode"):
                yield from _derived_lists(engine, a, ctx_tuples, stage_no)
        for i, a in enumerate(stage.get("listObjectsAssertions") or []):
            rq = a["request"]
            ctx_tuples = [_tuple(t) for t in a.get("contextualTuples") or []] + stage_ctx
            res = engine.list_objects(rq["user"], rq["relation"], rq["type"], context=a.get("context"),
                                      contextual_tuples=ctx_tuples)
            label = f"stage {stage_no} list_objects[{i}] {rq['user']} {rq['relation']} {rq['type']}"
            if a.get("errorCode"):
                ok, why = _expect_error(res.error_code, res.error is not None, a["errorCode"])
            elif res.error is not None:
                ok, why = False, f"got error {res.error_code}: {res.error}"
            else:
                want = sorted(a.get("expectation") or [])
                ok = sorted(res.items) == want
                why = f"expected {want}, got {sorted(res.items)}"
            yield Outcome_("list_objects", ok, "" if ok else f"{label}: {why}")
        for i, a in enumerate(stage.get("listUsersAssertions") or []):
            rq = a["request"]
            ctx_tuples = [_tuple(t) for t in a.get("contextualTuples") or []] + stage_ctx
            res = engine.list_users(rq["object"], rq["relation"], rq["filters"], context=a.get("context"),
                                    contextual_tuples=ctx_tuples)
            label = f"stage {stage_no} list_users[{i}] {rq['object']} {rq['relation']} {rq['filters']}"
            if a.get("errorCode"):
                ok, why = _expect_error(res.error_code, res.error is not None, a["errorCode"])
            elif res.error is not None:
                ok, why = False, f"got error {res.error_code}: {res.error}"
            else:
                want = sorted(a.get("expectation") or [])
                ok = sorted(res.items) == want
                why = f"expected {want}, got {sorted(res.items)}"
            yield Outcome_("list_users", ok, "" if ok else f"{label}: {why}")


def _derived_lists(engine: Engine, a: dict, ctx_tuples: list, stage_no: int) -> Iterator[Outcome_]:
    """ListObjects / ListUsers assertions implied by one check-matrix assertion."""
    tk = a["tuple"]
    expected = bool(a.get("expectation"))
    user = tk["user"]
    otype = tk["object"].partition(":")[0]
    label = f"stage {stage_no} derived from check[{a['name']}] {user} {tk['relation']} {tk['object']}"
    res = engine.list_objects(user, tk["relation"], otype, context=a.get("context"), contextual_tuples=ctx_tuples)
    if a.get("listObjectsErrorCode"):
        ok, why = _expect_error(res.error_code, res.error is not None, a["listObjectsErrorCode"])
    elif res.error is not None:
        ok, why = False, f"list_objects got error {res.error_code}: {res.error}"
    else:
        ok = (tk["object"] in res.items) == expected
        why = f"list_objects {'lacks' if expected else 'has'} {tk['object']}: {sorted(res.items)}"
    yield Outcome_("derived_list_objects", ok, "" if ok else f"{label}: {why}")
    utype, _, rest = user.partition(":")
    urel = rest.partition("#")[2]
    filt = f"{utype}#{urel}" if urel else utype
    res = engine.list_users(tk["object"], tk["relation"], [filt], context=a.get("context"),
                            contextual_tuples=ctx_tuples)
    if a.get("listUsersErrorCode"):
        ok, why = _expect_error(res.error_code, res.error is not None, a["listUsersErrorCode"])
    elif res.error is not None:
        ok, why = False, f"list_users got error {res.error_code}: {res.error}"
    else:
        found = user in res.items or (not urel and f"{utype}:*" in res.items and expected)
        ok = found == expected
        why = f"list_users {'lacks' if expected else 'has'} {user}: {sorted(res.items)}"
    yield Outcome_("derived_list_users", ok, "" if ok else f"{label}: {why}")


def main(argv: list[str]) -> int:
    verbose = "--verbose" in argv
    totals: dict[tuple[str, str, bool], list[int]] = {}
    for case in load_cases():
        try:
            outcomes = list(run_case(case))
        except Exception as exc:  # noqa: BLE001 - report, keep counting
            outcomes = [Outcome_("crash", False, f"{case.id}: {exc!r}")]
        for o in outcomes:
            t = totals.setdefault((case.file, o.kind, case.contextual), [0, 0])
            t[0] += o.passed
            t[1] += 1
            if verbose and not o.passed:
                print(f"FAIL {case.id}: {o.detail}")
    print(f"{'file':42} {'kind':22} {'variant':12} passed/total")
    for (file, kind, ctx), (p, n) in sorted(totals.items()):
        print(f"{file:42} {kind:22} {'contextual' if ctx else 'stored':12} {p}/{n}")
    return 0 if all(p == n for p, n in totals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
