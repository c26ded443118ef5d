"""A "payments" app with the demo's tools and checks (examples/demo/server.py) whose handlers record every run, so a
test can assert that nothing ran after a denial; plus a resource and a prompt that no tuple grants.

Decisions come from the demo store (authz/model.fga + authz/tuples.yaml): the names here must match it.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from mcp_grpc.contract import Check
from mcp_grpc.server import McpApp

GRANTED_RESOURCE = "docs://policies/refunds.md"  # team finance reads it (authz/tuples.yaml)
UNGRANTED_RESOURCE = "docs://internal/salaries.md"  # no tuple names it: nobody reads it
TEMPLATE = "reports://{bucket}/{name}"  # no tuple grants the template or any report resource
GRANTED_PROMPT = "summarize_invoice"  # agent:* may get it
UNGRANTED_PROMPT = "draft_refund_email"  # no tuple names it


def recording_payments_app() -> tuple[McpApp, list[tuple[str, dict[str, Any]]]]:
    """The app and the list its handlers append ``(name, arguments)`` to when they run."""
    app = McpApp("payments")
    ran: list[tuple[str, dict[str, Any]]] = []

    @app.tool()
    def lookup_invoice(invoice_id: Annotated[str, Field(description="Invoice number.")]) -> str:
        """Look up an invoice."""
        ran.append(("lookup_invoice", {"invoice_id": invoice_id}))
        return f"invoice {invoice_id}"

    @app.tool(authorize=[Check("can_read", "bucket:{bucket}")])
    def read_report(bucket: str, name: str) -> str:
        """Read a report from a bucket."""
        ran.append(("read_report", {"bucket": bucket, "name": name}))
        return f"{bucket}/{name}"

    @app.tool(authorize=[Check("can_refund", "ledger:payments")])
    def refund(invoice_id: str, amount: Annotated[float, Field(gt=0)]) -> str:
        """Refund part of an invoice."""
        ran.append(("refund", {"invoice_id": invoice_id, "amount": amount}))
        return f"refunded {amount:g} on {invoice_id}"

    @app.resource(GRANTED_RESOURCE, mime_type="text/markdown")
    def refund_policy() -> str:
        """The refund policy."""
        ran.append(("refund_policy", {}))
        return "# Refunds"

    @app.resource(UNGRANTED_RESOURCE, mime_type="text/markdown")
    def salaries() -> str:
        """Salaries (no one is granted this)."""
        ran.append(("salaries", {}))
        return "(confidential)"

    @app.resource(TEMPLATE, mime_type="text/plain")
    def report(bucket: str, name: str) -> str:
        """A report by bucket and name (no one is granted these)."""
        ran.append(("report", {"bucket": bucket, "name": name}))
        return f"{bucket}/{name}"

    @app.prompt(name=GRANTED_PROMPT)
    def summarize_invoice(invoice_id: str) -> str:
        """Summarize an invoice."""
        ran.append((GRANTED_PROMPT, {"invoice_id": invoice_id}))
        return f"Summarize invoice {invoice_id}."

    @app.prompt(name=UNGRANTED_PROMPT)
    def draft_refund_email(invoice_id: str) -> str:
        """Draft a refund e-mail (no one is granted this)."""
        ran.append((UNGRANTED_PROMPT, {"invoice_id": invoice_id}))
        return f"Draft a refund e-mail for {invoice_id}."

    return app, ran
