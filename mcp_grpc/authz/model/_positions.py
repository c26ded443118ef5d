"""Collecting model issues with their positions, found in the source lines as OpenFGA's language tooling finds them."""

from __future__ import annotations

import re
from typing import Any

from .errors import ModelIssue, Span

__all__ = ["IssueCollector"]

_SPACES = re.compile(r" {2,}")


class IssueCollector:
    """Collects issues; positions come from the source lines of the file the checked item was written in."""

    def __init__(
        self,
        lines: list[str] | None,
        meta: dict[str, Any] | None = None,
        sources: dict[str, list[str]] | None = None,
    ) -> None:
        self.lines = lines
        self.issues: list[ModelIssue] = []
        self.meta = meta or {}
        self.sources = sources
        self.types: dict[str, dict] = {}
        self.server = False

    def _focus(self, metadata: dict | None, fallback: dict | None = None) -> None:
        if self.sources is None:
            return
        for md in (metadata, fallback):
            file = ((md or {}).get("source_info") or {}).get("file")
            if file:
                self.lines = self.sources.get(file)
                self.meta = {"file": file, "module": (md or {}).get("module")}
                return
        self.lines, self.meta = None, {}

    def focus_type(self, type_name: str, td: dict | None = None) -> None:
        td = td if td is not None else self.types.get(type_name)
        self._focus((td or {}).get("metadata"))

    def focus_relation(self, type_name: str, relation: str, td: dict | None = None) -> None:
        td = td if td is not None else self.types.get(type_name)
        meta = (td or {}).get("metadata") or {}
        self._focus((meta.get("relations") or {}).get(relation), meta)

    def focus_condition(self, condition: dict) -> None:
        self._focus((condition or {}).get("metadata"))

    # positions, as the reference finds them
    def _find(self, pattern: str, skip: int | None = 0) -> int | None:
        if not self.lines:
            return None
        rx = re.compile(pattern)
        for i in range(max(skip or 0, 0), len(self.lines)):
            if rx.match(_SPACES.sub(" ", self.lines[i].strip())):
                return i
        return None

    def type_line(self, type_name: str, skip: int = 0) -> int | None:
        # Whole-name match: `type asset` must not find `type asset-category`.
        return self._find(r"(?:extend )?type " + re.escape(type_name) + r"(?:[\s#]|$)", skip)

    def relation_line(self, relation: str, skip: int | None = 0) -> int | None:
        return self._find(r"define " + re.escape(relation) + r" ?:", skip)

    def condition_line(self, name: str) -> int | None:
        return self._find(r"condition " + re.escape(name) + r" ?\(")

    def relation_line_in_type(self, type_name: str, relation: str) -> int | None:
        t = self.type_line(type_name)
        return self.relation_line(relation, t if t is not None else 0)

    def schema_line(self, version: str) -> int | None:
        return self._find(r"schema " + re.escape(version))

    def add(self, message: str, line_index: int | None, symbol: str, error_type: str, column_start=None, **extra):
        metadata: dict[str, Any] = {"symbol": symbol, "errorType": error_type}
        metadata.update({k: v for k, v in extra.items() if v is not None})
        metadata.update({k: v for k, v in self.meta.items() if v is not None})
        if line_index is None or not self.lines or line_index >= len(self.lines):
            self.issues.append(ModelIssue(message, None, None, metadata))
            return
        raw = self.lines[line_index]
        if column_start is None:
            column_start = self._word_index(raw, symbol)
        elif callable(column_start):
            column_start = column_start(raw)
        self.issues.append(
            ModelIssue(
                message,
                Span(line_index, line_index),
                Span(column_start, column_start + len(symbol)),
                metadata,
            )
        )

    @staticmethod
    def _word_index(raw: str, symbol: str) -> int:
        m = re.search(r"\b" + re.escape(symbol) + r"\b", raw)
        if m is None and symbol and _SAFE_PATTERN.fullmatch(symbol):
            # The reference builds an unescaped regex \bSYMBOL\b, so `user:*` finds `user` in `[user, user:*]`.
            # Only single-character quantifiers can occur in such symbols, so this cannot backtrack badly.
            m = re.search(r"\b" + symbol + r"\b", raw)
        return m.start() if m else 0


_SAFE_PATTERN = re.compile(r"[\w:*#/@ -]+")
