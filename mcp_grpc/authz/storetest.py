"""Run OpenFGA CLI store test files (the ``fga model test`` format) on the embedded engine.

A store test file (``*.fga.yaml``) holds a model (``model``: DSL text, or ``model_file``), tuples (``tuples``,
``tuple_file``, ``tuple_files``) and ``tests``, each with its own optional ``tuples`` / ``tuple_file`` and
``check``, ``list_objects`` and ``list_users`` assertions. The reading follows the ``fga`` CLI (v0.8.2):

- unknown fields are errors; ``model`` wins over ``model_file``;
- inline tuples and tuple files add up (store tuples, then each test's own); a duplicate is a write error;
- file references are relative to the test file and may not leave its directory unless ``allow_external_files``;
- each test runs on a fresh store holding the store tuples plus its own;
- a ListObjects / ListUsers assertion compares the answers as unordered sets.

Results are one ``AssertionResult`` per (assertion, relation), in file order.

Usage::

    suite = load_store_test("authz/agents.fga.yaml")
    results = run_store_test(suite)
    assert all(result.passed for result in results)
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.files import (
    FileFormatError,
    TupleFileError,
    line_of,
    load_model_file,
    load_tuples,
    located_yaml_load,
    model_from_dsl_text,
    model_from_json_text,
    parse_tuple_entries,
    plain,
)

__all__ = [
    "AssertionResult",
    "CheckAssertion",
    "EvaluationError",
    "Evaluator",
    "ListObjectsAssertion",
    "ListUsersAssertion",
    "StoreTestError",
    "StoreTestFile",
    "TestCase",
    "build_engine",
    "engine_evaluator",
    "load_store_test",
    "run_store_test",
    "run_store_test_files",
]

_STORE_FIELDS = frozenset({"name", "model", "model_file", "tuples", "tuple_file", "tuple_files", "tests"})
_TEST_FIELDS = frozenset({"name", "description", "tuples", "tuple_file", "check", "list_objects", "list_users"})
_CHECK_FIELDS = frozenset({"user", "object", "context", "assertions"})
_LIST_OBJECTS_FIELDS = frozenset({"user", "type", "context", "assertions"})
_LIST_USERS_FIELDS = frozenset({"object", "user_filter", "context", "assertions"})
_USER_FILTER_FIELDS = frozenset({"type", "relation"})


class StoreTestError(FileFormatError):
    """A store test file that cannot be read: syntax, unknown or missing fields, wrong types, unreadable files."""


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


# --- Loading -----------------------------------------------------------------------------------------------------


def load_store_test(path: str | os.PathLike[str], *, allow_external_files: bool = False) -> StoreTestFile:
    """Read and validate a store test file, resolving ``model_file`` and tuple files relative to it."""
    file = pathlib.Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StoreTestError(path, "no such file") from None
    except IsADirectoryError:
        raise StoreTestError(path, "is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreTestError(path, f"cannot read: {exc}") from None
    try:
        document = located_yaml_load(text, path)
    except FileFormatError as exc:
        raise StoreTestError(path, exc.reason, line=exc.line) from None
    return _StoreReader(file, allow_external_files).read(document)


class _StoreReader:
    def __init__(self, file: pathlib.Path, allow_external_files: bool):
        self.file = file
        self.base = file.parent
        self.allow_external_files = allow_external_files

    def fail(self, reason: str, where: str | None = None, container: Any = None, key: Any = None) -> StoreTestError:
        line = line_of(container, key) if container is not None else None
        return StoreTestError(self.file, reason, where=where, line=line)

    def read(self, document: Any) -> StoreTestFile:
        if not isinstance(document, Mapping):
            raise self.fail("expected a mapping with model and tests at the top level", container=document)
        self.no_unknown_fields(document, _STORE_FIELDS, None)
        name = self.optional_string(document, "name", None) or ""
        model = self.read_model(document)
        tuples = self.read_tuples(document, None, allow_list_of_files=True)
        tests_node = document.get("tests")
        if tests_node is None:
            raise self.fail("'tests' is required", container=document)
        if not isinstance(tests_node, list):
            raise self.fail("'tests' must be a list", container=document, key="tests")
        tests = tuple(
            self.read_test(test, f"tests[{index}]", tests_node, index) for index, test in enumerate(tests_node)
        )
        return StoreTestFile(path=str(self.file), name=name, model=model, tuples=tuple(tuples), tests=tests)

    # fields

    def no_unknown_fields(self, node: Mapping[str, Any], allowed: frozenset[str], where: str | None) -> None:
        for key in node:
            if key not in allowed:
                raise self.fail(
                    f"unknown field {str(key)!r} (allowed: {', '.join(sorted(allowed))})", where, node, key
                )

    def optional_string(self, node: Mapping[str, Any], key: str, where: str | None) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(f"'{key}' must be a string", where, node, key)
        return value

    def required_string(self, node: Mapping[str, Any], key: str, where: str) -> str:
        value = self.optional_string(node, key, where)
        if not value:
            raise self.fail(f"'{key}' is required", where, node, key if key in node else None)
        return value

    def context(self, node: Mapping[str, Any], where: str) -> Mapping[str, Any] | None:
        value = node.get("context")
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise self.fail("'context' must be a mapping", where, node, "context")
        return plain(value)

    def mapping(self, node: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        value = node.get(key)
        if value is None:
            raise self.fail(f"'{key}' is required", where, node)
        if not isinstance(value, Mapping):
            raise self.fail(f"'{key}' must be a mapping of relation to expectation", where, node, key)
        return value

    # references to other files

    def resolve(self, reference: str, where: str | None, node: Mapping[str, Any], key: str) -> pathlib.Path:
        target = (self.base / reference).resolve()
        if not self.allow_external_files:
            base = self.base.resolve()
            if target != base and base not in target.parents:
                raise self.fail(
                    f"file reference {reference!r} leaves the test file's directory "
                    "(allow external files to permit it)",
                    where,
                    node,
                    key,
                )
        return target

    def read_model(self, document: Mapping[str, Any]) -> dict[str, Any]:
        inline = document.get("model")
        if inline is not None:
            if not isinstance(inline, str):
                raise self.fail("'model' must be a string holding the model DSL", None, document, "model")
            try:
                if inline.lstrip().startswith("{"):
                    return model_from_json_text(inline, self.file)
                return model_from_dsl_text(inline, self.file)
            except FileFormatError as exc:
                # A block literal starts on the line after its key: point at the offending line of this file.
                key_line = line_of(document, "model")
                line = key_line + exc.line if key_line is not None and exc.line is not None else key_line
                raise StoreTestError(self.file, exc.reason, where="model", line=line) from exc
        reference = self.optional_string(document, "model_file", None)
        if reference:
            return load_model_file(self.resolve(reference, None, document, "model_file"))
        raise self.fail("'model' or 'model_file' is required", container=document)

    def read_tuples(self, node: Mapping[str, Any], where: str | None, *, allow_list_of_files: bool) -> list[TupleKey]:
        tuples: list[TupleKey] = []
        inline = node.get("tuples")
        if inline is not None:
            inline_where = f"{where}.tuples" if where else "tuples"
            try:
                tuples.extend(parse_tuple_entries(inline, path=self.file, where=inline_where))
            except TupleFileError as exc:
                raise StoreTestError(self.file, exc.reason, where=exc.where, line=exc.line) from None
        references: list[tuple[str, str]] = []
        single = self.optional_string(node, "tuple_file", where)
        if single:
            references.append(("tuple_file", single))
        if allow_list_of_files and node.get("tuple_files") is not None:
            many = node["tuple_files"]
            if not isinstance(many, list) or not all(isinstance(item, str) for item in many):
                raise self.fail("'tuple_files' must be a list of file names", where, node, "tuple_files")
            references.extend(("tuple_files", item) for item in many)
        seen: set[TupleKey] = set()
        for key, reference in references:
            for loaded in load_tuples(self.resolve(reference, where, node, key)):
                identity = _tuple_identity(loaded)
                if identity not in seen:  # the CLI de-duplicates across tuple files (not against inline tuples)
                    seen.add(identity)
                    tuples.append(loaded)
        return tuples

    # tests

    def read_test(self, node: Any, where: str, parent: Any, index: int) -> TestCase:
        if not isinstance(node, Mapping):
            raise self.fail("each test must be a mapping", where, parent, index)
        self.no_unknown_fields(node, _TEST_FIELDS, where)
        name = self.optional_string(node, "name", where) or ""
        description = self.optional_string(node, "description", where) or ""
        tuples = self.read_tuples(node, where, allow_list_of_files=False)
        return TestCase(
            name=name,
            description=description,
            tuples=tuple(tuples),
            check=tuple(self.each(node, "check", where, self.read_check)),
            list_objects=tuple(self.each(node, "list_objects", where, self.read_list_objects)),
            list_users=tuple(self.each(node, "list_users", where, self.read_list_users)),
        )

    def each(
        self, node: Mapping[str, Any], key: str, where: str, reader: Callable[[Mapping[str, Any], str], Any]
    ) -> Iterable[Any]:
        items = node.get(key)
        if items is None:
            return []
        if not isinstance(items, list):
            raise self.fail(f"'{key}' must be a list", where, node, key)
        result = []
        for index, item in enumerate(items):
            item_where = f"{where}.{key}[{index}]"
            if not isinstance(item, Mapping):
                raise self.fail("expected a mapping", item_where, items, index)
            result.append(reader(item, item_where))
        return result

    def read_check(self, node: Mapping[str, Any], where: str) -> CheckAssertion:
        self.no_unknown_fields(node, _CHECK_FIELDS, where)
        assertions = self.mapping(node, "assertions", where)
        for relation, expected in assertions.items():
            if not isinstance(expected, bool):
                raise self.fail(f"assertion for {relation!r} must be true or false", where, assertions, relation)
        return CheckAssertion(
            user=self.required_string(node, "user", where),
            object=self.required_string(node, "object", where),
            assertions={str(relation): expected for relation, expected in assertions.items()},
            context=self.context(node, where),
        )

    def read_list_objects(self, node: Mapping[str, Any], where: str) -> ListObjectsAssertion:
        self.no_unknown_fields(node, _LIST_OBJECTS_FIELDS, where)
        assertions = self.mapping(node, "assertions", where)
        expected: dict[str, tuple[str, ...]] = {}
        for relation, objects in assertions.items():
            if objects is None:
                objects = []
            if not isinstance(objects, list) or not all(isinstance(item, str) for item in objects):
                raise self.fail(f"assertion for {relation!r} must be a list of objects", where, assertions, relation)
            expected[str(relation)] = tuple(objects)
        return ListObjectsAssertion(
            user=self.required_string(node, "user", where),
            type=self.required_string(node, "type", where),
            assertions=expected,
            context=self.context(node, where),
        )

    def read_list_users(self, node: Mapping[str, Any], where: str) -> ListUsersAssertion:
        self.no_unknown_fields(node, _LIST_USERS_FIELDS, where)
        filters_node = node.get("user_filter")
        if not isinstance(filters_node, list) or not filters_node:
            key = "user_filter" if "user_filter" in node else None
            raise self.fail("'user_filter' must be a non-empty list of {type, relation?}", where, node, key)
        filters: list[str] = []
        for index, entry in enumerate(filters_node):
            entry_where = f"{where}.user_filter[{index}]"
            if not isinstance(entry, Mapping):
                raise self.fail("expected a mapping with type and optional relation", entry_where, filters_node, index)
            self.no_unknown_fields(entry, _USER_FILTER_FIELDS, entry_where)
            type_name = self.required_string(entry, "type", entry_where)
            relation = self.optional_string(entry, "relation", entry_where)
            filters.append(f"{type_name}#{relation}" if relation else type_name)
        assertions = self.mapping(node, "assertions", where)
        expected: dict[str, tuple[str, ...]] = {}
        for relation, body in assertions.items():
            if not isinstance(body, Mapping):
                reason = f"assertion for {relation!r} must be a mapping with 'users'"
                raise self.fail(reason, where, assertions, relation)
            for key in body:
                if key != "users":
                    reason = f"unknown field {str(key)!r} in the assertion for {relation!r} (allowed: users)"
                    raise self.fail(reason, where, body, key)
            users = body.get("users") or []
            if not isinstance(users, list) or not all(isinstance(item, str) for item in users):
                raise self.fail(f"'users' for {relation!r} must be a list of users", where, body, "users")
            expected[str(relation)] = tuple(users)
        return ListUsersAssertion(
            object=self.required_string(node, "object", where),
            user_filters=tuple(filters),
            assertions=expected,
            context=self.context(node, where),
        )


def _tuple_identity(key: TupleKey) -> tuple[Any, ...]:
    return (key.user, key.relation, key.object, key.condition_name, repr(sorted((key.condition_context or {}).items())))


# --- Running -----------------------------------------------------------------------------------------------------


class Evaluator(Protocol):
    """One store (a model and its tuples) answering queries; errors are raised, answers returned."""

    def check(self, user: str, relation: str, object: str, context: Mapping[str, Any] | None) -> bool: ...

    def list_objects(
        self, user: str, relation: str, object_type: str, context: Mapping[str, Any] | None
    ) -> Sequence[str]: ...

    def list_users(
        self, object: str, relation: str, user_filters: Sequence[str], context: Mapping[str, Any] | None
    ) -> Sequence[str]: ...


EvaluatorFactory = Callable[[Mapping[str, Any], Sequence[TupleKey]], Evaluator]
"""Builds a fresh store from a JSON model and tuples (writing them; a rejected write raises)."""


class EvaluationError(Exception):
    """The engine answered with an error (OpenFGA's code in ``code`` where one applies)."""

    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


def build_engine(model: Mapping[str, Any], tuples: Sequence[TupleKey]) -> Any:
    """A fresh embedded ``Engine`` holding ``model`` (validated JSON) and ``tuples`` (written with OpenFGA's rules:
    an invalid or duplicate tuple raises the engine's ``FgaError``)."""
    from mcp_grpc.authz.engine import Engine  # late: the engine is not needed to load and validate files

    engine = Engine()
    engine.write_model(dict(model))
    if tuples:
        engine.write(list(tuples))
    return engine


def engine_evaluator(model: Mapping[str, Any], tuples: Sequence[TupleKey]) -> Evaluator:
    """A fresh embedded engine holding ``model`` and ``tuples`` (the default evaluator)."""
    return _EngineEvaluator(build_engine(model, tuples))


class _EngineEvaluator:
    """Adapts the embedded engine (``mcp_grpc.authz.engine.Engine``) to ``Evaluator``."""

    def __init__(self, engine: Any):
        self.engine = engine

    def check(self, user: str, relation: str, object: str, context: Mapping[str, Any] | None) -> bool:
        from mcp_grpc.authz.backend import Outcome

        result = self.engine.check(user, relation, object, context=context)
        if result.outcome is Outcome.ERROR:
            raise EvaluationError(result.error or "error", result.error_code)
        return result.outcome is Outcome.ALLOWED

    def list_objects(
        self, user: str, relation: str, object_type: str, context: Mapping[str, Any] | None
    ) -> Sequence[str]:
        return _list_items(self.engine.list_objects(user, relation, object_type, context=context))

    def list_users(
        self, object: str, relation: str, user_filters: Sequence[str], context: Mapping[str, Any] | None
    ) -> Sequence[str]:
        return _list_items(self.engine.list_users(object, relation, list(user_filters), context=context))


def _list_items(result: Any) -> Sequence[str]:
    error = getattr(result, "error", None)
    if error is not None:
        raise EvaluationError(error, getattr(result, "error_code", None))
    return list(getattr(result, "items", result))


def run_store_test(suite: StoreTestFile, *, evaluator_factory: EvaluatorFactory | None = None) -> list[AssertionResult]:
    """Every assertion of every test of ``suite``, each test on a fresh store (store tuples + its own)."""
    factory = evaluator_factory or engine_evaluator
    results: list[AssertionResult] = []
    for test in suite.tests:
        try:
            evaluator: Evaluator | None = factory(suite.model, suite.tuples + test.tuples)
            setup_error = None
        except Exception as exc:  # a rejected model or tuple fails every assertion of this test, with the reason
            evaluator = None
            setup_error = f"cannot set up the store: {_error_text(exc)}"
        results.extend(_run_test(suite.path, test, evaluator, setup_error))
    return results


def _run_test(path: str, test: TestCase, evaluator: Evaluator | None, setup_error: str | None) -> list[AssertionResult]:
    results: list[AssertionResult] = []
    common = {"file": path, "test": test.name}

    def evaluate(call: Callable[[], Any]) -> tuple[Any, str | None]:
        if evaluator is None:
            return None, setup_error
        try:
            return call(), None
        except Exception as exc:  # an engine error is a result, reported against its assertion
            return None, _error_text(exc)

    for check in test.check:
        for relation, expected in check.assertions.items():
            got, error = evaluate(
                lambda: evaluator.check(check.user, relation, check.object, check.context)  # type: ignore[union-attr]
            )
            results.append(
                AssertionResult(
                    **common, kind="check", user=check.user, object=check.object, relation=relation,
                    context=check.context, expected=expected, got=got, error=error,
                )
            )
    for query in test.list_objects:
        for relation, expected_objects in query.assertions.items():
            got, error = evaluate(
                lambda: tuple(
                    evaluator.list_objects(query.user, relation, query.type, query.context)  # type: ignore[union-attr]
                )
            )
            results.append(
                AssertionResult(
                    **common, kind="list_objects", user=query.user, type=query.type, relation=relation,
                    context=query.context, expected=expected_objects, got=got, error=error,
                )
            )
    for query in test.list_users:
        for relation, expected_users in query.assertions.items():
            got, error = evaluate(
                lambda: tuple(
                    evaluator.list_users(  # type: ignore[union-attr]
                        query.object, relation, query.user_filters, query.context
                    )
                )
            )
            results.append(
                AssertionResult(
                    **common, kind="list_users", object=query.object, user_filter=query.user_filters,
                    relation=relation, context=query.context, expected=expected_users, got=got, error=error,
                )
            )
    return results


def _error_text(exc: BaseException) -> str:
    code = getattr(exc, "code", None)
    text = str(exc) or type(exc).__name__
    return f"{text} (code {code})" if isinstance(code, int) and str(code) not in text else text


def run_store_test_files(
    paths: Sequence[str | os.PathLike[str]],
    *,
    allow_external_files: bool = False,
    evaluator_factory: EvaluatorFactory | None = None,
) -> tuple[list[AssertionResult], list[StoreTestError | FileFormatError]]:
    """Load and run several files; a file that cannot be loaded is reported in the second list, not raised."""
    results: list[AssertionResult] = []
    load_errors: list[StoreTestError | FileFormatError] = []
    for path in paths:
        try:
            suite = load_store_test(path, allow_external_files=allow_external_files)
        except FileFormatError as exc:
            load_errors.append(exc)
            continue
        results.extend(run_store_test(suite, evaluator_factory=evaluator_factory))
    return results, load_errors
