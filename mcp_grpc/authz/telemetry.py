"""OpenTelemetry spans and metrics for authorization decisions (opentelemetry-api; no-op without an SDK).

Instruments (meter ``mcp_grpc.authz``):
- ``mcp_grpc.authz.decisions`` (counter): one per decision, attribute ``outcome`` = allow | deny | unavailable |
  invalid_argument, and ``kind`` (tool, resource, ...).
- ``mcp_grpc.authz.decision.duration`` (histogram, ms): time to decide, cache hits included.
- ``mcp_grpc.authz.cache.lookups`` (counter): attribute ``result`` = hit | miss.
- ``mcp_grpc.authz.cache.hit_ratio`` (observable gauge): hits / lookups of the attached ``DecisionCache``.
Spans (tracer ``mcp_grpc.authz``): ``authz.authorize`` per call with ``mcp.authz.*`` attributes, ``authz.visible``
per List* filtering.

Calls themselves: ``opentelemetry-instrumentation-grpc`` provides ``aio_server_interceptor()``; the server adds it as
the first interceptor of its chain so that the ``authz.authorize`` span becomes a child of the RPC's server span and
the audit record's ``trace_id`` is the RPC's trace.

Cost: while no SDK provider is installed (given to the constructor, or global), spans and metric calls are skipped:
they would be no-ops, yet cost more than the rest of a cached decision. The global providers are looked up again at
most once a second (as in ``mcp_grpc.server.telemetry``), so providers installed after the authorizer was built are
used from then on.
"""

from __future__ import annotations

import contextlib
import time
from typing import TYPE_CHECKING, Any, Iterator

from opentelemetry import metrics, trace

if TYPE_CHECKING:
    from mcp_grpc.authz.cache import DecisionCache

__all__ = ["AuthzTelemetry"]

_SCOPE = "mcp_grpc.authz"


def _sdk_meter_provider() -> bool:
    provider = metrics.get_meter_provider()
    # Until one is set, the API hands out a private proxy provider; name it by type name, not by private import.
    return not isinstance(provider, metrics.NoOpMeterProvider) and type(provider).__name__ != "_ProxyMeterProvider"


class AuthzTelemetry:
    """Decision metrics and spans. Pass providers to use something else than the global ones (tests do)."""

    def __init__(
        self,
        *,
        meter_provider: metrics.MeterProvider | None = None,
        tracer_provider: trace.TracerProvider | None = None,
        cache: DecisionCache | None = None,
    ) -> None:
        meter = (meter_provider or metrics.get_meter_provider()).get_meter(_SCOPE)
        self.tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(_SCOPE)
        self._tracing = tracer_provider is not None  # once a real provider is set it stays (OpenTelemetry rule)
        self._next_tracing_check = 0.0
        self._metering = meter_provider is not None
        self._next_metering_check = 0.0
        self._decisions = meter.create_counter(
            "mcp_grpc.authz.decisions", unit="{decision}", description="Authorization decisions by outcome"
        )
        self._duration = meter.create_histogram(
            "mcp_grpc.authz.decision.duration", unit="ms", description="Time to decide one call"
        )
        self._cache_lookups = meter.create_counter(
            "mcp_grpc.authz.cache.lookups", unit="{lookup}", description="Decision cache lookups by result"
        )
        self.cache = cache
        meter.create_observable_gauge(
            "mcp_grpc.authz.cache.hit_ratio",
            callbacks=[self._observe_hit_ratio],
            unit="1",
            description="Decision cache hits / lookups since start",
        )

    def _observe_hit_ratio(self, _options: Any) -> list[metrics.Observation]:
        if self.cache is None:
            return []
        return [metrics.Observation(self.cache.stats().hit_ratio)]

    def tracing(self) -> bool:
        """False while no SDK tracer provider is installed: spans would be no-ops, so skip their cost."""
        if self._tracing:
            return True
        now = time.monotonic()
        if now < self._next_tracing_check:  # looking the provider up costs more than the rest of a cached decision
            return False
        self._next_tracing_check = now + 1.0
        provider = trace.get_tracer_provider()
        self._tracing = not isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider))
        return self._tracing

    def metering(self) -> bool:
        """False while no SDK meter provider is installed: the instruments would drop what they are given."""
        if self._metering:
            return True
        now = time.monotonic()
        if now < self._next_metering_check:
            return False
        self._next_metering_check = now + 1.0
        self._metering = _sdk_meter_provider()
        return self._metering

    def span(self, name: str, **attributes: Any) -> contextlib.AbstractContextManager[Any]:
        if not self.tracing():
            return contextlib.nullcontext()
        return self._span(name, attributes)

    @contextlib.contextmanager
    def _span(self, name: str, attributes: dict[str, Any]) -> Iterator[trace.Span]:
        with self.tracer.start_as_current_span(name, kind=trace.SpanKind.INTERNAL) as span:
            for key, value in attributes.items():
                if value is not None:
                    span.set_attribute(f"mcp.authz.{key}", value)
            yield span

    def decision(self, outcome: str, kind: str, duration_ms: float) -> None:
        if not self.metering():
            return
        attrs = {"outcome": outcome, "kind": kind}
        self._decisions.add(1, attrs)
        self._duration.record(duration_ms, attrs)

    def cache_lookups(self, hits: int, misses: int) -> None:
        if not self.metering():
            return
        if hits:
            self._cache_lookups.add(hits, {"result": "hit"})
        if misses:
            self._cache_lookups.add(misses, {"result": "miss"})
