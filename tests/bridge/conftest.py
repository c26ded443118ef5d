"""Fixtures of the bridge tests (helpers live in bridge_support.py, importable by name from the test modules)."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from bridge_support import DenyOneAuthorizer, build_native_app, running
from mcp_grpc.server import Server


@pytest.fixture
def authorizer() -> DenyOneAuthorizer:
    return DenyOneAuthorizer()


@pytest.fixture
async def grpc_server(authorizer: DenyOneAuthorizer) -> AsyncIterator[Server]:
    async with running(build_native_app(), authorizer) as server:
        yield server
