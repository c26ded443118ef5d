"""Tuple and model file loading (mcp_grpc.authz.files): every format, and one precise error per malformed input."""

from __future__ import annotations

import json
import pathlib

import pytest

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.files import (
    ModelFileError,
    TupleFileError,
    load_model_file,
    load_tuples,
    tuple_to_dict,
)

GOOD_YAML = """\
- user: user:anne
  relation: viewer
  object: doc:1
- user: team:eng#member
  relation: editor
  object: doc:2
- user: user:*
  relation: viewer
  object: doc:3
- user: agent:example.org/ns/prod/sa/billing
  relation: can_call
  object: tool:files/read
  condition:
    name: under_limit
    context:
      limit: 100
"""

EXPECTED = [
    TupleKey("user:anne", "viewer", "doc:1"),
    TupleKey("team:eng#member", "editor", "doc:2"),
    TupleKey("user:*", "viewer", "doc:3"),
    TupleKey("agent:example.org/ns/prod/sa/billing", "can_call", "tool:files/read", "under_limit", {"limit": 100}),
]


def write(tmp_path: pathlib.Path, name: str, text: str) -> pathlib.Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_tuples(tmp_path, suffix):
    assert load_tuples(write(tmp_path, f"t{suffix}", GOOD_YAML)) == EXPECTED


def test_json_tuples_round_trip_through_tuple_to_dict(tmp_path):
    path = write(tmp_path, "t.json", json.dumps([tuple_to_dict(t) for t in EXPECTED]))
    assert load_tuples(path) == EXPECTED


def test_jsonl_tuples_skip_blank_lines(tmp_path):
    lines = [json.dumps(tuple_to_dict(t)) for t in EXPECTED]
    path = write(tmp_path, "t.jsonl", lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n")
    assert load_tuples(path) == EXPECTED


def test_csv_tuples_with_usersets_and_conditions(tmp_path):
    text = (
        "user_type,user_id,user_relation,relation,object_type,object_id,condition_name,condition_context\n"
        "user,anne,,viewer,doc,1,,\n"
        "team,eng,member,editor,doc,2,,\n"
        "user,*,,viewer,doc,3,,\n"
        'agent,example.org/ns/prod/sa/billing,,can_call,tool,files/read,under_limit,"{""limit"": 100}"\n'
    )
    assert load_tuples(write(tmp_path, "t.csv", text)) == EXPECTED


# --- malformed tuple files: each kind names the file, the entry and the reason ---------------------------------------


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("- user: user:anne\n  relation: viewer\n", "tuple 0: missing 'object'"),
        ("- relation: viewer\n  object: doc:1\n", "tuple 0: missing 'user'"),
        ("- user: user:anne\n  object: doc:1\n", "tuple 0: missing 'relation'"),
        ("- user: user:anne\n  relation: viewer\n  object: doc1\n", "'object' 'doc1' must be 'type:id'"),
        ("- user: anne\n  relation: viewer\n  object: doc:1\n", "'user' 'anne' must be 'type:id'"),
        ("- user: user:anne\n  relation: viewer\n  object: doc:1#x\n", "must not contain '#'"),
        ("- user: user:anne\n  relation: view er\n  object: doc:1\n", "'relation' 'view er' must not contain"),
        ("- user: team:eng#\n  relation: viewer\n  object: doc:1\n", "empty relation after '#'"),
        ("- user: user:*#member\n  relation: viewer\n  object: doc:1\n", "wildcard with '#relation'"),
        ("- user: user:a\n  relation: viewer\n  object: doc:*\n", "not the wildcard"),
        ("- user: 12\n  relation: viewer\n  object: doc:1\n", "'user' must be a string, got a number"),
        ("- user: user:anne\n  relation: viewer\n  object: doc:1\n  extra: 1\n", "unknown field 'extra'"),
        ("- user: user:a\n  relation: r\n  object: doc:1\n  condition: c\n", "'condition' must be a mapping"),
        ("- user: user:a\n  relation: r\n  object: doc:1\n  condition: {context: {}}\n", "'condition.name'"),
        ("- user: user:a\n  relation: r\n  object: doc:1\n  condition: {name: c, context: [1]}\n", "'condition.context' must be a mapping"),
        ("- user: user:a\n  relation: r\n  object: doc:1\n  condition: {name: c, ctx: {}}\n", "'condition.ctx'"),
        ("- just a string\n", "expected a mapping"),
        # the same grammar as the engine's (mcp_grpc.authz.names): refused on load, not only when written
        ("- user: team:eng#mem ber\n  relation: viewer\n  object: doc:1\n", "malformed relation after '#'"),
        ("- user: user:a\n  relation: viewer\n  object: d@c:1\n", "'@' in its type"),
        ("- user: user:a\n  relation: " + "r" * 51 + "\n  object: doc:1\n", "at most 50 characters"),
        ("- user: user:a\n  relation: viewer\n  object: doc:" + "x" * 260 + "\n", "longer than 256 characters"),
    ],
)
def test_malformed_yaml_entry(tmp_path, entry, message):
    good = "- user: user:ok\n  relation: viewer\n  object: doc:0\n"
    path = write(tmp_path, "bad.yaml", good + entry)
    with pytest.raises(TupleFileError) as info:
        load_tuples(path)
    error = info.value
    assert message.replace("tuple 0", "tuple 1") in str(error)
    assert str(path) in str(error)
    assert error.index == 1
    assert error.line is not None and error.line >= 4  # the second entry starts on line 4


def test_yaml_error_points_at_the_offending_field_line(tmp_path):
    path = write(tmp_path, "bad.yaml", "- user: user:a\n  relation: viewer\n  object: nocolon\n")
    with pytest.raises(TupleFileError) as info:
        load_tuples(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: tuple 0:")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("t.yaml", "", "no tuples"),
        ("t.yaml", "[]\n", "no tuples"),
        ("t.yaml", "user: user:a\n", "expected a list of tuples, got a mapping"),
        ("t.yaml", "- user: [unclosed\n", "invalid YAML"),
        ("t.json", "[{\"user\": ", "invalid JSON"),
        ("t.json", "{}", "expected a list of tuples"),
        ("t.json", "[]", "no tuples"),
        ("t.jsonl", "\n\n", "no tuples"),
        ("t.jsonl", '{"user":"user:a","relation":"r","object":"o:1"}\n{bad\n', "invalid JSON"),
        ("t.csv", "", "empty"),
        ("t.csv", "user_type,user_id,relation,object_type\nuser,a,r,doc\n", "missing required header 'object_id'"),
        ("t.csv", "user_type,user_id,relation,object_type,object_id,colour\n", "invalid header 'colour'"),
        ("t.csv", "user_type,user_id,relation,object_type,object_id,condition_context\n", "requires 'condition_name'"),
        ("t.csv", "user_type,user_id,relation,object_type,object_id\nuser,a,r,doc\n", "expected 5 columns, got 4"),
        (
            "t.csv",
            "user_type,user_id,relation,object_type,object_id,condition_name,condition_context\nuser,a,r,doc,1,c,{x\n",
            "'condition_context' is not valid JSON",
        ),
        ("t.csv", "user_type,user_id,relation,object_type,object_id\n", "no tuples"),
        ("t.txt", "whatever", "unsupported tuple file format '.txt'"),
    ],
)
def test_malformed_tuple_files(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(TupleFileError) as info:
        load_tuples(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_jsonl_and_csv_errors_name_the_line(tmp_path):
    jsonl = write(tmp_path, "t.jsonl", '{"user":"user:a","relation":"r","object":"o:1"}\n\n{"user":"x","relation":"r","object":"o:1"}\n')
    with pytest.raises(TupleFileError) as info:
        load_tuples(jsonl)
    assert info.value.line == 3 and info.value.index == 1
    csv_file = write(tmp_path, "t.csv", "user_type,user_id,relation,object_type,object_id\nuser,a,r,doc,1\nuser,b,r r,doc,2\n")
    with pytest.raises(TupleFileError) as info:
        load_tuples(csv_file)
    assert info.value.line == 3 and info.value.index == 1


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(TupleFileError, match="no such file"):
        load_tuples(tmp_path / "nope.yaml")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(TupleFileError, match="is a directory"):
        load_tuples(tmp_path / "dir.yaml")


def test_not_utf8(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes(b"- user: user:\xff\n")
    with pytest.raises(TupleFileError, match="not UTF-8"):
        load_tuples(path)


# --- models -----------------------------------------------------------------------------------------------------------

DSL = """\
model
  schema 1.1
type user
type doc
  relations
    define viewer: [user]
"""


def test_dsl_model_file(tmp_path):
    model = load_model_file(write(tmp_path, "model.fga", DSL))
    assert model["schema_version"] == "1.1"
    assert [t["type"] for t in model["type_definitions"]] == ["user", "doc"]
    assert model["type_definitions"][1]["relations"]["viewer"] == {"this": {}}


def test_json_model_file_bare_and_wrapped(tmp_path):
    model = load_model_file(write(tmp_path, "model.fga", DSL))
    assert load_model_file(write(tmp_path, "a.json", json.dumps(model))) == model
    assert load_model_file(write(tmp_path, "b.json", json.dumps({"authorization_model": model}))) == model


def test_dsl_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "model.fga", DSL.replace("define viewer: [user]", "define viewer: [user] orr x"))
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    assert info.value.line == 6
    assert str(info.value).startswith(f"{path}:6:")


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.json", "{", "invalid JSON"),
        ("m.json", "[]", "expected a JSON object"),
        ("m.json", '{"schema_version": "1.1"}', "'type_definitions' is missing"),
        ("m.json", '{"type_definitions": {}}', "'type_definitions' must be a list"),
        ("m.txt", "model", "unsupported model file format"),
    ],
)
def test_malformed_model_files(tmp_path, name, text, message):
    path = write(tmp_path, name, text)
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    assert message in str(info.value)


def test_missing_model_file(tmp_path):
    with pytest.raises(ModelFileError, match="no such file"):
        load_model_file(tmp_path / "absent.fga")


def test_modular_model_via_fga_mod(tmp_path, conformance_dir):
    """fga.mod naming module files (OpenFGA's own modular case) gives the model OpenFGA's transformer gives."""
    case = conformance_dir / "openfga-language" / "tests" / "data" / "transformer-module" / "02-module-with-extends"
    names = sorted(p.name for p in (case / "module").glob("*.fga"))
    for name in names:
        (tmp_path / name).write_text((case / "module" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "fga.mod").write_text("schema: '1.2'\ncontents:\n" + "".join(f"  - {n}\n" for n in names), encoding="utf-8")
    expected = json.loads((case / "authorization-model.json").read_text(encoding="utf-8"))
    assert load_model_file(tmp_path / "fga.mod") == expected


def test_modular_model_errors_name_the_file(tmp_path):
    (tmp_path / "fga.mod").write_text("schema: '1.2'\ncontents:\n  - missing.fga\n", encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model_file(tmp_path / "fga.mod")
    assert str(tmp_path / "fga.mod") in str(info.value)
    assert "missing.fga" in str(info.value)


def test_a_model_whose_only_issue_is_an_unused_condition_loads_as_in_fga(tmp_path):
    """OpenFGA (and so `fga model test`) accepts an unused condition; the language linter flags it. Follow OpenFGA."""
    text = DSL + "condition unused(x: int) {\n  x < 1\n}\n"
    model = load_model_file(write(tmp_path, "model.fga", text))
    assert "unused" in model["conditions"]
    bad = text.replace("define viewer: [user]", "define viewer: [nosuchtype]")
    with pytest.raises(ModelFileError):
        load_model_file(write(tmp_path, "bad.fga", bad))


@pytest.mark.parametrize(
    "relations",
    [
        "    define viewer: [user, user]\n",  # a repeated type restriction
        "    define viewer: [user]\n    define both: viewer or viewer\n",  # a repeated operand
        "    define viewer: [user]\n    define none: viewer but not viewer\n",
    ],
)
def test_repeats_openfga_accepts_load(tmp_path, relations):
    text = "model\n  schema 1.1\ntype user\ntype doc\n  relations\n" + relations
    assert load_model_file(write(tmp_path, "model.fga", text))["type_definitions"][1]["type"] == "doc"


def test_repeats_openfga_refuses_stay_errors(tmp_path):
    with pytest.raises(ModelFileError, match="duplicate"):
        load_model_file(write(tmp_path, "a.fga", "model\n  schema 1.1\ntype user\ntype user\n"))
    with pytest.raises(ModelFileError, match="already defined"):
        load_model_file(write(tmp_path, "b.fga", DSL + "    define viewer: [user]\n"))


def test_tuple_files_are_parsed_by_libyaml_when_pyyaml_has_it():
    """Large tuple files load through libyaml (PyYAML's C parser, in its wheels), with the same lines reported."""
    import yaml

    from mcp_grpc.authz.files import located_yaml

    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("this PyYAML was built without libyaml")
    assert issubclass(located_yaml._LocatedLoader, yaml.CSafeLoader)
    text = "# tuples\n- {user: 'user:a', relation: viewer, object: 'doc:1'}\n\n- user: 'user:b'\n  relation: viewer\n"
    loaded = located_yaml.located_yaml_load(text, "t.yaml")
    assert loaded.item_lines == [2, 4]
    assert loaded[1].key_lines == {"user": 4, "relation": 5}
