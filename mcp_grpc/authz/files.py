"""Load relationship tuples and authorization models from files, in the formats the OpenFGA CLI reads.

Tuple files (``fga tuple write --file``, ``tuple_file`` in store tests):

- ``.yaml`` / ``.yml`` / ``.json``: a list of ``{user, relation, object, condition?: {name, context?}}``;
- ``.jsonl``: one such object per line;
- ``.csv``: a header naming ``user_type, user_id, user_relation?, relation, object_type, object_id,
  condition_name?, condition_context?`` (``condition_context`` is a JSON object).

Model files: ``.fga`` (the DSL), ``.json`` (the JSON model as OpenFGA's API takes it) or ``fga.mod`` (a modular
model). Every loader returns plain data (``TupleKey`` values, the JSON model ``dict``); validation against a model is
the engine's job when the tuples are written.

Every malformed entry raises one precise error naming the file, the entry (index, or line for ``.jsonl``/``.csv``,
and the YAML line where known) and what is wrong: ``TupleFileError`` for tuples, ``ModelFileError`` for models.

Usage::

    tuples = load_tuples("authz/tuples.yaml")
    model = load_model_file("authz/model.fga")
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
from typing import Any, Iterable, Mapping, Sequence

import yaml

from mcp_grpc.authz.backend import TupleKey

__all__ = [
    "FileFormatError",
    "ModelFileError",
    "TupleFileError",
    "iter_tuple_files",
    "line_of",
    "load_model_file",
    "load_tuples",
    "located_yaml_load",
    "model_from_dsl_text",
    "model_from_json_text",
    "parse_tuple_entries",
    "parse_tuple_entry",
    "plain",
    "tuple_to_dict",
    "TUPLE_FILE_SUFFIXES",
    "MODEL_FILE_SUFFIXES",
]

TUPLE_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv")
MODEL_FILE_SUFFIXES = (".fga", ".json", ".mod")

_TUPLE_FIELDS = frozenset({"user", "relation", "object", "condition"})
_CONDITION_FIELDS = frozenset({"name", "context"})
_CSV_HEADERS = (
    "user_type",
    "user_id",
    "user_relation",
    "relation",
    "object_type",
    "object_id",
    "condition_name",
    "condition_context",
)
_CSV_REQUIRED = ("user_type", "user_id", "relation", "object_type", "object_id")


class FileFormatError(ValueError):
    """A file that cannot be read as what it claims to be. ``str()`` gives ``file[:line]: [where: ]reason``."""

    def __init__(self, path: str | os.PathLike[str], reason: str, *, where: str | None = None, line: int | None = None):
        self.path = str(path)
        self.reason = reason
        self.where = where
        self.line = line
        location = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{location}: {where}: {reason}" if where else f"{location}: {reason}")


class TupleFileError(FileFormatError):
    """A tuple file, or one of its entries, is malformed. ``index`` is the 0-based entry index where one applies."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        reason: str,
        *,
        index: int | None = None,
        where: str | None = None,
        line: int | None = None,
    ):
        self.index = index
        if where is None and index is not None:
            where = f"tuple {index}"
        super().__init__(path, reason, where=where, line=line)


class ModelFileError(FileFormatError):
    """A model file is missing, of an unknown kind, or does not parse."""


# --- YAML with line numbers -------------------------------------------------------------------------------------


class _LocatedDict(dict):
    """A mapping that remembers the 1-based line of itself and of each key, for error messages."""

    __slots__ = ("line", "key_lines")


class _LocatedList(list):
    __slots__ = ("line", "item_lines")


class _LocatedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, keeping line numbers of mappings, keys and list items."""


def _construct_located_mapping(loader: _LocatedLoader, node: yaml.MappingNode) -> _LocatedDict:
    loader.flatten_mapping(node)
    result = _LocatedDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "found an unhashable key", key_node.start_mark
            ) from None
        if key in result:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, f"found a duplicate key {key!r}", key_node.start_mark
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_located_sequence(loader: _LocatedLoader, node: yaml.SequenceNode) -> _LocatedList:
    result = _LocatedList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_located_mapping)
_LocatedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_located_sequence)


def located_yaml_load(text: str, path: str | os.PathLike[str]) -> Any:
    """Parse YAML (or JSON) keeping line numbers (see ``line_of``); a syntax error raises ``FileFormatError``."""
    try:
        return yaml.load(text, Loader=_LocatedLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise FileFormatError(path, f"invalid YAML: {problem}", line=line) from None
    except yaml.YAMLError as exc:
        raise FileFormatError(path, f"invalid YAML: {exc}") from None


def line_of(container: Any, key: Any = None) -> int | None:
    """The line of ``container`` (a mapping or list from ``located_yaml_load``), or of one of its keys / items."""
    if key is None:
        return getattr(container, "line", None)
    if isinstance(container, _LocatedDict):
        return container.key_lines.get(key, container.line)
    if isinstance(container, _LocatedList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None)


# --- Tuples ------------------------------------------------------------------------------------------------------


def _check_object(value: str) -> str | None:
    """Why ``value`` is not ``type:id`` (an id other than the ``*`` wildcard), or None."""
    reason = _check_type_and_id(value)
    if reason is None and value.endswith(":*"):
        return "must name one object, not the wildcard '*'"
    return reason


def _check_type_and_id(value: str) -> str | None:
    type_name, sep, object_id = value.partition(":")
    if not sep:
        return "must be 'type:id'"
    if not type_name:
        return "has an empty type"
    if not object_id:
        return "has an empty id"
    if "#" in value:
        return "must not contain '#'"
    if ":" in object_id:
        return "must contain exactly one ':'"
    if any(ch.isspace() for ch in value):
        return "must not contain whitespace"
    return None


def _check_user(value: str) -> str | None:
    """Why ``value`` is not ``type:id``, ``type:*`` or ``type:id#relation``, or None."""
    base, sep, relation = value.partition("#")
    if sep:
        if not relation:
            return "has an empty relation after '#'"
        if "#" in relation or ":" in relation:
            return "has a malformed relation after '#'"
    reason = _check_type_and_id(base)
    if reason is None and sep and base.endswith(":*"):
        return "must not combine a wildcard with '#relation'"
    return reason


def _check_relation(value: str) -> str | None:
    if not value:
        return "must not be empty"
    if any(ch in value for ch in ":#@") or any(ch.isspace() for ch in value):
        return "must not contain ':', '#', '@' or whitespace"
    return None


def parse_tuple_entry(
    entry: Any, *, path: str | os.PathLike[str], index: int, line: int | None = None, where: str | None = None
) -> TupleKey:
    """One tuple from its ``{user, relation, object, condition?}`` mapping; ``TupleFileError`` if malformed."""
    if line is None:
        line = line_of(entry)

    def fail(reason: str, field: str | None = None) -> TupleFileError:
        field_line = line_of(entry, field) if field is not None else None
        return TupleFileError(path, reason, index=index, where=where, line=field_line or line)

    if not isinstance(entry, Mapping):
        raise fail(f"expected a mapping with user, relation and object, got {_kind(entry)}")
    unknown = sorted(str(key) for key in entry if key not in _TUPLE_FIELDS)
    if unknown:
        raise fail(f"unknown field {unknown[0]!r} (allowed: user, relation, object, condition)", unknown[0])
    values: dict[str, str] = {}
    for field, check in (("user", _check_user), ("relation", _check_relation), ("object", _check_object)):
        if field not in entry or entry[field] is None:
            raise fail(f"missing '{field}'")
        value = entry[field]
        if not isinstance(value, str):
            raise fail(f"'{field}' must be a string, got {_kind(value)}", field)
        reason = check(value)
        if reason is not None:
            raise fail(f"'{field}' {value!r} {reason}", field)
        values[field] = value
    condition_name: str | None = None
    condition_context: Mapping[str, Any] | None = None
    condition = entry.get("condition")
    if condition is not None:
        if not isinstance(condition, Mapping):
            raise fail(f"'condition' must be a mapping with name and context, got {_kind(condition)}", "condition")
        unknown = sorted(str(key) for key in condition if key not in _CONDITION_FIELDS)
        if unknown:
            raise fail(f"unknown field 'condition.{unknown[0]}' (allowed: name, context)", "condition")
        name = condition.get("name")
        if not isinstance(name, str) or not name:
            raise fail("'condition.name' must be a non-empty string", "condition")
        context = condition.get("context")
        if context is not None and not isinstance(context, Mapping):
            raise fail(f"'condition.context' must be a mapping, got {_kind(context)}", "condition")
        condition_name = name
        condition_context = _plain(context) if context else None
    return TupleKey(
        user=values["user"],
        relation=values["relation"],
        object=values["object"],
        condition_name=condition_name,
        condition_context=condition_context,
    )


def parse_tuple_entries(
    entries: Any, *, path: str | os.PathLike[str], where: str | None = None
) -> list[TupleKey]:
    """A list of tuple mappings (already parsed from YAML or JSON) as ``TupleKey`` values."""
    if not isinstance(entries, list):
        reason = f"expected a list of tuples, got {_kind(entries)}"
        raise TupleFileError(path, reason, where=where, line=line_of(entries))
    return [
        parse_tuple_entry(
            entry,
            path=path,
            index=index,
            line=line_of(entries, index),
            where=f"{where}[{index}]" if where else None,
        )
        for index, entry in enumerate(entries)
    ]


def load_tuples(path: str | os.PathLike[str]) -> list[TupleKey]:
    """The tuples of one file (``.yaml``, ``.yml``, ``.json``, ``.jsonl`` or ``.csv``), in file order."""
    file = pathlib.Path(path)
    suffix = file.suffix.lower()
    if suffix not in TUPLE_FILE_SUFFIXES:
        known = ", ".join(TUPLE_FILE_SUFFIXES)
        raise TupleFileError(path, f"unsupported tuple file format {suffix or '(none)'!r}; use one of {known}")
    text = _read_text(file, TupleFileError)
    if suffix == ".jsonl":
        return _parse_jsonl(text, path)
    if suffix == ".csv":
        return _parse_csv(text, path)
    if suffix == ".json":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TupleFileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
        if isinstance(document, list) and not document:
            raise TupleFileError(path, "the file has no tuples")
        return parse_tuple_entries(document, path=path)
    try:
        document = located_yaml_load(text, path)
    except FileFormatError as exc:
        raise TupleFileError(path, exc.reason, line=exc.line) from None
    if document is None or (isinstance(document, list) and not document):
        raise TupleFileError(path, "the file has no tuples")
    return parse_tuple_entries(document, path=path)


def _parse_jsonl(text: str, path: str | os.PathLike[str]) -> list[TupleKey]:
    tuples: list[TupleKey] = []
    for line_number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TupleFileError(
                path, f"invalid JSON: {exc.msg} (column {exc.colno})", index=len(tuples), line=line_number
            ) from None
        tuples.append(parse_tuple_entry(entry, path=path, index=len(tuples), line=line_number))
    if not tuples:
        raise TupleFileError(path, "the file has no tuples")
    return tuples


def _parse_csv(text: str, path: str | os.PathLike[str]) -> list[TupleKey]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise TupleFileError(path, "the file is empty (expected a header line)", line=1) from None
    except csv.Error as exc:
        raise TupleFileError(path, f"invalid CSV header: {exc}", line=1) from None
    columns: dict[str, int] = {}
    for position, name in enumerate(header):
        name = name.strip()
        if name not in _CSV_HEADERS:
            raise TupleFileError(path, f"invalid header {name!r}; valid headers are {','.join(_CSV_HEADERS)}", line=1)
        if name in columns:
            raise TupleFileError(path, f"duplicate header {name!r}", line=1)
        columns[name] = position
    for name in _CSV_REQUIRED:
        if name not in columns:
            raise TupleFileError(path, f"missing required header {name!r}", line=1)
    if "condition_context" in columns and "condition_name" not in columns:
        raise TupleFileError(path, "header 'condition_context' requires 'condition_name'", line=1)
    tuples: list[TupleKey] = []
    try:
        for row in reader:
            line_number = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            index = len(tuples)
            if len(row) != len(header):
                raise TupleFileError(
                    path, f"expected {len(header)} columns, got {len(row)}", index=index, line=line_number
                )
            cell = {name: row[position].strip() for name, position in columns.items()}
            user = f"{cell['user_type']}:{cell['user_id']}"
            if cell.get("user_relation"):
                user += f"#{cell['user_relation']}"
            entry: dict[str, Any] = {
                "user": user,
                "relation": cell["relation"],
                "object": f"{cell['object_type']}:{cell['object_id']}",
            }
            if cell.get("condition_name"):
                condition: dict[str, Any] = {"name": cell["condition_name"]}
                raw_context = cell.get("condition_context")
                if raw_context:
                    try:
                        condition["context"] = json.loads(raw_context)
                    except json.JSONDecodeError as exc:
                        raise TupleFileError(
                            path, f"'condition_context' is not valid JSON: {exc.msg}", index=index, line=line_number
                        ) from None
                entry["condition"] = condition
            elif cell.get("condition_context"):
                raise TupleFileError(
                    path, "'condition_context' without 'condition_name'", index=index, line=line_number
                )
            tuples.append(parse_tuple_entry(entry, path=path, index=index, line=line_number))
    except csv.Error as exc:
        raise TupleFileError(path, f"invalid CSV: {exc}", line=reader.line_num) from None
    if not tuples:
        raise TupleFileError(path, "the file has no tuples")
    return tuples


def tuple_to_dict(key: TupleKey) -> dict[str, Any]:
    """The ``{user, relation, object, condition?}`` form the OpenFGA CLI reads and writes."""
    entry: dict[str, Any] = {"user": key.user, "relation": key.relation, "object": key.object}
    if key.condition_name:
        condition: dict[str, Any] = {"name": key.condition_name}
        if key.condition_context:
            condition["context"] = _plain(key.condition_context)
        entry["condition"] = condition
    return entry


# --- Models ------------------------------------------------------------------------------------------------------


def load_model_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON authorization model (``schema_version``, ``type_definitions``, ``conditions``) of a model file.

    ``.fga`` is parsed as the DSL, ``fga.mod`` (any ``.mod``) as a modular model with its module files, ``.json``
    as OpenFGA's JSON model (a bare model, or ``{"authorization_model": {...}}`` as ``fga model get`` prints it).
    """
    file = pathlib.Path(path)
    suffix = file.suffix.lower()
    if suffix not in MODEL_FILE_SUFFIXES:
        raise ModelFileError(
            path, f"unsupported model file format {suffix or '(none)'!r}; use a .fga, .json or fga.mod file"
        )
    text = _read_text(file, ModelFileError)
    if suffix == ".json":
        return model_from_json_text(text, path)
    if suffix == ".mod":
        model = _modular_model(file)
        _server_checks(model, path)
        return model
    return model_from_dsl_text(text, path)


def _server_checks(model: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """What ``fga model test`` refuses beyond the language validator: OpenFGA's server-side model checks."""
    from mcp_grpc.authz.model.server_rules import first_server_error

    found = first_server_error(model)
    if found is not None:
        raise ModelFileError(path, found[2])


def model_from_dsl_text(text: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON model of DSL ``text``; a parse error becomes ``ModelFileError`` naming ``path`` and the line."""
    # the parser package, imported late so that loading tuples never needs it
    from mcp_grpc.authz import model as model_language

    # Validate as ``fga model test`` does (OpenFGA refuses to write an invalid model); fall back to the bare
    # transform when the validating loader is not available.
    parse = getattr(model_language, "load_model", None) or model_language.parse_dsl
    try:
        parsed = parse(text)
    except Exception as exc:  # the parser's own error types; re-raised with the file name
        if not _only_lint_issues(exc):
            raise ModelFileError(path, _describe_model_error(exc), line=_model_error_line(exc)) from exc
        parsed = model_language.parse_dsl(text)
    model = _as_model_dict(parsed)
    _server_checks(model, path)
    return model


# Issues the language validator reports but OpenFGA's server (and so ``fga model test`` / ``fga model validate``)
# accepts, checked with the fga CLI: an unused condition, a repeated type restriction (``[user, user]``) and a
# repeated operand (``a or a``, ``a but not a``). Refusing them would fail files that ``fga model test`` passes.
# Duplicate types and relations stay errors: OpenFGA refuses those too.
_LINT_ONLY_ISSUES = (
    ("condition-not-used", ""),
    ("duplicated-error", "the partial relation definition "),
    ("duplicated-error", "the type restriction "),
)


def _only_lint_issues(exc: BaseException) -> bool:
    issues = getattr(exc, "issues", None)
    if not issues:
        return False
    return all(
        any(
            (getattr(issue, "metadata", {}) or {}).get("errorType") == error_type
            and str(getattr(issue, "message", "")).startswith(prefix)
            for error_type, prefix in _LINT_ONLY_ISSUES
        )
        for issue in issues
    )


def model_from_json_text(text: str, path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON model of a JSON document (bare, or wrapped in ``authorization_model``)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ModelFileError(path, f"invalid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from None
    if isinstance(document, Mapping) and isinstance(document.get("authorization_model"), Mapping):
        document = document["authorization_model"]
    if not isinstance(document, Mapping):
        raise ModelFileError(path, f"expected a JSON object, got {_kind(document)}")
    if "type_definitions" not in document:
        raise ModelFileError(path, "not an authorization model: 'type_definitions' is missing")
    if not isinstance(document["type_definitions"], list):
        raise ModelFileError(path, "'type_definitions' must be a list")
    from mcp_grpc.authz import model as model_language

    validate = getattr(model_language, "load_model", None)
    if validate is None:
        return dict(document)
    try:
        model = _as_model_dict(validate(dict(document)))
    except Exception as exc:  # the model language's validation errors, re-raised with the file name
        if not _only_lint_issues(exc):
            raise ModelFileError(path, _describe_model_error(exc)) from exc
        model = dict(document)
    _server_checks(model, path)
    return model


def _modular_model(file: pathlib.Path) -> dict[str, Any]:
    from mcp_grpc.authz import model as model_language

    loader = getattr(model_language, "load_modular", None)
    if loader is None:
        raise ModelFileError(file, "modular models (fga.mod) are not supported by this build")
    try:
        parsed = loader(file)
    except Exception as exc:  # the parser's own error types; re-raised with the file name
        raise ModelFileError(file, _describe_model_error(exc), line=_model_error_line(exc)) from exc
    return _as_model_dict(parsed)


def _as_model_dict(parsed: Any) -> dict[str, Any]:
    if isinstance(parsed, Mapping):
        return dict(parsed)
    for attribute in ("to_json", "as_json", "to_dict"):
        method = getattr(parsed, attribute, None)
        if callable(method):
            value = method()
            return json.loads(value) if isinstance(value, str) else dict(value)
    raise TypeError(f"the model parser returned {type(parsed).__name__}, expected the JSON model as a dict")


def _describe_model_error(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _model_error_line(exc: BaseException) -> int | None:
    """The 1-based line of the first issue of a model-language error (its spans are 0-based), where known."""
    for issue in getattr(exc, "issues", None) or ():
        span = getattr(issue, "line", None)
        if span is not None and isinstance(getattr(span, "start", None), int):
            return span.start + 1
    line = getattr(exc, "line", None)
    return line if isinstance(line, int) else None


# --- helpers -----------------------------------------------------------------------------------------------------


def _read_text(file: pathlib.Path, error: type[FileFormatError]) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(file, "no such file") from None
    except IsADirectoryError:
        raise error(file, "is a directory, not a file") from None
    except UnicodeDecodeError as exc:
        raise error(file, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise error(file, exc.strerror or str(exc)) from None


def _plain(value: Any) -> Any:
    """Located YAML containers as plain dicts and lists (for equality, JSON and hashing downstream)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def plain(value: Any) -> Any:
    """Public alias of the located-container stripper, for callers holding ``located_yaml_load`` output."""
    return _plain(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


def iter_tuple_files(paths: Iterable[str | os.PathLike[str]]) -> Sequence[TupleKey]:
    """All tuples of several files, in order (duplicates are kept; the engine's write rejects them)."""
    result: list[TupleKey] = []
    for path in paths:
        result.extend(load_tuples(path))
    return result
