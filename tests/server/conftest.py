"""Fixtures for server tests (helpers live in server_support.py; shared ones in tests/support)."""

from __future__ import annotations

from typing import AsyncIterator

import pytest

from mcp_grpc.server import McpApp, Server
from tests.server.server_support import Observed, build_app
from tests.support.servers import running


@pytest.fixture
def observed() -> Observed:
    return Observed()


@pytest.fixture
def app(observed: Observed) -> McpApp:
    return build_app(observed)


@pytest.fixture
async def server(app: McpApp) -> AsyncIterator[Server]:
    async with running(app) as started:
        yield started


