"""The same call-path scenario on both backends: the embedded engine, and OpenFGA's HTTP API through openfga-sdk.

The demo model and tuples from authz/ are loaded into an engine; one authorizer asks it in-process, the other asks
it through the OpenFGA HTTP API (the fake server) with the SDK. Every decision must be the same.
"""

from __future__ import annotations

import pytest

from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.engine import EmbeddedBackend, Engine
from mcp_grpc.authz.files import load_model_file, load_tuples
from mcp_grpc.contract import Check
from mcp_grpc.contract import DecisionStatus, TargetKind
from tests.support.calls import principal, tool_target
from tests.support.fake_openfga import MODEL_ID, STORE_ID, FakeOpenFga
from tests.support.paths import AUTHZ_DIR

BILLING = principal("ns/mcp-tools/sa/billing-agent")
SUPPORT = principal("ns/mcp-tools/sa/support-agent")
AUDITOR = principal("ns/mcp-tools/sa/security-auditor")
LIMIT = [Check("can_refund", "ledger:payments")]
BUCKET = [Check("can_read", "bucket:{bucket}")]

CASES = [
    (BILLING, tool_target("refund"), DecisionStatus.ALLOW),
    (SUPPORT, tool_target("refund"), DecisionStatus.DENY),
    (SUPPORT, tool_target("lookup_invoice"), DecisionStatus.ALLOW),
    (AUDITOR, tool_target("refund"), DecisionStatus.ALLOW),
    (BILLING, tool_target("read_report", {"bucket": "reports"}, BUCKET), DecisionStatus.ALLOW),
    (BILLING, tool_target("read_report", {"bucket": "restricted"}, BUCKET), DecisionStatus.DENY),
    (AUDITOR, tool_target("read_report", {"bucket": "restricted"}, BUCKET), DecisionStatus.ALLOW),
    (BILLING, tool_target("refund", {"amount": 50}, LIMIT), DecisionStatus.ALLOW),
    (BILLING, tool_target("refund", {"amount": 500}, LIMIT), DecisionStatus.DENY),
    (SUPPORT, tool_target("refund", {"amount": 50}, LIMIT), DecisionStatus.DENY),
    (BILLING, tool_target("refund", {}, LIMIT), DecisionStatus.UNAVAILABLE),
    (BILLING, tool_target("docs://policies/refunds.md", kind=TargetKind.RESOURCE), DecisionStatus.ALLOW),
    (SUPPORT, tool_target("docs://policies/refunds.md", kind=TargetKind.RESOURCE), DecisionStatus.DENY),
    (SUPPORT, tool_target("summarize_invoice", kind=TargetKind.PROMPT), DecisionStatus.ALLOW),
]


@pytest.fixture(scope="module")
def demo_model():
    return load_model_file(AUTHZ_DIR / "model.fga")


def demo_engine(model) -> Engine:
    engine = Engine()
    engine.write_model(model)
    engine.write(load_tuples(AUTHZ_DIR / "tuples.yaml"))
    return engine


@pytest.fixture(params=["embedded", "openfga-http"])
async def authorizer(request, demo_model):
    engine = demo_engine(demo_model)
    if request.param == "embedded":
        authorizer = FgaAuthorizer(EmbeddedBackend(engine))
        yield authorizer
        await authorizer.close()
        return
    async with FakeOpenFga(EmbeddedBackend(engine), model=demo_model) as fake:
        authorizer = FgaAuthorizer.from_openfga(fake.url, STORE_ID, model_id=MODEL_ID, timeout=2.0, cache=False)
        yield authorizer
        await authorizer.close()


async def test_same_decisions_on_both_backends(authorizer):
    got = [(await authorizer.authorize(p, t)).status for p, t, _ in CASES]
    assert got == [expected for _, _, expected in CASES]


async def test_same_visible_tools_on_both_backends(authorizer):
    names = ["refund", "read_report", "lookup_invoice", "unknown"]
    assert await authorizer.visible(SUPPORT, "payments", TargetKind.TOOL, names) == {"lookup_invoice"}
    assert await authorizer.visible(AUDITOR, "payments", TargetKind.TOOL, names) == {"refund", "read_report", "lookup_invoice"}
