"""The Objects page: Locations (with a map drawn as inline SVG from their coordinates: the
console works offline, so there are no tiles), Sessions, CDRs, Tariffs and Tokens, ours or a
partner's, as stored (head version); a Session or CDR links to the exchanges that touched it.
Read through the storage port's listing, as ``GET /admin/api/{module}``."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from starlette.responses import Response

from ocpikit.protocol.ports import ANY_OWNER, OwnerFilter
from ocpikit.server.admin.common import MODULES
from ocpikit.server.console.web import Page, UserError

__all__ = ["location_map", "objects_page"]

PAGE_ROWS = 50
#: the most Locations drawn on the map
MAP_POINTS = 2000
MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640.0, 320.0, 16.0


def _coordinate(value: Any, bound: int) -> float | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or abs(number) > bound:
        return None
    return float(number)


def location_map(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Points of the Locations projected (equirectangular, fitted to their bounding box) onto
    a ``MAP_WIDTH`` × ``MAP_HEIGHT`` SVG: ``{"width", "height", "points": [{"x", "y", "id",
    "name"}]}``; None when no Location has usable coordinates."""
    found = []
    for doc in documents:
        coords = doc.get("coordinates") or {}
        lat = _coordinate(coords.get("latitude"), 90)
        lon = _coordinate(coords.get("longitude"), 180)
        if lat is not None and lon is not None:
            found.append((lon, lat, str(doc.get("id", "")), str(doc.get("name") or "")))
    if not found:
        return None
    lons, lats = [p[0] for p in found], [p[1] for p in found]
    span_x = max(max(lons) - min(lons), 1e-6)
    span_y = max(max(lats) - min(lats), 1e-6)
    scale = min((MAP_WIDTH - 2 * MAP_MARGIN) / span_x, (MAP_HEIGHT - 2 * MAP_MARGIN) / span_y)
    points = [
        {
            "x": round(MAP_MARGIN + (lon - min(lons)) * scale, 1),
            "y": round(MAP_HEIGHT - MAP_MARGIN - (lat - min(lats)) * scale, 1),
            "id": ident,
            "name": name,
        }
        for lon, lat, ident, name in found
    ]
    return {"width": MAP_WIDTH, "height": MAP_HEIGHT, "points": points}


def _summary(kind: str, doc: dict[str, Any]) -> str:
    if kind == "Location":
        return f"{doc.get('name') or ''} {doc.get('city') or ''}".strip()
    if kind in ("Session", "CDR"):
        return f"{doc.get('status') or ''} {doc.get('kwh') or doc.get('total_energy') or ''} kWh"
    if kind == "Token":
        return f"{doc.get('type') or ''} valid={doc.get('valid')}"
    if kind == "Tariff":
        return str(doc.get("currency") or "")
    return ""


async def objects_page(page: Page) -> Response:
    module = page.query("module", "locations") or "locations"
    if module not in MODULES:
        raise UserError(f"module: one of {', '.join(MODULES)}")
    kind, id_field = MODULES[module]
    owner_text = page.query("owner", "any") or "any"
    owner: OwnerFilter = (
        None if owner_text == "own" else ANY_OWNER if owner_text == "any" else owner_text
    )
    offset_text = page.query("offset", "0") or "0"
    if not offset_text.isdigit():
        raise UserError("offset: a number")
    listing = await page.platform.storage.objects.list_page(
        kind, offset=int(offset_text), limit=PAGE_ROWS, owner=owner
    )
    rows = []
    for item in listing.items:
        doc = item.document
        rows.append(
            {
                "key": item.key,
                "id": doc.get(id_field, item.key.id),
                "owner": item.owner or "ours",
                "last_updated": doc.get("last_updated"),
                "summary": _summary(kind, doc),
                "json": orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode(),
            }
        )
    documents = []
    if kind == "Location":  # the map shows every Location of the listing, not only this page
        every = await page.platform.storage.objects.list_page(kind, limit=MAP_POINTS, owner=owner)
        documents = [item.document for item in every.items]
    partners = [p.id for p in await page.platform.storage.partners.all()]
    return page.render(
        "objects.html",
        module=module,
        modules=list(MODULES),
        owner=owner_text,
        partners=partners,
        rows=rows,
        total=listing.total,
        offset=int(offset_text),
        page_rows=PAGE_ROWS,
        map=location_map(documents),
        traced=kind in ("Session", "CDR"),
    )
