"""The OpenFGA model language: DSL <-> JSON authorization models, validation, modular models.

Usage::

    from mcp_grpc.authz.model import load_model, parse_dsl, to_dsl
    model = load_model(open("model.fga").read())  # DSL or JSON in; validated JSON model dict out
    model = parse_dsl(text)                        # transform only, as `fga model transform`
    text = to_dsl(model)                           # JSON back to DSL text
    model = load_modular("fga.mod")                # schema 1.2: fga.mod + module files, combined and validated

Errors are ModelSyntaxError / ModelValidationError (both ModelError), each with `.issues`: ModelIssue
objects with message, zero-based line and column spans, and OpenFGA's metadata (`symbol`, `errorType`, ...).
"""

from mcp_grpc.authz.names import (
    OBJECT_ID_RULE,
    RELATION_NAME_RULE,
    TYPE_NAME_RULE,
    is_valid_object_id,
    is_valid_relation_name,
    is_valid_type_name,
    validate_object_id,
)

from .dsl import clean_comments, parse_dsl, parse_dsl_with_errors
from .errors import ModelError, ModelIssue, ModelSyntaxError, ModelValidationError, Span
from .loader import load_model, normalize_json_model, parse_and_validate_dsl
from .modules import FgaMod, ModuleError, load_modular, module_names, parse_fga_mod, transform_modules
from .to_dsl import to_dsl
from .validate import collect_issues, validate_model

__all__ = [
    "FgaMod",
    "ModuleError",
    "load_modular",
    "module_names",
    "parse_fga_mod",
    "transform_modules",
    "ModelError",
    "ModelIssue",
    "ModelSyntaxError",
    "ModelValidationError",
    "OBJECT_ID_RULE",
    "RELATION_NAME_RULE",
    "Span",
    "TYPE_NAME_RULE",
    "clean_comments",
    "collect_issues",
    "is_valid_object_id",
    "is_valid_relation_name",
    "is_valid_type_name",
    "load_model",
    "normalize_json_model",
    "parse_and_validate_dsl",
    "parse_dsl",
    "parse_dsl_with_errors",
    "to_dsl",
    "validate_model",
    "validate_object_id",
]
