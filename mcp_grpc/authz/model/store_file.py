"""Shape validation of OpenFGA CLI store test files (`*.fga.yaml`, the `fga model test` format).

Errors follow the records OpenFGA's language tooling produces for these files (JSON-schema style:
`keyword`, `instancePath`, `schemaPath`, `message`, `params`), so tools can show the same messages.
Only the file's shape is checked here; the model inside is checked by `load_model`, the tuples by the engine.
"""

from __future__ import annotations

from typing import Any, Callable

from mcp_grpc.authz import names

__all__ = ["validate_store_file", "StoreFileError"]

# The string formats, by OpenFGA's grammar: tuples, objects and users as OpenFGA's API takes them, and a
# ListObjects type as the model language names types.
_FORMATS: dict[str, Callable[[str], bool]] = {
    "type": names.matches_type_rule,
    "relation": names.is_wire_relation,
    "condition": names.is_condition_name,
    "object": lambda value: names.split_object(value) is not None,
    "user": lambda value: names.split_user(value) is not None,
}


class StoreFileError(ValueError):
    """A store file failed shape validation; `.errors` holds every error record."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['instancePath'] or '/'}: {e['message']}" for e in errors[:5]))


def _string(fmt: str | None = None) -> dict:
    return {"type": "string", **({"format": fmt} if fmt else {})}


_CONDITION = {
    "type": "object",
    "required": ["name"],
    "additionalProperties": False,
    "properties": {"name": _string("condition"), "context": {"type": "object"}},
}
_TUPLE = {
    "type": "object",
    "required": ["user", "relation", "object"],
    "additionalProperties": False,
    "properties": {
        "user": _string("user"),
        "relation": _string("relation"),
        "object": _string("object"),
        "condition": _CONDITION,
    },
}
_CHECK = {
    "type": "object",
    "required": ["user", "object", "assertions"],
    "additionalProperties": False,
    "properties": {
        "user": _string("user"),
        "object": _string("object"),
        "assertions": {"type": "object", "values": {"type": "boolean"}},
        "context": {"type": "object"},
    },
}
_LIST_OBJECTS = {
    "type": "object",
    "required": ["user", "type", "assertions"],
    "additionalProperties": False,
    "properties": {
        "user": _string("user"),
        "relation": _string("relation"),
        "type": _string("type"),
        "assertions": {"type": "object", "values": {"type": "array", "items": _string()}},
        "context": {"type": "object"},
    },
}
_LIST_USERS = {
    "type": "object",
    "required": ["object", "user_filter", "assertions"],
    "additionalProperties": False,
    "properties": {
        "object": _string("object"),
        "user_filter": {
            "type": "array",
            "items": {"type": "object", "required": ["type"], "properties": {"type": _string(), "relation": _string()}},
        },
        "context": {"type": "object"},
        "assertions": {
            "type": "object",
            "values": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"users": {"type": "array", "items": _string("user")}},
            },
        },
    },
}
_TEST = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": _string(),
        "description": _string(),
        "tuple_file": _string(),
        "tuple_files": {"type": "array", "items": _string()},
        "tuples": {"type": "array", "items": _TUPLE},
        "check": {"type": "array", "items": _CHECK},
        "list_objects": {"type": "array", "items": _LIST_OBJECTS},
        "list_users": {"type": "array", "items": _LIST_USERS},
    },
}
_STORE = {
    "type": "object",
    "required": ["tests"],
    "additionalProperties": False,
    "valid_store": True,
    "properties": {
        "name": _string(),
        "model_file": _string(),
        "model": _string(),
        "tuple_file": _string(),
        "tuple_files": {"type": "array", "items": _string()},
        "tuples": {"type": "array", "items": _TUPLE},
        "tests": {"type": "array", "items": _TEST},
    },
}

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
}


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _validate(value: Any, schema: dict, path: list, schema_path: str, out: list[dict]) -> None:
    def error(keyword: str, message: str, params: dict | None = None, where: str | None = None) -> None:
        out.append(
            {
                "instancePath": _pointer(path),
                "schemaPath": f"{schema_path}/{where or keyword}",
                "keyword": keyword,
                "params": params or {},
                "message": message,
            }
        )

    expected = schema.get("type")
    if expected and not _TYPES[expected](value):
        error("type", f"must be {expected}", {"type": expected})
        return
    if expected == "object":
        for key in schema.get("required", []):
            if key not in value:
                error("required", f"must have required property '{key}'", {"missingProperty": key})
        props = schema.get("properties", {})
        if schema.get("additionalProperties") is False:
            for key in value:
                if key not in props:
                    error(
                        "additionalProperties",
                        "must NOT have additional properties",
                        {"additionalProperty": key},
                    )
        if schema.get("valid_store") and "model" not in value and "model_file" not in value:
            # The reference's message, spelling included.
            error("valid_store", "'model' or 'model_file' must be presenet keys.")
        for key, sub in props.items():
            if key in value:
                _validate(value[key], sub, [*path, key], f"{schema_path}/properties/{key}", out)
        if "values" in schema:
            for key, item in value.items():
                _validate(item, schema["values"], [*path, key], f"{schema_path}/patternProperties/.*", out)
    elif expected == "array" and "items" in schema:
        for i, item in enumerate(value):
            _validate(item, schema["items"], [*path, i], f"{schema_path}/items", out)
    elif expected == "string" and "format" in schema:
        fmt = schema["format"]
        if not _FORMATS[fmt](value):
            error("format", f'must match format "{fmt}"', {"format": fmt})


def validate_store_file(data: Any) -> None:
    """Raise StoreFileError listing every shape error of a parsed store file (a dict from YAML)."""
    errors: list[dict[str, Any]] = []
    _validate(data, _STORE, [], "#", errors)
    if errors:
        raise StoreFileError(errors)
