"""OpenTelemetry for calls: one span per call with its attributes, the caller's trace honoured, the audit record on
the span's trace, calls counter and duration histogram; against a real grpc.aio server with the SDK's in-memory
exporter and reader (never the global providers, which a process can set only once)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any, AsyncIterator

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from mcp_grpc.client import AsyncClient, McpCallError
from mcp_grpc.server import McpApp, Server, ServerConfig
from mcp_grpc.server.telemetry import CallTelemetry

from tests.server.server_support import HeaderAuthenticator, ListAuditSink, TableAuthorizer
from tests.support.paths import REPO_ROOT

ALICE = "spiffe://example.org/alice"
BOB = "spiffe://example.org/bob"
ALLOWED = {
    (ALICE, "can_call", "tool:read_bucket"),
    (ALICE, "can_read", "bucket:reports"),
    (ALICE, "can_call", "tool:traced"),
    (ALICE, "can_call", "tool:progress"),
    (ALICE, "can_call", "tool:echo"),
    (BOB, "can_call", "tool:read_bucket"),
}
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_SPAN_ID}-01"


class Telemetry:
    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])
        self.calls = CallTelemetry(tracer_provider=self.tracer_provider, meter_provider=self.meter_provider)

    def spans(self, name: str | None = None) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if name is None or s.name == name]

    def metrics(self) -> dict[str, Any]:
        data = self.reader.get_metrics_data()
        return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def traced_app(app: McpApp, telemetry: Telemetry) -> McpApp:
    tracer = telemetry.tracer_provider.get_tracer("handler")

    @app.tool()
    def traced() -> str:
        """A synchronous handler (thread pool) that opens its own span."""
        with tracer.start_as_current_span("handler.work"):
            return "done"

    return app


@contextlib.asynccontextmanager
async def serving(app: McpApp, telemetry: Telemetry | None, **fields: Any) -> AsyncIterator[Server]:
    fields.setdefault("insecure_local", True)
    server = Server(app, ServerConfig(port=0, handle_signals=False, drain_seconds=0.5, **fields))
    if telemetry is not None:
        server.pipeline.telemetry = telemetry.calls
    await server.start()
    try:
        yield server
    finally:
        await server.stop(0)


def identity(spiffe_id: str, *extra: tuple[str, str]):
    return lambda: [("x-test-identity", spiffe_id), *extra]


@pytest.fixture
async def secured(traced_app: McpApp, telemetry: Telemetry):
    audit = ListAuditSink()
    async with serving(
        traced_app, telemetry, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(set(ALLOWED)),
        audit_sink=audit,
    ) as server:
        yield server, audit


def trace_hex(span: ReadableSpan) -> str:
    return format(span.context.trace_id, "032x")


async def test_an_allowed_call_is_one_server_span_with_the_audit_records_trace_id(secured, telemetry):
    server, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        await client.call_tool("read_bucket", {"bucket": "reports"})
    [span] = telemetry.spans()
    assert span.name == "mcp.CallTool" and span.kind is SpanKind.SERVER
    assert span.parent is None  # no traceparent: a new trace
    attributes = dict(span.attributes)
    assert attributes == {
        "rpc.system": "grpc",
        "rpc.service": "model_context_protocol.Mcp",
        "rpc.method": "CallTool",
        "mcp.method.name": "tools/call",
        "rpc.grpc.status_code": 0,
        "mcp_grpc.decision": "allow",
        "enduser.id": ALICE,
        "mcp_grpc.proven_by": "jwt",
        "mcp_grpc.target.kind": "tool",
        "mcp_grpc.target.name": "read_bucket",
        "gen_ai.tool.name": "read_bucket",
    }
    assert span.status.status_code is StatusCode.UNSET
    [event] = audit.events
    assert event.trace_id == trace_hex(span)


async def test_a_denied_call_is_permission_denied_on_its_span_without_a_server_error(secured, telemetry):
    server, audit = secured
    async with AsyncClient(server.address, metadata=identity(BOB)) as client:
        with pytest.raises(McpCallError) as caught:
            await client.call_tool("read_bucket", {"bucket": "reports"})
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    [span] = telemetry.spans("mcp.CallTool")
    assert span.attributes["mcp_grpc.decision"] == "deny"
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert span.attributes["enduser.id"] == BOB
    assert span.attributes["mcp_grpc.target.name"] == "read_bucket"
    assert span.status.status_code is StatusCode.UNSET  # a denial is an answer, not a server fault
    assert audit.events[-1].decision == "deny" and audit.events[-1].trace_id == trace_hex(span)


async def test_an_unauthenticated_call_has_a_span_without_enduser(secured, telemetry):
    server, audit = secured
    async with AsyncClient(server.address) as client:
        with pytest.raises(McpCallError) as caught:
            await client.list_tools()
    assert caught.value.status == grpc.StatusCode.UNAUTHENTICATED
    [span] = telemetry.spans()
    assert span.name == "mcp.ListTools"
    assert span.attributes["mcp_grpc.decision"] == "unauthenticated"
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.UNAUTHENTICATED.value[0]
    assert "enduser.id" not in span.attributes and "mcp_grpc.target.kind" not in span.attributes
    assert audit.events[-1].trace_id == trace_hex(span)


async def test_invalid_arguments_are_recorded_with_their_status(traced_app, telemetry):
    async with serving(traced_app, telemetry) as server:  # insecure-local: no authorizer, caller is the dev principal
        async with AsyncClient(server.address) as client:
            with pytest.raises(McpCallError) as caught:
                await client.get_prompt("summarize", {"length": "3"})  # topic missing
            result = await client.call_tool("add", {"a": "one", "b": 2})  # a tool's bad arguments: a tool error
    assert caught.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert result.is_error
    prompt = telemetry.spans("mcp.GetPrompt")[0]
    assert prompt.attributes["mcp_grpc.decision"] == "invalid_argument"
    assert prompt.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert prompt.attributes["mcp.method.name"] == "prompts/get"
    assert prompt.attributes["enduser.id"] == "spiffe://insecure.local/dev"
    tool = telemetry.spans("mcp.CallTool")[0]
    assert tool.attributes["mcp_grpc.decision"] == "invalid_argument"
    assert tool.attributes["rpc.grpc.status_code"] == 0  # reported inside the result, as MCP wants
    assert tool.attributes["gen_ai.tool.name"] == "add"


async def test_an_unavailable_authorizer_is_a_server_error_span(traced_app, telemetry):
    async with serving(
        traced_app, telemetry, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(set(), "unavailable")
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("echo", {"text": "hi"})
    assert caught.value.status == grpc.StatusCode.UNAVAILABLE
    spans = telemetry.spans()  # the client retries UNAVAILABLE: one span per attempt
    assert spans and all(span.name == "mcp.CallTool" for span in spans)
    for span in spans:
        assert span.attributes["mcp_grpc.decision"] == "unavailable"
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "authorization backend timed out"


async def test_the_callers_traceparent_is_the_parent_and_the_audit_trace(secured, telemetry):
    server, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE, ("traceparent", TRACEPARENT))) as client:
        await client.call_tool("echo", {"text": "hi"})
        await client.list_tools()
    spans = telemetry.spans()
    assert [s.name for s in spans] == ["mcp.CallTool", "mcp.ListTools"]
    for span in spans:
        assert trace_hex(span) == TRACE_ID
        assert span.parent is not None and span.parent.is_remote
        assert format(span.parent.span_id, "016x") == PARENT_SPAN_ID
    assert [e.trace_id for e in audit.events] == [TRACE_ID, TRACE_ID]


async def test_a_malformed_traceparent_starts_a_new_trace(secured, telemetry):
    server, audit = secured
    bad = f"00-{TRACE_ID}-zz-01"
    async with AsyncClient(server.address, metadata=identity(ALICE, ("traceparent", bad))) as client:
        await client.call_tool("echo", {"text": "hi"})
    [span] = telemetry.spans()
    assert span.parent is None and trace_hex(span) != TRACE_ID
    assert audit.events[-1].trace_id == trace_hex(span)


async def test_calls_do_not_leak_their_span_into_the_next_call(secured, telemetry):
    server, _ = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        for _ in range(3):
            await client.call_tool("echo", {"text": "hi"})
    spans = telemetry.spans()
    assert len(spans) == 3
    assert all(span.parent is None for span in spans)
    assert len({span.context.trace_id for span in spans}) == 3


async def test_handler_spans_are_children_of_the_call_span(secured, telemetry):
    server, _ = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        assert (await client.call_tool("traced", {})).text == "done"
    [work] = telemetry.spans("handler.work")
    [call] = telemetry.spans("mcp.CallTool")
    assert work.parent is not None and work.parent.span_id == call.context.span_id


async def test_a_streamed_call_ends_its_span_from_the_tool_task(secured, telemetry, caplog):
    server, audit = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        result = await client.call_tool("progress", {"steps": 2}, progress=lambda update: None)
        await client.call_tool("echo", {"text": "after"})
    assert result.structured is not None or result.text
    stream, after = telemetry.spans()
    assert stream.name == "mcp.CallToolStream"
    assert stream.attributes["rpc.service"] == "mcp_grpc.v1.McpStreaming"
    assert stream.attributes["mcp_grpc.decision"] == "allow"
    assert after.parent is None and after.context.trace_id != stream.context.trace_id
    assert audit.events[0].trace_id == trace_hex(stream)
    assert "Failed to detach context" not in caplog.text


async def test_authorizer_decision_spans_are_children_of_the_call_span(app, telemetry, tmp_path):
    from mcp_grpc.authz.authorizer import FgaAuthorizer
    from mcp_grpc.authz.telemetry import AuthzTelemetry

    direct = {"this": {}}
    agents = {"directly_related_user_types": [{"type": "agent"}]}
    (tmp_path / "model.json").write_text(json.dumps({  # JSON, not the DSL: no parser start-up in this test
        "schema_version": "1.1",
        "type_definitions": [
            {"type": "agent"},
            {"type": "tool", "relations": {"can_call": direct}, "metadata": {"relations": {"can_call": agents}}},
        ],
    }))
    (tmp_path / "tuples.yaml").write_text(
        "- {user: 'agent:insecure.local/dev', relation: can_call, object: 'tool:test-server/echo'}\n"
    )
    authorizer = FgaAuthorizer.from_authz_dir(tmp_path)
    authorizer.telemetry = AuthzTelemetry(tracer_provider=telemetry.tracer_provider, cache=authorizer.cache)
    async with serving(app, telemetry, authorizer=authorizer) as server:
        async with AsyncClient(server.address) as client:
            await client.call_tool("echo", {"text": "hi"})
            with pytest.raises(McpCallError):
                await client.call_tool("add", {"a": 1, "b": 2})
            await client.list_tools()
    calls = telemetry.spans("mcp.CallTool")
    decisions = telemetry.spans("authz.authorize")
    assert len(calls) == 2 and len(decisions) == 2
    for call, decision in zip(calls, decisions):
        assert decision.parent is not None and decision.parent.span_id == call.context.span_id
        assert decision.context.trace_id == call.context.trace_id
    assert [c.attributes["mcp_grpc.decision"] for c in calls] == ["allow", "deny"]
    [listing] = telemetry.spans("mcp.ListTools")
    [visible] = telemetry.spans("authz.visible")
    assert visible.parent is not None and visible.parent.span_id == listing.context.span_id


async def test_calls_are_counted_by_method_and_decision_and_timed(secured, telemetry):
    server, _ = secured
    async with AsyncClient(server.address, metadata=identity(ALICE)) as client:
        await client.call_tool("echo", {"text": "hi"})
        await client.call_tool("echo", {"text": "again"})
        await client.list_tools()
        with pytest.raises(McpCallError):
            await client.call_tool("read_bucket", {"bucket": "secrets"})
    metrics = telemetry.metrics()
    calls = {
        (p.attributes["method"], p.attributes["decision"]): p.value
        for p in metrics["mcp_grpc.server.calls"].data.data_points
    }
    assert calls == {("CallTool", "allow"): 2, ("ListTools", "allow"): 1, ("CallTool", "deny"): 1}
    assert all(
        p.attributes["service"] == "model_context_protocol.Mcp" for p in metrics["mcp_grpc.server.calls"].data.data_points
    )
    duration = metrics["mcp_grpc.server.call.duration"]
    assert duration.unit == "ms"
    points = {(p.attributes["method"], p.attributes["decision"]): p for p in duration.data.data_points}
    assert {key: p.count for key, p in points.items()} == calls
    assert all(p.sum > 0 for p in points.values())
    assert points[("CallTool", "allow")].explicit_bounds[0] == pytest.approx(0.1)  # ms buckets, not seconds


async def test_metrics_alone_need_no_tracer(traced_app):
    reader = InMemoryMetricReader()
    telemetry = Telemetry()
    telemetry.calls = CallTelemetry(meter_provider=MeterProvider(metric_readers=[reader]))
    if telemetry.calls.active() and telemetry.calls.tracing:
        pytest.skip("a global SDK tracer provider is installed in this process")
    async with serving(traced_app, telemetry) as server:
        async with AsyncClient(server.address) as client:
            await client.call_tool("echo", {"text": "hi"})
    points = [
        p for rm in reader.get_metrics_data().resource_metrics for sm in rm.scope_metrics for m in sm.metrics
        if m.name == "mcp_grpc.server.calls" for p in m.data.data_points
    ]
    assert [(p.attributes["method"], p.value) for p in points] == [("CallTool", 1)]


async def test_without_an_sdk_nothing_is_recorded_and_the_header_still_names_the_trace(app):
    default = CallTelemetry()
    if default.active():
        pytest.skip("a global OpenTelemetry SDK provider is installed in this process")
    audit = ListAuditSink()
    async with serving(app, None, audit_sink=audit) as server:
        assert isinstance(server.pipeline.telemetry, CallTelemetry) and not server.pipeline.telemetry.active()
        async with AsyncClient(server.address, metadata=lambda: [("traceparent", TRACEPARENT)]) as client:
            await client.call_tool("echo", {"text": "hi"})
            await client.list_tools()
    assert [e.trace_id for e in audit.events] == [TRACE_ID, TRACE_ID]  # read from the header, as before telemetry
    assert trace.get_current_span().get_span_context().is_valid is False


async def test_serve_otel_console_prints_call_spans(tmp_path):
    socket = tmp_path / "otel.sock"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("OTEL_SERVICE_NAME", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/quickstart/server.py:app", "--insecure-local",
         "--uds", str(socket), "--drain", "0.5", "--otel-console", "--otel-metrics-interval", "60"],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists() and time.monotonic() < deadline and process.poll() is None:
            await asyncio.sleep(0.05)
        assert socket.exists(), process.stderr.read() if process.poll() is not None else "no socket"
        async with AsyncClient(f"unix:{socket}") as client:
            assert (await client.call_tool("greet", {"name": "Ada"})).text == "Hello, Ada."
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.to_thread(process.communicate, timeout=15)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert '"name": "mcp.CallTool"' in out  # the span, flushed at exit
    assert '"gen_ai.tool.name": "greet"' in out
    assert "mcp_grpc.server.calls" in out  # the metrics, flushed at exit
    assert '"service.name": "quickstart"' in out  # the app's name (OTEL_SERVICE_NAME unset)


async def test_with_opentelemetrys_grpc_interceptor_the_call_span_nests_under_its_server_span(traced_app, telemetry):
    grpc_instrumentation = pytest.importorskip(
        "opentelemetry.instrumentation.grpc", reason="opentelemetry-instrumentation-grpc (extra 'otel') not installed"
    )
    audit = ListAuditSink()
    interceptor = grpc_instrumentation.aio_server_interceptor(tracer_provider=telemetry.tracer_provider)
    async with serving(
        traced_app, telemetry, authenticator=HeaderAuthenticator(), authorizer=TableAuthorizer(set(ALLOWED)),
        audit_sink=audit, interceptors=[interceptor],
    ) as server:
        async with AsyncClient(server.address, metadata=identity(ALICE, ("traceparent", TRACEPARENT))) as client:
            assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
            with pytest.raises(McpCallError) as caught:
                await client.call_tool("read_bucket", {"bucket": "secrets"})
    assert caught.value.status == grpc.StatusCode.PERMISSION_DENIED
    rpcs = telemetry.spans("/model_context_protocol.Mcp/CallTool")
    calls = telemetry.spans("mcp.CallTool")
    assert len(rpcs) == 2 and len(calls) == 2
    for rpc, call in zip(rpcs, calls):
        assert rpc.kind is SpanKind.SERVER and format(rpc.parent.span_id, "016x") == PARENT_SPAN_ID
        assert call.kind is SpanKind.INTERNAL and call.parent.span_id == rpc.context.span_id
        assert trace_hex(call) == TRACE_ID and call.attributes["enduser.id"] == ALICE
    assert [c.attributes["mcp_grpc.decision"] for c in calls] == ["allow", "deny"]
    assert rpcs[1].attributes["rpc.grpc.status_code"] == grpc.StatusCode.PERMISSION_DENIED.value[0]
    assert [e.trace_id for e in audit.events] == [TRACE_ID, TRACE_ID]


async def test_typed_proto_first_calls_get_the_same_span(telemetry):
    from examples.proto_tools.gen import storage_pb2, storage_pb2_grpc
    from examples.proto_tools.server import StorageService

    service = storage_pb2.DESCRIPTOR.services_by_name["StorageService"]
    app = McpApp("storage")
    app.add_proto_service(StorageService(), service)
    metadata = (("traceparent", TRACEPARENT),)
    async with serving(app, telemetry) as server:
        async with grpc.aio.insecure_channel(server.address) as channel:
            stub = storage_pb2_grpc.StorageServiceStub(channel)
            await stub.PutObject(storage_pb2.PutObjectRequest(bucket="b1", key="k", content="x"), metadata=metadata)
            await stub.GetStats(storage_pb2.GetStatsRequest(), metadata=metadata, timeout=10)
    put, stats = telemetry.spans()
    assert (put.name, stats.name) == ("mcp.PutObject", "mcp.GetStats")
    for span in (put, stats):
        assert span.attributes["rpc.service"] == service.full_name
        assert trace_hex(span) == TRACE_ID and span.kind is SpanKind.SERVER
        assert "mcp.method.name" not in span.attributes  # not an rpc of the MCP services
    assert put.attributes["gen_ai.tool.name"] == "put_object"  # a proto-first tool is a tool
    assert stats.attributes["mcp_grpc.target.kind"] == "method"
    assert stats.attributes["mcp_grpc.target.name"] == f"/{service.full_name}/GetStats"


def test_serve_refuses_a_metrics_interval_that_is_not_positive(capsys, monkeypatch):
    from mcp_grpc.cli.main import main

    monkeypatch.chdir(REPO_ROOT)
    argv = ["serve", "examples/quickstart/server.py:app", "--insecure-local", "--otel-console",
            "--otel-metrics-interval", "0"]
    assert main(argv) == 2
    assert "--otel-metrics-interval must be > 0" in capsys.readouterr().err
    assert not CallTelemetry().active()  # refused before any global provider was installed
