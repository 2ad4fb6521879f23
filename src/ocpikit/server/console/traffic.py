"""The Traffic page: exchanges in and out (method, URL, status, OCPI status, duration,
partner, request and correlation ids), filtered, with a live tail (``console.js`` polls the
``/console/traffic/tail`` fragment for exchanges newer than the newest shown) and one
exchange's detail. What it shows is read through the storage port
:meth:`~ocpikit.protocol.ports.ExchangeLog.recent`, as stored: secrets are already redacted
(``ocpikit.storage.redaction``).

Filters (all optional): ``partner``, ``direction`` (in|out), ``module`` (the OCPI module in the
URL), ``object`` (an id in the URL or the request body: a Session's or CDR's exchanges),
``status`` (an HTTP status, or ``error``: HTTP ≥ 400 or an OCPI status other than 1xxx),
``since`` (RFC 3339). The page reads at most :data:`SCAN` of the newest exchanges (of the partner, when one is
chosen).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import orjson
from starlette.responses import HTMLResponse, Response

from ocpikit.core.types import parse_datetime
from ocpikit.protocol.addressing import KIND_OF_MODULE
from ocpikit.protocol.exchanges import ExchangeQuery
from ocpikit.protocol.ports import Exchange, ExchangeDirection, Storage
from ocpikit.server.console.web import SECURITY_HEADERS, Page, UserError

__all__ = [
    "SCAN",
    "TrafficFilter",
    "exchange_detail",
    "exchange_row",
    "last_exchange",
    "matching",
    "module_of",
    "traffic",
    "traffic_tail",
]

#: the most exchanges one listing reads (newest first) to find its matches
SCAN = 3000
#: rows on a page
PAGE_ROWS = 100
#: the most bytes of a body the exchange page shows
BODY_SHOWN = 200_000
#: OCPI modules besides the object modules that an exchange URL may name
OTHER_MODULES = frozenset(
    {"versions", "credentials", "commands", "chargingprofiles", "hubclientinfo"}
)


def module_of(url: str) -> str | None:
    """The OCPI module an exchange URL names (``/ocpi/2.2.1/emsp/sessions/...``)."""
    for segment in urlsplit(url).path.split("/"):
        lower = segment.lower()
        if lower in KIND_OF_MODULE or lower in OTHER_MODULES:
            return lower
    return None


def exchange_row(e: Exchange) -> dict[str, Any]:
    failed = (e.status is not None and e.status >= 400) or (
        e.ocpi_status is not None and not 1000 <= e.ocpi_status < 2000
    )
    return {
        "id": e.id,
        "direction": e.direction.value,
        "method": e.method,
        "url": e.url,
        "module": module_of(e.url),
        "status": e.status,
        "ocpi_status": e.ocpi_status,
        "duration_ms": None if e.duration_ms is None else round(e.duration_ms, 1),
        "partner": e.partner_id,
        "request_id": e.request_id,
        "correlation_id": e.correlation_id,
        "started_at": e.started_at,
        "error": e.error,
        "failed": failed or e.error is not None,
    }


@dataclass(frozen=True, slots=True)
class TrafficFilter:
    partner: str | None = None
    direction: ExchangeDirection | None = None
    module: str | None = None
    object: str | None = None
    status: str | None = None
    since: datetime | None = None

    @classmethod
    def of(cls, page: Page) -> TrafficFilter:
        direction = page.query("direction") or None
        if direction is not None and direction not in ("in", "out"):
            raise UserError("direction: in or out")
        status = page.query("status") or None
        if status is not None and status != "error" and not status.isdigit():
            raise UserError("status: an HTTP status such as 404, or error")
        since_text = page.query("since")
        try:
            since = parse_datetime(since_text) if since_text else None
        except ValueError:
            raise UserError("since: an RFC 3339 time such as 2026-01-01T10:00:00Z") from None
        return cls(
            partner=page.query("partner") or None,
            direction=ExchangeDirection(direction) if direction else None,
            module=page.query("module").lower() or None,
            object=page.query("object") or None,
            status=status,
            since=since,
        )

    def params(self) -> dict[str, str]:
        out = {
            "partner": self.partner or "",
            "direction": self.direction.value if self.direction else "",
            "module": self.module or "",
            "object": self.object or "",
            "status": self.status or "",
            "since": self.since.isoformat() if self.since else "",
        }
        return out

    def matches(self, e: Exchange) -> bool:
        if self.direction is not None and e.direction is not self.direction:
            return False
        if self.since is not None and e.started_at < self.since:
            return False
        if self.module is not None and module_of(e.url) != self.module:
            return False
        if self.status == "error" and not exchange_row(e)["failed"]:
            return False
        if self.status and self.status.isdigit() and e.status != int(self.status):
            return False
        if self.object is not None:
            in_url = self.object in urlsplit(e.url).path.split("/")
            in_body = e.request_body is not None and self.object.encode() in e.request_body
            if not in_url and not in_body:
                return False
        return True


async def matching(
    storage: Storage,
    flt: TrafficFilter,
    *,
    after_id: int = 0,
    limit: int = PAGE_ROWS,
    scan: int = SCAN,
) -> list[Exchange]:
    """Newest first, at most ``limit``, newer than ``after_id``, within the newest ``scan``."""
    found: list[Exchange] = []
    before: int | None = None
    scanned = 0
    while scanned < scan and len(found) < limit:
        # the log's indexes narrow by partner, direction and time; the rest is filtered here
        # (the console's object and failure rules look into bodies and OCPI statuses)
        batch = await storage.exchanges.recent(
            limit=min(500, scan - scanned),
            query=ExchangeQuery(
                direction=flt.direction, partner_id=flt.partner, since=flt.since, before_id=before
            ),
        )
        if not batch:
            break
        for e in batch:
            if e.id is not None and e.id <= after_id:
                return found
            if flt.matches(e):
                found.append(e)
                if len(found) >= limit:
                    break
        scanned += len(batch)
        before = batch[-1].id
        if flt.since is not None and batch[-1].started_at < flt.since:
            break
    return found


async def last_exchange(storage: Storage, partner_id: str) -> dict[str, Any] | None:
    newest = await storage.exchanges.recent(limit=1, partner_id=partner_id)
    return exchange_row(newest[0]) if newest else None


async def traffic(page: Page) -> Response:
    flt = TrafficFilter.of(page)
    rows = [exchange_row(e) for e in await matching(page.platform.storage, flt)]
    newest = max((r["id"] or 0 for r in rows), default=0)
    if not rows:  # the tail starts at the log's newest exchange, filtered or not
        latest = await page.platform.storage.exchanges.recent(limit=1)
        newest = (latest[0].id or 0) if latest else 0
    partners = [p.id for p in await page.platform.storage.partners.all()]
    return page.render(
        "traffic.html", rows=rows, filters=flt.params(), newest=newest, partners=partners
    )


async def traffic_tail(page: Page) -> Response:
    """The rows newer than ``?after=`` (the live tail's fragment), newest first."""
    after_text = page.query("after", "0")
    if not after_text.isdigit():
        raise UserError("after: an exchange id")
    flt = TrafficFilter.of(page)
    rows = [
        exchange_row(e)
        for e in await matching(page.platform.storage, flt, after_id=int(after_text))
    ]
    html = page.console.env.get_template("traffic_rows.html").render(rows=rows)
    newest = max((r["id"] or 0 for r in rows), default=int(after_text))
    headers = {**SECURITY_HEADERS, "X-Newest-Exchange": str(newest)}
    return HTMLResponse(html, headers=headers)


async def exchange_detail(page: Page) -> Response:
    wanted = page.request.path_params["exchange_id"]
    if not str(wanted).isdigit():
        raise UserError("an exchange id is a number", 404)
    batch = await page.platform.storage.exchanges.recent(limit=1, before_id=int(wanted) + 1)
    if not batch or batch[0].id != int(wanted):
        raise UserError(f"No exchange {wanted} (it may have been pruned)", 404)
    e = batch[0]

    def text(body: bytes | None) -> str:
        """The body as text, JSON indented (a body cut at :data:`BODY_SHOWN` bytes as is)."""
        if body is None:
            return ""
        if len(body) <= BODY_SHOWN:
            try:
                return orjson.dumps(orjson.loads(body), option=orjson.OPT_INDENT_2).decode()
            except orjson.JSONDecodeError:
                pass
        return body[:BODY_SHOWN].decode("utf-8", errors="replace")

    return page.render(
        "exchange.html",
        row=exchange_row(e),
        request_headers=e.request_headers,
        response_headers=e.response_headers,
        request_body=text(e.request_body),
        response_body=text(e.response_body),
    )
