"""Validation of object ids, type names and relation names, as OpenFGA's language tooling checks them."""

from __future__ import annotations

import re

from .validate import RELATION_NAME_RULE, RESERVED_NAMES, TYPE_NAME_RULE

__all__ = ["OBJECT_ID_RULE", "is_valid_object_id", "validate_object_id", "is_valid_type_name", "is_valid_relation_name"]

# Letters, digits and `_ | * @ . + / -`; never `#`, `:`, whitespace; never a leading `*`.
OBJECT_ID_RULE = r"^[\w|@.+/\-][\w|*@.+/\-]*$"
_OBJECT_ID = re.compile(OBJECT_ID_RULE)
_TYPE = re.compile(TYPE_NAME_RULE)
_RELATION = re.compile(RELATION_NAME_RULE)


def is_valid_object_id(object_id: str) -> bool:
    return isinstance(object_id, str) and _OBJECT_ID.match(object_id) is not None and "\n" not in object_id


def validate_object_id(object_id: str) -> None:
    """Raise ValueError with the rule when `object_id` is not a valid OpenFGA object id."""
    if not is_valid_object_id(object_id):
        raise ValueError(f"object id {object_id!r} does not match the rule {OBJECT_ID_RULE!r}")


def is_valid_type_name(name: str) -> bool:
    return isinstance(name, str) and name not in RESERVED_NAMES and _TYPE.match(name) is not None


def is_valid_relation_name(name: str) -> bool:
    return isinstance(name, str) and name not in RESERVED_NAMES and _RELATION.match(name) is not None
