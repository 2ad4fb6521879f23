"""The CDR builder: a finished head Session and its tariffs → a complete head CDR, costs filled.

What is copied and what is derived follows DIGEST §5.1 and §5.6 (2.2.1/2.3.0 ``mod_cdrs``
§CDR Object): ids, token, auth method and reference, currency and charging periods come from the
session (session-only dimensions such as CURRENT or STATE_OF_CHARGE are dropped: a CDR SHALL NOT
carry them); the cost fields, ``total_time`` and ``total_parking_time`` come from the engine.
The CdrLocation needs the Location (address, coordinates, connector); without one the builder
fills what the session knows and reports the placeholders it had to use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.models.v2_3_0.cdrs import CDR
from ocpikit.tariffs.engine import price
from ocpikit.tariffs.normal import PricingInputError, normalise_tariffs
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.result import COST_BUCKETS, Amount, PriceResult

__all__ = ["SESSION_ONLY_DIMENSIONS", "BuiltCdr", "build_cdr", "price_to_head"]

#: CdrDimensionType values reserved to Sessions (2.2.1 mod_cdrs §CdrDimensionType)
SESSION_ONLY_DIMENSIONS = frozenset(
    {"CURRENT", "ENERGY_EXPORT", "ENERGY_IMPORT", "POWER", "STATE_OF_CHARGE"}
)


@dataclass
class BuiltCdr:
    """The built head CDR, the pricing behind it, and what had to be made up."""

    cdr: CDR
    result: PriceResult
    warnings: list[str] = field(default_factory=list)


def _g(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _json(obj: Any) -> Any:
    if obj is None or isinstance(obj, (dict, list, str, int, float, bool)):
        return obj
    dump = getattr(obj, "dump", None)
    return dump() if callable(dump) else obj


def _q(value: Decimal, decimals: int) -> Decimal:
    if decimals < 0:
        return value
    return value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def price_to_head(
    amount: Amount, taxes: dict[Decimal | None, Decimal] | None, decimals: int
) -> dict[str, Any]:
    """A 2.3.0 Price (before_taxes + taxes[]) from an amount and its tax per VAT rate.

    Taxes are rounded per rate and the largest is adjusted so that before + Σ taxes equals the
    rounded incl. amount. An unknown incl. amount gives a Price without ``taxes``.
    """
    before = _q(amount.excl, decimals)
    out: dict[str, Any] = {"before_taxes": before}
    if amount.incl is None:
        return out
    incl = _q(amount.incl, decimals)
    total_tax = incl - before
    entries: list[dict[str, Any]] = []
    rates = {r: v for r, v in (taxes or {}).items() if v != 0}
    if rates:
        for rate, value in rates.items():
            entry: dict[str, Any] = {"name": "VAT", "amount": _q(value, decimals)}
            if rate is not None:
                entry["percentage"] = rate
            entries.append(entry)
        drift = total_tax - sum((e["amount"] for e in entries), Decimal(0))
        if drift:
            biggest = max(entries, key=lambda e: abs(e["amount"]))
            biggest["amount"] += drift
    elif total_tax != 0:
        entries.append({"name": "VAT", "amount": total_tax})
    out["taxes"] = entries
    return out


def _bucket_taxes(result: PriceResult) -> dict[str, dict[Decimal | None, Decimal]]:
    per: dict[str, dict[Decimal | None, Decimal]] = {}
    for line in result.lines:
        tax = line.cost.tax
        if line.element is None or tax is None or tax == 0:
            continue
        rates = per.setdefault(line.bucket, {})
        rates[line.vat] = rates.get(line.vat, Decimal(0)) + tax
    return per


def _cdr_location(session: Any, location: Any, warnings: list[str]) -> dict[str, Any]:
    loc_id = _g(session, "location_id")
    evse_uid = _g(session, "evse_uid")
    connector_id = _g(session, "connector_id")
    if location is None:
        warnings.append(
            "no Location given: cdr_location address, city, country, coordinates, evse_id and "
            "connector fields are placeholders (pass the Location to fill them)"
        )
        return {
            "id": loc_id,
            "address": "",
            "city": "",
            "country": "",
            "coordinates": {"latitude": "0.000000", "longitude": "0.000000"},
            "evse_uid": evse_uid,
            "evse_id": "#NA",
            "connector_id": connector_id,
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        }
    loc = _json(location)
    evse: dict[str, Any] = next(
        (e for e in loc.get("evses") or [] if str(e.get("uid")).upper() == str(evse_uid).upper()),
        {},
    )
    conn: dict[str, Any] = next(
        (
            c
            for c in evse.get("connectors") or []
            if str(c.get("id")).upper() == str(connector_id).upper()
        ),
        {},
    )
    if not evse or not conn:
        warnings.append(f"EVSE {evse_uid} / connector {connector_id} not found in the Location")
    out = {
        "id": loc.get("id", loc_id),
        "address": str(loc.get("address", ""))[:45],
        "city": str(loc.get("city", ""))[:45],
        "country": loc.get("country", ""),
        "coordinates": loc.get("coordinates") or {"latitude": "0", "longitude": "0"},
        "evse_uid": evse_uid,
        "evse_id": evse.get("evse_id") or "#NA",
        "connector_id": connector_id,
        "connector_standard": conn.get("standard", "IEC_62196_T2"),
        "connector_format": conn.get("format", "SOCKET"),
        "connector_power_type": conn.get("power_type", "AC_3_PHASE"),
    }
    for key in ("name", "postal_code", "state"):
        if loc.get(key) is not None:
            out[key] = loc[key]
    return out


def build_cdr(
    session: Any,
    tariffs: Any,
    *,
    cdr_id: str | None = None,
    location: Any = None,
    time_zone: str | None = None,
    policy: Policy | None = None,
    origin: str | None = None,
    decimals: int = 2,
    now: datetime | None = None,
) -> BuiltCdr:
    """Build the head CDR of a finished ``session`` (head model or its JSON) priced on
    ``tariffs``; amounts rounded half-up to ``decimals`` (the spec leaves rounding to the
    parties, DIGEST §4.2)."""
    warnings: list[str] = []
    end = _g(session, "end_date_time")
    if end is None:
        raise PricingInputError("session has no end_date_time: only a finished session has a CDR")
    status = _g(session, "status")
    if status is not None and str(getattr(status, "value", status)) not in ("COMPLETED",):
        warnings.append(f"session status is {getattr(status, 'value', status)}, not COMPLETED")
    zone = time_zone
    if zone is None and location is not None:
        zone = _g(location, "time_zone")
    result = price(session, tariffs, time_zone=zone, policy=policy, origin=origin)
    warnings.extend(result.warnings)
    ntariffs = normalise_tariffs(tariffs, origin)
    used = {t.upper() for t in result.tariff_ids}
    tariff_json = []
    for t, n in zip(
        tariffs if isinstance(tariffs, (list, tuple)) else [tariffs], ntariffs, strict=True
    ):
        tj = _json(t)
        if n.id.upper() not in used:
            continue
        if not isinstance(tj, dict) or "tax_included" not in tj:
            warnings.append(f"tariff {n.id} is not a head (2.3.0) Tariff: not embedded in the CDR")
            continue
        tariff_json.append(tj)
    periods = []
    for p in _g(session, "charging_periods") or []:
        pj = _json(p)
        dims = [
            d
            for d in pj.get("dimensions") or []
            if str(d.get("type")).upper() not in SESSION_ONLY_DIMENSIONS
        ]
        if not dims:
            continue
        new = {**pj, "dimensions": dims}
        periods.append(new)
    if not periods:
        raise PricingInputError("session has no charging period with CDR dimensions")
    start = _g(session, "start_date_time")
    taxes = _bucket_taxes(result)
    data: dict[str, Any] = {
        "country_code": _g(session, "country_code"),
        "party_id": _g(session, "party_id"),
        "id": cdr_id or _g(session, "id"),
        "start_date_time": start if isinstance(start, str) else format_datetime(start),
        "end_date_time": end if isinstance(end, str) else format_datetime(end),
        "session_id": _g(session, "id"),
        "cdr_token": _json(_g(session, "cdr_token")),
        "auth_method": _json(_g(session, "auth_method")),
        "cdr_location": _cdr_location(session, location, warnings),
        "currency": _g(session, "currency"),
        "tariffs": tariff_json,
        "charging_periods": periods,
        "total_cost": price_to_head(result.total_cost, result.taxes, decimals),
        "total_energy": result.total_energy,
        "total_time": _q(result.computed_time, 4 if decimals < 0 else max(decimals, 4)),
        "total_parking_time": result.computed_parking_time,
        "last_updated": format_datetime(now or datetime.now(UTC)),
    }
    if result.total_cost != result.uncapped_total:
        # min/max applied: tax split per rate no longer holds, state the tax as one amount
        data["total_cost"] = price_to_head(result.total_cost, None, decimals)
    for name in COST_BUCKETS:
        if name in result.relevant:
            data[name] = price_to_head(result.cost(name), taxes.get(name), decimals)
    for key in ("authorization_reference", "meter_id"):
        value = _g(session, key)
        if value is not None:
            data[key] = value
    auth = data["auth_method"]
    data["auth_method"] = getattr(auth, "value", auth)
    return BuiltCdr(cdr=CDR.model_validate(data), result=result, warnings=warnings)
