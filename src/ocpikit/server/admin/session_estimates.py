"""The backend API's session cost estimates (docs/cdrs.md "Session estimates"):
``GET /admin/api/session-estimates?partner=P&status=ACTIVE&differences=true&limit=N``: each
partner's Session we hold, its reported ``total_cost`` against the engine's estimate of its
charging periods so far (:mod:`ocpikit.operations.session_estimates`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.operations.session_estimates import list_session_estimates
from ocpikit.server.admin.common import json_response
from ocpikit.server.admin.invoice_checks import flag
from ocpikit.server.platform import Platform

__all__ = ["list_session_estimate_rows"]

STATUSES = ("ACTIVE", "COMPLETED", "INVALID", "PENDING", "RESERVATION")


async def list_session_estimate_rows(request: Request, platform: Platform) -> Response:
    q = request.query_params
    try:
        limit = int(q.get("limit", "1000"))
    except ValueError:
        raise InvalidOrMissingParameters("limit: a number", path="limit") from None
    status = q.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidOrMissingParameters(f"status: one of {', '.join(STATUSES)}", path="status")
    rows = await list_session_estimates(
        platform.storage,
        partner=q.get("partner"),
        status=status,
        differences=flag(q.get("differences"), "differences"),
        limit=max(1, min(limit, 10000)),
    )
    return json_response(rows)
