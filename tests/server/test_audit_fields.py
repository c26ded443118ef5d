"""The audit event a ``Call`` writes carries each value in its own field (``Call._end`` builds it positionally)."""

from __future__ import annotations

import dataclasses

import grpc

from mcp_grpc.contract import AuditDecision, AuditEvent, CheckOutcome, Principal, ProofKind
from mcp_grpc.server.call import Call, Rejected
from tests.support.calls import principal, tool_target


class _Sink:
    def __init__(self) -> None:
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent) -> None:
        self.events.append(event)


def _call(sink: _Sink, *, audit_arguments: bool) -> Call:
    metadata = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    return Call("model_context_protocol.Mcp", "CallTool", metadata, "ipv4:10.0.0.7:5000",
                sink=sink, telemetry=None, audit_arguments=audit_arguments)


def test_the_field_order_call_end_relies_on() -> None:
    names = [field.name for field in dataclasses.fields(AuditEvent)]
    assert names[:15] == [
        "time", "principal", "proven_by", "service", "method", "kind", "target", "decision", "reason", "checks",
        "latency_ms", "trace_id", "peer", "arguments", "actor",
    ]


def test_an_allowed_call_names_every_part_in_its_own_field() -> None:
    sink = _Sink()
    call = _call(sink, audit_arguments=True)
    delegated = dataclasses.replace(principal(), proven_by=ProofKind.DELEGATED, actor="spiffe://example.org/proxy")
    call.principal = delegated
    call.target = tool_target("refund", {"amount": 5})
    call.checks = (CheckOutcome("can_call", "tool:payments/refund", "allowed"),)
    call.finish("tool error")
    (event,) = sink.events
    assert (event.principal, event.proven_by, event.actor) == (
        "spiffe://example.org/ns/prod/sa/billing", "delegated", "spiffe://example.org/proxy")
    assert (event.service, event.method, event.kind, event.target) == (
        "model_context_protocol.Mcp", "CallTool", "tool", "refund")
    assert (event.decision, event.reason) == (AuditDecision.ALLOW, "tool error")
    assert event.checks == (CheckOutcome("can_call", "tool:payments/refund", "allowed"),)
    assert event.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert event.peer == "ipv4:10.0.0.7:5000"
    assert event.arguments == {"amount": 5}
    assert isinstance(event.time, float) and event.time > 1.7e9
    assert isinstance(event.latency_ms, float) and 0.0 <= event.latency_ms < 60_000
    assert (event.shadow, event.shadow_reason, event.shadow_error) == (None, None, None)


def test_a_rejected_call_before_authentication_leaves_caller_and_target_empty() -> None:
    sink = _Sink()
    call = _call(sink, audit_arguments=False)
    call.fail(Rejected(grpc.StatusCode.UNAUTHENTICATED, "no client certificate", AuditDecision.UNAUTHENTICATED))
    (event,) = sink.events
    assert (event.principal, event.proven_by, event.kind, event.target, event.arguments, event.actor) == (
        None, None, None, None, None, None)
    assert (event.decision, event.reason, event.checks) == (AuditDecision.UNAUTHENTICATED, "no client certificate", ())


def test_arguments_stay_out_unless_configured() -> None:
    sink = _Sink()
    call = _call(sink, audit_arguments=False)
    call.principal = Principal("spiffe://example.org/a", "example.org", ProofKind.X509, None)
    call.target = tool_target("refund", {"amount": 5})
    call.finish()
    (event,) = sink.events
    assert event.arguments is None and event.proven_by == "x509" and event.actor is None


def test_the_call_target_the_pipeline_builds_names_every_part_in_its_own_field() -> None:
    """``Pipeline.target`` builds the CallTarget positionally too."""
    from mcp_grpc.contract import Check, TargetKind
    from mcp_grpc.server.pipeline import CONSISTENCY_KEY, Pipeline

    pipeline = Pipeline(server_name="payments", authenticator=None, authorizer=None, audit_sink=None,
                        insecure_local=True)
    call = Call("model_context_protocol.Mcp", "CallTool", {CONSISTENCY_KEY: "HIGHER_CONSISTENCY"},
                "ipv4:10.0.0.7:5000", sink=None, telemetry=None, audit_arguments=False)
    checks = [Check("can_read", "bucket:{bucket}")]
    target = pipeline.target(call, TargetKind.TOOL, "read_object", {"bucket": "reports"}, checks)
    assert [field.name for field in dataclasses.fields(target)] == [
        "server_name", "service", "method", "kind", "name", "arguments", "required_checks", "peer", "consistency",
    ]
    assert (target.server_name, target.service, target.method) == ("payments", "model_context_protocol.Mcp", "CallTool")
    assert (target.kind, target.name, target.arguments) == (TargetKind.TOOL, "read_object", {"bucket": "reports"})
    assert target.required_checks == (Check("can_read", "bucket:{bucket}"),)
    assert (target.peer, target.consistency) == ("ipv4:10.0.0.7:5000", "HIGHER_CONSISTENCY")
    bare = pipeline.target(call, TargetKind.TOOL, "read_object")
    assert (bare.arguments, bare.required_checks) == ({}, ())
