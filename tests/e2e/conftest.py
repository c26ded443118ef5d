"""End-to-end fixtures: two development Workload APIs (example.org and a foreign other.org that example.org federates
with), the demo "payments" server over real SPIFFE mTLS with the embedded engine over authz/, and agents.

Everything here is package-scoped and async code runs on the package's event loop (tests use
``pytest.mark.asyncio(loop_scope="package")``): servers and channels started once are shared by every e2e test,
since a Workload API takes ~1.5 s to start and loading authz/ about 1 s, and all of it stops when the last e2e test
is done (tests/e2e is a package for that: without __init__.py "package" scope would mean the whole session).
"""

from __future__ import annotations

import pathlib
from typing import Any, AsyncIterator, Iterator

import pytest
import pytest_asyncio

from mcp_grpc.client import AsyncClient
from tests.support.certfactory import CA, make_ca
from tests.support.e2e import (
    AUDITOR_ID,
    BRIDGE_ID,
    BILLING_ID,
    FOREIGN_DOMAIN,
    FOREIGN_ID,
    JWT_AUDIENCE,
    SERVER_DNS,
    SERVER_ID,
    SUPPORT_ID,
    TRUST_DOMAIN,
    DevWorkloadApi,
    RunningServer,
    agent_client,
    fresh_config_fields,
    start_server,
)
from tests.support.paths import AUTHZ_DIR



@pytest.fixture(scope="package")
def ca_dir(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    return tmp_path_factory.mktemp("e2e-ca")


@pytest.fixture(scope="package")
def our_ca(ca_dir: pathlib.Path) -> CA:
    """example.org's CA, brought to its Workload API, so tests can mint leaves it would never issue."""
    return make_ca(TRUST_DOMAIN).write(ca_dir, "example-org-ca")


@pytest.fixture(scope="package")
def foreign_ca(ca_dir: pathlib.Path) -> CA:
    return make_ca(FOREIGN_DOMAIN).write(ca_dir, "other-org-ca")


@pytest.fixture(scope="package")
def workload_apis(
    our_ca: CA, foreign_ca: CA
) -> Iterator[tuple[DevWorkloadApi, DevWorkloadApi]]:
    """Both development Workload APIs, started side by side.

    example.org: the server, the two demo agents and the security auditor; it federates with other.org (the
    foreign CA's certificate as a PEM bundle). other.org: one agent whose SPIFFE ID has the same path as our
    billing agent. Both run on CAs we hold the keys of, so tests can mint certificates they would never issue."""
    ours = DevWorkloadApi(
        TRUST_DOMAIN,
        {"server": SERVER_ID, "billing-agent": BILLING_ID, "support-agent": SUPPORT_ID, "auditor": AUDITOR_ID,
         "bridge": BRIDGE_ID},
        dns_names={"server": SERVER_DNS},
        federate={FOREIGN_DOMAIN: foreign_ca.cert_file},
        extra_args=["--ca-cert", str(our_ca.cert_file), "--ca-key", str(our_ca.key_file)],
    )
    foreign = DevWorkloadApi(
        FOREIGN_DOMAIN, {"agent": FOREIGN_ID},
        extra_args=["--ca-cert", str(foreign_ca.cert_file), "--ca-key", str(foreign_ca.key_file)],
    )
    try:
        ours.launch()
        foreign.launch()
        ours.wait_ready()
        foreign.wait_ready()
        yield ours, foreign
    finally:
        ours.stop()
        foreign.stop()


@pytest.fixture(scope="package")
def workload_api(workload_apis: tuple[DevWorkloadApi, DevWorkloadApi]) -> DevWorkloadApi:
    return workload_apis[0]


@pytest.fixture(scope="package")
def foreign_api(workload_apis: tuple[DevWorkloadApi, DevWorkloadApi]) -> DevWorkloadApi:
    return workload_apis[1]


@pytest.fixture(scope="package")
def server_identity(workload_api: DevWorkloadApi) -> Iterator[Any]:
    """The server's SVID source, rotating mTLS credentials and SpiffeAuthenticator (JWT-SVIDs enabled)."""
    from mcp_grpc.server.security import ServerIdentity

    identity = ServerIdentity.from_workload_api(workload_api.socket("server"), jwt_audience=JWT_AUDIENCE)
    yield identity
    identity.close()


@pytest.fixture(scope="package")
def demo_authorizer() -> Any:
    """The embedded engine over the demo store, authz/ (shared by the servers that use it)."""
    from mcp_grpc.server.security import authorizer_from_authz_dir

    return authorizer_from_authz_dir(AUTHZ_DIR)


@pytest.fixture(scope="package")
def demo_model() -> dict[str, Any]:
    from mcp_grpc.authz.files import load_model_file

    return load_model_file(AUTHZ_DIR / "model.fga")


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def payments(
    server_identity: Any, demo_authorizer: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServer]:
    """The shipped demo app (examples/demo/server.py) over SPIFFE mTLS, authorized by authz/, audited to a file
    with argument names (values stay out: the sink is not configured to include them)."""
    from examples.demo.server import app

    running = await start_server(app, fresh_config_fields(server_identity), demo_authorizer,
                                 tmp_path_factory.mktemp("e2e-audit") / "payments.jsonl", audit_arguments=True)
    yield running
    await running.stop()
    await demo_authorizer.close()


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def billing(workload_api: DevWorkloadApi, payments: RunningServer) -> AsyncIterator[AsyncClient]:
    async with agent_client(workload_api, "billing-agent", payments.address) as client:
        yield client


@pytest_asyncio.fixture(scope="package", loop_scope="package")
async def support(workload_api: DevWorkloadApi, payments: RunningServer) -> AsyncIterator[AsyncClient]:
    async with agent_client(workload_api, "support-agent", payments.address) as client:
        yield client
