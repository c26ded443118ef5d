"""Reliability suite setup: reuse the Workload API harness (tests/identity/workload) and the fake OpenFGA server
(tests/authz), and one development Workload API shared by the tests that do not rotate or restart it."""

from __future__ import annotations

import pathlib
import sys
from typing import Iterator

import pytest

_TESTS = pathlib.Path(__file__).resolve().parent.parent
for _path in (_TESTS / "identity" / "workload", _TESTS / "authz"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from reliability_support import workload_api  # noqa: E402


@pytest.fixture(scope="session")
def shared_workload_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A development Workload API for the payments server and both agents (1 h SVIDs: nothing rotates)."""
    with workload_api(tmp_path_factory.mktemp("wl-shared")) as dev:
        yield dev
