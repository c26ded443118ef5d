"""MRTR input requests and responses between the protocol's JSON and Protobuf: every shape the protocol allows
round-trips, and every malformed one is an InputFormatError naming the field."""

from __future__ import annotations

import pytest

from mcp_grpc.wire.inputs import (
    InputFormatError, request_from_json, request_to_json, response_from_json, response_to_json,
)

FORM = {"method": "elicitation/create", "params": {"mode": "form", "message": "Tell me", "requestedSchema": {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 20, "format": "email",
                 "default": "a@b.c"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 30},
        "ratio": {"type": "number", "minimum": 0.5, "default": 1.5},
        "ok": {"type": "boolean", "default": True},
        "plain": {"type": "string", "enum": ["a", "b"], "default": "a"},
        "titled": {"type": "string", "oneOf": [{"const": "a", "title": "A"}, {"const": "b", "title": "B"}]},
        "many": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}, "minItems": 1, "maxItems": 2,
                 "default": ["x"]},
    },
    "required": ["name"],
}}}
SAMPLE = {"method": "sampling/createMessage", "params": {
    "messages": [{"role": "user", "content": {"type": "text", "text": "Hi"}},
                 {"role": "assistant", "content": {"type": "image", "data": "iVBORw==", "mimeType": "image/png"}}],
    "maxTokens": 50, "systemPrompt": "Be brief", "temperature": 0.5, "stopSequences": ["\n"],
    "includeContext": "thisServer", "modelPreferences": {"hints": [{"name": "claude"}], "costPriority": 0.25},
}}


@pytest.mark.parametrize("request_json", [
    FORM, SAMPLE, {"method": "roots/list", "params": {}},
    {"method": "elicitation/create", "params": {"mode": "url", "message": "Sign in", "url": "https://x.example/a",
                                                "elicitationId": "e1"}},
])
def test_requests_round_trip(request_json):
    assert request_to_json(request_from_json(request_json)) == request_json


def test_the_legacy_enum_names_form_reads_as_titled_one_of():
    legacy = {"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"type": "object",
              "properties": {"e": {"type": "string", "enum": ["a"], "enumNames": ["A"]}}}}}
    out = request_to_json(request_from_json(legacy))
    assert out["params"]["requestedSchema"]["properties"]["e"] == {"type": "string", "oneOf": [{"const": "a",
                                                                                              "title": "A"}]}


@pytest.mark.parametrize("response", [
    {"action": "accept", "content": {"name": "Alice", "n": 3}}, {"action": "decline"}, {"action": "cancel"},
    {"role": "assistant", "content": {"type": "text", "text": "Paris"}, "model": "m", "stopReason": "endTurn"},
    {"roots": [{"uri": "file:///a", "name": "a"}, {"uri": "file:///b"}]},
])
def test_responses_round_trip(response):
    assert response_to_json(response_from_json(response)) == response


@pytest.mark.parametrize("request_json, where", [
    ("nope", "inputRequest: expected an object"),
    ({"method": "tools/call"}, "inputRequest.method: 'tools/call' is not one of"),
    ({"method": "elicitation/create", "params": {}}, "inputRequest.params.message: expected a string"),
    ({"method": "elicitation/create", "params": {"message": "m", "mode": "popup"}}, "mode: 'popup' is not"),
    ({"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"type": "array"}}},
     "requestedSchema.type: must be 'object'"),
    ({"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"properties": {
        "x": {"type": "object"}}}}}, "properties.x.type: 'object' is not a primitive elicitation type"),
    ({"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"properties": {
        "x": {"type": "string", "format": "phone"}}}}}, "properties.x.format: 'phone' is not one of"),
    ({"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"properties": {
        "x": {"type": "string"}}, "required": ["y"]}}}, "required: 'y' is not a property"),
    ({"method": "elicitation/create", "params": {"message": "m", "requestedSchema": {"properties": {
        "x": {"type": "string", "enum": ["a", "b"], "enumNames": ["A"]}}}}}, "enumNames: 1 names for 2 values"),
    ({"method": "sampling/createMessage", "params": {"messages": [], "maxTokens": 5}}, "messages: expected a non-empty"),
    ({"method": "sampling/createMessage", "params": {"messages": [{"role": "user", "content": {"type": "text",
      "text": "x"}}], "maxTokens": 0}}, "maxTokens: expected an integer >= 1"),
    ({"method": "sampling/createMessage", "params": {"messages": [{"role": "system", "content": {}}], "maxTokens": 5}},
     "messages[0].role: 'system' is not"),
    ({"method": "sampling/createMessage", "params": {"messages": [{"role": "user", "content": {
        "type": "image", "data": "***", "mimeType": "image/png"}}], "maxTokens": 5}}, "content.data: not base64"),
    ({"method": "sampling/createMessage", "params": {"messages": [{"role": "user", "content": {
        "type": "text", "text": "x"}}], "maxTokens": 5, "temperature": float("nan")}}, "temperature: expected a finite"),
])
def test_malformed_requests_name_the_field(request_json, where):
    with pytest.raises(InputFormatError) as raised:
        request_from_json(request_json)
    assert where in str(raised.value)


@pytest.mark.parametrize("response, where", [
    (12345, "inputResponse: expected an object, got int"),
    (None, "inputResponse: expected an object, got NoneType"),
    ({}, "not an ElicitResult (action), a CreateMessageResult"),
    ({"action": "maybe"}, "action: 'maybe' is not"),
    ({"action": "accept", "content": [1]}, "content: expected an object"),
    ({"roots": "file:///"}, "roots: expected an array"),
    ({"roots": [{"name": "no uri"}]}, "roots[0].uri: expected a string"),
    ({"role": "assistant", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
     "exactly one content block"),
])
def test_malformed_responses_name_the_field(response, where):
    with pytest.raises(InputFormatError) as raised:
        response_from_json(response)
    assert where in str(raised.value)
