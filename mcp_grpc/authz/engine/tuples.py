"""Relationship tuples: parsing OpenFGA's string forms and the engine's immutable tuple record."""

from __future__ import annotations

import dataclasses
import functools
import json
from typing import Any, Mapping

from mcp_grpc.authz import names
from mcp_grpc.authz.backend import TupleKey

from .errors import FgaError, VALIDATION_ERROR

__all__ = ["Tuple", "UserRef", "parse_object", "parse_user", "to_tuple", "freeze_context"]


@dataclasses.dataclass(frozen=True, slots=True)
class UserRef:
    """A parsed user: ``type:id``, ``type:*`` (``id == '*'``) or ``type:id#relation`` (a userset)."""

    type: str
    id: str
    relation: str | None = None

    @property
    def is_wildcard(self) -> bool:
        return self.id == names.WILDCARD and self.relation is None

    @property
    def is_userset(self) -> bool:
        return self.relation is not None

    @property
    def object(self) -> str:
        return f"{self.type}:{self.id}"

    def __str__(self) -> str:
        return f"{self.type}:{self.id}#{self.relation}" if self.relation else f"{self.type}:{self.id}"


@functools.lru_cache(maxsize=8192)
def parse_object(text: str, what: str = "object") -> tuple[str, str]:
    """``type:id`` to ``(type, id)``; raises FgaError 2000 on any other shape."""
    parts = names.split_object(text)
    if parts is None:
        raise FgaError(VALIDATION_ERROR, f"invalid {what} {text!r}: expected 'type:id'")
    return parts


@functools.lru_cache(maxsize=8192)
def parse_user(text: str) -> UserRef:
    """``type:id``, ``type:*`` or ``type:id#relation``; raises FgaError 2000 on any other shape."""
    parts = names.split_user(text)
    if parts is None:
        raise FgaError(VALIDATION_ERROR, f"invalid user {text!r}: expected 'type:id', 'type:*' or 'type:id#relation'")
    return UserRef(*parts)


def freeze_context(context: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """A condition context is kept as given; None and {} are both 'no context'."""
    if not context:
        return None
    return dict(context)


@dataclasses.dataclass(frozen=True, slots=True)
class Tuple:
    """One stored or contextual tuple. Identity (for writes, deletes and duplicates) is (object, relation, user)."""

    object: str
    relation: str
    user: str
    condition_name: str | None = None
    condition_context: Mapping[str, Any] | None = dataclasses.field(default=None, compare=False, hash=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.object, self.relation, self.user)

    def __str__(self) -> str:
        text = f"{self.object}#{self.relation}@{self.user}"
        if self.condition_name:
            ctx = json.dumps(dict(self.condition_context or {}), sort_keys=True, default=str)
            text += f" (with {self.condition_name} {ctx})"
        return text

    def to_key(self) -> TupleKey:
        return TupleKey(self.user, self.relation, self.object, self.condition_name, self.condition_context)


def to_tuple(value: Any) -> Tuple:
    """Accept a :class:`Tuple`, a backend ``TupleKey``, a 3-tuple or an OpenFGA-style dict
    (``{"user", "relation", "object", "condition": {"name", "context"}}``)."""
    if isinstance(value, Tuple):
        return value
    if type(value) is dict:  # the common input, without the slow ABC check of Mapping (a bulk load's hot path)
        cond = value.get("condition")
        if not cond:
            name = ctx = None
        else:
            name = cond.get("name") if isinstance(cond, Mapping) else None
            ctx = cond.get("context") if isinstance(cond, Mapping) else None
        user, relation, obj = value.get("user"), value.get("relation"), value.get("object")
        if type(user) is str and type(relation) is str and type(obj) is str:
            return Tuple(obj, relation, user, name or None, freeze_context(ctx) if ctx is not None else None)
    if isinstance(value, TupleKey):
        return Tuple(value.object, value.relation, value.user, value.condition_name or None,
                     freeze_context(value.condition_context))
    if isinstance(value, Mapping):
        cond = value.get("condition") or {}
        name = cond.get("name") if isinstance(cond, Mapping) else None
        ctx = cond.get("context") if isinstance(cond, Mapping) else None
        for field in ("user", "relation", "object"):
            if not isinstance(value.get(field), str):
                raise FgaError(VALIDATION_ERROR, f"tuple is missing {field!r}: {dict(value)!r}")
        return Tuple(value["object"], value["relation"], value["user"], name or None, freeze_context(ctx))
    if isinstance(value, (tuple, list)) and len(value) == 3:
        user, relation, obj = value
        return Tuple(str(obj), str(relation), str(user))
    raise FgaError(VALIDATION_ERROR, f"not a tuple: {value!r}")
