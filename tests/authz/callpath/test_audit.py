"""JsonAuditSink: one JSON record per decision, through logging, off the call path; telemetry for decisions."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from mcp_grpc.authz.audit import JsonAuditSink, audit_record
from mcp_grpc.authz.authorizer import FgaAuthorizer
from mcp_grpc.authz.backend import TupleKey
from mcp_grpc.authz.cache import DecisionCache
from mcp_grpc.contract import Check
from mcp_grpc.authz.telemetry import AuthzTelemetry
from mcp_grpc.contract import AuditEvent, CheckOutcome
from tests.authz.callpath.callpath_support import TupleBackend
from tests.support.calls import principal, tool_target

BILLING = "agent:example.org/ns/prod/sa/billing"


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.threads: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())
        self.threads.add(threading.current_thread().name)


class BlockingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.release.wait(5)
        self.count += 1


def event(**overrides) -> AuditEvent:
    fields = dict(
        time=1_790_000_000.25, principal="spiffe://example.org/ns/prod/sa/billing", proven_by="x509",
        service="model_context_protocol.Mcp", method="CallTool", kind="tool", target="refund", decision="deny",
        reason="permission denied: requires can_refund on ledger:payments",
        checks=(CheckOutcome("can_call", "tool:payments/refund", "allowed"),
                CheckOutcome("can_refund", "ledger:payments", "denied")),
        latency_ms=0.1234, trace_id="0af7651916cd43dd8448eb211c80319c", peer="ipv4:127.0.0.1:5000",
        arguments={"amount": 500, "note": "secret"},
    )
    fields.update(overrides)
    return AuditEvent(**fields)


@pytest.fixture
def sink_and_handler(request):
    handler = ListHandler()
    include = getattr(request, "param", False)
    sink = JsonAuditSink(logger=f"test.audit.{request.node.name}", handler=handler, include_arguments=include)
    yield sink, handler
    sink.close()


def test_record_has_every_field_and_no_argument_values_by_default(sink_and_handler):
    sink, handler = sink_and_handler
    sink.emit(event())
    assert sink.flush()
    assert len(handler.lines) == 1
    record = json.loads(handler.lines[0])
    assert record == {
        "time": "2026-09-21T14:13:20.250Z",
        "principal": "spiffe://example.org/ns/prod/sa/billing",
        "proven_by": "x509",
        "service": "model_context_protocol.Mcp",
        "method": "CallTool",
        "kind": "tool",
        "target": "refund",
        "decision": "deny",
        "reason": "permission denied: requires can_refund on ledger:payments",
        "checks": [
            {"relation": "can_call", "object": "tool:payments/refund", "result": "allowed"},
            {"relation": "can_refund", "object": "ledger:payments", "result": "denied"},
        ],
        "latency_ms": 0.123,
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "peer": "ipv4:127.0.0.1:5000",
        "argument_names": ["amount", "note"],
    }
    assert "secret" not in handler.lines[0]


@pytest.mark.parametrize("sink_and_handler", [True], indirect=True)
def test_argument_values_only_when_configured(sink_and_handler):
    sink, handler = sink_and_handler
    sink.emit(event())
    assert sink.flush()
    assert json.loads(handler.lines[0])["arguments"] == {"amount": 500, "note": "secret"}


def test_unauthenticated_event_has_null_principal():
    record = audit_record(event(principal=None, proven_by=None, decision="unauthenticated", checks=(), arguments=None))
    assert record["principal"] is None and record["checks"] == [] and "argument_names" not in record


def test_written_off_the_calling_thread(sink_and_handler):
    sink, handler = sink_and_handler
    for _ in range(50):
        sink.emit(event())
    assert sink.flush()
    assert len(handler.lines) == 50
    assert handler.threads == {"mcp-grpc-audit"}


def test_emit_never_blocks_and_counts_drops_when_full():
    handler = BlockingHandler()
    sink = JsonAuditSink(logger="test.audit.blocking", handler=handler, max_pending=5)
    try:
        started = time.perf_counter()
        for _ in range(50):
            sink.emit(event())
        elapsed = time.perf_counter() - started
        assert elapsed < 0.5  # the writer is stuck, the caller is not
        assert sink.dropped >= 40
    finally:
        handler.release.set()
        sink.close()
    assert handler.count + sink.dropped == 50


def test_trace_id_is_taken_from_the_current_span():
    from opentelemetry.sdk.trace import TracerProvider

    handler = ListHandler()
    sink = JsonAuditSink(logger="test.audit.trace", handler=handler)
    tracer = TracerProvider().get_tracer("t")
    try:
        with tracer.start_as_current_span("call") as span:
            sink.emit(event(trace_id=None))
            expected = format(span.get_span_context().trace_id, "032x")
        assert sink.flush()
        assert json.loads(handler.lines[0])["trace_id"] == expected
    finally:
        sink.close()


class _SpiffeHeader:
    """Takes the caller's SPIFFE ID from an ``x-caller`` header (the authenticator is not what this test is about)."""

    def authenticate(self, auth_context, metadata):
        from mcp_grpc.contract import AuthenticationFailed

        caller = metadata.get("x-caller")
        if caller is None:
            raise AuthenticationFailed("no caller")
        return principal(caller)


async def test_the_pipeline_writes_one_record_per_decision_of_the_authorizer():
    """The authorizer decides and writes nothing; the server's pipeline writes the one record of each call."""
    from mcp_grpc.client import AsyncClient, McpCallError
    from mcp_grpc.server import McpApp, Server, ServerConfig

    app = McpApp("payments")

    @app.tool
    def refund(amount: int = 0) -> int:
        return amount

    @app.tool(authorize=[Check("r", "bucket:{missing}")])
    def t() -> str:
        return "never"

    handler = ListHandler()
    sink = JsonAuditSink(logger="test.audit.pipeline", handler=handler)
    backend = TupleBackend([TupleKey(BILLING, "can_call", "tool:payments/refund"),
                            TupleKey(BILLING, "can_call", "tool:payments/t")])
    authorizer = FgaAuthorizer(backend)
    config = ServerConfig(port=0, insecure_local=True, authenticator=_SpiffeHeader(), authorizer=authorizer,
                          audit_sink=sink, audit_arguments=True, handle_signals=False)
    try:
        async with Server(app, config) as server:
            billing = AsyncClient(server.address, metadata=lambda: [("x-caller", "ns/prod/sa/billing")], retry=None)
            other = AsyncClient(server.address, metadata=lambda: [("x-caller", "ns/prod/sa/other")], retry=None)
            async with billing, other:
                await billing.call_tool("refund", {"amount": 5})
                with pytest.raises(McpCallError):
                    await other.call_tool("refund", {})
                backend.fail_with = OSError("down")
                with pytest.raises(McpCallError):
                    await billing.call_tool("refund", {})
                backend.fail_with = None
                with pytest.raises(McpCallError):
                    await billing.call_tool("t", {})
        assert sink.flush()
    finally:
        sink.close()
    records = [json.loads(line) for line in handler.lines]
    assert [r["decision"] for r in records] == ["allow", "deny", "unavailable", "invalid_argument"]
    assert records[0]["checks"] == [{"relation": "can_call", "object": "tool:payments/refund", "result": "allowed"}]
    assert records[0]["argument_names"] == ["amount"] and "arguments" not in records[0]
    assert records[1]["principal"] == "spiffe://example.org/ns/prod/sa/other"
    assert all(r["latency_ms"] >= 0 for r in records)


async def test_telemetry_counts_decisions_and_cache_hits():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    cache = DecisionCache(ttl=60)
    telemetry = AuthzTelemetry(meter_provider=MeterProvider(metric_readers=[reader]), cache=cache)
    backend = TupleBackend([TupleKey(BILLING, "can_call", "tool:payments/refund")])
    authorizer = FgaAuthorizer(backend, cache=cache, telemetry=telemetry)
    for _ in range(3):
        await authorizer.authorize(principal(), tool_target("refund"))
    await authorizer.authorize(principal("ns/prod/sa/other"), tool_target("refund"))
    metrics = {
        m.name: m
        for rm in reader.get_metrics_data().resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    decisions = {dict(p.attributes)["outcome"]: p.value for p in metrics["mcp_grpc.authz.decisions"].data.data_points}
    assert decisions == {"allow": 3, "deny": 1}
    lookups = {dict(p.attributes)["result"]: p.value for p in metrics["mcp_grpc.authz.cache.lookups"].data.data_points}
    assert lookups == {"hit": 2, "miss": 2}
    ratio = metrics["mcp_grpc.authz.cache.hit_ratio"].data.data_points[0].value
    assert ratio == pytest.approx(0.5)
    assert sum(p.count for p in metrics["mcp_grpc.authz.decision.duration"].data.data_points) == 4


def test_record_times_are_what_datetime_formats_including_rounding_edges():
    """``_stamp`` formats the date once per second; every stamp must still equal datetime's own formatting."""
    import datetime
    import random

    from mcp_grpc.authz.audit import _stamp

    def reference(when: float) -> str:
        stamp = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
        return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    second = 1_767_225_599.0  # 2025-12-31T23:59:59Z: a carry past it changes the day and the year
    edges = [0.0, 0.9999994, 0.9999995, 0.9999996, 0.0000005, 0.0000015, 0.0005, 0.0015, 0.9995, 0.999]
    cases = [second + edge for edge in edges] + [0.0, -1.5, 5e8, 1e9, 32503680000.5, 253402300799.0]
    rng = random.Random(7)
    cases += [rng.uniform(1e9, 4e9) for _ in range(20_000)]
    cases += [second + rng.randint(-3, 3) + rng.choice(edges) for _ in range(2_000)]
    assert [_stamp(when) for when in cases] == [reference(when) for when in cases]
