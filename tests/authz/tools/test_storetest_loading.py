"""Reading ``fga model test`` store files (mcp_grpc.authz.storetest.load_store_test): the CLI's rules, precise errors."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.storetest import StoreTestError, load_store_test

MODEL = """\
model
  schema 1.1
type user
type org
  relations
    define member: [user]
"""


def write(path: pathlib.Path, text: str) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def store(tmp_path: pathlib.Path, body: str, name: str = "store.fga.yaml") -> pathlib.Path:
    header = "model: |\n" + textwrap.indent(MODEL, "  ")
    return write(tmp_path / name, header + textwrap.dedent(body))


def stores_dir(conformance_dir: pathlib.Path) -> pathlib.Path:
    return conformance_dir / "openfga-language" / "tests" / "data" / "stores"


def test_conformance_valid_store_files(conformance_dir):
    for name in ("00-valid-model", "01-valid-model-file"):
        suite = load_store_test(stores_dir(conformance_dir) / name / "store.fga.yaml")
        assert suite.name == "Valid Store File"
        assert [t["type"] for t in suite.model["type_definitions"]] == ["user", "organization"]
        assert suite.tuples == (
            TupleKey("user:daniel", "member", "organization:auth0"),
            TupleKey("user:jeffery", "member", "organization:auth0"),
        )
        assert [t.name for t in suite.tests] == ["Tests for organization members", "Tests for user member of organization"]
        first, second = suite.tests
        assert first.check[0].assertions == {"member": True}
        assert first.list_objects[0].assertions == {"member": ("organization:auth0",)}
        assert second.list_users[0].user_filters == ("user",)
        assert second.list_users[0].assertions == {"member": ("user:daniel", "user:jeffery")}


def test_conformance_missing_model(conformance_dir):
    with pytest.raises(StoreTestError, match="'model' or 'model_file' is required"):
        load_store_test(stores_dir(conformance_dir) / "02-missing-model" / "store.fga.yaml")


def test_conformance_additional_properties(conformance_dir):
    with pytest.raises(StoreTestError) as info:
        load_store_test(stores_dir(conformance_dir) / "03-additional-properties" / "store.fga.yaml")
    assert "unknown field 'unexpected_field2'" in str(info.value)
    assert info.value.line == 23  # where fga's own message points


def test_tuple_sources_add_up_as_in_the_fga_cli(tmp_path):
    write(tmp_path / "a.yaml", "- {user: 'user:a', relation: member, object: 'org:x'}\n")
    write(tmp_path / "b.json", '[{"user": "user:b", "relation": "member", "object": "org:x"}]')
    write(tmp_path / "more" / "c.csv", "user_type,user_id,relation,object_type,object_id\nuser,c,member,org,x\n")
    path = store(
        tmp_path,
        """\
        tuples:
          - {user: "user:i", relation: member, object: "org:x"}
        tuple_file: a.yaml
        tuple_files: [b.json, more/c.csv, a.yaml]
        tests:
          - name: t
            tuples:
              - {user: "user:t", relation: member, object: "org:x"}
            tuple_file: more/c.csv
            check:
              - {user: "user:a", object: "org:x", assertions: {member: true}}
        """,
    )
    suite = load_store_test(path)
    # inline first, then files in order; a file repeated in tuple_files is read once (the CLI de-duplicates)
    assert [t.user for t in suite.tuples] == ["user:i", "user:a", "user:b", "user:c"]
    assert [t.user for t in suite.tests[0].tuples] == ["user:t", "user:c"]


def test_model_file_relative_to_the_test_file(tmp_path):
    write(tmp_path / "models" / "m.fga", MODEL)
    path = write(tmp_path / "s.fga.yaml", "model_file: models/m.fga\ntests: []\n")
    suite = load_store_test(path)
    assert suite.model["type_definitions"][1]["type"] == "org"


def test_inline_model_wins_over_model_file(tmp_path):
    path = store(tmp_path, "model_file: does-not-exist.fga\ntests: []\n")
    assert load_store_test(path).model["type_definitions"][1]["type"] == "org"


def test_references_may_not_leave_the_directory_unless_allowed(tmp_path):
    write(tmp_path / "outside.yaml", "- {user: 'user:a', relation: member, object: 'org:x'}\n")
    path = store(tmp_path / "sub", "tuple_file: ../outside.yaml\ntests: []\n")
    with pytest.raises(StoreTestError, match="leaves the test file's directory"):
        load_store_test(path)
    assert len(load_store_test(path, allow_external_files=True).tuples) == 1


def test_model_syntax_error_points_into_the_store_file(tmp_path):
    path = write(
        tmp_path / "s.fga.yaml",
        "name: x\nmodel: |\n  model\n    schema 1.1\n  type user\n  type doc\n    relations\n      define v: [user] orr x\ntests: []\n",
    )
    with pytest.raises(StoreTestError) as info:
        load_store_test(path)
    assert info.value.line == 8
    assert "model:" in str(info.value)


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("tests: {}\n", "'tests' must be a list", 8),
        ("", "'tests' is required", None),
        ("tests:\n  - name: t\n    chek: []\n", "tests[0]: unknown field 'chek'", 10),
        ("tests:\n  - name: t\n    tuple_files: [a.yaml]\n", "unknown field 'tuple_files'", 10),
        ("tests:\n  - name: t\n    check:\n      - {user: 'user:a', assertions: {member: true}}\n", "tests[0].check[0]: 'object' is required", None),
        ("tests:\n  - name: t\n    check:\n      - {user: 'user:a', object: 'org:x', assertions: {member: yes please}}\n", "must be true or false", None),
        ("tests:\n  - name: t\n    check:\n      - {user: 'user:a', object: 'org:x'}\n", "'assertions' is required", None),
        ("tests:\n  - name: t\n    check:\n      - {user: 'user:a', object: 'org:x', context: [1], assertions: {}}\n", "'context' must be a mapping", None),
        ("tests:\n  - name: t\n    list_objects:\n      - {user: 'user:a', type: org, assertions: {member: org:x}}\n", "must be a list of objects", None),
        ("tests:\n  - name: t\n    list_users:\n      - {object: 'org:x', assertions: {member: {users: []}}}\n", "'user_filter' must be a non-empty list", None),
        ("tests:\n  - name: t\n    list_users:\n      - {object: 'org:x', user_filter: [{relation: member}], assertions: {}}\n", "user_filter[0]: 'type' is required", None),
        ("tests:\n  - name: t\n    list_users:\n      - {object: 'org:x', user_filter: [{type: user}], assertions: {member: [user:a]}}\n", "must be a mapping with 'users'", None),
        ("tests:\n  - name: t\n    list_users:\n      - {object: 'org:x', user_filter: [{type: user}], assertions: {member: {user: []}}}\n", "unknown field 'user'", None),
        ("tests:\n  - name: t\n    tuples:\n      - {user: 'user:a', relation: member}\n", "tests[0].tuples[0]: missing 'object'", 11),
        ("tests:\n  - name: t\n    list_users:\n      - {object: 'org:x', user_filter: [{type: user}], assertions: {member: {users: ''}}}\n", "'users' for 'member' must be a list of users", None),
        ("tuple_file: absent.yaml\ntests: []\n", "no such file", None),
        ("tuple_files: absent.yaml\ntests: []\n", "'tuple_files' must be a list", 8),
        ("tests:\n  - just a string\n", "each test must be a mapping", 9),
    ],
)
def test_malformed_store_files(tmp_path, body, message, line):
    path = store(tmp_path, body)
    with pytest.raises(Exception) as info:
        load_store_test(path)
    assert message in str(info.value)
    if line is not None:
        assert info.value.line == line


def test_not_a_mapping_and_bad_yaml(tmp_path):
    with pytest.raises(StoreTestError, match="expected a mapping"):
        load_store_test(write(tmp_path / "a.fga.yaml", "- 1\n"))
    with pytest.raises(StoreTestError, match="invalid YAML"):
        load_store_test(write(tmp_path / "b.fga.yaml", "model: [\n"))
    with pytest.raises(StoreTestError, match="no such file"):
        load_store_test(tmp_path / "absent.fga.yaml")
