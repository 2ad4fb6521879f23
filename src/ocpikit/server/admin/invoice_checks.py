"""The backend API's Invoice Reconciliation checks (docs/cdrs.md "Invoice Reconciliation"):
``GET /admin/api/invoice-checks?partner=P&own=true&differences=true&limit=N``: each
InvoiceReconciliationRecord we hold checked against our CDRs and their checked totals
(:mod:`ocpikit.operations.invoice_checks`). Our own records are written with the object
endpoints (``PUT /admin/api/invoicereconciliation/{cc}/{pid}/{id}``) and pushed like any of
our objects."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.operations.invoice_checks import list_invoice_checks
from ocpikit.server.admin.common import json_response
from ocpikit.server.platform import Platform

__all__ = ["flag", "list_invoice_check_rows"]


def flag(value: str | None, name: str) -> bool:
    """A boolean query parameter (absent: false); 2001 naming it when it is neither."""
    if value is None or value in ("false", "0"):
        return False
    if value in ("true", "1", ""):
        return True
    raise InvalidOrMissingParameters(f"{name}: true or false", path=name)


async def list_invoice_check_rows(request: Request, platform: Platform) -> Response:
    q = request.query_params
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise InvalidOrMissingParameters("limit: a number", path="limit") from None
    rows = await list_invoice_checks(
        platform.storage,
        partner=q.get("partner"),
        own=flag(q.get("own"), "own"),
        differences=flag(q.get("differences"), "differences"),
        limit=max(1, min(limit, 10000)),
    )
    return json_response(rows)
