"""Reading store test files (``*.fga.yaml``), by the one declaration of their format in ``storetest.schema``.

Two readings of the same format, both OpenFGA's:

- ``load_store_test`` reads a file as the ``fga`` CLI (v0.8.2) reads it for ``fga model test``: unknown fields are
  errors; ``model`` wins over ``model_file``; inline tuples and tuple files add up (a tuple repeated across tuple
  files is read once); file references are relative to the test file and may not leave its directory unless
  ``allow_external_files``. The first problem raises ``StoreTestError`` naming the file, the line and the entry.
- ``validate_store_file`` checks a parsed file's shape as OpenFGA's language tooling does, and raises
  ``StoreFileError`` listing every problem as that tooling's JSON-schema records (``keyword``, ``instancePath``,
  ``schemaPath``, ``message``, ``params``), so tools can show the same messages. The model inside is checked by
  ``load_model``, the tuples by the engine.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any, Callable, Mapping

from mcp_grpc.authz import names
from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.files import (
    FileFormatError,
    TupleFileError,
    line_of,
    load_model_file,
    load_tuples,
    located_yaml_load,
    model_from_dsl_text,
    model_from_json_text,
    parse_tuple_entries,
    plain,
)

from .schema import STORE, Arr, Bool, Field, Node, Obj, Str
from .suite import StoreTestFile

__all__ = ["StoreFileError", "StoreTestError", "load_store_test", "validate_store_file"]


class StoreTestError(FileFormatError):
    """A store test file that cannot be read: syntax, unknown or missing fields, wrong types, unreadable files."""


class StoreFileError(ValueError):
    """A store file failed shape validation; ``errors`` holds every error record."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['instancePath'] or '/'}: {e['message']}" for e in errors[:5]))


# --- as the fga CLI reads it -------------------------------------------------------------------------------------


def load_store_test(path: str | os.PathLike[str], *, allow_external_files: bool = False) -> StoreTestFile:
    """Read and validate a store test file, resolving ``model_file`` and tuple files relative to it."""
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreTestError(path, "no such file") from None
    except IsADirectoryError:
        raise StoreTestError(path, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreTestError(path, f"cannot read: {exc}") from None
    try:
        document = located_yaml_load(text, path)
    except FileFormatError as exc:
        raise StoreTestError(path, exc.reason, line=exc.line) from None
    values = _Reader(file, allow_external_files).read(document, STORE, where=None, parent=document, key=None)
    return StoreTestFile(
        path=str(file),
        name=values["name"] or "",
        model=values["model"],
        tuples=tuple(values["tuples"]) + tuple(values["tuple_file"]),
        tests=tuple(values["tests"]),
    )


class _Reader:
    """Walks the declaration over a located YAML document, returning what each node reads as."""

    def __init__(self, file: pathlib.Path, allow_external_files: bool):
        self.file = file
        self.base = file.parent
        self.allow_external_files = allow_external_files

    def fail(self, reason: str, where: str | None = None, container: Any = None, key: Any = None) -> StoreTestError:
        line = line_of(container, key) if container is not None else None
        return StoreTestError(self.file, reason, where=where, line=line)

    def read(
        self, value: Any, node: Node, *, where: str | None, parent: Any, key: Any, place: str = "root", entry: Any = None
    ) -> Any:
        """What ``value`` (found at ``parent[key]``) reads as. ``place`` is ``field``, ``entry`` (a value of a
        relation -> expectation mapping), ``item`` (of a list) or ``root``; it words the wrong-type message."""

        def wrong_type() -> StoreTestError:
            if node.message is not None:
                reason = node.message.format(entry=entry)
            elif place == "field":
                reason = f"'{key}' must be {node.expected}"
            elif place == "entry":
                reason = f"assertion for {key!r} must be {node.expected}"
            else:
                reason = f"expected {node.expected}"
            return self.fail(reason, where, parent, key)

        if isinstance(node, Str):
            if not isinstance(value, str):
                raise wrong_type()
            return value
        if isinstance(node, Bool):
            if not isinstance(value, bool):
                raise wrong_type()
            return value
        if isinstance(node, Arr):
            if not isinstance(value, list) or (node.nonempty and not value):
                raise wrong_type()
            if isinstance(node.items, Str):  # a list of strings is right or wrong as a whole
                if not all(isinstance(item, str) for item in value):
                    raise wrong_type()
                return list(value)
            prefix = f"{where}.{key}" if where else str(key)
            return [
                self.read(item, node.items, where=f"{prefix}[{index}]", parent=value, key=index, place="item")
                for index, item in enumerate(value)
            ]
        assert isinstance(node, Obj)
        if not isinstance(value, Mapping):
            raise wrong_type()
        return self.read_mapping(value, node, where, entry)

    def read_mapping(self, value: Mapping[Any, Any], node: Obj, where: str | None, entry: Any) -> Any:
        closed = node.closed if node.cli_closed is None else node.cli_closed
        if closed:
            allowed = {f.name for f in node.fields if f.cli}
            for key in value:
                if key not in allowed:
                    reason = node.unknown.format(key=str(key), allowed=", ".join(sorted(allowed)), entry=entry)
                    raise self.fail(reason, where, value, key)
        if node.values is not None:
            return {str(key): self.read_entry(item, node.values, value, key, where) for key, item in value.items()}
        if not node.fields:
            return plain(value)
        read: dict[str, Any] = {}
        for field in node.reads():
            if field.hook is not None:
                read[field.name] = getattr(self, f"read_{field.hook}")(value, node, where)
            else:
                read[field.name] = self.read_field(field, value, where, entry)
        return node.build(read) if node.build is not None else read

    def read_field(self, field: Field, container: Mapping[Any, Any], where: str | None, entry: Any) -> Any:
        value = container.get(field.name)
        node = field.node
        if value is None and not (isinstance(node, Arr) and node.nonempty):
            if field.required:
                raise self.required(field, container, where)
            return [] if isinstance(node, Arr) else None
        read = self.read(value, node, where=where, parent=container, key=field.name, place="field", entry=entry)
        if field.required and read == "":
            raise self.required(field, container, where)
        return read

    def required(self, field: Field, container: Mapping[Any, Any], where: str | None) -> StoreTestError:
        # A missing string points at its key where there is one; a missing section at the mapping that lacks it.
        key = field.name if isinstance(field.node, Str) and field.name in container else None
        return self.fail(f"'{field.name}' is required", where, container, key)

    def read_entry(self, value: Any, node: Node, container: Any, key: Any, where: str | None) -> Any:
        if value is None and isinstance(node, Arr):
            return []
        return self.read(value, node, where=where, parent=container, key=key, place="entry", entry=key)

    # the steps the CLI takes itself

    def read_model(self, document: Mapping[str, Any], node: Obj, where: str | None) -> dict[str, Any]:
        inline = document.get("model")
        if inline is not None:
            self.read(inline, node.field("model").node, where=where, parent=document, key="model", place="field")
            try:
                if inline.lstrip().startswith("{"):
                    return model_from_json_text(inline, self.file)
                return model_from_dsl_text(inline, self.file)
            except FileFormatError as exc:
                # A block literal starts on the line after its key: point at the offending line of this file.
                key_line = line_of(document, "model")
                line = key_line + exc.line if key_line is not None and exc.line is not None else key_line
                raise StoreTestError(self.file, exc.reason, where="model", line=line) from exc
        reference = self.read_field(node.field("model_file"), document, where, None)
        if reference:
            return load_model_file(self.resolve(reference, where, document, "model_file"))
        raise self.fail("'model' or 'model_file' is required", container=document)

    def read_tuples(self, container: Mapping[str, Any], node: Obj, where: str | None) -> list[TupleKey]:
        inline = container.get("tuples")
        if inline is None:
            return []
        try:
            return parse_tuple_entries(inline, path=self.file, where=f"{where}.tuples" if where else "tuples")
        except TupleFileError as exc:
            raise StoreTestError(self.file, exc.reason, where=exc.where, line=exc.line) from None

    def read_tuple_files(self, container: Mapping[str, Any], node: Obj, where: str | None) -> list[TupleKey]:
        """The tuples of ``tuple_file`` and (where the CLI reads it) ``tuple_files``, each tuple once."""
        references: list[tuple[str, str]] = []
        single = self.read_field(node.field("tuple_file"), container, where, None)
        if single:
            references.append(("tuple_file", single))
        many = node.field("tuple_files")
        if many is not None and many.cli:
            references.extend(("tuple_files", item) for item in self.read_field(many, container, where, None))
        tuples: list[TupleKey] = []
        seen: set[tuple[Any, ...]] = set()
        for key, reference in references:
            for loaded in load_tuples(self.resolve(reference, where, container, key)):
                identity = _tuple_identity(loaded)
                if identity not in seen:  # the CLI de-duplicates across tuple files (not against inline tuples)
                    seen.add(identity)
                    tuples.append(loaded)
        return tuples

    def resolve(self, reference: str, where: str | None, node: Mapping[str, Any], key: str) -> pathlib.Path:
        target = (self.base / reference).resolve()
        if not self.allow_external_files:
            base = self.base.resolve()
            if target != base and base not in target.parents:
                raise self.fail(
                    f"file reference {reference!r} leaves the test file's directory "
                    "(allow external files to permit it)",
                    where,
                    node,
                    key,
                )
        return target


def _tuple_identity(key: TupleKey) -> tuple[Any, ...]:
    return (key.user, key.relation, key.object, key.condition_name, repr(sorted((key.condition_context or {}).items())))


# --- as OpenFGA's language tooling checks it --------------------------------------------------------------------

FORMATS: dict[str, Callable[[str], bool]] = {
    "type": names.matches_type_rule,
    "relation": names.is_wire_relation,
    "condition": names.is_condition_name,
    "object": lambda value: names.split_object(value) is not None,
    "user": lambda value: names.split_user(value) is not None,
}
"""The string formats, by OpenFGA's grammar: tuples, objects and users as OpenFGA's API takes them, and a
ListObjects type as the model language names types."""

_KINDS: dict[type, tuple[str, Callable[[Any], bool]]] = {
    Obj: ("object", lambda v: isinstance(v, dict)),
    Arr: ("array", lambda v: isinstance(v, list)),
    Str: ("string", lambda v: isinstance(v, str)),
    Bool: ("boolean", lambda v: isinstance(v, bool)),
}


def validate_store_file(data: Any) -> None:
    """Raise StoreFileError listing every shape error of a parsed store file (a dict from YAML)."""
    errors: list[dict[str, Any]] = []
    _check(data, STORE, [], "#", errors)
    if errors:
        raise StoreFileError(errors)


def _pointer(path: list[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _check(value: Any, node: Node, path: list, schema_path: str, out: list[dict]) -> None:
    def error(keyword: str, message: str, params: dict | None = None) -> None:
        out.append(
            {
                "instancePath": _pointer(path),
                "schemaPath": f"{schema_path}/{keyword}",
                "keyword": keyword,
                "params": params or {},
                "message": message,
            }
        )

    kind, is_kind = _KINDS[type(node)]
    if not is_kind(value):
        error("type", f"must be {kind}", {"type": kind})
        return
    if isinstance(node, Obj):
        for field in node.fields:
            if field.required and field.name not in value:
                error("required", f"must have required property '{field.name}'", {"missingProperty": field.name})
        if node.closed:
            for key in value:
                if node.field(key) is None:
                    error("additionalProperties", "must NOT have additional properties", {"additionalProperty": key})
        if node.needs_model and "model" not in value and "model_file" not in value:
            error("valid_store", "'model' or 'model_file' must be presenet keys.")  # the reference's spelling
        for field in node.fields:
            if field.name in value:
                _check(value[field.name], field.node, [*path, field.name], f"{schema_path}/properties/{field.name}", out)
        if node.values is not None:
            for key, item in value.items():
                _check(item, node.values, [*path, key], f"{schema_path}/patternProperties/.*", out)
    elif isinstance(node, Arr):
        for index, item in enumerate(value):
            _check(item, node.items, [*path, index], f"{schema_path}/items", out)
    elif isinstance(node, Str) and node.format is not None and not FORMATS[node.format](value):
        error("format", f'must match format "{node.format}"', {"format": node.format})
