"""An OCPI 2.3.0 Tariff's price components as DATEX II ``energyPrice`` entries (Mobilithek
profile 01-00-00, ``EnergyPrice``): the AFIR ad hoc price "including all applicable price
components" (Implementing Regulation (EU) 2025/655, Table F item 3).

Units and codes: ENERGY (per kWh) → ``pricePerKWh`` as is; TIME (per hour, OCPI 2.3.0
mod_tariffs §TariffDimensionType) → ``pricePerMinute`` = price / 60; FLAT → ``basePrice``;
PARKING_TIME (per hour) → ``pricePerMinute`` = price / 60 with ``additionalInformation`` saying
it is the parking fee. ``taxIncluded`` is the Tariff's ``tax_included == "YES"``.

Restrictions become conditions: ``start_time``/``end_time`` → ``overallPeriod.validPeriod``
``recurringTimePeriodOfDay``; ``day_of_week`` → ``recurringDayWeekMonthPeriod``;
``start_date``/``end_date`` → ``overallStartTime``/``overallEndTime``;
``min_duration``/``max_duration`` (s) → ``timeBasedApplicability`` from/to minute;
``min_kwh``/``max_kwh`` → ``energyBasedApplicability`` from/to kWh. An element with a
restriction DATEX II cannot state (current, power, reservation) is left out: publishing it as
unconditional would misstate the price.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["UNSTATABLE", "energy_prices"]

_TYPES = {
    "ENERGY": "pricePerKWh",
    "TIME": "pricePerMinute",
    "FLAT": "basePrice",
    "PARKING_TIME": "pricePerMinute",
}
#: restrictions the profile has no place for
UNSTATABLE = frozenset({"min_current", "max_current", "min_power", "max_power", "reservation"})
_PER_HOUR = frozenset({"TIME", "PARKING_TIME"})


def _period(r: Mapping[str, Any], since: str) -> dict[str, Any] | None:
    valid: dict[str, Any] = {}
    if r.get("start_time") or r.get("end_time"):
        valid["recurringTimePeriodOfDay"] = [
            {
                "startTimeOfPeriod": f"{r.get('start_time', '00:00')}:00",
                "endTimeOfPeriod": f"{r.get('end_time', '00:00')}:00",
            }
        ]
    if r.get("day_of_week"):
        days = [{"value": str(d).lower()} for d in r["day_of_week"]]
        valid["recurringDayWeekMonthPeriod"] = [{"comDayWeekMonth": {"applicableDay": days}}]
    if not valid and not r.get("start_date") and not r.get("end_date"):
        return None
    period: dict[str, Any] = {
        "overallStartTime": f"{r['start_date']}T00:00:00" if r.get("start_date") else since
    }
    if r.get("end_date"):
        period["overallEndTime"] = f"{r['end_date']}T00:00:00"
    if valid:
        period["validPeriod"] = [valid]
    return period


def _conditions(r: Mapping[str, Any], since: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    period = _period(r, since)
    if period:
        out["overallPeriod"] = period
    if r.get("min_duration") is not None or r.get("max_duration") is not None:
        span = {}
        if r.get("min_duration") is not None:
            span["fromMinute"] = int(r["min_duration"]) // 60
        if r.get("max_duration") is not None:
            span["toMinute"] = int(r["max_duration"]) // 60
        out["timeBasedApplicability"] = span
    if r.get("min_kwh") is not None or r.get("max_kwh") is not None:
        kwh = {}
        if r.get("min_kwh") is not None:
            kwh["fromKWh"] = float(r["min_kwh"])
        if r.get("max_kwh") is not None:
            kwh["toKWh"] = float(r["max_kwh"])
        out["energyBasedApplicability"] = kwh
    return out


def energy_prices(tariff: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    """The ``energyPrice`` entries of ``tariff`` (see the module docstring), element order."""
    taxed = tariff.get("tax_included") == "YES"
    since = str(tariff.get("start_date_time") or tariff["last_updated"])
    prices: list[dict[str, Any]] = []
    for element in tariff.get("elements") or []:
        restrictions = element.get("restrictions") or {}
        if UNSTATABLE & {k for k, v in restrictions.items() if v is not None}:
            continue
        conditions = _conditions(restrictions, since)
        for pc in element.get("price_components") or []:
            kind = _TYPES.get(str(pc.get("type", "")))
            if kind is None:
                continue
            price = float(pc["price"])
            entry: dict[str, Any] = {
                "priceType": {"value": kind},
                "value": round(price / 60, 6) if pc["type"] in _PER_HOUR else price,
                "taxIncluded": taxed,
            }
            if pc["type"] == "PARKING_TIME":
                entry["additionalInformation"] = {
                    "values": [
                        {"lang": lang, "value": "parking fee per minute (OCPI PARKING_TIME)"}
                    ]
                }
            prices.append({**entry, **conditions})
    return prices
