"""The engine's one exception type, carrying OpenFGA's numeric error codes.

Validation of a request (bad user or object string, unknown type or relation, an invalid contextual tuple, a write
that breaks the model's rules) raises :class:`FgaError` before any evaluation. Resolution errors found while
evaluating (depth limit, a condition that cannot be evaluated) are not raised by ``check``: they come back as an
``error`` outcome carrying the same code.
"""

from __future__ import annotations

# OpenFGA's error codes (openfga/api ErrorCode), the ones the engine produces.
VALIDATION_ERROR = 2000
"""A malformed request, more than 100 contextual tuples, or a condition that cannot be evaluated."""
AUTHORIZATION_MODEL_NOT_FOUND = 2001
RESOLUTION_TOO_COMPLEX = 2002
"""The resolution exceeded the depth limit (25 userset / tuple-to-userset hops)."""
INVALID_WRITE_INPUT = 2003
CANNOT_ALLOW_DUPLICATE_TUPLES_IN_ONE_REQUEST = 2004
WRITE_FAILED_DUE_TO_INVALID_INPUT = 2017
"""Writing a tuple that exists, or deleting one that does not."""
LATEST_AUTHORIZATION_MODEL_NOT_FOUND = 2020
TYPE_NOT_FOUND = 2021
RELATION_NOT_FOUND = 2022
INVALID_TUPLE = 2027


class FgaError(Exception):
    """An OpenFGA-style error: ``code`` is OpenFGA's numeric error code, ``message`` the reason."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{message} (code {code})")
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"FgaError(code={self.code}, message={self.message!r})"


def validation_error(message: str) -> FgaError:
    return FgaError(VALIDATION_ERROR, message)


def invalid_tuple(message: str) -> FgaError:
    return FgaError(INVALID_TUPLE, message)
