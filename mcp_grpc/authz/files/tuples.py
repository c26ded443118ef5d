"""Tuple files in the formats the OpenFGA CLI reads (``fga tuple write --file``, ``tuple_file`` in store tests).

- ``.yaml`` / ``.yml`` / ``.json``: a list of ``{user, relation, object, condition?: {name, context?}}``;
- ``.jsonl``: one such object per line;
- ``.csv``: a header naming ``user_type, user_id, user_relation?, relation, object_type, object_id,
  condition_name?, condition_context?`` (``condition_context`` is a JSON object).

Users, relations and objects must have OpenFGA's shapes (``mcp_grpc.authz.names``); whether the model has their
types and relations is the engine's question when the tuples are written.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
from typing import Any, Mapping

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.names import object_problem, relation_problem, user_problem

from .errors import FileFormatError, TupleFileError, kind_of, read_text
from .located_yaml import line_of, located_yaml_load, plain

__all__ = ["TUPLE_FILE_SUFFIXES", "load_tuples", "parse_tuple_entries", "parse_tuple_entry", "tuple_to_dict"]

TUPLE_FILE_SUFFIXES = (".yaml", ".yml", ".json", ".jsonl", ".csv")

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
        raise fail(f"expected a mapping with user, relation and object, got {kind_of(entry)}")
    unknown = sorted(str(key) for key in entry if key not in _TUPLE_FIELDS)
    if unknown:
        raise fail(f"unknown field {unknown[0]!r} (allowed: user, relation, object, condition)", unknown[0])
    values: dict[str, str] = {}
    for field, check in (("user", user_problem), ("relation", relation_problem), ("object", object_problem)):
        if field not in entry or entry[field] is None:
            raise fail(f"missing '{field}'")
        value = entry[field]
        if not isinstance(value, str):
            raise fail(f"'{field}' must be a string, got {kind_of(value)}", field)
        reason = check(value)
        if reason is not None:
            raise fail(f"'{field}' {value!r} {reason}", field)
        values[field] = value
    condition_name: str | None = None
    condition_context: Mapping[str, Any] | None = None
    condition = entry.get("condition")
    if condition is not None:
        if not isinstance(condition, Mapping):
            raise fail(f"'condition' must be a mapping with name and context, got {kind_of(condition)}", "condition")
        unknown = sorted(str(key) for key in condition if key not in _CONDITION_FIELDS)
        if unknown:
            raise fail(f"unknown field 'condition.{unknown[0]}' (allowed: name, context)", "condition")
        name = condition.get("name")
        if not isinstance(name, str) or not name:
            raise fail("'condition.name' must be a non-empty string", "condition")
        context = condition.get("context")
        if context is not None and not isinstance(context, Mapping):
            raise fail(f"'condition.context' must be a mapping, got {kind_of(context)}", "condition")
        condition_name = name
        condition_context = plain(context) if context else None
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
        reason = f"expected a list of tuples, got {kind_of(entries)}"
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
    text = read_text(file, TupleFileError)
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


def tuple_line(path: str | os.PathLike[str], index: int) -> int | None:
    """The line of the ``index``-th tuple (0-based, as ``load_tuples`` returns them) of a file that loaded, for an
    error found later (the engine refusing the tuple); None for ``.json`` or when the file changed since."""
    file = pathlib.Path(path)
    suffix = file.suffix.lower()
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if suffix in (".yaml", ".yml"):
        try:
            document = located_yaml_load(text, path)
        except FileFormatError:
            return None
        return line_of(document, index) if isinstance(document, list) and index < len(document) else None
    if suffix == ".jsonl":
        lines = [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
        return lines[index] if index < len(lines) else None
    if suffix == ".csv":
        reader = csv.reader(io.StringIO(text))
        try:
            next(reader)
            rows = [reader.line_num for row in reader if row and any(cell.strip() for cell in row)]
        except (StopIteration, csv.Error):
            return None
        return rows[index] if index < len(rows) else None
    return None


def tuple_to_dict(key: TupleKey) -> dict[str, Any]:
    """The ``{user, relation, object, condition?}`` form the OpenFGA CLI reads and writes."""
    entry: dict[str, Any] = {"user": key.user, "relation": key.relation, "object": key.object}
    if key.condition_name:
        condition: dict[str, Any] = {"name": key.condition_name}
        if key.condition_context:
            condition["context"] = plain(key.condition_context)
        entry["condition"] = condition
    return entry
