"""OpenFGA CLI store test files (the ``fga model test`` format), read and run on the embedded engine.

A store test file (``*.fga.yaml``) holds a model (``model``: DSL text, or ``model_file``), tuples (``tuples``,
``tuple_file``, ``tuple_files``) and ``tests``, each with its own optional ``tuples`` / ``tuple_file`` and
``check``, ``list_objects`` and ``list_users`` assertions.

Usage::

    suite = load_store_test("authz/agents.fga.yaml")
    results = run_store_test(suite)
    assert all(result.passed for result in results)

Modules: ``schema`` (the file format, declared once), ``parser`` (reading a file as the ``fga`` CLI does, and
checking its shape as OpenFGA's language tooling does), ``suite`` (what a file reads as), ``runner`` (running it)
and ``results`` (the verdict on each assertion).
"""

from __future__ import annotations

from .parser import StoreFileError, StoreTestError, load_store_test, validate_store_file
from .results import AssertionResult
from .runner import (
    EvaluationError,
    Evaluator,
    EvaluatorFactory,
    build_engine,
    engine_evaluator,
    run_store_test,
    run_store_test_files,
)
from .suite import CheckAssertion, ListObjectsAssertion, ListUsersAssertion, StoreTestFile, TestCase

__all__ = [
    "AssertionResult",
    "CheckAssertion",
    "EvaluationError",
    "Evaluator",
    "EvaluatorFactory",
    "ListObjectsAssertion",
    "ListUsersAssertion",
    "StoreFileError",
    "StoreTestError",
    "StoreTestFile",
    "TestCase",
    "build_engine",
    "engine_evaluator",
    "load_store_test",
    "run_store_test",
    "run_store_test_files",
    "validate_store_file",
]
