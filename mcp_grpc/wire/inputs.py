"""Input requests and responses of multi round-trip requests (MRTR, MCP 2026-07-28) between Protobuf and MCP JSON.

An ``InputRequiredResult`` asks the client for input before the call can complete: its ``inputRequests`` map holds
server-to-client requests in their JSON-RPC form (``{"method": "elicitation/create", "params": {...}}``,
``sampling/createMessage``, ``roots/list``), and the retry's ``inputResponses`` map holds the results (an
``ElicitResult``, a ``CreateMessageResult``, a ``ListRootsResult``) under the same keys. Over gRPC they are
``InputRequest`` and ``InputResponse`` messages; this module converts both ways.

The JSON side is the protocol's own shapes, so the bridge passes JSON-RPC maps straight through and the shared types
(``mcp_grpc.contract.inputs``) need no Protobuf. Every function raises ``InputFormatError`` naming the offending
field for a shape the protocol does not allow (or the Protobuf messages cannot carry).
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Mapping

from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire.structs import python_to_struct, struct_to_python

__all__ = [
    "ELICIT",
    "LIST_ROOTS",
    "SAMPLE",
    "InputFormatError",
    "request_from_json",
    "request_kind",
    "request_to_json",
    "response_from_json",
    "response_kind",
    "response_to_json",
]

ELICIT = "elicitation/create"
SAMPLE = "sampling/createMessage"
LIST_ROOTS = "roots/list"

_FORMATS = {
    "email": pb.PrimitiveSchemaDefinition.StringSchema.FORMAT_EMAIL,
    "uri": pb.PrimitiveSchemaDefinition.StringSchema.FORMAT_URI,
    "date": pb.PrimitiveSchemaDefinition.StringSchema.FORMAT_DATE,
    "date-time": pb.PrimitiveSchemaDefinition.StringSchema.FORMAT_DATE_TIME,
}
_FORMAT_NAMES = {value: name for name, value in _FORMATS.items()}
_ACTIONS = {
    "accept": pb.ElicitResult.TYPE_ACCEPT,
    "decline": pb.ElicitResult.TYPE_DECLINE,
    "cancel": pb.ElicitResult.TYPE_CANCEL,
}
_ACTION_NAMES = {value: name for name, value in _ACTIONS.items()}
_ROLES = {"user": pb.ROLE_USER, "assistant": pb.ROLE_ASSISTANT}
_ROLE_NAMES = {value: name for name, value in _ROLES.items()}
_INCLUDE = {
    "none": pb.SamplingCreateMessageRequest.NONE,
    "thisServer": pb.SamplingCreateMessageRequest.THIS_SERVER,
    "allServers": pb.SamplingCreateMessageRequest.ALL_SERVERS,
}
_INCLUDE_NAMES = {value: name for name, value in _INCLUDE.items()}
_STRING_LIMIT = 1 << 20
_PRIORITIES = (("costPriority", "cost_priority"), ("speedPriority", "speed_priority"),
               ("intelligencePriority", "intelligence_priority"))


class InputFormatError(ValueError):
    """An input request or response the protocol does not allow; the message names the field."""


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _string(value: Any, where: str, *, required: bool = False) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InputFormatError(f"{where}: expected a string, got {type(value).__name__}")
    if len(value) > _STRING_LIMIT:
        raise InputFormatError(f"{where}: {len(value)} characters, over the limit of {_STRING_LIMIT}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InputFormatError(f"{where}: expected a finite number")
    return float(value)


def _integer(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputFormatError(f"{where}: expected an integer >= {minimum}")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, (list, tuple)):
        raise InputFormatError(f"{where}: expected an array of strings")
    return [_string(item, f"{where}[{index}]", required=True) for index, item in enumerate(value)]


# -- requests ---------------------------------------------------------------------------------------------------------


def request_kind(request: pb.InputRequest) -> str:
    """The JSON-RPC method an ``InputRequest`` stands for; ``InputFormatError`` when none is set."""
    if request.HasField("elicit_request"):
        return ELICIT
    if request.HasField("sampling_create_message"):
        return SAMPLE
    if request.HasField("list_roots_request"):
        return LIST_ROOTS
    raise InputFormatError("input request: none of elicit_request, sampling_create_message, list_roots_request is set")


def request_from_json(request: Any, where: str = "inputRequest", into: pb.InputRequest | None = None) -> pb.InputRequest:
    """``{"method": ..., "params": {...}}`` as an ``InputRequest``."""
    request = _object(request, where)
    message = into if into is not None else pb.InputRequest()
    method = request.get("method")
    params = _object(request.get("params") or {}, f"{where}.params")
    if method == ELICIT:
        _elicit_from_json(params, f"{where}.params", message.elicit_request)
    elif method == SAMPLE:
        _sampling_from_json(params, f"{where}.params", message.sampling_create_message)
    elif method == LIST_ROOTS:
        message.list_roots_request.SetInParent()
    else:
        raise InputFormatError(
            f"{where}.method: {str(method)[:64]!r} is not one of {ELICIT!r}, {SAMPLE!r}, {LIST_ROOTS!r}"
        )
    return message


def request_to_json(request: pb.InputRequest) -> dict[str, Any]:
    """An ``InputRequest`` as ``{"method": ..., "params": {...}}``."""
    kind = request_kind(request)
    if kind == ELICIT:
        return {"method": ELICIT, "params": _elicit_to_json(request.elicit_request)}
    if kind == SAMPLE:
        return {"method": SAMPLE, "params": _sampling_to_json(request.sampling_create_message)}
    return {"method": LIST_ROOTS, "params": {}}


def _elicit_from_json(params: Mapping[str, Any], where: str, into: pb.ElicitRequest) -> None:
    into.message = _string(params.get("message"), f"{where}.message", required=True)
    mode = params.get("mode", "form")
    if mode == "url":
        into.url_mode.url = _string(params.get("url"), f"{where}.url", required=True)
        into.url_mode.id = _string(params.get("elicitationId"), f"{where}.elicitationId", required=True)
        return
    if mode != "form":
        raise InputFormatError(f"{where}.mode: {str(mode)[:32]!r} is not 'form' or 'url'")
    schema = _object(params.get("requestedSchema") or {"type": "object", "properties": {}}, f"{where}.requestedSchema")
    if schema.get("type", "object") != "object":
        raise InputFormatError(f"{where}.requestedSchema.type: must be 'object'")
    properties = _object(schema.get("properties") or {}, f"{where}.requestedSchema.properties")
    for name, prop in properties.items():
        _property_from_json(_object(prop, f"{where}.requestedSchema.properties.{name}"),
                            f"{where}.requestedSchema.properties.{name}", into.requested_schema[name])
    required = _strings(schema.get("required") or [], f"{where}.requestedSchema.required")
    for name in required:
        if name not in properties:
            raise InputFormatError(f"{where}.requestedSchema.required: {name!r} is not a property")
    into.required_fields.extend(required)


def _property_from_json(prop: Mapping[str, Any], where: str, into: pb.PrimitiveSchemaDefinition) -> None:
    kind = prop.get("type")
    title = _string(prop.get("title"), f"{where}.title")
    description = _string(prop.get("description"), f"{where}.description")
    if kind == "string" and ("enum" in prop or "oneOf" in prop):
        enum = into.enum_schema
        enum.title, enum.description = title, description
        values, names = _choices(prop, where)
        enum.enum_list.extend(values)
        enum.enum_names.extend(names)
        enum.single_select.SetInParent()
        if "default" in prop:
            enum.single_select.default_item = _string(prop["default"], f"{where}.default", required=True)
    elif kind == "array":
        items = _object(prop.get("items") or {}, f"{where}.items")
        enum = into.enum_schema
        enum.title, enum.description = title, description
        values, names = _choices(items, f"{where}.items")
        enum.enum_list.extend(values)
        enum.enum_names.extend(names)
        multi = enum.multi_select
        multi.SetInParent()
        if "default" in prop:
            multi.default_items.extend(_strings(prop["default"], f"{where}.default"))
        if "minItems" in prop:
            multi.min_items = _integer(prop["minItems"], f"{where}.minItems")
        if "maxItems" in prop:
            multi.max_items = _integer(prop["maxItems"], f"{where}.maxItems")
    elif kind == "string":
        string = into.string_schema
        string.title, string.description = title, description
        if "minLength" in prop:
            string.min_length = _integer(prop["minLength"], f"{where}.minLength")
        if "maxLength" in prop:
            string.max_length = _integer(prop["maxLength"], f"{where}.maxLength")
        if "format" in prop:
            fmt = prop["format"]
            if fmt not in _FORMATS:
                raise InputFormatError(f"{where}.format: {str(fmt)[:32]!r} is not one of {', '.join(_FORMATS)}")
            string.format = _FORMATS[fmt]
        if "default" in prop:
            string.default_value = _string(prop["default"], f"{where}.default", required=True)
    elif kind in ("number", "integer"):
        number = into.number_schema
        number.title, number.description = title, description
        if kind == "integer":
            bounds: Any = number.integer_range
            bounds.SetInParent()
            for field in ("minimum", "maximum"):
                if field in prop:
                    setattr(bounds, field, _integer(prop[field], f"{where}.{field}", minimum=-(1 << 63)))
            if "default" in prop:
                number.default_integer = _integer(prop["default"], f"{where}.default", minimum=-(1 << 63))
        else:
            bounds = number.double_range
            bounds.SetInParent()
            for field in ("minimum", "maximum"):
                if field in prop:
                    setattr(bounds, field, _number(prop[field], f"{where}.{field}"))
            if "default" in prop:
                number.default_number = _number(prop["default"], f"{where}.default")
    elif kind == "boolean":
        boolean = into.boolean_schema
        boolean.title, boolean.description = title, description
        if "default" in prop:
            if not isinstance(prop["default"], bool):
                raise InputFormatError(f"{where}.default: expected a boolean")
            boolean.default = prop["default"]
    else:
        raise InputFormatError(
            f"{where}.type: {str(kind)[:32]!r} is not a primitive elicitation type "
            "(string, number, integer, boolean, or an enum of strings)"
        )


def _choices(prop: Mapping[str, Any], where: str) -> tuple[list[str], list[str]]:
    """The values and display names of an enum: ``enum`` (+ ``enumNames``), or ``oneOf``/``anyOf`` of consts."""
    if "enum" in prop:
        values = _strings(prop["enum"], f"{where}.enum")
        names = _strings(prop.get("enumNames") or [], f"{where}.enumNames")
        if names and len(names) != len(values):
            raise InputFormatError(f"{where}.enumNames: {len(names)} names for {len(values)} values")
        return values, names
    options = prop.get("oneOf", prop.get("anyOf"))
    if not isinstance(options, (list, tuple)) or not options:
        raise InputFormatError(f"{where}: an enum needs 'enum', 'oneOf' or 'anyOf'")
    values, names = [], []
    for index, option in enumerate(options):
        option = _object(option, f"{where}.oneOf[{index}]")
        values.append(_string(option.get("const"), f"{where}.oneOf[{index}].const", required=True))
        names.append(_string(option.get("title", option.get("const")), f"{where}.oneOf[{index}].title"))
    return values, names


def _elicit_to_json(request: pb.ElicitRequest) -> dict[str, Any]:
    if request.HasField("url_mode"):
        return {"mode": "url", "message": request.message, "url": request.url_mode.url,
                "elicitationId": request.url_mode.id}
    properties = {name: _property_to_json(prop) for name, prop in request.requested_schema.items()}
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if request.required_fields:
        schema["required"] = list(request.required_fields)
    return {"mode": "form", "message": request.message, "requestedSchema": schema}


def _titled(out: dict[str, Any], message: Any) -> dict[str, Any]:
    if message.title:
        out["title"] = message.title
    if message.description:
        out["description"] = message.description
    return out


def _property_to_json(prop: pb.PrimitiveSchemaDefinition) -> dict[str, Any]:
    which = _set_field(prop)
    if which == "string_schema":
        s = prop.string_schema
        out = _titled({"type": "string"}, s)
        if s.HasField("min_length"):
            out["minLength"] = s.min_length
        if s.HasField("max_length"):
            out["maxLength"] = s.max_length
        if s.format:
            out["format"] = _FORMAT_NAMES[s.format]
        if s.HasField("default_value"):
            out["default"] = s.default_value
        return out
    if which == "number_schema":
        n = prop.number_schema
        integer = n.HasField("integer_range") or n.HasField("default_integer")
        out = _titled({"type": "integer" if integer else "number"}, n)
        bounds = n.integer_range if integer else n.double_range
        for field in ("minimum", "maximum"):
            if bounds.HasField(field):
                out[field] = getattr(bounds, field)
        if integer and n.HasField("default_integer"):
            out["default"] = n.default_integer
        elif not integer and n.HasField("default_number"):
            out["default"] = n.default_number
        return out
    if which == "boolean_schema":
        b = prop.boolean_schema
        out = _titled({"type": "boolean"}, b)
        if b.default:
            out["default"] = True
        return out
    if which == "enum_schema":
        e = prop.enum_schema
        values = list(e.enum_list)
        if e.HasField("multi_select"):
            items: dict[str, Any] = {"type": "string", "enum": values}
            if e.enum_names:
                items = {"anyOf": [{"const": v, "title": t} for v, t in zip(values, e.enum_names)]}
            out = _titled({"type": "array", "items": items}, e)
            m = e.multi_select
            if m.default_items:
                out["default"] = list(m.default_items)
            if m.HasField("min_items"):
                out["minItems"] = m.min_items
            if m.HasField("max_items"):
                out["maxItems"] = m.max_items
            return out
        if e.enum_names:  # titled: SEP-1330's oneOf of consts (the legacy enumNames form reads back as this)
            out = _titled({"type": "string", "oneOf": [{"const": v, "title": t} for v, t in zip(values, e.enum_names)]}, e)
        else:
            out = _titled({"type": "string", "enum": values}, e)
        if e.single_select.HasField("default_item"):
            out["default"] = e.single_select.default_item
        return out
    raise InputFormatError("elicitation property: none of string, number, boolean, enum schema is set")


def _set_field(prop: pb.PrimitiveSchemaDefinition) -> str | None:
    for field in ("string_schema", "number_schema", "boolean_schema", "enum_schema"):
        if prop.HasField(field):
            return field
    return None


def _sampling_from_json(params: Mapping[str, Any], where: str, into: pb.SamplingCreateMessageRequest) -> None:
    messages = params.get("messages")
    if not isinstance(messages, (list, tuple)) or not messages:
        raise InputFormatError(f"{where}.messages: expected a non-empty array")
    for index, message in enumerate(messages):
        _sampling_message_from_json(_object(message, f"{where}.messages[{index}]"), f"{where}.messages[{index}]",
                                    into.messages.add())
    into.max_tokens = _integer(params.get("maxTokens"), f"{where}.maxTokens", minimum=1)
    if params.get("systemPrompt") is not None:
        into.system_prompt = _string(params["systemPrompt"], f"{where}.systemPrompt")
    if params.get("temperature") is not None:
        into.temperature = _number(params["temperature"], f"{where}.temperature")
    if params.get("stopSequences") is not None:
        into.stop_sequence.extend(_strings(params["stopSequences"], f"{where}.stopSequences"))
    if params.get("includeContext") is not None:
        include = params["includeContext"]
        if include not in _INCLUDE:
            raise InputFormatError(f"{where}.includeContext: {str(include)[:32]!r} is not one of {', '.join(_INCLUDE)}")
        into.include_context = _INCLUDE[include]
    preferences = params.get("modelPreferences")
    if preferences is not None:
        preferences = _object(preferences, f"{where}.modelPreferences")
        target = into.model_preferences
        for index, hint in enumerate(preferences.get("hints") or []):
            hint = _object(hint, f"{where}.modelPreferences.hints[{index}]")
            target.hints.add(name=_string(hint.get("name"), f"{where}.modelPreferences.hints[{index}].name"))
        for field, proto in _PRIORITIES:
            if preferences.get(field) is not None:
                setattr(target, proto, _number(preferences[field], f"{where}.modelPreferences.{field}"))


def _sampling_message_from_json(message: Mapping[str, Any], where: str, into: pb.SamplingMessage) -> None:
    role = message.get("role")
    if role not in _ROLES:
        raise InputFormatError(f"{where}.role: {str(role)[:32]!r} is not 'user' or 'assistant'")
    into.role = _ROLES[role]
    content = message.get("content")
    if isinstance(content, (list, tuple)):
        if len(content) != 1:
            raise InputFormatError(f"{where}.content: gRPC carries exactly one content block per sampling message")
        content = content[0]
    content = _object(content, f"{where}.content")
    kind = content.get("type")
    if kind == "text":
        into.text.text = _string(content.get("text"), f"{where}.content.text", required=True)
    elif kind in ("image", "audio"):
        block = into.image if kind == "image" else into.audio
        data = _string(content.get("data"), f"{where}.content.data", required=True)
        try:
            block.data = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise InputFormatError(f"{where}.content.data: not base64") from None
        block.mime_type = _string(content.get("mimeType"), f"{where}.content.mimeType", required=True)
    else:
        raise InputFormatError(f"{where}.content.type: {str(kind)[:32]!r} is not 'text', 'image' or 'audio'")


def _sampling_message_to_json(message: pb.SamplingMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": _ROLE_NAMES.get(message.role, "user")}
    if message.HasField("image"):
        out["content"] = {"type": "image", "data": base64.b64encode(message.image.data).decode("ascii"),
                          "mimeType": message.image.mime_type}
    elif message.HasField("audio"):
        out["content"] = {"type": "audio", "data": base64.b64encode(message.audio.data).decode("ascii"),
                          "mimeType": message.audio.mime_type}
    else:
        out["content"] = {"type": "text", "text": message.text.text}
    return out


def _sampling_to_json(request: pb.SamplingCreateMessageRequest) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messages": [_sampling_message_to_json(m) for m in request.messages],
        "maxTokens": request.max_tokens,
    }
    if request.system_prompt:
        out["systemPrompt"] = request.system_prompt
    if request.HasField("temperature"):
        out["temperature"] = request.temperature
    if request.stop_sequence:
        out["stopSequences"] = list(request.stop_sequence)
    if request.include_context:
        out["includeContext"] = _INCLUDE_NAMES[request.include_context]
    if request.HasField("model_preferences"):
        prefs = request.model_preferences
        preferences: dict[str, Any] = {}
        if prefs.hints:
            preferences["hints"] = [{"name": hint.name} for hint in prefs.hints]
        for field, proto in _PRIORITIES:
            if prefs.HasField(proto):
                preferences[field] = getattr(prefs, proto)
        out["modelPreferences"] = preferences
    return out


# -- responses --------------------------------------------------------------------------------------------------------


def response_kind(response: pb.InputResponse) -> str | None:
    """The method whose result an ``InputResponse`` is, or None when nothing is set."""
    if response.HasField("elicit_result"):
        return ELICIT
    if response.HasField("sampling_create_message_result"):
        return SAMPLE
    if response.HasField("root_list_result"):
        return LIST_ROOTS
    return None


def response_from_json(
    response: Any, where: str = "inputResponse", into: pb.InputResponse | None = None
) -> pb.InputResponse:
    """An ``ElicitResult``, ``CreateMessageResult`` or ``ListRootsResult`` (told apart by their fields)."""
    response = _object(response, where)
    message = into if into is not None else pb.InputResponse()
    if "action" in response:
        action = response["action"]
        if action not in _ACTIONS:
            raise InputFormatError(f"{where}.action: {str(action)[:32]!r} is not 'accept', 'decline' or 'cancel'")
        message.elicit_result.type = _ACTIONS[action]
        content = response.get("content")
        if content is not None:
            python_to_struct(_object(content, f"{where}.content"), message.elicit_result.content)
    elif "roots" in response:
        roots = response["roots"]
        if not isinstance(roots, (list, tuple)):
            raise InputFormatError(f"{where}.roots: expected an array")
        result = message.root_list_result
        result.SetInParent()
        for index, root in enumerate(roots):
            root = _object(root, f"{where}.roots[{index}]")
            result.roots.add(uri=_string(root.get("uri"), f"{where}.roots[{index}].uri", required=True),
                             name=_string(root.get("name"), f"{where}.roots[{index}].name"))
    elif "content" in response and "role" in response:
        result = message.sampling_create_message_result
        _sampling_message_from_json(response, where, result.message)
        result.model = _string(response.get("model"), f"{where}.model")
        result.stop_reason = _string(response.get("stopReason"), f"{where}.stopReason")
    else:
        raise InputFormatError(
            f"{where}: not an ElicitResult (action), a CreateMessageResult (role, content) or a ListRootsResult (roots)"
        )
    return message


def response_to_json(response: pb.InputResponse) -> dict[str, Any]:
    """An ``InputResponse`` as the protocol's result object; ``InputFormatError`` when nothing is set."""
    kind = response_kind(response)
    if kind == ELICIT:
        result = response.elicit_result
        action = _ACTION_NAMES.get(result.type)
        if action is None:
            raise InputFormatError("input response: elicit_result.type is not accept, decline or cancel")
        out: dict[str, Any] = {"action": action}
        if result.HasField("content"):
            out["content"] = struct_to_python(result.content)
        return out
    if kind == SAMPLE:
        result = response.sampling_create_message_result
        out = _sampling_message_to_json(result.message)
        if result.model:
            out["model"] = result.model
        if result.stop_reason:
            out["stopReason"] = result.stop_reason
        return out
    if kind == LIST_ROOTS:
        return {"roots": [{"uri": root.uri, **({"name": root.name} if root.name else {})}
                          for root in response.root_list_result.roots]}
    raise InputFormatError("input response: none of elicit_result, sampling_create_message_result, "
                           "root_list_result is set")
