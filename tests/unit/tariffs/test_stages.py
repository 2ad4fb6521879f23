"""The pricing stages on their own: each stage function's contract, and every speed trick against
the plain implementation it replaces (fast_frozen records, the cost fast path, the memoised
policy summary)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import FrozenInstanceError, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ocpikit.tariffs import Policy, PricingError, price
from ocpikit.tariffs.boundaries import ClockCause, SessionBoundaries, session_boundaries
from ocpikit.tariffs.changed_policy import changed_settings
from ocpikit.tariffs.costs import CostSummary, line_amount, sum_costs
from ocpikit.tariffs.fast_records import LOOP_RECORDS, fast_frozen
from ocpikit.tariffs.local_time import OffsetSegment, offset_segments, zone
from ocpikit.tariffs.min_max import MinMaxOutcome, apply_min_max
from ocpikit.tariffs.normal import (
    NPeriod,
    NRestrictions,
    NSession,
    normalise_tariff,
    split_info,
)
from ocpikit.tariffs.periods import PeriodPlan, classify_periods
from ocpikit.tariffs.restrictions import MatchContext, first_mismatch
from ocpikit.tariffs.result import Amount, Line, PeriodResult
from ocpikit.tariffs.selection import element_group, select_element
from ocpikit.tariffs.splitting import SplitPlan, period_pieces
from ocpikit.tariffs.step_size import apply_step_size, ceil_to_step
from ocpikit.tariffs.tariff_choice import TariffChoice, choose_tariffs

from .split_scenarios import SCENARIOS
from .tariff_corpus import case_index, load_case

T0 = datetime(2024, 3, 30, 22, 0, tzinfo=UTC)
H = timedelta(hours=1)


def session(*periods: tuple[timedelta, dict[str, Decimal]], end: timedelta) -> NSession:
    starts = [T0 + offset for offset, _ in periods]
    ends = [*starts[1:], T0 + end]
    return NSession(
        "cdr",
        "S1",
        T0,
        T0 + end,
        [
            NPeriod(i, s, e, dims)
            for i, ((_, dims), s, e) in enumerate(zip(periods, starts, ends, strict=True))
        ],
    )


def tariff_json(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": "T1", "currency": "EUR", "elements": list(elements), **extra}


def ctx(**changes: Any) -> MatchContext:
    values: dict[str, Any] = {
        "minute": 600,
        "day": date(2024, 1, 15),
        "weekday": 0,
        "kwh": Decimal(0),
        "duration": 0,
        "parking": Decimal(0),
        "current": None,
        "power": None,
    }
    values.update(changes)
    return MatchContext(**values)


# --- stage 1: classify ------------------------------------------------------------------------


def test_classify_separates_reservation_and_counts_what_came_before() -> None:
    s = session(
        (timedelta(0), {"RESERVATION_TIME": Decimal("0.5")}),
        (timedelta(minutes=30), {"ENERGY": Decimal(10), "TIME": Decimal("0.5")}),
        (H, {"PARKING_TIME": Decimal("0.5")}),
        (timedelta(minutes=90), {"ENERGY": Decimal(2)}),
        end=2 * H,
    )
    plan = classify_periods(s, Policy())
    assert [c.reservation for c in plan.periods] == [True, False, False, False]
    assert plan.periods[0].volumes == {"TIME": Decimal("0.5")}
    assert plan.charging_start == T0 + timedelta(minutes=30)  # after the reservation
    assert [c.kwh_before for c in plan.periods] == [0, 0, 10, 10]
    assert [c.parking_before for c in plan.periods] == [0, 0, 0, 1800]
    # no TIME/PARKING_TIME: inferred from the timestamps (energy > 0: TIME)
    assert plan.periods[3].volumes == {"ENERGY": Decimal(2), "TIME": Decimal("0.5")}
    assert not plan.expired  # there is charging
    assert (plan.span_start, plan.span_end) == (T0, T0 + 2 * H)


def test_classify_policies() -> None:
    s = session((timedelta(0), {"TIME": Decimal(1)}), end=H)
    assert classify_periods(s, Policy(parking_definition="no_energy")).periods[0].volumes == {
        "PARKING_TIME": Decimal(1)
    }
    reserved = session((timedelta(0), {"RESERVATION_TIME": Decimal(1)}), end=H)
    assert classify_periods(reserved, Policy()).expired
    assert not classify_periods(reserved, Policy(reservation_expired="never")).expired
    assert classify_periods(reserved, Policy()).charging_start == T0


# --- restrictions and selection ---------------------------------------------------------------


def test_first_mismatch_reasons_and_policies() -> None:
    window = NRestrictions(start_time=22 * 60, end_time=6 * 60, day_of_week=frozenset({4}))
    saturday_1am = ctx(minute=60, day=date(2024, 1, 20), weekday=5)
    assert str(first_mismatch(window, saturday_1am, 0, Policy())) == (
        "day_of_week does not include SATURDAY"
    )
    assert first_mismatch(window, saturday_1am, 0, Policy(day_of_week_wrap="window_start")) is None
    assert str(first_mismatch(window, ctx(minute=12 * 60), 0, Policy())) == (
        "time 12:00 outside 22:00-06:00"
    )
    amps = NRestrictions(min_current=Decimal(32))
    assert str(first_mismatch(amps, ctx(current=Decimal(16)), 0, Policy())) == (
        "current 16 A < min_current 32"
    )
    assert first_mismatch(amps, ctx(), 0, Policy()) == (
        "period has no current to compare (policy missing_measurement)"
    )
    assert first_mismatch(amps, ctx(), 0, Policy(missing_measurement="match")) is None
    watts = NRestrictions(max_power=Decimal(50))
    assert str(first_mismatch(watts, ctx(power=Decimal(50)), 0, Policy())) == (
        "power 50 kW >= max_power 50"
    )
    longer = NRestrictions(min_duration=3600)
    assert str(first_mismatch(longer, ctx(), 1800, Policy())) == (
        "duration 1800 s < min_duration 3600"
    )


def test_select_element_takes_the_first_match_and_memoises_by_element() -> None:
    t = normalise_tariff(
        tariff_json(
            {
                "price_components": [{"type": "TIME", "price": 2, "step_size": 1}],
                "restrictions": {"min_kwh": 20},
            },
            {"price_components": [{"type": "TIME", "price": 1, "step_size": 1}]},
        )
    )
    group = element_group(t, "charging", Policy())
    assert group is element_group(t, "charging", Policy())  # cached on the tariff
    memo: dict[int, Any] = {}
    cand, skipped = select_element(
        group.candidates["TIME"], "TIME", ctx(), Policy(), memo, 0, whole=False
    )
    assert cand is not None and cand.index == 1
    assert [(i, str(r)) for i, r in skipped] == [(0, "0 kWh used < min_kwh 20")]
    assert 0 in memo  # evaluated once for the piece, reused by the next dimension
    assert group.missing["ENERGY"].element is None


# --- stage 2: boundaries and splitting --------------------------------------------------------


def test_offset_segments_cut_at_dst() -> None:
    amsterdam = zone("Europe/Amsterdam")
    segments = offset_segments(T0, T0 + 6 * H, amsterdam)  # spring forward at 01:00 UTC
    assert [(s.start, s.offset) for s in segments] == [
        (T0, timedelta(hours=1)),
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), timedelta(hours=2)),
    ]
    assert segments[-1].end == T0 + 6 * H
    with pytest.raises(PricingError, match="unknown IANA time zone"):
        zone("Mars/Olympus")


def test_session_boundaries_are_sorted_and_explained() -> None:
    t = normalise_tariff(
        tariff_json(
            {
                "price_components": [{"type": "TIME", "price": 1, "step_size": 1}],
                "restrictions": {"start_time": "23:30", "end_time": "00:00", "min_duration": 600},
            }
        )
    )
    info = split_info(t.charging)
    assert info is not None
    utc = zone("UTC")
    found = session_boundaries(offset_segments(T0, T0 + 3 * H, utc), info, utc, T0, False)
    assert found.instants == sorted(found.instants)
    texts = [c if isinstance(c, str) else c.text() for c in found.causes]
    assert texts == [
        "session duration reaches 600 s",
        "local time 23:30",
        "local midnight (2024-03-31)",
    ]
    assert isinstance(found.causes[1], ClockCause)
    assert found.inside(T0, T0 + 2 * H) == [
        (T0 + timedelta(minutes=10), "session duration reaches 600 s"),
        (T0 + timedelta(minutes=90), "local time 23:30"),
    ]


def test_period_pieces_share_out_volumes_exactly() -> None:
    t = normalise_tariff(
        tariff_json(
            {
                "price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}],
                "restrictions": {"max_kwh": 10},
            }
        )
    )
    info = split_info(t.charging)
    assert info is not None
    period = NPeriod(0, T0, T0 + 2 * H, {"ENERGY": Decimal(16), "TIME": Decimal(2)})
    volumes = {"ENERGY": Decimal(16), "TIME": Decimal(2)}
    pieces = period_pieces(period, volumes, info, [], Decimal(0), Decimal(0), Policy())
    assert [(p.start, p.end) for p in pieces] == [
        (T0, T0 + timedelta(minutes=75)),
        (T0 + timedelta(minutes=75), T0 + 2 * H),
    ]
    assert [p.volumes["ENERGY"] for p in pieces] == [10, 6]
    assert sum(p.volumes["TIME"] for p in pieces) == 2
    assert [p.kwh_before for p in pieces] == [0, 10]
    assert pieces[1].cause == "10 kWh reached (interpolated, constant power)"


# --- stages 4-6 -------------------------------------------------------------------------------


def line(dimension: str, volume: str, step: int, period: int = 0, vat: str | None = None) -> Line:
    v = Decimal(volume)
    return Line(
        period, dimension, "total_time_cost", v, v, "T1", 0, 0, Decimal(2),
        None if vat is None else Decimal(vat), step, [],
    )  # fmt: skip


def test_step_size_rounds_the_session_total_at_the_last_line() -> None:
    assert ceil_to_step(Decimal(301), Decimal(300), Decimal("0.5")) == 600
    assert ceil_to_step(Decimal("300.4"), Decimal(300), Decimal("0.5")) == Decimal("300.4")
    first, last = line("TIME", "0.25", 60), line("TIME", "0.1", 300, period=1)
    periods = [
        PeriodResult(0, "charging", T0, T0 + H, T0, "T1", [first]),
        PeriodResult(1, "charging", T0 + H, T0 + 2 * H, T0, "T1", [last]),
    ]
    priced, effects = apply_step_size(periods, Policy())
    assert priced == [first, last]
    assert [(e.group, e.consumed, e.billed, e.period) for e in effects] == [
        ("TIME", Decimal(1260), Decimal(1500), 1)
    ]
    assert first.billed == first.volume
    assert (last.billed * 3600).quantize(Decimal(1)) == 1500 - 900  # the extra lands here
    assert last.step_note.endswith("extra billed here")


def test_cost_fast_path_equals_line_amount_for_every_tax_regime() -> None:
    for regime in (None, "YES", "NO", "N/A"):
        for origin in (None, "2.1.1", "2.2.1"):
            for missing_vat in ("no_vat", "unknown", "auto"):
                extra = {} if regime is None else {"tax_included": regime}
                t = normalise_tariff(tariff_json({"price_components": []}, **extra), origin)
                pol = Policy(missing_vat=missing_vat)
                lines = [line("TIME", "1.5", 1, vat="19"), line("TIME", "0.5", 1)]
                summary = sum_costs(lines, t, {"T1": t}, pol)
                for ln in lines:
                    assert ln.cost == line_amount(ln.price * ln.billed, ln.vat, t, pol)
                assert summary.total == lines[0].cost + lines[1].cost


def test_min_max_on_excl_and_incl_independently() -> None:
    t = normalise_tariff(
        tariff_json(
            {"price_components": [{"type": "FLAT", "price": 1}]},
            min_price={"excl_vat": 5, "incl_vat": 6},
        )
    )
    costs = {"total_energy_cost": Amount(Decimal(4), Decimal(7))}
    out = apply_min_max(Amount(Decimal(4), Decimal(7)), costs, t, Policy())
    assert out.total == Amount(Decimal(5), Decimal(7))
    assert out.adjustments == ["min_price: excl 4 raised to 5"]
    assert out.costs is costs
    fixed = apply_min_max(costs["total_energy_cost"], costs, t, Policy(min_max_adjustment="fixed"))
    assert fixed.costs["total_fixed_cost"] == Amount(Decimal(1), Decimal(0))
    assert "total_fixed_cost" not in costs  # the input is not changed


def test_choose_tariffs_by_period_tariff_id_then_validity() -> None:
    s = session((timedelta(0), {"TIME": Decimal(1)}), end=H)
    s.periods[0].tariff_id = "t2"
    one = normalise_tariff(tariff_json({"price_components": []}))
    two = normalise_tariff({**tariff_json({"price_components": []}), "id": "T2"})
    choice = choose_tariffs(s, [one, two], Policy(), [])
    assert choice.main is two
    assert choice.for_period("T1") is one and choice.for_period("X") is two
    with pytest.raises(PricingError, match="no tariff"):
        choose_tariffs(s, [], Policy(), [])


# --- speed tricks against their plain implementations ------------------------------------------


FAST_FROZEN = (
    Amount,
    PeriodPlan,
    TariffChoice,
    CostSummary,
    MinMaxOutcome,
    SplitPlan,
    SessionBoundaries,
    ClockCause,
    OffsetSegment,
)


@pytest.mark.parametrize("cls", FAST_FROZEN, ids=lambda cls: cls.__name__)
def test_fast_frozen_builds_what_the_plain_init_builds(cls: type[Any]) -> None:
    values = [object() for _ in fields(cls)]
    fast = cls(*values)
    plain = object.__new__(cls)
    cls.__plain_init__(plain, *values)
    assert type(fast) is cls and fast == plain
    assert [getattr(fast, f.name) for f in fields(cls)] == values
    with pytest.raises(FrozenInstanceError):
        setattr(fast, fields(cls)[0].name, None)


def test_fast_frozen_refuses_what_it_cannot_build_alike() -> None:
    with pytest.raises(TypeError, match="not a frozen dataclass"):
        fast_frozen(Line)

    @dataclass(frozen=True, slots=True)
    class WithDefault:
        value: int = 0

    with pytest.raises(TypeError, match="without default"):
        fast_frozen(WithDefault)


@contextmanager
def loop_records_guarded() -> Iterator[list[type[Any]]]:
    """Every loop record (fast_records.LOOP_RECORDS) with a ``__setattr__`` that refuses a second
    store to a field: the convention that makes them as good as frozen."""
    classes: list[type[Any]] = [
        getattr(importlib.import_module(module), name) for module, name in LOOP_RECORDS
    ]

    def store_once(record: object, name: str, value: object) -> None:
        if hasattr(record, name):
            raise AssertionError(f"{type(record).__name__}.{name} assigned after construction")
        object.__setattr__(record, name, value)

    for cls in classes:
        assert "__setattr__" not in cls.__dict__ and "__slots__" in cls.__dict__
        cls.__setattr__ = store_once
    try:
        yield classes
    finally:
        for cls in classes:
            del cls.__setattr__


def test_loop_record_guard_catches_a_second_store() -> None:
    with loop_records_guarded():
        record = ctx()
        with pytest.raises(AssertionError, match=r"MatchContext\.minute assigned"):
            record.minute = 1
    record.minute = 1  # the guard is gone again
    assert record == ctx(minute=1)


def test_loop_records_are_never_assigned_after_construction() -> None:
    """The tariff corpus priced with the loop records guarded equals the plain run."""
    cases = [load_case(e["file"]) for e in case_index()]
    inputs = [(c["cdr_or_session"], c["tariff"], c["time_zone"]) for c in cases]
    inputs += [(s.cdr, s.tariff, s.zone) for s in SCENARIOS]
    policies = [Policy(), Policy.parse(["ocpi-2.2.1-text"]), Policy(flat="once_per_element")]
    plain = [
        price(cdr, t, time_zone=zone, policy=pol) for pol in policies for cdr, t, zone in inputs
    ]
    with loop_records_guarded():
        guarded = [
            price(cdr, t, time_zone=zone, policy=pol) for pol in policies for cdr, t, zone in inputs
        ]
    assert [r.to_json() for r in guarded] == [r.to_json() for r in plain]


def test_changed_settings_equals_policy_changed() -> None:
    for pol in (Policy(), Policy(step_size="ignore"), Policy.parse(["ocpi-2.2.1-text"])):
        assert changed_settings(pol) == pol.changed()
        assert changed_settings(pol) is changed_settings(pol)


def test_price_composes_the_stages() -> None:
    cdr = {
        "start_date_time": "2024-01-15T10:00:00Z",
        "end_date_time": "2024-01-15T11:00:00Z",
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2024-01-15T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10}, {"type": "TIME", "volume": 1}],
            }
        ],
    }
    t = tariff_json({"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}]})
    result = price(cdr, t, time_zone="UTC")
    assert result.total_cost == Amount(Decimal("3.0"), Decimal("3.0"))
    assert [ln.dimension for ln in result.lines] == ["ENERGY", "TIME"]
    assert result.relevant == frozenset({"total_energy_cost"})
