"""The readings :mod:`ocpikit.tariffs.alike_readings` leaves out price every cost field as the
CDR's own reading, priced for real (the reference): over the tariff corpus, the split scenarios
and generated tariffs (restricted or not) and sessions, under the default and other base
policies; and the check of a wrong total finds what the check that prices every reading finds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocpikit.tariffs import reconcile
from ocpikit.tariffs.alike_readings import AlikeReadings
from ocpikit.tariffs.engine import price
from ocpikit.tariffs.errors import PricingInputError
from ocpikit.tariffs.normal import COST_FIELDS, normalise_session, normalise_tariffs
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.reconcile import ALTERNATIVES, check_cdr
from tests.unit.tariffs.split_scenarios import SCENARIOS
from tests.unit.tariffs.tariff_corpus import case_index, load_case
from tests.unit.tariffs.test_properties import prices, sessions, steps, unrestricted_tariffs

CASES = [e["file"] for e in case_index()]
BASES = [
    Policy(),
    Policy(step_size="per_period", flat="per_period", time_step_override=60),
    Policy(element_selection="whole_element", parking_definition="no_energy"),
]
ZONES = ("UTC", "Europe/Amsterdam", "America/New_York")


def _costs(result: Any) -> list[tuple[Any, Any]]:
    return [(result.cost(n).excl, result.cost(n).incl) for n in COST_FIELDS]


def _compare(doc: Any, tariffs: Any, zone: str | None, base: Policy) -> tuple[int, int]:
    """Every reading said to price alike does; (alike, priced) counts."""
    try:
        own = price(doc, tariffs, time_zone=zone, policy=base)
    except PricingInputError:
        return 0, 0
    ns = normalise_session(doc)
    same = AlikeReadings(normalise_tariffs(tariffs), ns, own, base)
    alike = priced = 0
    for changes in [c for _, c in ALTERNATIVES]:
        if same.reading(changes):
            alike += 1
            other = price(doc, tariffs, time_zone=zone, policy=base.with_(**changes))
            assert _costs(other) == _costs(own), changes
        else:
            priced += 1
    if same.zone():
        for other_zone in ZONES:
            other = price(doc, tariffs, time_zone=other_zone, policy=base)
            assert _costs(other) == _costs(own), other_zone
    return alike, priced


@pytest.mark.parametrize("base", BASES, ids=["default", "per_period", "whole"])
def test_corpus_readings_left_out_price_alike(base: Policy) -> None:
    alike = priced = 0
    for name in CASES:
        case = load_case(name)
        doc, tariffs = case["cdr_or_session"], case.get("tariff")
        if not isinstance(doc, dict) or tariffs is None:
            continue
        a, p = _compare(doc, tariffs, case.get("time_zone"), base)
        alike, priced = alike + a, priced + p
    for s in SCENARIOS:
        a, p = _compare(s.cdr, s.tariff, s.zone, base)
        alike, priced = alike + a, priced + p
    assert alike > 50 and priced > 50, (alike, priced)  # both sides are exercised


@st.composite
def restricted_tariffs(draw: Any) -> dict[str, Any]:
    """1-3 elements, each with some components and maybe restrictions."""
    elements = []
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kinds = draw(
            st.lists(
                st.sampled_from(["FLAT", "ENERGY", "TIME", "PARKING_TIME"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        comps = [{"type": k, "price": draw(prices), "step_size": draw(steps)} for k in kinds]
        r: dict[str, Any] = {}
        if draw(st.booleans()):
            r["start_time"] = draw(st.sampled_from(["08:00", "20:30", "22:00"]))
            r["end_time"] = draw(st.sampled_from(["06:00", "21:00", "23:59"]))
        if draw(st.booleans()):
            r["day_of_week"] = draw(st.sampled_from([["SATURDAY"], ["MONDAY", "SUNDAY"]]))
        if draw(st.booleans()):
            r["max_duration"] = draw(st.sampled_from([600, 3600]))
        if draw(st.booleans()):
            r["min_kwh"] = draw(st.sampled_from([0.5, 5]))
        element: dict[str, Any] = {"price_components": comps}
        if r:
            element["restrictions"] = r
        elements.append(element)
    return {
        "country_code": "NL",
        "party_id": "TST",
        "id": "R",
        "currency": "EUR",
        "elements": elements,
        "last_updated": "2024-01-01T00:00:00Z",
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(unrestricted_tariffs(), restricted_tariffs()),
    sessions(),
    st.sampled_from(BASES),
    st.sampled_from([None, *ZONES]),
)
def test_generated_readings_left_out_price_alike(
    tariff: dict[str, Any], session: dict[str, Any], base: Policy, zone: str | None
) -> None:
    _compare(session, tariff, zone, base)


def _findings(doc: Any, tariffs: Any, zone: str | None, prune: bool, mp: Any) -> Any:
    with mp.context() as m:
        if not prune:
            m.setattr(reconcile.AlikeReadings, "reading", lambda *_: False)
            m.setattr(reconcile.AlikeReadings, "zone", lambda *_: False)
        report = check_cdr(doc, tariffs, time_zone=zone)
    return [d.to_json() for d in report.discrepancies]


@pytest.mark.parametrize("name", CASES)
def test_left_out_readings_change_no_finding(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(name)
    doc, tariffs, zone = case["cdr_or_session"], case.get("tariff"), case.get("time_zone")
    if not isinstance(doc, dict) or tariffs is None:
        pytest.skip("no tariff and CDR")
    try:
        own = price(doc, tariffs, time_zone=zone).total_cost.excl
    except PricingInputError:
        pytest.skip("the case does not price")
    amounts = [own + Decimal("1.37"), own - Decimal("0.91")]
    for _, changes in ALTERNATIVES:
        try:
            alt = price(doc, tariffs, time_zone=zone, policy=Policy().with_(**changes))
        except PricingInputError:
            continue
        amounts.append(alt.total_cost.excl)
    for excl in amounts:
        wrong = {**doc, "total_cost": {"excl_vat": float(excl)}}
        pruned = _findings(wrong, tariffs, zone, True, monkeypatch)
        assert pruned == _findings(wrong, tariffs, zone, False, monkeypatch), excl
