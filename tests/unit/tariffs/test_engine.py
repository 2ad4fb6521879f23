"""Engine behaviour a user would notice: local time (DST, midnight wrap), restrictions, step_size,
VAT/taxes, min/max, inputs of every version, and the explanation."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ocpikit.models.v2_3_0.tariffs import Tariff
from ocpikit.tariffs import Policy, PricingError, price


def tariff(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "ABC",
        "id": extra.pop("id", "T1"),
        "currency": "EUR",
        "elements": list(elements),
        "last_updated": "2024-01-01T00:00:00Z",
        **extra,
    }


def el(
    *components: tuple[str, float, int], vat: float | None = None, **restr: Any
) -> dict[str, Any]:
    comps = []
    for kind, p, step in components:
        c: dict[str, Any] = {"type": kind, "price": p, "step_size": step}
        if vat is not None:
            c["vat"] = vat
        comps.append(c)
    out: dict[str, Any] = {"price_components": comps}
    if restr:
        out["restrictions"] = restr
    return out


def cdr(
    start: str, end: str, *periods: tuple[str, dict[str, float]], **extra: Any
) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "ABC",
        "id": "C1",
        "start_date_time": start,
        "end_date_time": end,
        "currency": "EUR",
        "charging_periods": [
            {"start_date_time": s, "dimensions": [{"type": k, "volume": v} for k, v in d.items()]}
            for s, d in periods
        ],
        **extra,
    }


NIGHT_DAY = tariff(
    el(("ENERGY", 0.20, 1), start_time="22:00", end_time="06:00"),
    el(("ENERGY", 0.40, 1)),
)


def test_time_of_day_is_read_in_local_time_across_dst() -> None:
    # 2024-03-31 Europe/Berlin: 02:00 CET -> 03:00 CEST. 04:30Z is 06:30 local: day rate.
    session = cdr(
        "2024-03-31T03:30:00Z",
        "2024-03-31T05:30:00Z",
        ("2024-03-31T03:30:00Z", {"ENERGY": 5, "TIME": 1}),  # 05:30 CEST: night
        ("2024-03-31T04:30:00Z", {"ENERGY": 5, "TIME": 1}),  # 06:30 CEST: day
    )
    # the first period crosses 06:00 CEST: 2.5 kWh night (0.50) + 2.5 kWh day (1.00), then 2.00
    berlin = price(session, NIGHT_DAY, time_zone="Europe/Berlin")
    assert berlin.total_cost.excl == Decimal("3.50")
    assert [p.local_start.hour for p in berlin.periods] == [5, 6]
    assert [s.local_start.strftime("%H:%M") for s in berlin.periods[0].subs] == ["05:30", "06:00"]
    by_start = price(
        session, NIGHT_DAY, time_zone="Europe/Berlin", policy=Policy(period_split="none")
    )
    assert by_start.total_cost.excl == Decimal("3.00")  # the whole first period at night rate
    utc = price(session, NIGHT_DAY, time_zone="UTC")  # 03:30 and 04:30: both night
    assert utc.total_cost.excl == Decimal("2.00")


def test_autumn_dst_fold_uses_the_real_offset() -> None:
    # 2024-10-27 Europe/Amsterdam: 03:00 CEST -> 02:00 CET; 05:30Z is 06:30 CET (day)
    session = cdr(
        "2024-10-27T04:30:00Z",
        "2024-10-27T06:30:00Z",
        ("2024-10-27T04:30:00Z", {"ENERGY": 1, "TIME": 1}),
        ("2024-10-27T05:30:00Z", {"ENERGY": 1, "TIME": 1}),
    )
    result = price(session, NIGHT_DAY, time_zone="Europe/Amsterdam")
    assert [p.local_start.strftime("%H:%M") for p in result.periods] == ["05:30", "06:30"]
    # 05:30-06:30 CET crosses 06:00: 0.5 kWh x 0.20 + 0.5 kWh x 0.40, then 1 kWh x 0.40
    assert result.total_cost.excl == Decimal("0.70")
    by_start = price(
        session, NIGHT_DAY, time_zone="Europe/Amsterdam", policy=Policy(period_split="none")
    )
    assert by_start.total_cost.excl == Decimal("0.60")


def test_wrapping_window_matches_after_midnight_and_day_of_week_policy() -> None:
    friday_night = tariff(
        el(("TIME", 10, 1), start_time="22:00", end_time="06:00", day_of_week=["FRIDAY"]),
        el(("TIME", 1, 1)),
    )
    session = cdr(
        "2024-01-19T21:00:00Z",  # Friday 22:00 UTC
        "2024-01-20T01:00:00Z",
        ("2024-01-19T22:00:00Z", {"TIME": 2}),  # Fri 22:00
        ("2024-01-20T00:00:00Z", {"TIME": 1}),  # Sat 00:00 (after midnight)
    )
    session["start_date_time"] = "2024-01-19T22:00:00Z"
    calendar = price(session, friday_night, time_zone="UTC")
    assert calendar.total_cost.excl == Decimal(21)  # Saturday part at the default rate
    window = price(
        session, friday_night, time_zone="UTC", policy=Policy(day_of_week_wrap="window_start")
    )
    assert window.total_cost.excl == Decimal(30)


def test_end_time_midnight_means_end_of_day_and_is_exclusive() -> None:
    evening = tariff(
        el(("ENERGY", 1, 1), start_time="18:00", end_time="00:00"), el(("ENERGY", 0, 1))
    )
    session = cdr(
        "2024-01-15T23:00:00Z",
        "2024-01-16T01:00:00Z",
        ("2024-01-15T23:00:00Z", {"ENERGY": 2}),
        ("2024-01-16T00:00:00Z", {"ENERGY": 3}),
    )
    assert price(session, evening, time_zone="UTC").total_cost.excl == 2


def test_dates_kwh_duration_power_current_restrictions() -> None:
    t = tariff(
        el(("ENERGY", 9, 1), start_date="2024-02-01"),
        el(("ENERGY", 5, 1), end_date="2024-01-15"),
        el(("ENERGY", 4, 1), min_kwh=10),
        el(("ENERGY", 3, 1), min_duration=3600),
        el(("ENERGY", 2, 1), min_power=11),
        el(("ENERGY", 1, 1), max_current=16),
        el(("ENERGY", 0.5, 1)),
    )
    s = cdr(
        "2024-01-15T10:00:00Z",
        "2024-01-15T14:00:00Z",
        ("2024-01-15T10:00:00Z", {"ENERGY": 1, "MAX_CURRENT": 10, "MIN_CURRENT": 10}),  # 1
        ("2024-01-15T10:10:00Z", {"ENERGY": 1, "POWER": 22}),  # 2 (power >= 11)
        ("2024-01-15T10:20:00Z", {"ENERGY": 1}),  # 0.5 (no measurement: no match)
        ("2024-01-15T11:00:00Z", {"ENERGY": 8}),  # 3 (duration >= 3600)
        ("2024-01-15T12:00:00Z", {"ENERGY": 1}),  # 4 (11 kWh used >= 10)
    )
    # the 11:00 period goes from 3 to 11 kWh: min_kwh 10 is crossed inside it (7 kWh at el. 3,
    # 1 kWh at el. 2); read at the period start only (kwh_split=period_start) all 8 at el. 3
    r = price(s, t, time_zone="UTC")
    assert [line.element for line in r.lines if line.dimension == "ENERGY"] == [5, 4, 6, 3, 2, 2]
    assert r.total_cost.excl == Decimal("1") + 2 + Decimal("0.5") + 21 + 4 + 4
    at_start = price(s, t, time_zone="UTC", policy=Policy(kwh_split="period_start"))
    assert at_start.total_cost.excl == Decimal("1") + 2 + Decimal("0.5") + 24 + 4
    missing_ok = price(s, t, time_zone="UTC", policy=Policy(missing_measurement="match"))
    assert missing_ok.lines[2].element == 4


def test_whole_element_reading_of_2_1_1() -> None:
    t = tariff(el(("FLAT", 1, 1)), el(("ENERGY", 0.25, 1)))
    s = cdr("2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z", ("2024-01-15T10:00:00Z", {"ENERGY": 4}))
    assert price(s, t).total_cost.excl == 2
    assert price(s, t, policy=Policy(element_selection="whole_element")).total_cost.excl == 1


def test_vat_taxes_and_tax_included() -> None:
    s = cdr("2024-01-15T10:00:00Z", "2024-01-15T12:00:00Z", ("2024-01-15T10:00:00Z", {"TIME": 2}))
    yes_vat = tariff(el(("TIME", 1.19, 1), vat=19), tax_included="YES")
    r = price(s, yes_vat)
    assert r.total_cost.incl == Decimal("2.38") and r.total_cost.excl == Decimal("2.00")
    na = tariff(el(("TIME", 1, 1), vat=19), tax_included="N/A")
    assert price(s, na).total_cost.incl == 2
    unknown = price(s, tariff(el(("TIME", 1, 1))), policy=Policy(missing_vat="unknown"))
    assert unknown.total_cost.incl is None
    assert unknown.to_json()["total_cost"] == {"excl_vat": 2, "incl_vat": None}


def test_head_model_2_3_0_tariff_and_explanation() -> None:
    model = Tariff.model_validate(
        tariff(el(("TIME", 2, 300), vat=10), tax_included="NO", min_price={"before_taxes": 5})
    )
    s = cdr(
        "2024-01-15T10:00:00Z", "2024-01-15T10:31:00Z", ("2024-01-15T10:00:00Z", {"TIME": 31 / 60})
    )
    r = price(s, model)
    # 31 min -> 35 min at 2.00/h
    assert r.cost("total_time_cost").excl.quantize(Decimal("0.0001")) == Decimal("1.1667")
    assert r.total_cost.excl == 5  # min_price
    assert r.adjustments and "min_price" in r.adjustments[0]
    line = r.lines[0]
    assert line.step_note and "extra billed here" in line.step_note
    assert "element 0" in line.why()
    out = r.to_json()
    assert out["breakdown"][0]["dimensions"][0]["step_size"] == 300
    assert out["step_size"][0]["billed"] == 2100


def test_2_1_1_cdr_with_embedded_tariff_and_location_time_zone() -> None:
    legacy = {
        "id": "1",
        "start_date_time": "2024-01-15T21:00:00Z",
        "stop_date_time": "2024-01-15T23:00:00Z",
        "auth_id": "A",
        "auth_method": "WHITELIST",
        "location": {"id": "L", "time_zone": "Asia/Tokyo"},
        "currency": "EUR",
        "tariffs": [
            {
                "id": "12",
                "currency": "EUR",
                "elements": [
                    {
                        "price_components": [{"type": "TIME", "price": "3.00", "step_size": 60}],
                        "restrictions": {"start_time": "06:00", "end_time": "09:00"},
                    },
                    {"price_components": [{"type": "TIME", "price": 1, "step_size": 60}]},
                ],
                "last_updated": "2024-01-01T00:00:00Z",
            }
        ],
        "charging_periods": [
            {
                "start_date_time": "2024-01-15T21:00:00Z",
                "dimensions": [{"type": "TIME", "volume": 2}],
            }
        ],
        "total_cost": 6,
        "total_energy": 0,
        "total_time": 2,
    }
    r = price(legacy)
    assert r.time_zone == "Asia/Tokyo" and r.total_cost.excl == 6  # 06:00 in Tokyo


def test_tariff_validity_and_time_zone_errors() -> None:
    s = cdr("2024-01-15T10:00:00Z", "2024-01-15T11:00:00Z", ("2024-01-15T10:00:00Z", {"TIME": 1}))
    old = tariff(el(("TIME", 1, 1)), end_date_time="2020-01-01T00:00:00Z")
    with pytest.raises(PricingError):
        price(s, old)
    assert price(s, old, policy=Policy(tariff_validity="ignore")).warnings
    with pytest.raises(PricingError):
        price(s, tariff(el(("TIME", 1, 1))), policy=Policy(time_zone_fallback="error"))
    with pytest.raises(PricingError):
        price(s, tariff(el(("TIME", 1, 1))), time_zone="Mars/Olympus")


def test_session_without_time_dimensions_infers_time() -> None:
    s = cdr(
        "2024-01-15T10:00:00Z",
        "2024-01-15T11:30:00Z",
        ("2024-01-15T10:00:00Z", {"ENERGY": 10}),
        ("2024-01-15T11:00:00Z", {"ENERGY": 0}),
    )
    t = tariff(el(("TIME", 2, 1), ("PARKING_TIME", 4, 1)))
    r = price(s, t)
    assert r.cost("total_time_cost").excl == 2 and r.cost("total_parking_cost").excl == 2
    assert price(s, t, policy=Policy(missing_time="zero")).total_cost.excl == 0


def test_policy_parse_rejects_unknown_names_and_values() -> None:
    assert Policy.parse(["step_size=session_total", "ocpi-2.1.1-literal"]).changed() == {
        "step_size": "session_total",
        "element_selection": "whole_element",
    }
    with pytest.raises(ValueError):
        Policy.parse(["nope=1"])
    with pytest.raises(ValueError):
        Policy.parse(["step_size=sometimes"])
