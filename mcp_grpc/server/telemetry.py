"""OpenTelemetry spans and metrics for calls (opentelemetry-api; no-op until an SDK provider is installed).

``Pipeline`` owns one ``CallTelemetry``. Per call it starts a span when the call begins and ends it with the
call's single audit event, so the span, the metrics and the audit record describe the same call:

Span (tracer ``mcp_grpc.server``): ``mcp.<Method>`` (``mcp.CallTool``, ``mcp.ListTools``, a proto-first method's
name), kind SERVER, the child of the caller's trace when the request metadata carries one (W3C ``traceparent``, or
whatever ``OTEL_PROPAGATORS`` selects: extraction goes through ``opentelemetry.propagate``). Attributes:
``rpc.system`` = grpc, ``rpc.service``, ``rpc.method``, ``rpc.grpc.status_code`` (int), ``mcp_grpc.target.kind`` and
``mcp_grpc.target.name`` (also ``gen_ai.tool.name``, ``gen_ai.prompt.name`` or ``mcp.resource.uri`` as the MCP
semantic conventions name them, and ``mcp.method.name`` such as ``tools/call`` for the MCP services),
``enduser.id`` (the caller's SPIFFE ID once authenticated), ``mcp_grpc.proven_by`` and ``mcp_grpc.decision``
(allow, deny, limited, unauthenticated, unavailable, invalid_argument, error: the audit record's label). The span status
is ERROR, with the reason, for the codes the gRPC conventions count as server errors (UNKNOWN, DEADLINE_EXCEEDED,
UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS); a denial is an answer, not a server error.

The span is the current span while the call is authorized and its handler runs, so the authorizer's
``authz.authorize`` / ``authz.visible`` spans (``mcp_grpc.authz.telemetry``) are its children, and so are the spans
a handler opens (synchronous handlers run in a copy of the call's context). The audit record's ``trace_id`` is
the span's trace id: one id for logs and traces.

Metrics (meter ``mcp_grpc.server``; names, units and attribute style follow ``mcp_grpc.authz.telemetry``):
- ``mcp_grpc.server.calls`` (counter): one per call, attributes ``service``, ``method`` and ``decision``. It is an
  asynchronous (observable) counter over tallies kept here: the SDK's synchronous ``Counter.add`` costs as much as
  a whole cached call, a dict increment does not.
- ``mcp_grpc.server.call.duration`` (histogram, ms): from the start of the call to its audit event, same
  attributes.

Cost: while no SDK tracer or meter provider is installed (globally, or given to the constructor), a call pays a
comparison of the clock reading it already took (the global providers are looked up again at most once a second,
since an application may install them after the server is built). Measured numbers are in the project's report on this
module; ``bench/`` holds the full-stack budget.

Configuration: install SDK providers the usual way, before or after building the server:
``trace.set_tracer_provider(...)`` and ``metrics.set_meter_provider(...)``, or run the server under
``opentelemetry-instrument`` (opentelemetry-distro) so that the standard ``OTEL_*`` variables
(``OTEL_SERVICE_NAME``, ``OTEL_TRACES_EXPORTER``, ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_TRACES_SAMPLER``, ...)
choose exporters and sampling; those variables are the SDK's business, not ours. For development,
``mcp-grpc serve --otel-console`` calls ``install_console_exporters``: spans and periodic metrics on stdout.

OpenTelemetry's own gRPC instrumentation (``opentelemetry-instrumentation-grpc``, the optional extra ``otel``)
provides ``aio_server_interceptor()``, a grpc.aio server interceptor usable through ``ServerConfig.interceptors``::

    from opentelemetry.instrumentation.grpc import aio_server_interceptor
    Server(app, ServerConfig(..., interceptors=[aio_server_interceptor()]))

It adds a SERVER span per RPC named ``/<service>/<method>`` with the standard RPC attributes, for every service
(health and reflection included). When such a span is current, the call span here becomes its INTERNAL child
instead of a second SERVER span, and the trace context is the one it extracted. Without it, the call span is the
server span: the MCP attributes, the decision and the caller's identity are what this module adds.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Mapping

import grpc
from opentelemetry import context as otel_context
from opentelemetry import metrics, propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from mcp_grpc import wire
from mcp_grpc.contract.bounds import clip
from mcp_grpc.contract.extras import require

if TYPE_CHECKING:
    from mcp_grpc.contract import Principal
    from mcp_grpc.contract import CallTarget

__all__ = ["CallTelemetry", "CallSpan", "install_console_exporters"]

_SCOPE = "mcp_grpc.server"

#: Bucket bounds (ms) for call durations: a cached call takes a fraction of a millisecond, a remote check tens.
DURATION_BUCKETS_MS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 10000.0)

#: MCP method names (``mcp.method.name``) of the rpcs of the Mcp and McpStreaming services.
MCP_METHOD_NAMES = {
    "ListTools": "tools/list",
    "CallTool": "tools/call",
    "CallToolStream": "tools/call",
    "ListResources": "resources/list",
    "ListResourceTemplates": "resources/templates/list",
    "ReadResource": "resources/read",
    "ListPrompts": "prompts/list",
    "GetPrompt": "prompts/get",
    "Complete": "completion/complete",
}
_MCP_SERVICES = frozenset({wire.MCP_SERVICE, wire.STREAMING_SERVICE})

#: The target attribute the MCP semantic conventions define for each target kind.
_TARGET_NAME_ATTRIBUTE = {"tool": "gen_ai.tool.name", "prompt": "gen_ai.prompt.name", "resource": "mcp.resource.uri"}

#: Status codes the gRPC semantic conventions count as server errors (span status ERROR).
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _sdk_tracer_provider() -> bool:
    provider = trace.get_tracer_provider()
    return not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _sdk_meter_provider() -> bool:
    provider = metrics.get_meter_provider()
    # Until one is set, the API hands out a private proxy provider; name it by type name, not by private import.
    return not isinstance(provider, metrics.NoOpMeterProvider) and type(provider).__name__ != "_ProxyMeterProvider"


class CallSpan:
    """The span of one call in flight, and what is needed to close it where it was opened."""

    __slots__ = ("span", "token", "owner", "trace_id")

    def __init__(self, span: trace.Span, token: object, owner: object) -> None:
        self.span = span
        self.token = token
        self.owner = owner
        context = span.get_span_context()
        self.trace_id = format(context.trace_id, "032x") if context.is_valid else None


def _current_task() -> object:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop: a synchronous caller
        return None


class CallTelemetry:
    """Spans and metrics of calls. Pass providers to use something else than the global ones (tests do)."""

    def __init__(
        self,
        *,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
    ) -> None:
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(_SCOPE)
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(_SCOPE)
        self._tallies: dict[tuple[str, str, str], int] = {}
        self._tallies_lock = threading.Lock()  # calls may finish on several event loops (several servers)
        self._attributes: dict[tuple[str, str, str], dict[str, str]] = {}
        meter.create_observable_counter(
            "mcp_grpc.server.calls",
            callbacks=[self._observe_calls],
            unit="{call}",
            description="Calls by service, method and decision",
        )
        self._duration = meter.create_histogram(
            "mcp_grpc.server.call.duration",
            unit="ms",
            description="Time from the start of a call to its audit event",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_MS,
        )
        # Once a real provider is set it stays (an OpenTelemetry rule), so a True here is final.
        self.tracing = tracer_provider is not None
        self.metering = meter_provider is not None
        self.enabled = self.tracing or self.metering
        #: ``time.perf_counter()`` value after which ``active`` looks the global providers up again.
        self.next_check = 0.0
        self._span_names: dict[str, str] = {}

    def _observe_calls(self, _options: Any) -> list[metrics.Observation]:
        with self._tallies_lock:
            tallies = list(self._tallies.items())
        return [metrics.Observation(count, self._attributes[key]) for key, count in tallies]

    def active(self, now: float | None = None) -> bool:
        """False while neither spans nor metrics would be recorded: the call then skips telemetry entirely.

        ``now`` is a ``time.perf_counter()`` reading the caller already has. The chain calls this only when
        ``enabled`` or when ``now >= next_check``, so a call with telemetry off pays two attribute reads.
        """
        if now is None:
            now = time.perf_counter()
        if now >= self.next_check and not (self.tracing and self.metering):
            self.next_check = now + 1.0  # looking the providers up costs more than a cached call: once a second
            self.tracing = self.tracing or _sdk_tracer_provider()
            self.metering = self.metering or _sdk_meter_provider()
            self.enabled = self.tracing or self.metering
        return self.enabled

    def start(self, service: str, method: str, metadata: Mapping[str, str]) -> CallSpan | None:
        """Open the call's span and make it current. None when tracing is off."""
        if not self.tracing:
            return None
        current = trace.get_current_span()
        if current.get_span_context().is_valid:  # e.g. the gRPC instrumentation's SERVER span: nest under it
            parent = None
            kind = SpanKind.INTERNAL
        else:
            parent = propagate.extract(metadata)
            kind = SpanKind.SERVER
        name = self._span_names.get(method)
        if name is None:
            name = self._span_names[method] = f"mcp.{method}"
        attributes: dict[str, Any] = {"rpc.system": "grpc", "rpc.service": service, "rpc.method": method}
        if service in _MCP_SERVICES:
            mcp_method = MCP_METHOD_NAMES.get(method)
            if mcp_method is not None:
                attributes["mcp.method.name"] = mcp_method
        span = self.tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return CallSpan(span, token, _current_task())

    def end(
        self,
        call_span: CallSpan | None,
        *,
        service: str,
        method: str,
        principal: Principal | None,
        target: CallTarget | None,
        decision: str,
        status: grpc.StatusCode,
        reason: str,
        latency_ms: float,
    ) -> None:
        """Close the call's span (if any) and record its metrics."""
        if call_span is not None:
            span = call_span.span
            if span.is_recording():
                attributes: dict[str, Any] = {
                    "mcp_grpc.decision": decision,
                    "rpc.grpc.status_code": status.value[0],
                }
                if principal is not None:
                    attributes["enduser.id"] = principal.spiffe_id
                    attributes["mcp_grpc.proven_by"] = principal.proven_by.value
                if target is not None:
                    kind = target.kind.value
                    name = clip(target.name)  # the caller's choice: bounded like in audit records
                    attributes["mcp_grpc.target.kind"] = kind
                    attributes["mcp_grpc.target.name"] = name
                    semantic = _TARGET_NAME_ATTRIBUTE.get(kind)
                    if semantic is not None:
                        attributes[semantic] = name
                span.set_attributes(attributes)
                if status in _SERVER_ERRORS:
                    span.set_status(Status(StatusCode.ERROR, reason or status.name))
            span.end()
            # Restore the context only where it was attached: a call finished by another task (CallToolStream runs
            # the tool in its own task) leaves it to the end of the rpc's task, which owns that context.
            if call_span.owner is _current_task():
                otel_context.detach(call_span.token)
        if self.metering:
            key = (service, method, decision)
            attributes = self._attributes.get(key)
            if attributes is None:
                attributes = self._attributes[key] = {"service": service, "method": method, "decision": decision}
            with self._tallies_lock:
                self._tallies[key] = self._tallies.get(key, 0) + 1
            self._duration.record(latency_ms, attributes)


def install_console_exporters(*, service_name: str = "mcp-grpc", metrics_interval: float = 10.0) -> None:
    """Set global SDK providers that print spans (batched) and metrics (every ``metrics_interval`` seconds) to stdout.

    For development (``mcp-grpc serve --otel-console``). ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` are
    honoured; ``service_name`` applies only when ``OTEL_SERVICE_NAME`` is unset. Providers flush at exit.
    """
    require("opentelemetry.sdk", extra="otel", needed_by="console telemetry",
            what="the OpenTelemetry SDK (opentelemetry-sdk)")
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if metrics_interval <= 0:
        raise ValueError("metrics_interval must be > 0")
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    resource = Resource.create(attributes)
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=metrics_interval * 1000)
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader], resource=resource))
