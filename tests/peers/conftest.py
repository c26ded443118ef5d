"""Fixtures for the tests against real peers (tests/peers): an OpenFGA server, a SPIRE server and agent.

Each fixture builds nothing: the binaries come from ``make peers`` (see peer_binaries.py); without them the tests
skip, or fail under CI=true. The peers run on 127.0.0.1 and Unix sockets in short temporary folders, on random
ports, and are stopped by PID when the module's tests are done.
"""

from __future__ import annotations

import pathlib
import sys
from typing import Iterator

import pytest

_HERE = str(pathlib.Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

import peer_binaries  # noqa: E402
from openfga_peer import OpenFgaServer  # noqa: E402


from openfga_peer import OPENFGA_KEY  # noqa: E402


@pytest.fixture(scope="module")
def openfga_server() -> Iterator[OpenFgaServer]:
    binary = peer_binaries.require("openfga")["openfga"]
    server = OpenFgaServer(binary, preshared_keys=[OPENFGA_KEY]).start()
    try:
        yield server
    finally:
        server.stop()
