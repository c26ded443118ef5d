"""Model files: ``.fga`` (the DSL), ``.json`` (the JSON model as OpenFGA's API takes it) or ``fga.mod`` (a
modular model), each read into the JSON authorization model and validated as ``fga model test`` validates it."""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any, Mapping

from .errors import ModelFileError, kind_of, read_text

__all__ = ["MODEL_FILE_SUFFIXES", "load_model_file", "model_from_dsl_text", "model_from_json_text"]

MODEL_FILE_SUFFIXES = (".fga", ".json", ".mod")


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
    text = read_text(file, ModelFileError)
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
        raise ModelFileError(path, f"expected a JSON object, got {kind_of(document)}")
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
