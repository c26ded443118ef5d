"""TCP ports of 127.0.0.1 for tests that need one before anything listens on it."""

from __future__ import annotations

import contextlib
import socket
from typing import Iterator


def free_port() -> int:
    """A port that was free a moment ago (bound and released), for a process that must be told its port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 that refuses connections: bound by us but never listening, so no other process on this
    busy machine can take it while the test runs."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]
