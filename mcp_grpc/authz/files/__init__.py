"""Load relationship tuples and authorization models from files, in the formats the OpenFGA CLI reads.

Tuple files (``fga tuple write --file``, ``tuple_file`` in store tests): ``.yaml`` / ``.yml`` / ``.json`` (a list
of ``{user, relation, object, condition?}``), ``.jsonl`` (one per line) or ``.csv`` (see ``files.tuples``).
Model files: ``.fga`` (the DSL), ``.json`` (the JSON model as OpenFGA's API takes it) or ``fga.mod`` (a modular
model). Every loader returns plain data (``TupleKey`` values, the JSON model ``dict``); validation against a model is
the engine's job when the tuples are written.

Every malformed entry raises one precise error naming the file, the entry (index, or line for ``.jsonl``/``.csv``,
and the YAML line where known) and what is wrong: ``TupleFileError`` for tuples, ``ModelFileError`` for models.

Usage::

    tuples = load_tuples("authz/tuples.yaml")
    model = load_model_file("authz/model.fga")

Modules: ``tuples`` (tuple files), ``models`` (model files), ``located_yaml`` (YAML with line numbers, also used
by store test files) and ``errors``.
"""

from __future__ import annotations

from .errors import FileFormatError, ModelFileError, TupleFileError
from .located_yaml import line_of, located_yaml_load, plain
from .models import MODEL_FILE_SUFFIXES, load_model_file, model_from_dsl_text, model_from_json_text
from .tuples import (
    TUPLE_FILE_SUFFIXES,
    load_tuples,
    parse_tuple_entries,
    parse_tuple_entry,
    tuple_line,
    tuple_to_dict,
)

__all__ = [
    "FileFormatError",
    "MODEL_FILE_SUFFIXES",
    "ModelFileError",
    "TUPLE_FILE_SUFFIXES",
    "TupleFileError",
    "line_of",
    "load_model_file",
    "load_tuples",
    "located_yaml_load",
    "model_from_dsl_text",
    "model_from_json_text",
    "parse_tuple_entries",
    "parse_tuple_entry",
    "plain",
    "tuple_line",
    "tuple_to_dict",
]
