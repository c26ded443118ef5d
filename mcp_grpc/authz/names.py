"""OpenFGA's name grammar, in one place: type, relation and condition names, object ids, objects and users.

Every reader of these strings (the embedded engine, the model validator, tuple and store test files, the call
policy) asks this module, so that they all accept and refuse the same strings.

Names (openfga/language ``validate-rules``): a type or relation name has none of ``: # @ *`` or whitespace, and
is 1 to 254 (type) or 1 to 50 (relation) characters; ``self`` and ``this`` are reserved. An OpenFGA server, when
a model is written, checks the characters but not the lengths (``limited=False``).

Wire forms (what an OpenFGA server takes in a tuple or a query: openfga/api's field rules and ``pkg/tuple``):

- an object is ``type:id``: a type of 1 to 254 characters with none of ``: # @`` or whitespace, one ``:``, an id
  with no ``:``, ``#`` or whitespace (and not ``*``), at most 256 characters in all;
- a user is ``type:id``, ``type:*`` (every object of the type) or ``type:id#relation`` (a userset; the relation
  has 1 to 50 characters, none of ``: # @`` or whitespace), at most 512 bytes of UTF-8.

The API allows ``*`` inside wire types and relations; the model's names never hold one, so such a string is
refused later, as naming no type or relation of the model.

``split_object`` and ``split_user`` parse them; ``object_problem``, ``user_problem`` and ``relation_problem`` say
why a string is not one (for error messages), and accept exactly what the parsers accept.

Object ids in store files and models (``OBJECT_ID_RULE``) follow the language tooling's stricter alphabet; ids that
this project builds itself use ``PORTABLE_ID_CHARS``, which every OpenFGA validator accepts.

Callers: ``spiffe_id_to_user`` gives the FGA user of a SPIFFE ID (``spiffe://example.org/ns/prod/sa/billing`` ->
``agent:example.org/ns/prod/sa/billing``) and ``user_to_spiffe_id`` reverses it.
"""

from __future__ import annotations

import re
import string

__all__ = [
    "CONDITION_NAME_RULE",
    "DEFAULT_USER_TYPE",
    "MAX_OBJECT_LENGTH",
    "MAX_RELATION_NAME_LENGTH",
    "MAX_TYPE_NAME_LENGTH",
    "MAX_USER_BYTES",
    "OBJECT_ID_RULE",
    "PORTABLE_ID_CHARS",
    "RELATION_NAME_RULE",
    "RESERVED_NAMES",
    "SPIFFE_SCHEME",
    "TYPE_NAME_RULE",
    "WILDCARD",
    "is_condition_name",
    "is_portable_id",
    "is_valid_object_id",
    "is_valid_relation_name",
    "is_valid_type_name",
    "is_wire_relation",
    "matches_relation_rule",
    "matches_type_rule",
    "object_problem",
    "relation_problem",
    "spiffe_id_to_user",
    "split_object",
    "split_user",
    "user_problem",
    "user_to_spiffe_id",
    "validate_object_id",
]

# --- names -------------------------------------------------------------------------------------------------------

MAX_TYPE_NAME_LENGTH = 254
MAX_RELATION_NAME_LENGTH = 50
TYPE_NAME_RULE = r"^[^:#@\*\s]{1,254}$"
"""The language tooling's rule for type names, as its messages quote it."""
RELATION_NAME_RULE = r"^[^:#@\*\s]{1,50}$"
"""The language tooling's rule for relation names, as its messages quote it."""
RESERVED_NAMES = ("self", "this")
"""Neither a type nor a relation may be named so."""
CONDITION_NAME_RULE = r"^[A-Za-z_][A-Za-z0-9_-]*$"
"""A condition name is an identifier of the model language."""

_NAME_CHAR = r"[^:#@*\s]"
_TYPE_NAME = re.compile(rf"{_NAME_CHAR}{{1,{MAX_TYPE_NAME_LENGTH}}}")
_RELATION_NAME = re.compile(rf"{_NAME_CHAR}{{1,{MAX_RELATION_NAME_LENGTH}}}")
_UNLIMITED_NAME = re.compile(rf"{_NAME_CHAR}+")
_CONDITION_NAME = re.compile(CONDITION_NAME_RULE[1:-1])


def matches_type_rule(name: str, *, limited: bool = True) -> bool:
    """Whether ``name`` has a type name's characters (and length, unless ``limited=False``); reserved names pass."""
    return isinstance(name, str) and (_TYPE_NAME if limited else _UNLIMITED_NAME).fullmatch(name) is not None


def matches_relation_rule(name: str, *, limited: bool = True) -> bool:
    """Whether ``name`` has a relation name's characters (and length, unless ``limited=False``)."""
    return isinstance(name, str) and (_RELATION_NAME if limited else _UNLIMITED_NAME).fullmatch(name) is not None


def is_valid_type_name(name: str) -> bool:
    """A type name the language tooling accepts: ``TYPE_NAME_RULE``, and not reserved."""
    return matches_type_rule(name) and name not in RESERVED_NAMES


def is_valid_relation_name(name: str) -> bool:
    """A relation name the language tooling accepts: ``RELATION_NAME_RULE``, and not reserved."""
    return matches_relation_rule(name) and name not in RESERVED_NAMES


def is_condition_name(name: str) -> bool:
    return isinstance(name, str) and _CONDITION_NAME.fullmatch(name) is not None


# --- object ids ----------------------------------------------------------------------------------------------------

OBJECT_ID_RULE = r"^[\w|@.+/\-][\w|*@.+/\-]*$"
"""The language tooling's rule for object ids: letters, digits and ``_ | * @ . + / -``, never a leading ``*``."""
_OBJECT_ID = re.compile(OBJECT_ID_RULE[1:-1])

PORTABLE_ID_CHARS = frozenset(string.ascii_letters + string.digits + "_|@.+/-")
"""Characters every OpenFGA validator accepts anywhere in an object id (``OBJECT_ID_RULE`` in ASCII, less ``*``)."""


def is_valid_object_id(object_id: str) -> bool:
    """Whether ``object_id`` matches ``OBJECT_ID_RULE`` (the whole string: a trailing newline is refused)."""
    return isinstance(object_id, str) and _OBJECT_ID.fullmatch(object_id) is not None


def validate_object_id(object_id: str) -> None:
    """Raise ValueError with the rule when ``object_id`` is not a valid OpenFGA object id."""
    if not is_valid_object_id(object_id):
        raise ValueError(f"object id {object_id!r} does not match the rule {OBJECT_ID_RULE!r}")


def is_portable_id(text: str) -> bool:
    """Whether ``text`` is non-empty and made only of ``PORTABLE_ID_CHARS``."""
    return isinstance(text, str) and bool(text) and PORTABLE_ID_CHARS.issuperset(text)


# --- objects and users (wire forms) ----------------------------------------------------------------------------

WILDCARD = "*"
MAX_OBJECT_LENGTH = 256
"""OpenFGA's limit on an object ``type:id`` (its API's ``^[^\\s]{2,256}$``)."""
MAX_USER_BYTES = 512
"""OpenFGA's limit on a user string, in bytes of UTF-8."""

_WIRE_TYPE = rf"[^:#@\s]{{1,{MAX_TYPE_NAME_LENGTH}}}"
_WIRE_RELATION = re.compile(rf"[^:#@\s]{{1,{MAX_RELATION_NAME_LENGTH}}}")
_ID = r"[^:#\s]+"
_OBJECT = re.compile(rf"({_WIRE_TYPE}):({_ID})")
_USER = re.compile(rf"({_WIRE_TYPE}):({_ID})(?:#({_WIRE_RELATION.pattern}))?")


def _user_fits(text: str) -> bool:
    return len(text) <= MAX_USER_BYTES and (text.isascii() or len(text.encode("utf-8")) <= MAX_USER_BYTES)


def split_object(text: str) -> tuple[str, str] | None:
    """``type:id`` as ``(type, id)``; None when ``text`` is not an object (a wildcard id is not one)."""
    match = _OBJECT.fullmatch(text) if isinstance(text, str) and len(text) <= MAX_OBJECT_LENGTH else None
    if match is None or match.group(2) == WILDCARD:
        return None
    return match.group(1), match.group(2)


def split_user(text: str) -> tuple[str, str, str | None] | None:
    """``type:id``, ``type:*`` or ``type:id#relation`` as ``(type, id, relation or None)``; None otherwise."""
    match = _USER.fullmatch(text) if isinstance(text, str) and _user_fits(text) else None
    if match is None or (match.group(2) == WILDCARD and match.group(3) is not None):
        return None
    return match.group(1), match.group(2), match.group(3)


def _type_and_id_problem(text: str) -> str | None:
    type_name, sep, object_id = text.partition(":")
    if not sep:
        return "must be 'type:id'"
    if not type_name:
        return "has an empty type"
    if not object_id:
        return "has an empty id"
    if "#" in text:
        return "must not contain '#'"
    if ":" in object_id:
        return "must contain exactly one ':'"
    if any(ch.isspace() for ch in text):
        return "must not contain whitespace"
    if "@" in type_name:
        return "has '@' in its type"
    if len(type_name) > MAX_TYPE_NAME_LENGTH:
        return f"has a type longer than {MAX_TYPE_NAME_LENGTH} characters"
    return None


def object_problem(text: str) -> str | None:
    """Why ``text`` is not an object (``type:id``), or None when ``split_object`` accepts it."""
    if split_object(text) is not None:
        return None
    reason = _type_and_id_problem(text)
    if reason is None and text.endswith(":" + WILDCARD):
        return "must name one object, not the wildcard '*'"
    if reason is None and len(text) > MAX_OBJECT_LENGTH:
        return f"is longer than {MAX_OBJECT_LENGTH} characters"
    return reason or "must be 'type:id'"


def user_problem(text: str) -> str | None:
    """Why ``text`` is not ``type:id``, ``type:*`` or ``type:id#relation``, or None when ``split_user`` accepts it."""
    if split_user(text) is not None:
        return None
    base, sep, relation = text.partition("#")
    if sep:
        if not relation:
            return "has an empty relation after '#'"
        if relation_problem(relation) is not None:
            return "has a malformed relation after '#'"
    reason = _type_and_id_problem(base)
    if reason is None and sep and base.endswith(":" + WILDCARD):
        return "must not combine a wildcard with '#relation'"
    if reason is None and not _user_fits(text):
        return f"is longer than {MAX_USER_BYTES} bytes"
    return reason or "must be 'type:id', 'type:*' or 'type:id#relation'"


def is_wire_relation(text: str) -> bool:
    """Whether ``text`` is a relation as OpenFGA's API takes it (1 to 50 characters, none of ``: # @``, whitespace)."""
    return isinstance(text, str) and _WIRE_RELATION.fullmatch(text) is not None


def relation_problem(text: str) -> str | None:
    """Why ``text`` is not a relation (``is_wire_relation``), or None."""
    if is_wire_relation(text):
        return None
    if not text:
        return "must not be empty"
    if any(ch in ":#@" or ch.isspace() for ch in text):
        return "must not contain ':', '#', '@' or whitespace"
    return f"must be at most {MAX_RELATION_NAME_LENGTH} characters"


# --- SPIFFE IDs as FGA users -------------------------------------------------------------------------------------

SPIFFE_SCHEME = "spiffe://"
DEFAULT_USER_TYPE = "agent"


def spiffe_id_to_user(spiffe_id: str, user_type: str = DEFAULT_USER_TYPE) -> str:
    """The FGA user of a SPIFFE ID: the scheme is dropped, since OpenFGA refuses ``:`` in an id.

    ``spiffe://example.org/ns/prod/sa/billing`` -> ``agent:example.org/ns/prod/sa/billing``.
    """
    return f"{user_type}:{spiffe_id.removeprefix(SPIFFE_SCHEME)}"


def user_to_spiffe_id(user: str, user_type: str = DEFAULT_USER_TYPE) -> str:
    """The SPIFFE ID of an FGA user made by ``spiffe_id_to_user``: ``agent:example.org/x`` -> ``spiffe://example.org/x``.

    Raises ValueError when ``user`` is not a single ``user_type`` object (a wildcard, a userset, another type).
    """
    parts = split_user(user)
    if parts is None or parts[0] != user_type or parts[1] == WILDCARD or parts[2] is not None:
        raise ValueError(f"{user!r} is not the FGA user of a SPIFFE ID ('{user_type}:<trust domain>/<path>')")
    return SPIFFE_SCHEME + parts[1]
