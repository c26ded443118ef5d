"""Fixtures for the development Workload API tests: dev servers run as real subprocesses through the CLI."""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest

from mcp_grpc.identity.workload_dev.ca import SvidAuthority
from tests.support.certfactory import make_ca
from tests.support.workload_harness import AGENT_ID, SERVER_DNS, SERVER_ID, TD, DevServer, short_tempdir
from mcp_grpc.identity.workload_dev.ca import SvidAuthority



@pytest.fixture(scope="module")
def federated_authority() -> SvidAuthority:
    """A second trust domain (other.org) whose bundle the dev server federates with."""
    return SvidAuthority("other.org")


@pytest.fixture(scope="module")
def byo_ca_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    ca = make_ca(TD).write(tmp_path_factory.mktemp("byo-ca"), "ca")
    return ca.cert_file, ca.key_file


@pytest.fixture(scope="module")
def dev_server(
    tmp_path_factory: pytest.TempPathFactory, byo_ca_files: tuple[pathlib.Path, pathlib.Path],
    federated_authority: SvidAuthority,
) -> Iterator[DevServer]:
    """One dev server for the protocol tests: a brought CA, a federated domain, and a workload without identity."""
    logs = tmp_path_factory.mktemp("dev-logs")
    fed = logs / "other.org.spiffe.json"
    fed.write_bytes(federated_authority.spiffe_bundle())
    server = DevServer(
        short_tempdir("wl"),
        [
            "--trust-domain", TD,
            "--workload", f"server={SERVER_ID}", "--dns-name", f"server={SERVER_DNS}",
            "--dns-name", "server=localhost",
            "--workload", f"agent={AGENT_ID}",
            "--workload", f"ghost=spiffe://{TD}/ns/dev/sa/ghost",
            "--ca-cert", str(byo_ca_files[0]), "--ca-key", str(byo_ca_files[1]),
            "--federate", f"other.org={fed}",
            "--x509-ttl", "1h", "--jwt-ttl", "5m",
        ],
        logs,
    )
    server.federation_file = fed  # type: ignore[attr-defined]
    server.start()
    server.admin("remove-identity", name="ghost")
    yield server
    server.cleanup()
