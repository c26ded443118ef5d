"""Issue 12's inputs, property-based over the wire: what a caller controls cannot fake an authorization outage,
choose an audit record's trace id, or grow an audit record without bound.

The demo app and its store (authz/) behind the embedded engine; the caller is billing-agent, named by a test header
in insecure-local mode (identity has its own suites). Arguments carry newlines, control characters, NaN, infinities
and oversized strings; names are oversized; ``traceparent`` headers are random or nearly valid.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Iterator

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcp_grpc.authz.audit import audit_record
from mcp_grpc.server.runtime import ServerConfig
from mcp_grpc.wire import mcp_messages_pb2 as pb
from mcp_grpc.wire.structs import python_to_struct
from tests.server.server_support import HeaderAuthenticator, ListAuditSink
from tests.support.paths import REPO_ROOT
from tests.support.servers import on_own_loop

EXAMPLES = [pytest.param(40, id="short"), pytest.param(400, id="long", marks=pytest.mark.reliability)]
BILLING = "spiffe://example.org/ns/mcp-tools/sa/billing-agent"
VERSION = ("mcp-protocol-version", "2026-07-28")
MAX_RECORD_BYTES = 16 * 1024  # every caller-controlled field is clipped (mcp_grpc.contract.bounds)
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[grpc.Channel, ListAuditSink]]:
    from examples.demo.server import app
    from mcp_grpc.server.security import authorizer_from_authz_dir

    sink = ListAuditSink()
    config = ServerConfig(port=0, insecure_local=True, handle_signals=False, audit_sink=sink,
                          authenticator=HeaderAuthenticator(), authorizer=authorizer_from_authz_dir(REPO_ROOT / "authz"))
    with on_own_loop(app, config, "bad-input-audit") as (_, channel):
        yield channel, sink


_TEXT = (st.text(max_size=40) | st.sampled_from(["reports", "reports\n", "reports\r\n", "rep\x00orts", " reports",
                                                  "reports ", "a:b", "a#b", "*", ""])
         | st.builds(lambda s, n: s * n, st.sampled_from(["x", "\n", "é"]), st.integers(300, 5000)))
_NUMBER = st.floats() | st.sampled_from([float("inf"), float("-inf"), float("nan"), 50.0, 500.0, 0.0, -1.0])
_HEX = st.text(alphabet="0123456789abcdefABCDEF", min_size=0, max_size=40)
_PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)  # what a gRPC metadata value may hold
_TRACEPARENT = st.none() | st.text(_PRINTABLE, max_size=80) | st.builds(
    lambda v, t, s, f: f"{v}-{t}-{s}-{f}", st.sampled_from(["00", "01", "ff", "0"]), _HEX, _HEX, _HEX)


@st.composite
def calls(draw: st.DrawFn) -> tuple[str, dict[str, Any], str | None]:
    tool = draw(st.sampled_from(["read_report", "refund", "lookup_invoice"]) | _TEXT)
    arguments: dict[str, Any] = {
        "bucket": draw(_TEXT), "name": draw(_TEXT), "invoice_id": draw(_TEXT), "amount": draw(_NUMBER)}
    for name in draw(st.lists(st.sampled_from(sorted(arguments)), max_size=3, unique=True)):
        del arguments[name]
    if draw(st.integers(0, 3)) == 0:
        arguments[draw(_TEXT)] = draw(_TEXT | _NUMBER)
    return tool, arguments, draw(_TRACEPARENT)


def _send(channel: grpc.Channel, tool: str, arguments: dict[str, Any], traceparent: str | None) -> str:
    request = pb.CallToolRequest()
    request.request.name = tool
    python_to_struct(arguments, request.request.arguments)
    metadata = [VERSION, ("x-test-identity", BILLING), ("mcp_tool", tool.encode("utf-8", "replace").hex()[:64])]
    if traceparent is not None:
        metadata.append(("traceparent", traceparent))
    try:
        reply = channel.unary_unary("/model_context_protocol.Mcp/CallTool")(
            request.SerializeToString(), timeout=10, metadata=metadata)
    except grpc.RpcError as error:
        return error.code().name
    return "TOOL_ERROR" if pb.CallToolResponse.FromString(reply).is_error else "OK"


def _expected_trace_id(traceparent: str | None) -> str | None:
    if traceparent is None or len(traceparent) != 55 or not traceparent.startswith("00-"):
        return None
    parts = traceparent.split("-")
    if len(parts) != 4 or [len(p) for p in parts] != [2, 32, 16, 2]:
        return None
    if not all(TRACE_ID.match(p + "0" * (32 - len(p))) for p in parts[1:]):
        return None
    if parts[1] == "0" * 32 or parts[2] == "0" * 16:
        return None
    return parts[1]


@pytest.mark.parametrize("examples", EXAMPLES)
def test_caller_text_cannot_fake_an_outage_pick_a_trace_id_or_grow_an_audit_record(examples: int, served) -> None:
    channel, sink = served
    seen: dict[str, int] = {}

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(call=calls())
    def check(call: tuple[str, dict[str, Any], str | None]) -> None:
        tool, arguments, traceparent = call
        before = len(sink.events)
        try:
            status = _send(channel, tool, arguments, traceparent)
        except (ValueError, TypeError):  # not representable as metadata or in a Struct: nothing was sent
            return
        seen[status] = seen.get(status, 0) + 1
        # Never an outage, never an imprecise status: the caller's text is refused or denied, never "unavailable".
        assert status in {"OK", "TOOL_ERROR", "PERMISSION_DENIED", "INVALID_ARGUMENT", "NOT_FOUND"}, (status, call)
        for _ in range(200):  # the record is written as the call ends, possibly just after the reply
            if len(sink.events) > before:
                break
            threading.Event().wait(0.01)
        [event] = sink.events[before:]
        record = audit_record(event, include_arguments=True)
        assert record["decision"] != "unavailable", record
        assert record["trace_id"] == _expected_trace_id(traceparent), (traceparent, record["trace_id"])
        line = json.dumps(record, ensure_ascii=False)
        assert "\n" not in line and len(line.encode()) <= MAX_RECORD_BYTES, len(line.encode())

    check()
    print(f"\ncaller text[{examples}]: {seen}")
    assert seen.get("OK", 0) + seen.get("TOOL_ERROR", 0) > 0 and len(seen) > 1
