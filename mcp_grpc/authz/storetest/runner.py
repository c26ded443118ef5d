"""Run store test files on the embedded engine: each test on a fresh store (the file's tuples plus its own).

A ListObjects / ListUsers assertion compares the answers as unordered sets. Results are one ``AssertionResult`` per
(assertion, relation), in file order. Another engine can be tested through ``evaluator_factory``.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Protocol, Sequence

from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.files import FileFormatError

from .parser import StoreTestError, load_store_test
from .results import AssertionResult
from .suite import StoreTestFile, TestCase

__all__ = [
    "EvaluationError",
    "Evaluator",
    "EvaluatorFactory",
    "build_engine",
    "engine_evaluator",
    "run_store_test",
    "run_store_test_files",
]


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
