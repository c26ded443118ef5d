"""Issue 16, observability: `serve --metrics-port` (Prometheus), `--otlp` (OTLP/HTTP), `--log-format json`, and the
gauges operators alert on (audit backlog and drops, seconds until the server's SVID expires).

The server runs as a real `mcp-grpc serve` process. The OTLP test's receiver is a minimal OTLP/HTTP endpoint on
loopback standing in for an OpenTelemetry collector (not built here): it decodes each export with OTLP's own
protobuf messages, so the test checks what a collector would receive.
"""

from __future__ import annotations

import datetime
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from typing import Any

import pytest

from tests.support.paths import REPO_ROOT
from tests.support.ports import free_port

pytest.importorskip("opentelemetry.exporter.prometheus", reason="the otel extra is not installed")


def _serve(socket: Any, *flags: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "mcp_grpc", "serve", "examples/demo/server.py:app", "--insecure-local",
         "--uds", str(socket), "--drain", "0.5", "--authz-dir", "authz", *flags],
        cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _wait_for(socket: Any, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while not socket.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert socket.exists(), process.stderr.read() if process.poll() is not None else "no socket"


def _call(socket: Any, tool: str = "lookup_invoice") -> None:
    subprocess.run([sys.executable, "-m", "mcp_grpc", "call", f"unix:{socket}", tool, "-d",
                    '{"invoice_id": "INV-1001"}'], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30,
                   env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    return process.stderr.read()


def test_prometheus_metrics_and_json_logs(tmp_path):
    socket, port = tmp_path / "demo.sock", free_port()
    process = _serve(socket, "--metrics-port", str(port), "--log-format", "json",
                     "--audit-log", str(tmp_path / "audit.jsonl"))
    try:
        _wait_for(socket, process)
        _call(socket)  # insecure-local has no grants in authz/: a denial, counted like any decision
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            text = response.read().decode()
    finally:
        stderr = _stop(process)
    assert 'mcp_grpc_server_calls' in text and 'decision="deny"' in text, text[:2000]
    assert "mcp_grpc_authz_decisions" in text
    assert "mcp_grpc_audit_pending" in text and "mcp_grpc_audit_dropped" in text
    lines = [line for line in stderr.splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any("Prometheus metrics on http://127.0.0.1:" in r["message"] for r in records)


class _Collector(http.server.BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        _Collector.received.append((self.path, body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_otlp_exports_call_spans_and_metrics_to_the_configured_endpoint(tmp_path):
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    _Collector.received = []
    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    socket = tmp_path / "demo.sock"
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_port}", "OTEL_SERVICE_NAME": "payments",
           "OTEL_METRIC_EXPORT_INTERVAL": "300", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    process = _serve(socket, "--otlp", env=env)
    try:
        _wait_for(socket, process)
        _call(socket)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (
                {"/v1/traces", "/v1/metrics"} <= {path for path, _ in _Collector.received}):
            time.sleep(0.1)
    finally:
        _stop(process)
        receiver.shutdown()
    spans = [span.name for path, body in _Collector.received if path == "/v1/traces"
             for rs in ExportTraceServiceRequest.FromString(body).resource_spans
             for ss in rs.scope_spans for span in ss.spans]
    names = {metric.name for path, body in _Collector.received if path == "/v1/metrics"
             for rm in ExportMetricsServiceRequest.FromString(body).resource_metrics
             for sm in rm.scope_metrics for metric in sm.metrics}
    assert "mcp.CallTool" in spans, spans
    assert {"mcp_grpc.server.calls", "mcp_grpc.audit.pending"} <= names, names


def test_the_operational_gauges_read_the_audit_sink_and_the_svid():
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from mcp_grpc.server.exporters import observe_operations
    from mcp_grpc.server.security import json_audit_sink

    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    sink = json_audit_sink(None)
    sink.dropped = 3  # as if the queue had overflowed three times
    expiry = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
    observe_operations(audit_sink=sink, svid_not_after=lambda: expiry, meter_provider=provider)
    try:
        data = reader.get_metrics_data()
    finally:
        sink.close()
    values = {m.name: m.data.data_points[0].value for rm in data.resource_metrics for sm in rm.scope_metrics
              for m in sm.metrics}
    assert values["mcp_grpc.audit.dropped"] == 3 and values["mcp_grpc.audit.pending"] == 0
    assert 590 < values["mcp_grpc.identity.svid.expires_in"] <= 600


def test_a_metrics_port_in_use_is_a_clear_error(tmp_path):
    import socket as sockets

    busy = sockets.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mcp_grpc", "serve", "examples/demo/server.py:app", "--insecure-local",
             "--port", "0", "--metrics-port", str(busy.getsockname()[1])],
            cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True,
            timeout=60)
    finally:
        busy.close()
    assert done.returncode == 2, done.stderr
    assert "cannot serve metrics on 127.0.0.1:" in done.stderr and "Traceback" not in done.stderr
