"""Errors raised by the model language: every one carries positions into the text it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class Span:
    """A zero-based start/end pair (a line range, or a column range where end is exclusive)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class ModelIssue:
    """One syntax or semantic problem: the message, where it is, and what it is about.

    `line` and `column` are zero-based, as OpenFGA's language tooling reports them; `metadata` holds the
    reference's extra fields (`symbol`, `errorType`, `relation`, `typeName`, `module`, `file`, ...).
    """

    message: str
    line: Span | None = None
    column: Span | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def error_type(self) -> str | None:
        return self.metadata.get("errorType")

    def to_dict(self) -> dict[str, Any]:
        """The shape used by OpenFGA's conformance data (`msg`, `line`, `column`, `metadata`)."""
        out: dict[str, Any] = {"msg": self.message}
        if self.line is not None:
            out["line"] = {"start": self.line.start, "end": self.line.end}
        if self.column is not None:
            out["column"] = {"start": self.column.start, "end": self.column.end}
        if self.metadata:
            out["metadata"] = dict(self.metadata)
        return out

    def __str__(self) -> str:
        if self.line is None or self.column is None:
            return self.message
        return f"{self.message} (line {self.line.start + 1}, column {self.column.start + 1})"


class ModelError(ValueError):
    """Base of every model-language error."""

    def __init__(self, issues: list[ModelIssue] | ModelIssue | str) -> None:
        if isinstance(issues, str):
            issues = [ModelIssue(issues)]
        elif isinstance(issues, ModelIssue):
            issues = [issues]
        self.issues: list[ModelIssue] = list(issues)
        super().__init__(self._summary())

    @property
    def errors(self) -> list[ModelIssue]:
        return self.issues

    def _summary(self) -> str:
        n = len(self.issues)
        head = f"{n} {self.kind} error{'s' if n != 1 else ''}"
        return head + (": " + "; ".join(str(i) for i in self.issues[:5]) if self.issues else "")

    kind = "model"


class ModelSyntaxError(ModelError):
    """The DSL text does not follow the grammar (messages as ANTLR words them in OpenFGA's tooling)."""

    kind = "syntax"


class ModelValidationError(ModelError):
    """The model parses but is not a valid authorization model (undefined names, no entrypoint, ...)."""

    kind = "validation"
