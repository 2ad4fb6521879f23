"""The backend API's traffic log: ``GET /admin/api/exchanges``, every OCPI exchange in
(partners calling us) and out (our pushes, pulls, command results, authorization requests,
credentials exchanges), as stored: redacted (docs/storage.md "Exchange log: redaction").

Query parameters (all optional): ``direction=in|out``, ``partner=<partner id>``,
``module=<OCPI module>``, ``object_id=<id>``, ``status=<HTTP status>|2xx|4xx|5xx|error``,
``since=<RFC 3339 time>``, ``before=<id>`` (the keyset page: exchanges older than that one),
``limit`` (1 to 1000, default 100). Newest first; the answer is
``{"exchanges": [...], "next_before": <id or null>}``: pass ``next_before`` as ``before`` for
the next page.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ocpikit.core.errors import InvalidOrMissingParameters
from ocpikit.core.types import format_datetime, parse_datetime
from ocpikit.protocol.ports import Exchange, ExchangeDirection, ExchangeQuery
from ocpikit.server.admin.common import json_response
from ocpikit.server.platform import Platform

__all__ = ["exchange_json", "list_exchanges"]

#: the largest page of ``GET /admin/api/exchanges``
MAX_LIMIT = 1000


def _text(body: bytes | None) -> str | None:
    return body.decode("utf-8", "replace") if body is not None else None


def exchange_json(e: Exchange) -> dict[str, Any]:
    """One exchange as the backend API shows it (bodies as text)."""
    return {
        "id": e.id,
        "direction": e.direction.value,
        "started_at": format_datetime(e.started_at),
        "partner": e.partner_id,
        "module": e.module,
        "object_id": e.object_id,
        "method": e.method,
        "url": e.url,
        "status": e.status,
        "ocpi_status": e.ocpi_status,
        "duration_ms": round(e.duration_ms, 3) if e.duration_ms is not None else None,
        "request_id": e.request_id,
        "correlation_id": e.correlation_id,
        "error": e.error,
        "request_headers": [list(h) for h in e.request_headers],
        "request_body": _text(e.request_body),
        "response_headers": [list(h) for h in e.response_headers],
        "response_body": _text(e.response_body),
    }


def _int(q: Any, name: str, default: int | None) -> int | None:
    text = q.get(name)
    if text is None or text == "":
        return default
    try:
        return int(text)
    except ValueError:
        raise InvalidOrMissingParameters(f"{name}: a whole number", path=name) from None


def exchange_query(request: Request) -> tuple[ExchangeQuery, int]:
    """The filters and page size of the request; 2001 naming the parameter for a bad one."""
    q = request.query_params
    direction = None
    if q.get("direction"):
        try:
            direction = ExchangeDirection(q["direction"])
        except ValueError:
            raise InvalidOrMissingParameters("direction: in or out", path="direction") from None
    since = None
    if q.get("since"):
        try:
            since = parse_datetime(q["since"])
        except ValueError:
            raise InvalidOrMissingParameters("since: an RFC 3339 time", path="since") from None
    query = ExchangeQuery(
        direction=direction,
        partner_id=q.get("partner") or None,
        module=q.get("module") or None,
        object_id=q.get("object_id") or None,
        status=q.get("status") or None,
        since=since,
        before_id=_int(q, "before", None),
    )
    try:
        query.status_bounds()
    except ValueError as exc:
        raise InvalidOrMissingParameters(str(exc), path="status") from None
    limit = _int(q, "limit", 100) or 100
    return query, max(1, min(limit, MAX_LIMIT))


async def list_exchanges(request: Request, platform: Platform) -> Response:
    query, limit = exchange_query(request)
    rows = await platform.storage.exchanges.recent(limit=limit, query=query)
    more = len(rows) == limit and rows[-1].id is not None
    return json_response(
        {
            "exchanges": [exchange_json(e) for e in rows],
            "next_before": rows[-1].id if more else None,
        }
    )
