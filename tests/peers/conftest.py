"""Fixtures for the tests against real peers (tests/peers): an OpenFGA server, a SPIRE server and agent.

Each fixture builds nothing: the binaries come from ``make peers`` (see peer_binaries.py); without them the tests
skip, or fail under CI=true. The peers run on 127.0.0.1 and Unix sockets in short temporary folders, on random
ports, and are stopped by PID when the module's tests are done.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from tests.peers import peer_binaries
from tests.peers.openfga_peer import OpenFgaServer


from tests.peers.openfga_peer import OPENFGA_KEY


@pytest.fixture(scope="module")
def openfga_server() -> Iterator[OpenFgaServer]:
    binary = peer_binaries.require("openfga")["openfga"]
    server = OpenFgaServer(binary, preshared_keys=[OPENFGA_KEY]).start()
    try:
        yield server
    finally:
        server.stop()


#: The differential oracle's server waits longer for ListObjects and ListUsers than OpenFGA's 3 s default: a list
#: cut short by the deadline on this shared 2-core machine answers partially, without an error, and would read as
#: a disagreement. (OpenFGA refuses to start with a request timeout below a list deadline; the fixture's HTTP client
#: waits 10 s.)
ORACLE_ARGS = ["--listObjects-deadline", "8s", "--listUsers-deadline", "8s", "--request-timeout", "9s"]


@pytest.fixture(scope="module")
def openfga_oracle_server() -> Iterator[OpenFgaServer]:
    binary = peer_binaries.require("openfga")["openfga"]
    server = OpenFgaServer(binary, preshared_keys=[OPENFGA_KEY], extra_args=ORACLE_ARGS).start()
    try:
        yield server
    finally:
        server.stop()
