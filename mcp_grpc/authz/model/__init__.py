"""The OpenFGA model language: DSL <-> JSON authorization models, validation, modular models.

Usage::

    from mcp_grpc.authz.model import parse_dsl
    model = parse_dsl(open("model.fga").read())   # the JSON model as `fga model transform` gives it
"""

from .dsl import parse_dsl
from .errors import ModelError, ModelIssue, ModelSyntaxError, ModelValidationError, Span

__all__ = [
    "ModelError",
    "ModelIssue",
    "ModelSyntaxError",
    "ModelValidationError",
    "Span",
    "parse_dsl",
]
