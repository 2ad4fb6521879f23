"""Periods crossing a restriction boundary are split and each piece priced by the elements
active in it (policy ``period_split``, default ``restrictions``; ``kwh_split`` interpolates kWh
thresholds assuming constant power). Totals are hand-computed in ``split_scenarios``."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ocpikit.tariffs import Policy, price

from .split_scenarios import AMS, SCENARIOS, Scenario, cdr, el, tariff
from .tariff_corpus import at

BY_START = Policy(period_split="none", kwh_split="period_start")


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_total_split_and_by_period_start(s: Scenario) -> None:
    """See each scenario's ``why`` for the arithmetic."""
    result = price(s.cdr, s.tariff, time_zone=s.zone)
    assert at(result.total_cost.excl, 2) == Decimal(s.total), s.why
    assert len(result.periods[0].subs) == s.subs
    old = price(s.cdr, s.tariff, time_zone=s.zone, policy=BY_START)
    assert at(old.total_cost.excl, 2) == Decimal(s.by_start), s.why
    assert len(old.periods[0].subs) == 1
    assert Policy.parse(["period-start"]) == BY_START


def test_day_night_explanation_shows_the_sub_periods() -> None:
    """22:30-23:00 CET day (5 kWh x 0.40), 23:00-00:30 night (15 kWh x 0.25)."""
    s = SCENARIOS[0]
    out = price(s.cdr, s.tariff, time_zone=s.zone).to_json()
    subs = out["breakdown"][0]["sub_periods"]
    assert [x["local_start"][11:16] for x in subs] == ["22:30", "23:00"]
    assert subs[1]["starts_because"] == "local time 23:00"
    assert subs[1]["start_date_time"] == "2024-01-15T22:00:00Z"
    lines = out["breakdown"][0]["dimensions"]
    energy = [
        (x["sub_period"], x["volume"], x["element"]) for x in lines if x["dimension"] == "ENERGY"
    ]
    assert energy == [(0, 5, 0), (1, 15, 1)]


def test_fall_back_pieces_follow_the_real_offset() -> None:
    """02:00-03:00 CEST then 02:00-03:00 CET: night, day, night, day (30 min each)."""
    s = next(x for x in SCENARIOS if x.name == "dst_fall_back")
    r = price(s.cdr, s.tariff, time_zone=s.zone)
    subs = r.periods[0].subs
    assert [x.local_start.strftime("%H:%M%z") for x in subs] == [
        "02:00+0200",
        "02:30+0200",
        "02:00+0100",
        "02:30+0100",
    ]
    assert "DST" in subs[2].cause
    energy = [line.element for line in r.lines if line.dimension == "ENERGY"]
    assert energy == [0, 1, 0, 1]


def test_spring_forward_window_ends_at_the_jump() -> None:
    """02:30 does not exist on 2024-03-31: the night window (to 02:30) ends at 03:00 CEST."""
    s = next(x for x in SCENARIOS if x.name == "dst_spring_forward")
    r = price(s.cdr, s.tariff, time_zone=s.zone)
    assert [x.local_start.strftime("%H:%M") for x in r.periods[0].subs] == ["01:00", "03:00"]
    assert r.cost("total_time_cost").excl == 2  # 2 real hours, not 3 wall-clock hours


def test_max_kwh_crossing_is_interpolated_at_constant_power() -> None:
    """16 kWh over 2 h: 10 kWh at 75 min, i.e. 11:15Z; the energy is exact at the threshold."""
    s = next(x for x in SCENARIOS if x.name == "max_kwh")
    r = price(s.cdr, s.tariff, time_zone=s.zone)
    sub = r.periods[0].subs[1]
    assert sub.start.strftime("%H:%M:%S") == "11:15:00"
    assert "10 kWh reached" in sub.cause
    energy = [line.volume for line in r.lines if line.dimension == "ENERGY"]
    assert energy == [10, 6]


def test_step_size_is_applied_once_per_session_over_the_pieces() -> None:
    """DIGEST 4.3 rule 5 across a split: 30 min free + 10 min paid = 40 -> 45 min; the extra
    5 min go to the last piece (15 min x 3.00/h = 0.75), not 30 -> 30 and 10 -> 15 separately
    (the same here) nor the whole 45 min at the last price (2.25)."""
    s = next(x for x in SCENARIOS if x.name == "max_duration")
    r = price(s.cdr, s.tariff, time_zone=s.zone)
    assert at(r.cost("total_time_cost").excl, 4) == Decimal("0.7500")
    effect = next(e for e in r.step_effects if e.group == "TIME")
    assert effect.billed == 2700
    time_lines = [line for line in r.lines if line.dimension == "TIME"]
    assert "extra billed here" in time_lines[-1].step_note


def test_split_at_17_00_keeps_the_spec_step_size_example() -> None:
    """mod_cdrs step_size rule 5 with the CPO not splitting: 6 + 22 min in one period from
    16:54; 5.00/h before 17:00, 7.00/h after, step 600 s. 28 -> 30 min, the extra at the
    post-17:00 price: 6/60 x 5 + 24/60 x 7 = 0.50 + 2.80 = 3.30 (the spec's result)."""
    t = tariff(
        "ST",
        el(("TIME", 5.00, 600), start_time="00:00", end_time="17:00"),
        el(("TIME", 7.00, 600), start_time="17:00", end_time="00:00"),
    )
    c = cdr(
        "ST",
        "2024-01-15T16:54:00Z",
        "2024-01-15T17:22:00Z",
        ("2024-01-15T16:54:00Z", {"TIME": Decimal(28) / 60}),
    )
    r = price(c, t, time_zone="UTC")
    assert at(r.total_cost.excl, 2) == Decimal("3.30")


def test_power_and_current_do_not_split() -> None:
    """Current/power are period-level values: a 32 A restriction never cuts a period."""
    t = tariff("PW", el(("ENERGY", 0.50, 1), min_power=22), el(("ENERGY", 0.30, 1)))
    c = cdr(
        "PW",
        "2024-01-15T10:00:00Z",
        "2024-01-15T12:00:00Z",
        ("2024-01-15T10:00:00Z", {"ENERGY": 10, "POWER": 25}),
    )
    r = price(c, t, time_zone=AMS)
    assert len(r.periods[0].subs) == 1 and r.total_cost.excl == 5


def test_flat_per_period_policy_counts_original_periods() -> None:
    """flat=per_period: one FLAT per CDR period even when the engine splits it."""
    t = tariff(
        "FP",
        el(("FLAT", 1.00, 1)),
        el(("ENERGY", 0.40, 1), start_time="07:00", end_time="23:00"),
        el(("ENERGY", 0.25, 1)),
    )
    c = cdr(
        "FP",
        "2024-01-15T21:30:00Z",
        "2024-01-15T23:30:00Z",
        ("2024-01-15T21:30:00Z", {"ENERGY": 20, "TIME": 2}),
    )
    r = price(c, t, time_zone=AMS, policy=Policy(flat="per_period"))
    assert sum(1 for line in r.lines if line.dimension == "FLAT") == 1
    assert r.total_cost.excl == Decimal("6.75")  # 1.00 + 2.00 + 3.75


def test_reconciliation_names_a_partner_that_did_not_split() -> None:
    """The day/night CDR declared at 8.00 (all at the 22:30 day rate) vs our 5.75."""
    from ocpikit.tariffs.reconcile import check_cdr

    s = SCENARIOS[0]
    declared = {**s.cdr, "total_cost": {"excl_vat": 8.00, "incl_vat": 8.00}}
    report = check_cdr(declared, s.tariff, time_zone=s.zone)
    codes = {d.field: d.code for d in report.discrepancies}
    assert codes["total_cost"] == "period_split"
