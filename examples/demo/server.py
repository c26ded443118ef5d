"""The demo's tool server, "payments": a lookup anyone trusted may call, a report reader whose bucket argument is
checked, and a refund whose amount is checked against a limit written in the tuples (authz/).

    mcp-grpc serve examples/demo/server.py:app --spiffe-socket DIR/server.sock --authz-dir authz/
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from mcp_grpc.contract import Check
from mcp_grpc.server import Context, McpApp, ToolAnnotations

app = McpApp("payments", instructions="Invoices, reports and refunds for the demo.")

INVOICES = {
    "INV-1001": {"customer": "ACME", "amount": 420.0, "status": "paid"},
    "INV-1002": {"customer": "Globex", "amount": 75.5, "status": "open"},
}
REPORTS = {
    "reports": {"q3.txt": "Q3 revenue: 1.2M", "q4.txt": "Q4 revenue: 1.4M"},
    "restricted": {"salaries.txt": "(confidential)"},
}


class Invoice(BaseModel):
    invoice_id: str
    customer: str
    amount: float
    status: str


class Refund(BaseModel):
    invoice_id: str
    refunded: float


@app.tool(annotations=ToolAnnotations(read_only=True, idempotent=True))
def lookup_invoice(invoice_id: Annotated[str, Field(description="Invoice number, e.g. INV-1001.")]) -> Invoice:
    """Look up an invoice by number."""
    if invoice_id not in INVOICES:
        raise KeyError(f"no invoice {invoice_id}")
    return Invoice(invoice_id=invoice_id, **INVOICES[invoice_id])


@app.tool(
    annotations=ToolAnnotations(read_only=True, idempotent=True),
    authorize=[Check("can_read", "bucket:{bucket}")],
)
def read_report(
    bucket: Annotated[str, Field(description="The bucket holding the report.")],
    name: Annotated[str, Field(description="The report's file name.")],
) -> str:
    """Read a report from a bucket the caller may read."""
    try:
        return REPORTS[bucket][name]
    except KeyError:
        raise KeyError(f"no report {name} in bucket {bucket}") from None


@app.tool(
    annotations=ToolAnnotations(destructive=True),
    authorize=[Check("can_refund", "ledger:payments")],
)
def refund(
    invoice_id: Annotated[str, Field(description="The invoice to refund.")],
    amount: Annotated[float, Field(gt=0, description="How much to refund.")],
    ctx: Context,
) -> Refund:
    """Refund part of an invoice; the ledger's condition limits the amount per agent. Reports its two steps as
    progress to a caller that asked for it (CallToolStream)."""
    if invoice_id not in INVOICES:
        raise KeyError(f"no invoice {invoice_id}")
    ctx.report_progress(1, 2, "invoice checked")
    refund = Refund(invoice_id=invoice_id, refunded=amount)
    ctx.report_progress(2, 2, "refund recorded")
    return refund


@app.resource("docs://policies/refunds.md", mime_type="text/markdown")
def refund_policy() -> str:
    """The refund policy."""
    return "# Refunds\nFinance may refund up to 100 per call; larger refunds need a security review."


@app.prompt()
def summarize_invoice(invoice_id: Annotated[str, Field(description="The invoice to summarize.")]) -> str:
    """Ask for a one-paragraph summary of an invoice."""
    return f"Summarize invoice {invoice_id} in one paragraph for a support ticket."
