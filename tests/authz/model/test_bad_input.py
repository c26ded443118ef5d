"""Each kind of malformed model input gets one precise error with a position; nothing else escapes."""

from __future__ import annotations

import json

import pytest

from mcp_grpc.authz.model import (
    ModelError,
    ModelSyntaxError,
    ModelValidationError,
    load_model,
    parse_dsl,
    to_dsl,
    validate_model,
    validate_object_id,
)

VALID = "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user]\n"


def test_valid_dsl_and_json_round_trip() -> None:
    model = load_model(VALID)
    assert model["type_definitions"][1]["relations"] == {"viewer": {"this": {}}}
    assert load_model(to_dsl(model)) == model


def test_invalid_json_text_reports_line_and_column() -> None:
    with pytest.raises(ModelSyntaxError) as info:
        load_model('{\n  "schema_version": "1.1",\n  "type_definitions": [\n')
    issue = info.value.issues[0]
    assert issue.message.startswith("invalid JSON") and issue.line is not None and issue.line.start >= 2


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ([1, 2], "must be an object"),
        ({"schema_version": "1.1", "type_definitions": {}}, "type_definitions must be a list"),
        ({"schema_version": "1.1", "type_definitions": [{"relations": {}}]}, "needs a string 'type'"),
        ({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": []}]}, "must be an object"),
        ({"schema_version": "1.1", "conditions": []}, "conditions must be an object"),
        ({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": {"r": {"foo": {}}}}]}, "exactly one"),
        ({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": {"r": {"union": {"child": []}}}}]},
         "non-empty child list"),
        ({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": {"r": {"difference": {"base": {"this": {}}}}}}]},
         "base and subtract"),
        ({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": {"r": {"computedUserset": {}}}}]},
         "needs a relation name"),
    ],
)
def test_malformed_json_shapes(payload, fragment: str) -> None:
    with pytest.raises(ModelError) as info:
        load_model(payload)
    assert fragment in str(info.value)


def test_unknown_type_in_json_model_is_a_validation_error() -> None:
    model = {
        "schema_version": "1.1",
        "type_definitions": [
            {
                "type": "doc",
                "relations": {"viewer": {"this": {}}},
                "metadata": {"relations": {"viewer": {"directly_related_user_types": [{"type": "ghost"}]}}},
            }
        ],
    }
    with pytest.raises(ModelValidationError) as info:
        validate_model(model)
    assert [i.message for i in info.value.issues] == ["`ghost` is not a valid type."]
    assert info.value.issues[0].error_type == "invalid-type"


def test_every_syntax_error_has_a_position() -> None:
    with pytest.raises(ModelSyntaxError) as info:
        parse_dsl("model\n  schema 1.1\ntype doc\n  relations\n    define viewer: [user] or\n")
    assert info.value.issues and all(i.line is not None and i.column is not None for i in info.value.issues)
    assert "line 5" in str(info.value.issues[0])


def test_validation_errors_carry_positions_into_the_dsl() -> None:
    with pytest.raises(ModelValidationError) as info:
        load_model(VALID.replace("[user]", "[usr]"))
    issue = info.value.issues[0]
    assert (issue.message, issue.line.start, issue.column.start, issue.column.end) == (
        "`usr` is not a valid type.",
        5,
        20,
        23,
    )


def test_text_that_is_neither_dsl_nor_json() -> None:
    with pytest.raises(ModelSyntaxError):
        load_model("hello world")
    with pytest.raises(ModelSyntaxError):
        load_model("")


def test_to_dsl_refuses_what_the_dsl_cannot_express() -> None:
    model = {
        "schema_version": "1.1",
        "type_definitions": [{"type": "u", "relations": {"r": {"difference": {"base": {"this": {}}, "subtract": {"this": {}}}}}}],
    }
    with pytest.raises(ModelError, match="not supported by the OpenFGA DSL"):
        to_dsl(model)
    with pytest.raises(ModelError, match="empty or unknown rewrite"):
        to_dsl({"schema_version": "1.1", "type_definitions": [{"type": "u", "relations": {"r": {}}}]})


@pytest.mark.parametrize("bad", ["", "doc 1", "a:b", "#x", "*x", "x\n", "a,b"])
def test_validate_object_id_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        validate_object_id(bad)


def test_validate_object_id_accepts() -> None:
    validate_object_id("pipe|underscore_@domain.com")


_DOC_MODEL = {
    "schema_version": "1.1",
    "type_definitions": [
        {"type": "user"},
        {
            "type": "doc",
            "relations": {"viewer": {"this": {}}},
            "metadata": {"relations": {"viewer": {"directly_related_user_types": [{"type": "user"}]}}},
        },
    ],
}


def _damaged(path: tuple, value) -> dict:
    model = json.loads(json.dumps(_DOC_MODEL))
    node = model
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return model


@pytest.mark.parametrize(
    "path,value",
    [
        (("type_definitions", 1, "metadata", "relations"), 5),
        (("type_definitions", 1, "metadata", "relations", "viewer"), "x"),
        (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types"), {}),
        (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types", 0), 5),
        (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types", 0, "type"), []),
        (("type_definitions", 1, "metadata", "relations", "viewer", "directly_related_user_types", 0, "wildcard"), 1),
        (("type_definitions", 1, "metadata", "source_info"), 5),
        (("type_definitions", 1, "metadata", "module"), 5),
    ],
    ids=["relations-int", "relation-meta-str", "restrictions-dict", "restriction-int", "restriction-type-list",
         "wildcard-int", "source-info-int", "module-int"],
)
def test_nested_values_of_the_wrong_json_type(path: tuple, value) -> None:
    with pytest.raises(ModelError):
        load_model(_damaged(path, value))
    with pytest.raises(ModelError):
        load_model(json.dumps(_damaged(path, value)))


@pytest.mark.parametrize(
    "condition",
    [
        {},
        {"name": "in_limit", "expression": "", "parameters": {"amount": {"type_name": "TYPE_NAME_DOUBLE"}}},
        {"name": "in_limit", "expression": "amount <= 1.0", "parameters": {"amount": None}},
        {"name": "in_limit", "expression": "amount <= 1.0", "parameters": {"amount": {"type_name": "TYPE_NAME_FLOAT"}}},
        {"name": "in_limit", "expression": "a", "parameters": {"a": {"type_name": "TYPE_NAME_LIST", "generic_types": [1]}}},
        "in_limit",
    ],
    ids=["empty", "no-expression", "untyped-parameter", "unknown-type", "bad-generic", "not-an-object"],
)
def test_conditions_need_an_expression_and_typed_parameters(condition) -> None:
    model = json.loads(json.dumps(_DOC_MODEL))
    model["type_definitions"][1]["metadata"]["relations"]["viewer"]["directly_related_user_types"].append(
        {"type": "user", "condition": "in_limit"}
    )
    model["conditions"] = {"in_limit": condition}
    with pytest.raises(ModelError):
        load_model(model)


def test_server_rules_accept_what_openfga_accepts_and_refuse_cycles() -> None:
    lint_only = (
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user, user]\n"
        "condition unused(x: int) {\n  x < 1\n}\n"
    )
    with pytest.raises(ModelValidationError):
        load_model(lint_only)
    assert load_model(lint_only, rules="server")["type_definitions"][1]["type"] == "doc"
    cyclic = "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define a: [user] or b\n    define b: [user] or a\n"
    load_model(cyclic)  # the language tooling lets this through...
    with pytest.raises(ModelValidationError) as info:
        load_model(cyclic, rules="server")  # ...an OpenFGA server does not
    issue = info.value.issues[0]
    assert issue.message == (
        "the definition of relation 'a' in object type 'doc' is invalid: an authorization model cannot contain a cycle"
    )
    assert (issue.line.start, issue.column.start) == (5, 11)
    with pytest.raises(ValueError):
        load_model(cyclic, rules="strict")


def test_bytes_that_are_not_utf8() -> None:
    with pytest.raises(ModelSyntaxError, match="not UTF-8"):
        load_model(b"model\n  schema 1.1\ntype \xff\n")
    assert load_model(VALID.encode())["schema_version"] == "1.1"


@pytest.mark.parametrize("expression", ["amount <=", "foo(", "amount <= limit &&", "amount <= limit)"])
def test_server_rules_refuse_a_condition_that_does_not_compile(expression: str) -> None:
    text = (
        "model\n  schema 1.1\ntype user\ntype doc\n  relations\n    define viewer: [user with in_limit]\n"
        f"condition in_limit(amount: double, limit: double) {{\n  {expression}\n}}\n"
    )
    load_model(text)  # the language tooling does not compile CEL...
    with pytest.raises(ModelValidationError) as info:
        load_model(text, rules="server")  # ...an OpenFGA server does
    issue = info.value.issues[0]
    assert issue.message.startswith("failed to compile expression on condition 'in_limit' - ")
    assert (issue.line.start, issue.column.start) == (6, 10)
    load_model(text.replace(expression, "amount <= limit"), rules="server")
    as_json = json.loads(json.dumps(load_model(text)))
    with pytest.raises(ModelValidationError):
        load_model(as_json, rules="server")
