"""Property tests (hypothesis): monotonicity, min/max clamps, and the builder's CDR
reconciling with itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ocpikit.core.types import format_datetime
from ocpikit.tariffs import price
from ocpikit.tariffs.builder import build_cdr
from ocpikit.tariffs.reconcile import check_cdr

START = datetime(2024, 3, 30, 20, 0, tzinfo=UTC)

prices = st.decimals(min_value=0, max_value=5, places=2)
steps = st.sampled_from([1, 60, 300, 900, 100, 500])
vats = st.one_of(st.none(), st.sampled_from([Decimal(0), Decimal(10), Decimal(19), Decimal(21)]))


@st.composite
def unrestricted_tariffs(draw: Any) -> dict[str, Any]:
    comps = []
    for kind in ("FLAT", "ENERGY", "TIME", "PARKING_TIME"):
        if draw(st.booleans()):
            c: dict[str, Any] = {"type": kind, "price": draw(prices), "step_size": draw(steps)}
            vat = draw(vats)
            if vat is not None:
                c["vat"] = vat
            comps.append(c)
    if not comps:
        comps.append({"type": "ENERGY", "price": Decimal("0.25"), "step_size": 1})
    t: dict[str, Any] = {
        "country_code": "NL",
        "party_id": "TST",
        "id": "P",
        "currency": "EUR",
        "elements": [{"price_components": comps}],
        "tax_included": "NO",
        "last_updated": "2024-01-01T00:00:00Z",
    }
    if draw(st.booleans()):
        t["min_price"] = {"before_taxes": draw(prices), "after_taxes": draw(prices) * 2}
    if draw(st.booleans()):
        t["max_price"] = {"before_taxes": draw(prices) * 4, "after_taxes": draw(prices) * 5}
    return t


@st.composite
def sessions(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(min_value=1, max_value=6))
    periods = []
    t = START
    for _ in range(n):
        minutes = draw(st.integers(min_value=1, max_value=120))
        charging = draw(st.booleans())
        dims: list[dict[str, Any]] = []
        if charging:
            kwh = draw(st.decimals(min_value=0, max_value=30, places=3))
            dims = [
                {"type": "ENERGY", "volume": kwh},
                {"type": "TIME", "volume": Decimal(minutes) / 60},
            ]
        else:
            dims = [{"type": "PARKING_TIME", "volume": Decimal(minutes) / 60}]
        periods.append({"start_date_time": format_datetime(t), "dimensions": dims})
        t += timedelta(minutes=minutes)
    kwh = sum(
        (d["volume"] for p in periods for d in p["dimensions"] if d["type"] == "ENERGY"), Decimal(0)
    )
    return {
        "country_code": "NL",
        "party_id": "TST",
        "id": "S1",
        "start_date_time": format_datetime(START),
        "end_date_time": format_datetime(t),
        "kwh": kwh,
        "cdr_token": {
            "country_code": "NL",
            "party_id": "EMP",
            "uid": "U1",
            "type": "RFID",
            "contract_id": "C1",
        },
        "auth_method": "WHITELIST",
        "location_id": "L1",
        "evse_uid": "E1",
        "connector_id": "1",
        "currency": "EUR",
        "charging_periods": periods,
        "status": "COMPLETED",
        "last_updated": format_datetime(t),
    }


def _grow(session: dict[str, Any], kind: str, amount: Decimal) -> dict[str, Any]:
    """The same session with more of ``kind`` in its last period of that kind."""
    grown = {**session, "charging_periods": [dict(p) for p in session["charging_periods"]]}
    for p in reversed(grown["charging_periods"]):
        dims = [dict(d) for d in p["dimensions"]]
        for d in dims:
            if d["type"] == kind:
                d["volume"] += amount
                p["dimensions"] = dims
                return grown
    return grown


@settings(max_examples=150, deadline=None)
@given(
    unrestricted_tariffs(),
    sessions(),
    st.decimals(min_value=0, max_value=10, places=3),
    st.sampled_from(["ENERGY", "TIME", "PARKING_TIME"]),
)
def test_price_never_decreases_as_energy_or_time_grows(
    tariff: dict[str, Any], session: dict[str, Any], more: Decimal, kind: str
) -> None:
    base = price(session, tariff, time_zone="UTC")
    grown = price(_grow(session, kind, more), tariff, time_zone="UTC")
    assert grown.total_cost.excl >= base.total_cost.excl
    assert grown.uncapped_total.excl >= base.uncapped_total.excl


@settings(max_examples=150, deadline=None)
@given(unrestricted_tariffs(), sessions())
def test_min_and_max_price_clamp_both_amounts(
    tariff: dict[str, Any], session: dict[str, Any]
) -> None:
    r = price(session, tariff, time_zone="UTC")
    lo, hi = tariff.get("min_price"), tariff.get("max_price")
    if hi is not None:
        assert r.total_cost.excl <= max(hi["before_taxes"], lo["before_taxes"] if lo else 0)
    if lo is not None:
        assert r.total_cost.excl >= lo["before_taxes"] or (
            hi and hi["before_taxes"] < lo["before_taxes"]
        )
    if lo is None and hi is None:
        assert r.total_cost == r.uncapped_total
    if r.total_cost.incl is not None and hi is not None and lo is None:
        assert r.total_cost.incl <= hi["after_taxes"]


@settings(max_examples=100, deadline=None)
@given(unrestricted_tariffs(), sessions())
def test_built_cdr_reconciles_with_itself(tariff: dict[str, Any], session: dict[str, Any]) -> None:
    built = build_cdr(session, tariff, time_zone="UTC")
    cdr = built.cdr.dump()
    report = check_cdr(cdr, tariff, session, time_zone="UTC")
    assert report.ok, [d.to_json() for d in report.discrepancies]
