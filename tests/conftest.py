"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py; shared helpers in tests/support."""

from __future__ import annotations

import pathlib

import pytest

from tests.support.paths import CONFORMANCE_DIR


@pytest.fixture(scope="session")
def conformance_dir() -> pathlib.Path:
    if not CONFORMANCE_DIR.is_dir():
        pytest.skip(f"conformance data not found at {CONFORMANCE_DIR} (expected ../shared/conformance beside the repo)")
    return CONFORMANCE_DIR
