"""Shared test fixtures. Area-specific fixtures live in each tests/<area>/conftest.py."""

from __future__ import annotations

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
# ../shared beside the project root: OpenFGA's conformance data, shared with CI; read in place, never copied.
SHARED_DIR = REPO_ROOT.parent / "shared"
CONFORMANCE_DIR = SHARED_DIR / "conformance"


@pytest.fixture(scope="session")
def conformance_dir() -> pathlib.Path:
    if not CONFORMANCE_DIR.is_dir():
        pytest.skip(f"conformance data not found at {CONFORMANCE_DIR} (expected ../shared/conformance beside the repo)")
    return CONFORMANCE_DIR
