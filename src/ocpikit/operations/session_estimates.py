"""Session cost estimates (eMSP side, docs/cdrs.md "Session estimates"): a partner's Session,
running or finished, priced by the engine on the charging periods it reported so far and
compared with the ``total_cost`` it reports (OCPI 2.2.1 sessions §9.3.1 ``total_cost``: "The
total cost of the session in the specified currency. This is the price that the eMSP will
have to pay to the CPO"), so a tariff misunderstanding shows before the CDR.

Computed when listed, over what we hold at that moment (the Session as last PUT/PATCHed, its
tariffs, its Location): an estimate is always that of the latest charging periods. The tariffs
are those the charging periods name (``tariff_id``), else the connector's tariffs in force at
the session's start (:mod:`ocpikit.operations.tariffs_in_force`). Verdicts:

- ``ok``: the reported cost equals the estimate; ``within_tolerance``: it differs by at most
  the partner's ``cdr_tolerance`` (excl. taxes);
- ``differs``: it differs by more; ``unverifiable``: no tariff to price with, or periods the
  engine cannot read; ``no_cost``: the session reports no ``total_cost`` (optional).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.operations.cdr_checks import tolerance_of
from ocpikit.operations.tariffs_in_force import tariffs_by_id, tariffs_in_force
from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, OwnerFilter, Partner, Storage, StoredObject
from ocpikit.tariffs import PricingInputError
from ocpikit.tariffs.engine import price

__all__ = ["estimate_session", "list_session_estimates"]


def _reported(doc: Mapping[str, Any]) -> Decimal | None:
    cost = doc.get("total_cost")
    if not isinstance(cost, Mapping) or cost.get("before_taxes") is None:
        return None
    try:
        return Decimal(str(cost["before_taxes"]))
    except InvalidOperation:
        return None


async def _tariffs(
    storage: Storage, doc: Mapping[str, Any], location: StoredObject | None, owner: str | None
) -> list[Any]:
    cc, pid = str(doc.get("country_code")), str(doc.get("party_id"))
    named = [
        str(p["tariff_id"])
        for p in doc.get("charging_periods") or ()
        if isinstance(p, Mapping) and p.get("tariff_id")
    ]
    if named:
        return await tariffs_by_id(storage, cc, pid, named, owner)
    if location is None:
        return []
    try:
        start = parse_datetime(str(doc.get("start_date_time")))
    except ValueError:
        start = None
    return await tariffs_in_force(
        storage,
        cc,
        pid,
        location=location.document,
        evse_uid=doc.get("evse_uid"),
        connector_id=doc.get("connector_id"),
        start=start,
        owner=owner,
    )


async def estimate_session(
    storage: Storage, stored: StoredObject, partner: Partner | None
) -> dict[str, Any]:
    """The estimate of one stored Session (see the module docstring)."""
    doc = stored.document
    row: dict[str, Any] = {
        "session_id": doc.get("id"),
        "country_code": doc.get("country_code"),
        "party_id": doc.get("party_id"),
        "partner": stored.owner,
        "status": doc.get("status"),
        "periods": len(doc.get("charging_periods") or ()),
        "reported": None,
        "estimated": None,
        "difference": None,
        "reason": None,
    }
    reported = _reported(doc)
    row["reported"] = None if reported is None else str(reported)
    key = ObjectKey(
        "Location",
        str(doc.get("country_code")),
        str(doc.get("party_id")),
        str(doc.get("location_id")),
    )
    loc = await storage.objects.get(key)
    if loc is not None and loc.owner != stored.owner:
        loc = None
    tariffs = await _tariffs(storage, doc, loc, stored.owner)
    if not tariffs:
        row.update(verdict="unverifiable", reason="no tariff held for the session")
        return row
    zone = loc.document.get("time_zone") if loc is not None else None
    loc_zone = zone if isinstance(zone, str) else None
    try:
        result = price(
            dict(doc), tariffs, time_zone=loc_zone, origin=partner.version if partner else None
        )
    except (PricingInputError, ValueError, TypeError, KeyError) as exc:
        row.update(verdict="unverifiable", reason=f"cannot price the session: {exc}")
        return row
    estimated = result.total_cost.excl.quantize(Decimal("0.0001")).normalize()
    row["estimated"] = str(estimated)
    if reported is None:
        row.update(verdict="no_cost", reason="the session reports no total_cost")
        return row
    difference = reported - result.total_cost.excl
    row["difference"] = str(difference.normalize())
    if difference == 0:
        row["verdict"] = "ok"
    elif abs(difference) <= tolerance_of(partner):
        row["verdict"] = "within_tolerance"
    else:
        row.update(verdict="differs", reason="the reported total_cost differs from the tariff")
    return row


async def list_session_estimates(
    storage: Storage,
    *,
    partner: str | None = None,
    status: str | None = None,
    differences: bool = False,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The estimates of the partners' Sessions we hold (``partner``: one partner's; ``status``:
    only sessions in that status), oldest first; ``differences``: only ``differs``."""
    owner: OwnerFilter = partner if partner is not None else ANY_OWNER
    partners: dict[str, Partner | None] = {}
    out: list[dict[str, Any]] = []
    offset = 0
    while len(out) < limit:
        page = await storage.objects.list_page("Session", offset=offset, limit=200, owner=owner)
        if not page.items:
            break
        offset += len(page.items)
        for item in page.items:
            if item.owner is None:
                continue  # ours: the CPO side prices with the builder
            if status is not None and item.document.get("status") != status:
                continue
            if item.owner not in partners:
                partners[item.owner] = await storage.partners.get(item.owner)
            row = await estimate_session(storage, item, partners[item.owner])
            if not differences or row["verdict"] == "differs":
                out.append(row)
    return out[:limit]
