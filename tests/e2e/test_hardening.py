"""Issue 12, calls and audit: what an attacker got through on the demo server, each over the wire against the demo
app (examples/demo/server.py) on real SPIFFE mTLS with the embedded engine over authz/ and a JSON audit file.

The requests are built by hand (a raw stub on the client's channel): the client refuses NaN and Infinity and would
never send a malformed traceparent, an attacker's client does."""

from __future__ import annotations

import json
import math
from typing import Any

import grpc
import pytest

from mcp_grpc.wire import mcp_messages_pb2 as pb
from tests.support.e2e import BILLING_ID, SUPPORT_ID, outcome

pytestmark = pytest.mark.asyncio(loop_scope="package")

VERSION = ("mcp-protocol-version", "2026-07-28")


def _value(into: Any, value: Any) -> None:
    if isinstance(value, bool):
        into.bool_value = value
    elif isinstance(value, (int, float)):
        into.number_value = value
    else:
        into.string_value = value


async def raw_call_tool(client: Any, name: str, arguments: dict[str, Any], metadata: tuple = ()) -> tuple[str, Any]:
    """(status name, response or details) of a CallTool sent exactly as given."""
    request = pb.CallToolRequest()
    request.request.name = name
    for key, value in arguments.items():
        _value(request.request.arguments.fields[key], value)
    try:
        return "OK", await client._mcp.CallTool(request, metadata=[VERSION, *metadata], timeout=20)
    except grpc.aio.AioRpcError as error:
        return error.code().name, error.details() or ""


def raw_lines(payments: Any, mark: int, expect: int) -> list[str]:
    """The audit file's lines after ``mark`` as written (their size is what an operator's log pipeline sees)."""
    payments.audit_since(mark, expect=expect)
    return payments.audit_path.read_text(encoding="utf-8").splitlines()[mark:]


# -- item 5: no fake authorization outages ------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [math.inf, -math.inf, math.nan])
async def test_a_non_finite_number_is_invalid_input_never_an_authorization_outage(payments, billing, amount):
    mark = payments.audit_mark()
    status, response = await raw_call_tool(billing, "refund", {"invoice_id": "INV-1001", "amount": amount})
    [record] = payments.audit_since(mark, expect=1)
    assert status == "OK" and response.is_error  # CallTool answers invalid arguments as a tool error
    assert "amount: NaN and Infinity are not JSON numbers" in response.content[0].text.text
    assert (record["decision"], record["principal"], record["target"]) == ("invalid_argument", BILLING_ID, "refund")
    assert "unavailable" not in record["reason"]


async def test_a_final_newline_in_an_object_id_is_invalid_argument(payments, billing):
    mark = payments.audit_mark()
    status, details = await raw_call_tool(billing, "read_report", {"bucket": "reports\n", "name": "q3.txt"})
    [record] = payments.audit_since(mark, expect=1)
    assert status == "INVALID_ARGUMENT" and "argument 'bucket'" in details
    assert record["decision"] == "invalid_argument"


# -- item 8: the audit trace id is never the caller's free text ---------------------------------------------------

VALID_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("traceparent", "expected"),
    [
        ("ZZ_ATTACKER_CHOSEN", None),
        ("00-ZZ_ATTACKER_CHOSEN-00f067aa0ba902b7-01", None),
        (f"00-{VALID_TRACE.upper()}-00f067aa0ba902b7-01", None),  # upper case is not W3C
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None),  # all-zero trace id
        (f"00-{VALID_TRACE}-{'0' * 16}-01", None),  # all-zero span id
        (f"01-{VALID_TRACE}-00f067aa0ba902b7-01", None),  # only version 00 is known
        (f"00-{VALID_TRACE}-00f067aa0ba902b7-01-forged", None),  # version 00 has exactly four fields
        (f"00-{VALID_TRACE}-00f067aa0ba902b7-01", VALID_TRACE),
    ],
)
async def test_the_audit_trace_id_comes_only_from_a_valid_w3c_traceparent(payments, billing, traceparent, expected):
    mark = payments.audit_mark()
    status, _ = await raw_call_tool(
        billing, "lookup_invoice", {"invoice_id": "INV-1001"}, metadata=(("traceparent", traceparent),)
    )
    [record] = payments.audit_since(mark, expect=1)
    assert status == "OK"
    assert record["trace_id"] == expected


# -- item 9: caller-controlled text is bounded in audit records and errors ------------------------------------------

MAX_AUDIT_LINE = 8 * 1024
MAX_ERROR = 4 * 1024


async def test_a_huge_unknown_argument_name_writes_a_bounded_audit_line_and_error(payments, billing):
    mark = payments.audit_mark()
    names = {f"{'x' * 1000}{index}": "1" for index in range(410)}  # 410 KiB of unknown argument names
    status, response = await raw_call_tool(billing, "lookup_invoice", {"invoice_id": "INV-1001", **names})
    [line] = raw_lines(payments, mark, expect=1)
    record = json.loads(line)
    assert status == "OK" and response.is_error
    assert "unexpected argument" in response.content[0].text.text
    assert len(response.content[0].text.text) < MAX_ERROR
    assert len(line) < MAX_AUDIT_LINE, len(line)
    assert record["decision"] == "invalid_argument" and record["principal"] == BILLING_ID


async def test_a_huge_tool_name_is_bounded_in_the_answer_and_the_audit_record(payments, support):
    mark = payments.audit_mark()
    status, details = await raw_call_tool(support, "t" * 300_000, {})
    [line] = raw_lines(payments, mark, expect=1)
    assert status in ("PERMISSION_DENIED", "INVALID_ARGUMENT")
    assert len(details) < MAX_ERROR
    assert len(line) < MAX_AUDIT_LINE, len(line)
    assert json.loads(line)["principal"] == SUPPORT_ID


async def test_a_huge_value_echoed_by_a_failing_tool_is_bounded(payments, billing):
    """read_report's KeyError quotes the report name: a tool error the caller sent 300 KB for."""
    mark = payments.audit_mark()
    status, response = await raw_call_tool(billing, "read_report", {"bucket": "reports", "name": "q" * 300_000})
    [line] = raw_lines(payments, mark, expect=1)
    assert status == "OK" and response.is_error
    assert len(response.content[0].text.text) < MAX_ERROR
    assert len(line) < MAX_AUDIT_LINE, len(line)
    assert json.loads(line)["reason"].startswith("tool error: ")


async def test_short_answers_are_unchanged(payments, billing):
    result = await outcome(billing.call_tool("read_report", {"bucket": "reports", "name": "nope.txt"}))
    assert (result.status, result.detail) == ("TOOL_ERROR", "no report nope.txt in bucket reports")
