"""Reliability suite setup: one development Workload API shared by the tests that do not rotate or restart it (the
Workload API harness and the fake OpenFGA server are in tests/support)."""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.reliability.reliability_support import workload_api


@pytest.fixture(scope="session")
def shared_workload_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A development Workload API for the payments server and both agents (1 h SVIDs: nothing rotates)."""
    with workload_api(tmp_path_factory.mktemp("wl-shared")) as dev:
        yield dev
