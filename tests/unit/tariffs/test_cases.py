"""Every ``high``/``medium`` case of the shared tariff corpus prices to its expected totals at
its stated decimals, in its 2.2.1 form and (where given) its 2.3.0 form; every ambiguous or
conflicting case is reproduced, per source, by a documented policy setting."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.tariffs import Policy, price

from .tariff_corpus import at, case_index, load_case

COST_KEYS = (
    "total_cost",
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_fixed_cost",
    "total_reservation_cost",
)
QUANTITIES = ("total_energy", "total_time", "total_parking_time")

PASS_FAIL = [e["file"] for e in case_index() if e["confidence"] in ("high", "medium")]
DISPUTED = [e["file"] for e in case_index() if e["confidence"] not in ("high", "medium")]


def _check(result: dict[str, Any], expected: dict[str, Any], decimals: int) -> list[str]:
    problems = []
    for key in COST_KEYS:
        want = expected.get(key)
        if want is None:
            continue
        if isinstance(want, (int, float)):  # 2.1.1: a bare excl. VAT number
            want = {"excl_vat": want}
        for side in ("excl_vat", "incl_vat"):
            if not isinstance(want.get(side), (int, float)):
                continue
            got = result[key][side]
            if got is None or at(got, decimals) != at(want[side], decimals):
                problems.append(f"{key}.{side}: got {got}, want {want[side]}")
    for key in QUANTITIES:
        want_q = expected.get(key)
        if isinstance(want_q, (int, float)) and at(result[key], decimals) != at(want_q, decimals):
            problems.append(f"{key}: got {result[key]}, want {expected[key]}")
    return problems


def _forms(case: dict[str, Any]) -> list[tuple[str, Any]]:
    forms = [("2.2.1", case["tariff"])]
    if case.get("tariff_v230"):
        forms.append(("2.3.0", case["tariff_v230"]))
    return forms


@pytest.mark.parametrize("name", PASS_FAIL)
def test_case_prices_to_expected_totals(name: str) -> None:
    case = load_case(name)
    decimals = case["comparison"]["decimals"]
    expected = case["expected"]
    total = expected.get("total_cost")
    if isinstance(total, dict) and "amount_including_taxes" in total:  # tariff_20 (tax_included)
        expected = {"total_cost": {"incl_vat": expected["total_cost"]["amount_including_taxes"]}}
    if isinstance(total, dict) and "before_taxes" in total:  # tariff_19 (taxes unknown)
        expected = {"total_cost": {"excl_vat": expected["total_cost"]["before_taxes"]}}
    for form, tariff in _forms(case):
        result = price(case["cdr_or_session"], tariff, time_zone=case["time_zone"]).to_json()
        problems = _check(result, expected, decimals)
        assert not problems, f"{name} ({form} tariff): {problems}"


def test_the_corpus_is_found() -> None:
    assert len(PASS_FAIL) >= 40, "the pass/fail cases of tests/data/tariff-cases are missing"


#: each disputed case -> reading -> (policy settings, expected total excl. VAT)
READINGS: dict[str, dict[str, tuple[dict[str, Any], float]]] = {
    "spec-2.2.1__tariff7_first_hour_kwh_free__20kwh_2h45_parking.json": {
        "session duration (TariffRestrictions text; default)": ({}, 10.05),
        "2.2.1 tariff_7 prose: duration of parking": ({"duration_basis": "parking"}, 7.30),
    },
    "spec__tariff14_step_size__ex1_1655_10min_charge_2min_park.json": {
        "2.3.0 / bugfix text (default)": ({}, 0.55),
        "2.2.1 tag text: TIME+PARKING rounded together": ({"step_size": "session_total"}, 0.383),
    },
    "spec__tariff14_step_size__ex3_1940_12min_charge_20min_park_free_after_2000.json": {
        "bugfix branches (default)": ({}, 0.73),
        "2.2.1 tag text": ({"step_size": "session_total"}, 0.78),
    },
    "tandemdrive__025kwh_min_price__cdr2_less_than_2kWh.json": {
        "spec: min_price applies (default)": ({}, 0.50),
        "tandemdrive ocpi-tariffs 0.6.x": ({"min_price": "ignore"}, 0.30),
    },
}


@pytest.mark.parametrize("name", DISPUTED)
def test_every_disputed_case_has_documented_readings(name: str) -> None:
    assert name in READINGS, f"{name}: add its readings (policy settings) to READINGS and docs"


@pytest.mark.parametrize(
    ("name", "reading"),
    [(name, reading) for name, readings in READINGS.items() for reading in readings],
)
def test_disputed_reading_is_reproduced(name: str, reading: str) -> None:
    case = load_case(name)
    settings, want = READINGS[name][reading]
    for _form, tariff in _forms(case):
        result = price(
            case["cdr_or_session"],
            tariff,
            time_zone=case["time_zone"],
            policy=Policy().with_(**settings),
        )
        assert at(result.total_cost.excl, 3) == at(want, 3), reading


def test_tandemdrive_reading_matches_the_source_to_four_decimals() -> None:
    case = load_case("tandemdrive__025kwh_min_price__cdr2_less_than_2kWh.json")
    result = price(
        case["cdr_or_session"], case["tariff"], policy=Policy.parse(["tandemdrive-0.6"])
    ).to_json()
    assert not _check(result, case["expected"], 4)
    spec = price(case["cdr_or_session"], case["tariff"]).to_json()
    assert not _check(spec, case["expected_spec_reading"], 4)


def test_tariff7_incl_vat_unknown_reading() -> None:
    case = load_case("spec-2.2.1__tariff7_first_hour_kwh_free__20kwh_2h45_parking.json")
    policy = Policy().with_(duration_basis="parking", missing_vat="unknown")
    result = price(case["cdr_or_session"], case["tariff"], policy=policy).to_json()
    assert not _check(result, case["expected"], 2)
    assert result["total_cost"]["incl_vat"] is None


def test_tariff3_table_reading_without_step_size() -> None:
    """A25: the 2.3.0 tariff_3 table bills 20.45 kWh without step_size (5.61 / 6.22)."""
    case = load_case("spec__tariff3_alt_url__20_45kwh.json")
    result = price(case["cdr_or_session"], case["tariff"], policy=Policy.parse(["no-step-size"]))
    assert at(result.total_cost.excl, 2) == at(5.61, 2)
    assert result.total_cost.incl is not None
    assert at(result.total_cost.incl, 2) == at(6.22, 2)


def test_tariff19_taxes_unknown_reading() -> None:
    case = load_case("spec__tariff19_north_american_exclusive__2_5h.json")
    default = price(case["cdr_or_session"], case["tariff"])
    assert default.total_cost.excl == 5 and default.total_cost.incl == 5
    auto = price(case["cdr_or_session"], case["tariff"], policy=Policy(missing_vat="auto"))
    assert auto.total_cost.excl == 5 and auto.total_cost.incl is None
