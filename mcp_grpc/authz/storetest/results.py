"""The verdict on each assertion of a store test, with the ``fga model test`` style line that describes it."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

__all__ = ["AssertionResult"]


@dataclasses.dataclass(frozen=True, slots=True)
class AssertionResult:
    """The verdict on one relation of one assertion. ``got`` is None when evaluation failed (see ``error``)."""

    file: str
    test: str
    kind: str
    """``check``, ``list_objects`` or ``list_users``."""
    relation: str
    expected: Any
    got: Any
    error: str | None = None
    user: str | None = None
    object: str | None = None
    type: str | None = None
    user_filter: tuple[str, ...] | None = None
    context: Mapping[str, Any] | None = None

    @property
    def passed(self) -> bool:
        if self.error is not None or self.got is None:
            return False
        if self.kind == "check":
            return self.got == self.expected
        return sorted(self.got) == sorted(self.expected)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record: test, kind, user, object or type, relation, expected, got, error, passed."""
        record: dict[str, Any] = {"file": self.file, "test": self.test, "kind": self.kind}
        if self.user is not None:
            record["user"] = self.user
        if self.object is not None:
            record["object"] = self.object
        if self.type is not None:
            record["type"] = self.type
        if self.user_filter is not None:
            record["user_filter"] = list(self.user_filter)
        record["relation"] = self.relation
        if self.context:
            record["context"] = dict(self.context)
        record["expected"] = list(self.expected) if isinstance(self.expected, (list, tuple)) else self.expected
        record["got"] = sorted(self.got) if isinstance(self.got, (list, tuple)) else self.got
        record["error"] = self.error
        record["passed"] = self.passed
        return record

    def describe(self) -> str:
        """One line in the style of ``fga model test``:
        ``Check(user=..,relation=..,object=..): expected=.., got=..``."""
        context = f", context={dict(self.context)}" if self.context else ""
        if self.kind == "check":
            call = f"Check(user={self.user},relation={self.relation},object={self.object}{context})"
        elif self.kind == "list_objects":
            call = f"ListObjects(user={self.user},relation={self.relation},type={self.type}{context})"
        else:
            filters = ",".join(self.user_filter or ())
            call = f"ListUsers(object={self.object},relation={self.relation},user_filter={filters}{context})"
        got = "N/A" if self.got is None else _show(self.got)
        text = f"{call}: expected={_show(self.expected)}, got={got}"
        if self.error is not None:
            text += f", error={self.error}"
        return text


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(sorted(value)) + "]"
    return str(value)
