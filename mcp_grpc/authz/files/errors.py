"""The errors of file loading, each naming the file, the line where known and what is wrong."""

from __future__ import annotations

import os
import pathlib
from typing import Any, Mapping

__all__ = ["FileFormatError", "ModelFileError", "TupleFileError", "kind_of", "read_text"]


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


def read_text(file: pathlib.Path, error: type[FileFormatError]) -> str:
    """The UTF-8 text of ``file``; an unreadable file raises ``error`` naming it and why."""
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


def kind_of(value: Any) -> str:
    """How an error message names what it found instead (``a number``, ``a mapping``, ``nothing``...)."""
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
