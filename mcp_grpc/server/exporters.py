"""Where a server's telemetry goes in production, and the operational gauges operators alert on.

- :func:`install_exporters`: the global SDK providers, once, with every exporter asked for. ``serve --otlp``: spans
  and metrics over OTLP/HTTP, configured entirely by the standard variables (``OTEL_EXPORTER_OTLP_ENDPOINT``,
  ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_SERVICE_NAME``, ``OTEL_METRIC_EXPORT_INTERVAL``, ...). ``serve
  --metrics-port``: a Prometheus ``/metrics`` endpoint, plaintext, on its own port. ``--otel-console``: stdout.
- :func:`observe_operations`: observable gauges, on whatever meter provider is (or later becomes) global:
  ``mcp_grpc.audit.pending`` (records queued for the audit log), ``mcp_grpc.audit.dropped`` (records dropped since
  start because the queue was full or the log could not be written) and ``mcp_grpc.identity.svid.expires_in``
  (seconds until the server's X.509-SVID expires: an SVID that stops rotating shows here before calls fail).

The exporters are the optional extra ``otel`` (``pip install 'mcp-grpc[otel]'``); a missing one is an
``ExporterMissing`` naming the extra. Together with the decision metrics (``mcp_grpc.authz.decisions`` by outcome
and kind, ``mcp_grpc.authz.cache.hit_ratio``) and the call metrics (``mcp_grpc.server.calls`` by method and
decision) these are the series the operators' guide lists.
"""

from __future__ import annotations

import datetime
import os
from typing import Any, Callable

from opentelemetry import metrics, trace

from mcp_grpc.contract.extras import MissingExtra, require

__all__ = ["ExporterMissing", "install_exporters", "observe_operations"]

_SCOPE = "mcp_grpc.operations"


class ExporterMissing(RuntimeError):
    """An exporter package is not installed; the message names the extra that brings it."""


def _resource(service_name: str) -> Any:
    from opentelemetry.sdk.resources import Resource

    return Resource.create({} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name})


def install_exporters(
    *,
    service_name: str = "mcp-grpc",
    otlp: bool = False,
    prometheus: tuple[str, int] | None = None,
    console: bool = False,
    console_interval: float = 10.0,
) -> int | None:
    """Set the global tracer and meter providers once, with every exporter asked for: OTLP/HTTP spans and metrics
    (``otlp``), a Prometheus ``/metrics`` endpoint on ``prometheus`` = (host, port), console output (``console``,
    metrics every ``console_interval`` s). Returns the Prometheus port (0 picks one), or None."""
    try:
        require("opentelemetry.sdk", extra="otel", needed_by="exporting telemetry",
                what="the OpenTelemetry SDK (opentelemetry-sdk)")
    except MissingExtra as exc:
        raise ExporterMissing(str(exc)) from None
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if console and console_interval <= 0:
        raise ValueError("the console metrics interval must be > 0")
    span_exporters: list[Any] = []
    readers: list[Any] = []
    if otlp:
        try:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        except ImportError:
            raise ExporterMissing("--otlp needs the OTLP exporter: pip install 'mcp-grpc[otel]'") from None
        span_exporters.append(OTLPSpanExporter())  # OTEL_EXPORTER_OTLP_* choose endpoint, headers, timeout
        readers.append(PeriodicExportingMetricReader(OTLPMetricExporter()))  # OTEL_METRIC_EXPORT_INTERVAL
    port = None
    if prometheus is not None:
        try:
            import prometheus_client
            from opentelemetry.exporter.prometheus import PrometheusMetricReader
        except ImportError:
            raise ExporterMissing("--metrics-port needs the Prometheus exporter: pip install 'mcp-grpc[otel]'") from None
        host, wanted = prometheus
        try:
            server, _ = prometheus_client.start_http_server(wanted, addr=host)
        except OSError as exc:
            raise ValueError(f"cannot serve metrics on {host}:{wanted}: {exc.strerror or exc}") from None
        port = int(server.server_port)
        readers.append(PrometheusMetricReader())  # its collector joins prometheus_client's default registry
    if console:
        span_exporters.append(ConsoleSpanExporter())
        readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter(),
                                                     export_interval_millis=console_interval * 1000))
    resource = _resource(service_name)
    if span_exporters:
        tracer_provider = TracerProvider(resource=resource)
        for exporter in span_exporters:
            tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(tracer_provider)
    if readers:
        metrics.set_meter_provider(MeterProvider(metric_readers=readers, resource=resource))
    return port


def observe_operations(
    *,
    audit_sink: Any = None,
    svid_not_after: Callable[[], datetime.datetime | None] | None = None,
    meter_provider: metrics.MeterProvider | None = None,
) -> None:
    """Register the audit and SVID gauges (only those whose source is given)."""
    meter = (meter_provider or metrics.get_meter_provider()).get_meter(_SCOPE)
    if audit_sink is not None and hasattr(audit_sink, "dropped"):
        meter.create_observable_gauge(
            "mcp_grpc.audit.pending", unit="{record}", description="Audit records waiting to be written",
            callbacks=[lambda _options: [metrics.Observation(audit_sink.pending)]],
        )
        meter.create_observable_counter(
            "mcp_grpc.audit.dropped", unit="{record}", description="Audit records dropped since start",
            callbacks=[lambda _options: [metrics.Observation(audit_sink.dropped)]],
        )
    if svid_not_after is not None:

        def expires_in(_options: Any) -> list[metrics.Observation]:
            try:
                not_after = svid_not_after()
            except Exception:  # noqa: BLE001 - no SVID right now: report nothing rather than fail the export
                return []
            if not_after is None:
                return []
            remaining = (not_after - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
            return [metrics.Observation(remaining)]

        meter.create_observable_gauge(
            "mcp_grpc.identity.svid.expires_in", unit="s", callbacks=[expires_in],
            description="Seconds until the server's X.509-SVID expires",
        )
