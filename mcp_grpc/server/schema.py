"""JSON Schemas and argument validation derived from a handler's type hints (pydantic).

``Signature.of(fn)`` reads the parameters once at registration: each parameter becomes a field of a generated
pydantic model (``Annotated[..., Field(description=...)]``, ``Literal``, ``Optional`` and nested models work as in
pydantic), the parameter annotated with ``Context`` is left out and injected instead. The return annotation becomes
the output schema: an object type (model, TypedDict, dataclass, ``dict``) is used as is; any other type is wrapped
as ``{"result": ...}`` as MCP requires structured content to be an object; ``str`` and no annotation give text only.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import typing
from typing import Any, Callable, Mapping

import pydantic
import typing_extensions

from mcp_grpc.contract.bounds import MAX_ITEMS, MAX_MESSAGE, clip
from mcp_grpc.server.content import is_content_annotation

_EMPTY = inspect.Parameter.empty


class ArgumentError(Exception):
    """Arguments failed validation. ``message`` names each offending field; ``fields`` lists them.

    Both are bounded (``mcp_grpc.contract.bounds``): the names are the caller's, and the message is sent back."""

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        message = clip(message, MAX_MESSAGE)
        super().__init__(message)
        self.message = message
        self.fields = tuple(clip(field) for field in fields[:MAX_ITEMS])


_MAX_PROBLEMS = 10
"""Problems one message names; the rest are counted."""


def describe_validation_error(exc: pydantic.ValidationError) -> ArgumentError:
    parts: list[str] = []
    fields: list[str] = []
    errors = exc.errors(include_url=False)
    for error in errors[:_MAX_PROBLEMS]:
        location = clip(".".join(str(item) for item in error["loc"])) or "(arguments)"
        fields.append(location)
        if error["type"] == "missing":
            parts.append(f"{location}: required argument is missing")
        elif error["type"] == "extra_forbidden":
            parts.append(f"{location}: unexpected argument")
        elif error["type"] == "int_type" and isinstance(error.get("input"), float):
            # strict mode's message says less than lax mode's did for the same mistake
            parts.append(f"{location}: Input should be a valid integer, got a number with a fractional part")
        else:
            parts.append(f"{location}: {error['msg']}")
    if len(errors) > _MAX_PROBLEMS:
        parts.append(f"and {len(errors) - _MAX_PROBLEMS} more problems")
    return ArgumentError("invalid arguments: " + "; ".join(parts), tuple(fields))


def _is_context(annotation: Any, context_type: type) -> bool:
    if annotation is context_type:
        return True
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _is_context(typing.get_args(annotation)[0], context_type)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_is_context(arg, context_type) for arg in typing.get_args(annotation))
    return False


def _is_object_type(annotation: Any) -> bool:
    target = annotation
    if typing.get_origin(target) is typing.Annotated:
        target = typing.get_args(target)[0]
    if inspect.isclass(target) and (
        issubclass(target, pydantic.BaseModel) or dataclasses.is_dataclass(target) or typing_extensions.is_typeddict(target)
    ):
        return True
    return target is dict or typing.get_origin(target) is dict


@dataclasses.dataclass(frozen=True, slots=True)
class OutputShape:
    """How a handler's return value becomes structured content."""

    schema: dict[str, Any] | None  # None: text content only
    adapter: pydantic.TypeAdapter | None
    wrap: bool  # True: structured content is {"result": value}

    def structured(self, value: Any) -> dict[str, Any] | None:
        if self.adapter is None:
            return None
        data = self.adapter.dump_python(value, mode="json")
        if self.wrap:
            return {"result": data}
        return data if isinstance(data, dict) else None


def _output_shape(annotation: Any) -> OutputShape:
    if annotation is _EMPTY or annotation is None or annotation is type(None) or annotation is str or annotation is Any:
        return OutputShape(None, None, False)
    if is_content_annotation(annotation):  # images, audio, resources, bytes: content blocks, not data
        return OutputShape(None, None, False)
    adapter = pydantic.TypeAdapter(annotation)
    schema = adapter.json_schema(mode="serialization")
    if _is_object_type(annotation):
        return OutputShape(schema, adapter, False)
    wrapped = {"type": "object", "properties": {"result": schema}, "required": ["result"]}
    defs = schema.pop("$defs", None)
    if defs:
        wrapped["$defs"] = defs
    return OutputShape(wrapped, adapter, True)


@dataclasses.dataclass(frozen=True, slots=True)
class Signature:
    """What registration learned from a handler: its argument model, schemas and where to inject the Context."""

    model: type[pydantic.BaseModel]
    input_schema: dict[str, Any]
    output: OutputShape
    context_parameter: str | None
    parameter_names: tuple[str, ...]
    is_async: bool
    strict: bool = False
    """Validate as the published JSON Schema says (see ``validate``); False keeps pydantic's lax conversions, which
    string-valued inputs need (URI template variables, prompt arguments)."""

    @classmethod
    def of(
        cls, fn: Callable[..., Any], *, context_type: type, model_name: str, strict: bool = False
    ) -> "Signature":
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except NameError as exc:
            raise TypeError(
                f"{fn.__qualname__}: cannot resolve the type hint {exc.name!r}; define the types it uses at module "
                "level (string annotations are resolved in the function's module)"
            ) from None
        signature = inspect.signature(fn)
        fields: dict[str, Any] = {}
        context_parameter = None
        for name, parameter in signature.parameters.items():
            if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise TypeError(f"{fn.__qualname__}: *args and **kwargs cannot be described as tool arguments")
            if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise TypeError(f"{fn.__qualname__}: positional-only parameter {name!r} cannot be a tool argument")
            annotation = hints.get(name, Any)
            if _is_context(annotation, context_type):
                context_parameter = name
                continue
            default = ... if parameter.default is _EMPTY else parameter.default
            fields[name] = (annotation, default)
        model = pydantic.create_model(  # type: ignore[call-overload]
            model_name, __config__=pydantic.ConfigDict(extra="forbid"), **fields
        )
        input_schema = model.model_json_schema()
        input_schema.pop("title", None)
        input_schema.setdefault("properties", {})
        input_schema["type"] = "object"
        return cls(
            model=model,
            input_schema=input_schema,
            output=_output_shape(hints.get("return", _EMPTY)),
            context_parameter=context_parameter,
            parameter_names=tuple(fields),
            is_async=inspect.iscoroutinefunction(fn),
            strict=strict,
        )

    def validate(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Validated keyword arguments for the handler, or ArgumentError naming the fields.

        Strict signatures accept what the input schema describes and nothing else: pydantic's strict JSON mode (no
        boolean or numeric string for an integer, no boolean for a number; strings for date-times, enums by value,
        arrays for tuples as JSON allows), after exactly integral numbers are made integers (a
        ``google.protobuf.Struct`` carries every number as a double: ``3.0`` is accepted as the integer 3, ``3.5``
        is not)."""
        try:
            if not self.strict:
                instance = self.model.model_validate(arguments)
            else:
                try:
                    # Fast path, as cheap as lax mode: on JSON-shaped input, whatever pydantic's strict Python mode
                    # accepts, its strict JSON mode accepts with the same result.
                    instance = self.model.model_validate(arguments, strict=True)
                except pydantic.ValidationError:
                    # Decide in JSON mode, which also takes strings for date-times and enums, arrays for tuples.
                    try:
                        document = json.dumps(_integral_numbers(arguments), allow_nan=False)
                    except (TypeError, ValueError) as exc:
                        raise ArgumentError(
                            f"invalid arguments: (arguments): not JSON: {exc}", ("(arguments)",)
                        ) from None
                    instance = self.model.model_validate_json(document, strict=True)
        except pydantic.ValidationError as exc:
            raise describe_validation_error(exc) from None
        return {name: getattr(instance, name) for name in self.parameter_names}


_EXACT_INT_LIMIT = float(2**53)


def _integral_numbers(value: Any) -> Any:
    """``value`` with every exactly integral float (within 2**53, where doubles are exact) made an int."""
    if isinstance(value, float):
        if value.is_integer() and -_EXACT_INT_LIMIT <= value <= _EXACT_INT_LIMIT:
            return int(value)
        return value
    if isinstance(value, Mapping):
        return {key: _integral_numbers(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_integral_numbers(item) for item in value]
    return value


def render_text(value: Any, structured: Mapping[str, Any] | None) -> str:
    """The text content block that accompanies a result (MCP asks for one even when structured content exists)."""
    if isinstance(value, str):
        return value
    if structured is not None:
        data = structured["result"] if set(structured) == {"result"} else structured
        return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if value is None:
        return ""
    try:
        return json.dumps(pydantic.TypeAdapter(Any).dump_python(value, mode="json"), ensure_ascii=False)
    except Exception:  # noqa: BLE001 - any value still gets a readable text block
        return str(value)


def first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return inspect.cleandoc(doc).split("\n\n", 1)[0].replace("\n", " ").strip()
