"""A store test file, read: its model, tuples and tests, each test with its assertions."""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from mcp_grpc.authz.backend import TupleKey

__all__ = ["CheckAssertion", "ListObjectsAssertion", "ListUsersAssertion", "StoreTestFile", "TestCase"]


@dataclasses.dataclass(frozen=True, slots=True)
class CheckAssertion:
    user: str
    object: str
    assertions: Mapping[str, bool]
    context: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ListObjectsAssertion:
    user: str
    type: str
    assertions: Mapping[str, tuple[str, ...]]
    context: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class ListUsersAssertion:
    object: str
    user_filters: tuple[str, ...]
    """``type`` or ``type#relation``, as the backend seam takes them."""
    assertions: Mapping[str, tuple[str, ...]]
    context: Mapping[str, Any] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class TestCase:
    __test__ = False  # not a pytest class

    name: str
    description: str
    tuples: tuple[TupleKey, ...]
    check: tuple[CheckAssertion, ...]
    list_objects: tuple[ListObjectsAssertion, ...]
    list_users: tuple[ListUsersAssertion, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class StoreTestFile:
    path: str
    name: str
    model: Mapping[str, Any]
    """The JSON authorization model."""
    tuples: tuple[TupleKey, ...]
    tests: tuple[TestCase, ...]
