"""The AFIR data check: every item of Tables A, B and F (:mod:`ocpikit.afir.items`) for each
location and EVSE, as present / derivable (from what) / missing, with the OCPI field that
would carry it, and a summary with the share of complete locations.

A location is complete when none of its items and none of its EVSEs' items is missing.
Pure: the caller reads the Locations and Tariffs (head 2.3.0 documents) from storage.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ocpikit.afir.items import EVSE_ITEMS, LOCATION_ITEMS, MISSING, Item, View
from ocpikit.afir.supplement import Supplement

__all__ = ["check_location", "check_locations", "tariffs_by_id"]


def _row(item: Item, view: View) -> dict[str, Any]:
    state, source = item.evaluate(view)
    row = {
        "item": item.code,
        "name": item.name,
        "level": item.level,
        "state": state,
        "ocpi_field": item.ocpi_field,
    }
    if source is not None:
        row["source"] = source
    return row


def tariffs_by_id(
    tariffs: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, Mapping[str, Any]]]:
    """Tariffs by party (``CC-PID``) and id: a Location's connectors name its own party's."""
    out: dict[str, dict[str, Mapping[str, Any]]] = {}
    for t in tariffs:
        out.setdefault(f"{t['country_code']}-{t['party_id']}".upper(), {})[str(t["id"])] = t
    return out


def _party_tariffs(
    location: Mapping[str, Any], tariffs: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> Mapping[str, Mapping[str, Any]]:
    return tariffs.get(f"{location['country_code']}-{location['party_id']}".upper(), {})


def check_location(
    location: Mapping[str, Any],
    supplement: Supplement,
    tariffs: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> dict[str, Any]:
    """The report of one head Location (see the module docstring)."""
    merged = supplement.for_location(
        str(location["country_code"]), str(location["party_id"]), str(location["id"])
    )
    own_tariffs = _party_tariffs(location, tariffs)
    base = View(location, None, merged, own_tariffs)
    items = [_row(item, base) for item in LOCATION_ITEMS]
    evses = []
    for evse in location.get("evses") or []:
        view = View(location, evse, merged, own_tariffs)
        evses.append(
            {
                "uid": evse["uid"],
                "evse_id": evse.get("evse_id"),
                "items": [_row(item, view) for item in EVSE_ITEMS],
            }
        )
    missing = sorted(
        {r["item"] for r in items if r["state"] == MISSING}
        | {r["item"] for e in evses for r in e["items"] if r["state"] == MISSING},
        key=_item_order,
    )
    return {
        "country_code": location["country_code"],
        "party_id": location["party_id"],
        "id": location["id"],
        "publish": location.get("publish"),
        "complete": not missing,
        "missing": missing,
        "items": items,
        "evses": evses,
    }


def _item_order(code: str) -> tuple[str, int]:
    return code[0], int(code[1:])


def check_locations(
    locations: Iterable[Mapping[str, Any]],
    supplement: Supplement,
    tariffs: Iterable[Mapping[str, Any]],
) -> dict[str, Any]:
    """The report of many locations with its summary: how many are complete, their share, and
    per missing item the number of locations lacking it and the OCPI field that would carry it."""
    by_id = tariffs_by_id(tariffs)
    reports = [check_location(loc, supplement, by_id) for loc in locations]
    complete = sum(1 for r in reports if r["complete"])
    lacking = Counter(code for r in reports for code in r["missing"])
    fields = {i.code: (i.name, i.ocpi_field) for i in (*LOCATION_ITEMS, *EVSE_ITEMS)}
    return {
        "summary": {
            "locations": len(reports),
            "complete": complete,
            "complete_share": round(complete / len(reports), 4) if reports else 1.0,
            "missing": [
                {
                    "item": code,
                    "name": fields[code][0],
                    "ocpi_field": fields[code][1],
                    "locations": lacking[code],
                }
                for code in sorted(lacking, key=_item_order)
            ],
        },
        "locations": reports,
    }
