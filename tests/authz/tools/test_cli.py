"""``mcp-grpc authz ...`` run as a subprocess: exit codes, --json records, error messages, access review."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

from mcp_grpc.cli.main import main
from tests.support.paths import REPO_ROOT


@dataclasses.dataclass
class Completed:
    returncode: int
    stdout: str
    stderr: str


def run(*args: str, cwd: pathlib.Path | None = None) -> Completed:
    """``mcp-grpc authz ARGS`` in this process (the same code path as the console script, without the ~1 s start)."""
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd or REPO_ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["authz", *args])
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
    finally:
        os.chdir(previous)
    return Completed(code, out.getvalue(), err.getvalue())


def run_process(*args: str, cwd: pathlib.Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m mcp_grpc authz ARGS`` as a real subprocess: exit codes and streams as a shell sees them."""
    return subprocess.run(
        [sys.executable, "-m", "mcp_grpc", "authz", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or REPO_ROOT,
    )


MODEL = """\
model
  schema 1.1
type user
type team
  relations
    define member: [user]
type doc
  relations
    define owner: [user]
    define viewer: [user, team#member, user:*] or owner
    define blocked: [user]
    define can_view: viewer but not blocked
    define can_pay: [user with under_limit]
condition under_limit(amount: int, limit: int) {
  amount <= limit
}
"""

TUPLES = """\
- {user: "user:anne", relation: member, object: "team:eng"}
- {user: "team:eng#member", relation: viewer, object: "doc:1"}
- {user: "user:bob", relation: owner, object: "doc:2"}
- {user: "user:bob", relation: blocked, object: "doc:1"}
- {user: "user:carl", relation: can_pay, object: "doc:1", condition: {name: under_limit, context: {limit: 100}}}
"""


@pytest.fixture()
def store(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "model.fga").write_text(MODEL, encoding="utf-8")
    (tmp_path / "tuples.yaml").write_text(TUPLES, encoding="utf-8")
    return tmp_path


def store_args(store: pathlib.Path) -> list[str]:
    return ["--model", str(store / "model.fga"), "--tuples", str(store / "tuples.yaml")]


# --- authz test ------------------------------------------------------------------------------------------------------


def write_test_file(directory: pathlib.Path, *, wrong: bool = False) -> pathlib.Path:
    expected = "false" if wrong else "true"
    path = directory / "doc.fga.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: docs
            model_file: model.fga
            tuple_file: tuples.yaml
            tests:
              - name: team members view
                check:
                  - user: user:anne
                    object: doc:1
                    assertions:
                      can_view: {expected}
                      owner: false
                  - user: user:carl
                    object: doc:1
                    context: {{amount: 50}}
                    assertions:
                      can_pay: true
                list_objects:
                  - user: user:anne
                    type: doc
                    assertions:
                      viewer: [doc:1]
              - name: owners
                tuples:
                  - {{user: "user:dora", relation: owner, object: "doc:3"}}
                list_users:
                  - object: doc:3
                    user_filter: [{{type: user}}]
                    assertions:
                      viewer: {{users: [user:dora]}}
            """
        ),
        encoding="utf-8",
    )
    return path


def test_authz_test_passes_with_a_summary(store):
    completed = run("test", str(write_test_file(store)))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Tests 2/2 passing" in completed.stdout
    assert "Checks 3/3 passing" in completed.stdout
    assert "ListObjects 1/1 passing" in completed.stdout
    assert "ListUsers 1/1 passing" in completed.stdout


def test_authz_test_failure_exits_1_and_names_the_assertion(store):
    completed = run_process("test", str(write_test_file(store, wrong=True)))
    assert completed.returncode == 1
    assert "FAIL" in completed.stdout and "team members view" in completed.stdout
    assert "Check(user=user:anne,relation=can_view,object=doc:1): expected=false, got=true" in completed.stdout
    assert "Tests 1/2 passing" in completed.stdout


def test_authz_test_json_prints_one_record_per_assertion(store):
    completed = run_process("test", "--json", str(write_test_file(store, wrong=True)))
    assert completed.returncode == 1
    records = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(records) == 5
    by_key = {(r["kind"], r["relation"]): r for r in records}
    failing = by_key[("check", "can_view")]
    assert failing == {
        "file": str(store / "doc.fga.yaml"),
        "test": "team members view",
        "kind": "check",
        "user": "user:anne",
        "object": "doc:1",
        "relation": "can_view",
        "expected": False,
        "got": True,
        "error": None,
        "passed": False,
    }
    assert by_key[("check", "can_pay")]["context"] == {"amount": 50}
    assert by_key[("list_objects", "viewer")]["type"] == "doc" and by_key[("list_objects", "viewer")]["got"] == ["doc:1"]
    assert by_key[("list_users", "viewer")]["user_filter"] == ["user"]
    assert by_key[("list_users", "viewer")]["got"] == ["user:dora"]
    assert sum(not r["passed"] for r in records) == 1


def test_authz_test_several_files_and_an_unreadable_one(store, tmp_path):
    good = write_test_file(store)
    bad = tmp_path / "bad.fga.yaml"
    bad.write_text("model_file: model.fga\ntests:\n  - name: x\n    chek: []\n", encoding="utf-8")
    completed = run("test", str(good), str(bad))
    assert completed.returncode == 2
    assert "unknown field 'chek'" in completed.stdout
    assert "Tests 2/2 passing" in completed.stdout  # the readable file still ran
    completed = run("test", "--json", str(bad))
    record = json.loads(completed.stdout.splitlines()[0])
    assert record["kind"] == "load" and "chek" in record["error"] and record["passed"] is False


def test_authz_test_evaluation_error_is_a_failure(store):
    path = store / "err.fga.yaml"
    path.write_text(
        "model_file: model.fga\ntuple_file: tuples.yaml\ntests:\n  - name: missing amount\n    check:\n"
        "      - {user: 'user:carl', object: 'doc:1', assertions: {can_pay: false}}\n",
        encoding="utf-8",
    )
    completed = run("test", "--json", str(path))
    assert completed.returncode == 1
    record = json.loads(completed.stdout)
    assert record["got"] is None and "amount" in record["error"]


def test_authz_test_conformance_store_files(conformance_dir):
    stores = conformance_dir / "openfga-language" / "tests" / "data" / "stores"
    completed = run("test", str(stores / "00-valid-model" / "store.fga.yaml"), str(stores / "01-valid-model-file" / "store.fga.yaml"))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Tests 4/4 passing" in completed.stdout
    for name, message in (("02-missing-model", "'model' or 'model_file' is required"), ("03-additional-properties", "unexpected_field2")):
        completed = run("test", str(stores / name / "store.fga.yaml"))
        assert completed.returncode == 2
        assert message in completed.stdout


# --- one query ------------------------------------------------------------------------------------------------------


def test_check_exit_codes_and_json(store):
    allowed = run_process("check", *store_args(store), "user:anne", "can_view", "doc:1")
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "allowed")
    denied = run_process("check", *store_args(store), "user:bob", "can_view", "doc:1")
    assert (denied.returncode, denied.stdout.strip()) == (1, "denied")
    error = run("check", *store_args(store), "user:carl", "can_pay", "doc:1")
    assert error.returncode == 2 and "amount" in error.stdout
    record = json.loads(run("check", *store_args(store), "--json", "--context", '{"amount": 500}', "user:carl", "can_pay", "doc:1").stdout)
    assert record["outcome"] == "denied" and record["allowed"] is False
    record = json.loads(run("check", *store_args(store), "--json", "--context", '{"amount": 50}', "user:carl", "can_pay", "doc:1").stdout)
    assert record["outcome"] == "allowed"


def test_check_with_contextual_tuples(store):
    assert run("check", *store_args(store), "user:zed", "can_view", "doc:9").returncode == 1
    completed = run("check", *store_args(store), "--contextual-tuple", "user:zed owner doc:9", "user:zed", "can_view", "doc:9")
    assert completed.returncode == 0
    file = store / "ctx.yaml"
    file.write_text("- {user: 'user:zed', relation: viewer, object: 'doc:9'}\n", encoding="utf-8")
    assert run("check", *store_args(store), "--contextual-tuples", str(file), "user:zed", "can_view", "doc:9").returncode == 0


def test_list_objects_and_list_users(store):
    completed = run("list-objects", *store_args(store), "user:bob", "viewer", "doc")
    assert completed.returncode == 0 and completed.stdout.split() == ["doc:2"]
    completed = run("list-users", *store_args(store), "--json", "doc:1", "viewer", "--user-filter", "user")
    assert json.loads(completed.stdout)["users"] == ["user:anne"]
    completed = run("list-users", *store_args(store), "doc:1", "viewer", "--user-filter", "team#member")
    assert completed.stdout.split() == ["team:eng#member"]
    completed = run("list-objects", *store_args(store), "user:bob", "viewer", "nosuchtype")
    assert completed.returncode == 2 and "nosuchtype" in completed.stdout


def test_explain_shows_the_path(store):
    completed = run("explain", *store_args(store), "user:anne", "can_view", "doc:1")
    assert completed.returncode == 0
    assert "ALLOWED" in completed.stdout
    assert "team:eng#member" in completed.stdout  # the userset tuple that granted it
    completed = run("explain", *store_args(store), "--json", "user:bob", "can_view", "doc:1")
    assert completed.returncode == 1
    assert json.loads(completed.stdout)["outcome"] == "denied"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "--model", "absent.fga", "user:a", "r", "doc:1"], "no such file"),
        (["check", "--context", "{bad", "user:anne", "can_view", "doc:1"], "--context is not valid JSON"),
        (["check", "--context", "[1]", "user:anne", "can_view", "doc:1"], "--context must be a JSON object"),
        (["check", "--contextual-tuple", "user:a viewer", "user:anne", "can_view", "doc:1"], "USER RELATION OBJECT"),
        (["check", "--contextual-tuple", "user:a viewer doc1", "user:anne", "can_view", "doc:1"], "must be 'type:id'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(store, args, message):
    if "--model" not in args:
        args = [args[0], *store_args(store), *args[1:]]
    completed = run(*args)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_bad_input_in_a_real_process_has_no_traceback(store):
    completed = run_process("check", *store_args(store), "--context", "{bad", "user:anne", "can_view", "doc:1")
    assert completed.returncode == 2
    assert completed.stderr.startswith("mcp-grpc authz: --context is not valid JSON")
    assert "Traceback" not in completed.stderr


def test_bad_tuple_file_names_file_and_entry(store):
    (store / "bad.yaml").write_text("- {user: 'user:a', relation: viewer}\n", encoding="utf-8")
    completed = run("check", "--model", str(store / "model.fga"), "--tuples", str(store / "bad.yaml"), "user:a", "viewer", "doc:1")
    assert completed.returncode == 2
    assert f"{store / 'bad.yaml'}:1: tuple 0: missing 'object'" in completed.stderr


def test_a_tuple_the_model_refuses_is_reported(store):
    (store / "bad.yaml").write_text("- {user: 'user:a', relation: nosuch, object: 'doc:1'}\n", encoding="utf-8")
    completed = run("check", "--model", str(store / "model.fga"), "--tuples", str(store / "bad.yaml"), "user:a", "viewer", "doc:1")
    assert completed.returncode == 2
    assert "nosuch" in completed.stderr and "Traceback" not in completed.stderr


# --- access review --------------------------------------------------------------------------------------------------

APP = """\
from mcp_grpc.server import McpApp

app = McpApp("files")


@app.tool()
def read(path: str) -> str:
    '''Read a file.'''
    return path


@app.tool()
def delete(path: str) -> str:
    '''Delete a file.'''
    return path


@app.tool()
def stat(path: str) -> str:
    '''Stat a file.'''
    return path


@app.resource("docs://readme")
def readme() -> str:
    '''The readme.'''
    return "hi"


@app.prompt()
def summarize(text: str) -> str:
    '''Summarize.'''
    return text
"""

REVIEW_MODEL = """\
model
  schema 1.1
type agent
type team
  relations
    define member: [agent]
type tool
  relations
    define caller: [agent, team#member, agent:*]
    define blocked: [agent]
    define can_call: caller but not blocked
type resource
  relations
    define can_read: [agent, team#member]
type prompt
  relations
    define can_get: [agent, agent:*]
"""

REVIEW_TUPLES = """\
- {user: "agent:example.org/ns/a/sa/alice", relation: member, object: "team:ops"}
- {user: "agent:example.org/ns/a/sa/bob", relation: member, object: "team:ops"}
- {user: "team:ops#member", relation: caller, object: "tool:files/read"}
- {user: "agent:example.org/ns/a/sa/alice", relation: caller, object: "tool:files/delete"}
- {user: "agent:*", relation: caller, object: "tool:files/stat"}
- {user: "agent:example.org/ns/a/sa/bob", relation: blocked, object: "tool:files/stat"}
- {user: "team:ops#member", relation: can_read, object: "resource:docs+3A//readme"}
- {user: "agent:example.org/ns/a/sa/alice", relation: can_get, object: "prompt:files/summarize"}
"""

ALICE = "spiffe://example.org/ns/a/sa/alice"
BOB = "spiffe://example.org/ns/a/sa/bob"


@pytest.fixture()
def review(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "review_app.py").write_text(APP, encoding="utf-8")
    authz = tmp_path / "authz"
    authz.mkdir()
    (authz / "model.fga").write_text(REVIEW_MODEL, encoding="utf-8")
    (authz / "tuples.yaml").write_text(REVIEW_TUPLES, encoding="utf-8")
    return tmp_path


def test_who_can(review):
    completed = run_process("who-can", "review_app:app", "read", "--json", cwd=review)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["object"] == "tool:files/read" and answer["relation"] == "can_call"
    assert answer["agents"] == [ALICE, BOB]
    completed = run("who-can", "review_app.py:app", "delete", cwd=review)
    assert completed.returncode == 0
    assert ALICE in completed.stdout and BOB not in completed.stdout


def test_who_can_unknown_tool_and_bad_target(review):
    completed = run("who-can", "review_app:app", "format_disk", cwd=review)
    assert completed.returncode == 2 and "no tool 'format_disk'" in completed.stderr
    completed = run("who-can", "no_such_module:app", "read", cwd=review)
    assert completed.returncode == 2 and "no_such_module" in completed.stderr
    completed = run("who-can", "review_app:app", "read", "--authz-dir", "nowhere", cwd=review)
    assert completed.returncode == 2 and "nowhere" in completed.stderr


def test_what_can(review):
    completed = run("what-can", "review_app:app", ALICE, "--json", cwd=review)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["tools"] == ["delete", "read", "stat"]
    assert answer["resources"] == ["docs://readme"]
    assert answer["prompts"] == ["summarize"]
    answer = json.loads(run("what-can", "review_app:app", BOB, "--json", cwd=review).stdout)
    assert answer["tools"] == ["read"]  # stat is public but bob is blocked; delete is alice's
    assert answer["prompts"] == []
    completed = run("what-can", "review_app:app", "not-a-spiffe-id", cwd=review)
    assert completed.returncode == 2 and "spiffe://" in completed.stderr


def test_matrix_confirms_each_cell(review):
    completed = run("who-can", "review_app:app", "--matrix", "--json", cwd=review)
    assert completed.returncode == 0, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["tools"] == ["delete", "read", "stat"]
    assert answer["matrix"][ALICE] == {"delete": "allowed", "read": "allowed", "stat": "allowed"}
    # bob: ListUsers cannot express "agent:* but not bob"; the Check per cell can
    assert answer["matrix"][BOB] == {"delete": "denied", "read": "allowed", "stat": "denied"}
    assert answer["matrix"]["*"]["stat"] == "allowed"
    table = run("who-can", "review_app:app", "--matrix", cwd=review).stdout
    assert "any agent" in table and ALICE in table


def test_authz_test_takes_a_quoted_glob_like_fga(store):
    write_test_file(store)
    completed = run("test", str(store / "*.fga.yaml"))
    assert completed.returncode == 0 and "Tests 2/2 passing" in completed.stdout
    completed = run("test", str(store / "nothing-*.fga.yaml"))
    assert completed.returncode == 2 and "no test file matches" in completed.stderr


def test_review_with_a_condition_needs_and_takes_context(review):
    model = REVIEW_MODEL.replace(
        "    define caller: [agent, team#member, agent:*]",
        "    define caller: [agent, team#member, agent:*, agent with small]",
    ) + "condition small(amount: int, limit: int) {\n  amount <= limit\n}\n"
    (review / "authz" / "model.fga").write_text(model, encoding="utf-8")
    tuples = REVIEW_TUPLES + (
        '- {user: "agent:example.org/ns/a/sa/carol", relation: caller, object: "tool:files/delete", '
        "condition: {name: small, context: {limit: 10}}}\n"
    )
    (review / "authz" / "tuples.yaml").write_text(tuples, encoding="utf-8")
    completed = run("who-can", "review_app:app", "delete", cwd=review)
    assert completed.returncode == 2 and "amount" in completed.stderr  # a condition without its parameter: error
    small = json.loads(run("who-can", "review_app:app", "delete", "--json", "--context", '{"amount": 5}', cwd=review).stdout)
    large = json.loads(run("who-can", "review_app:app", "delete", "--json", "--context", '{"amount": 50}', cwd=review).stdout)
    assert "spiffe://example.org/ns/a/sa/carol" in small["agents"]
    assert "spiffe://example.org/ns/a/sa/carol" not in large["agents"]
    answer = json.loads(run("what-can", "review_app:app", "spiffe://example.org/ns/a/sa/carol", "--json",
                            "--context", '{"amount": 5}', cwd=review).stdout)
    assert "delete" in answer["tools"]
