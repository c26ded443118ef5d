"""The store test file format (``*.fga.yaml``, what ``fga model test`` reads), declared once.

Each section of a file is an ``Obj`` listing its ``Field``s in the order of OpenFGA's JSON schema for these files
(openfga/language ``validate-store``); ``storetest.parser`` walks this declaration both to read a file as the
``fga`` CLI reads it and to check its shape as the language tooling does. What the two disagree on is marked here:
``Field.cli`` (a field the CLI does not read is an unknown field for it), ``Obj.cli_closed`` and ``Arr.nonempty``.

``expected`` names, in the reader's messages, what a value must be (``'tests' must be a list``); ``message``
replaces the whole message where the wording is the CLI's own. ``hook`` names a reading step the parser does
itself (the model, tuples, tuple files); ``build`` makes the parsed value from the read fields.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Mapping

from .suite import CheckAssertion, ListObjectsAssertion, ListUsersAssertion, TestCase

__all__ = ["Arr", "Bool", "Field", "Node", "Obj", "STORE", "Str"]


@dataclasses.dataclass(frozen=True)
class Node:
    expected: str = ""
    """What the value must be, as the reader's messages say it (``a string``, ``true or false``)."""
    message: str | None = None
    """The reader's whole message when the value has the wrong type (``{entry}``: the assertion's relation)."""


@dataclasses.dataclass(frozen=True)
class Str(Node):
    expected: str = "a string"
    format: str | None = None
    """A name of ``FORMATS`` in the parser: the value's grammar, checked as the language tooling checks it."""


@dataclasses.dataclass(frozen=True)
class Bool(Node):
    expected: str = "true or false"


@dataclasses.dataclass(frozen=True)
class Arr(Node):
    expected: str = "a list"
    items: Node = Str()
    nonempty: bool = False
    """The CLI refuses an empty (or missing) list, with the ``message``."""


@dataclasses.dataclass(frozen=True)
class Field:
    name: str
    node: Node
    required: bool = False
    cli: bool = True
    """Whether the ``fga`` CLI reads this field (the language schema allows more)."""
    hook: str | None = None
    """A reading step of the parser's own instead of the plain value: ``model`` (reads ``model`` or
    ``model_file``), ``tuples`` (inline tuples) or ``tuple_files`` (``tuple_file`` and ``tuple_files``, loaded)."""


@dataclasses.dataclass(frozen=True)
class Obj(Node):
    expected: str = "a mapping"
    fields: tuple[Field, ...] = ()
    closed: bool = True
    """An unknown field is an error (the schema's ``additionalProperties: false``)."""
    cli_closed: bool | None = None
    """``closed`` for the CLI, where it differs."""
    values: Node | None = None
    """Every entry's value, for a mapping of relation to expectation (``patternProperties``)."""
    read_order: tuple[str, ...] = ()
    """The order the CLI reads fields in, and so reports their errors (default: ``fields``' order)."""
    needs_model: bool = False
    """The store's own rule: ``model`` or ``model_file`` must be present."""
    unknown: str = "unknown field {key!r} (allowed: {allowed})"
    build: Callable[[Mapping[str, Any]], Any] | None = None

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    def reads(self) -> tuple[Field, ...]:
        """The fields the CLI reads, in its order."""
        names = self.read_order or tuple(f.name for f in self.fields)
        return tuple(f for f in (self.field(name) for name in names) if f is not None and f.cli)


_CONTEXT = Field("context", Obj(closed=False))

_CONDITION = Obj(
    fields=(Field("name", Str(format="condition"), required=True), _CONTEXT),
)

_TUPLE = Obj(
    fields=(
        Field("user", Str(format="user"), required=True),
        Field("relation", Str(format="relation"), required=True),
        Field("object", Str(format="object"), required=True),
        Field("condition", _CONDITION),
    ),
)
_TUPLES = Arr(items=_TUPLE)

_CHECK = Obj(
    fields=(
        Field("user", Str(format="user"), required=True),
        Field("object", Str(format="object"), required=True),
        Field(
            "assertions",
            Obj(expected="a mapping of relation to expectation", closed=False, values=Bool()),
            required=True,
        ),
        _CONTEXT,
    ),
    read_order=("assertions", "user", "object", "context"),
    build=lambda v: CheckAssertion(v["user"], v["object"], v["assertions"], v["context"]),
)

_LIST_OBJECTS = Obj(
    fields=(
        Field("user", Str(format="user"), required=True),
        Field("relation", Str(format="relation"), cli=False),
        Field("type", Str(format="type"), required=True),
        Field(
            "assertions",
            Obj(
                expected="a mapping of relation to expectation",
                closed=False,
                values=Arr(expected="a list of objects", items=Str()),
            ),
            required=True,
        ),
        _CONTEXT,
    ),
    read_order=("assertions", "user", "type", "context"),
    build=lambda v: ListObjectsAssertion(
        v["user"], v["type"], {relation: tuple(objects) for relation, objects in v["assertions"].items()}, v["context"]
    ),
)

_USER_FILTER = Obj(
    expected="a mapping with type and optional relation",
    fields=(Field("type", Str(), required=True), Field("relation", Str())),
    closed=False,
    cli_closed=True,
    build=lambda v: f"{v['type']}#{v['relation']}" if v["relation"] else v["type"],
)

_LIST_USERS_EXPECTATION = Obj(
    expected="a mapping with 'users'",
    fields=(Field("users", Arr(items=Str(format="user"), message="'users' for {entry!r} must be a list of users")),),
    unknown="unknown field {key!r} in the assertion for {entry!r} (allowed: {allowed})",
    build=lambda v: tuple(v["users"]),
)

_LIST_USERS = Obj(
    fields=(
        Field("object", Str(format="object"), required=True),
        Field(
            "user_filter",
            Arr(items=_USER_FILTER, nonempty=True, message="'user_filter' must be a non-empty list of {{type, relation?}}"),
            required=True,
        ),
        _CONTEXT,
        Field(
            "assertions",
            Obj(expected="a mapping of relation to expectation", closed=False, values=_LIST_USERS_EXPECTATION),
            required=True,
        ),
    ),
    read_order=("user_filter", "assertions", "object", "context"),
    build=lambda v: ListUsersAssertion(v["object"], tuple(v["user_filter"]), v["assertions"], v["context"]),
)

_TEST = Obj(
    message="each test must be a mapping",
    fields=(
        Field("name", Str()),
        Field("description", Str()),
        Field("tuple_file", Str(), hook="tuple_files"),
        Field("tuple_files", Arr(items=Str()), cli=False),
        Field("tuples", _TUPLES, hook="tuples"),
        Field("check", Arr(items=_CHECK)),
        Field("list_objects", Arr(items=_LIST_OBJECTS)),
        Field("list_users", Arr(items=_LIST_USERS)),
    ),
    read_order=("name", "description", "tuples", "tuple_file", "check", "list_objects", "list_users"),
    build=lambda v: TestCase(
        name=v["name"] or "",
        description=v["description"] or "",
        tuples=tuple(v["tuples"]) + tuple(v["tuple_file"]),
        check=tuple(v["check"]),
        list_objects=tuple(v["list_objects"]),
        list_users=tuple(v["list_users"]),
    ),
)

STORE = Obj(
    message="expected a mapping with model and tests at the top level",
    fields=(
        Field("name", Str()),
        Field("model_file", Str()),
        Field("model", Str(expected="a string holding the model DSL"), hook="model"),
        Field("tuple_file", Str(), hook="tuple_files"),
        Field("tuple_files", Arr(expected="a list of file names", items=Str())),
        Field("tuples", _TUPLES, hook="tuples"),
        Field("tests", Arr(items=_TEST), required=True),
    ),
    read_order=("name", "model", "tuples", "tuple_file", "tests"),
    needs_model=True,
)
"""A whole store test file."""
