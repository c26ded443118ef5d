"""Fixtures of the bridge tests (helpers live in bridge_support.py; shared ones in tests/support)."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from mcp_grpc.server import Server
from tests.bridge.bridge_support import DenyOneAuthorizer, build_native_app
from tests.support.servers import running


@pytest.fixture
def authorizer() -> DenyOneAuthorizer:
    return DenyOneAuthorizer()


@pytest.fixture
async def grpc_server(authorizer: DenyOneAuthorizer) -> AsyncIterator[Server]:
    async with running(build_native_app(), authorizer) as server:
        yield server
