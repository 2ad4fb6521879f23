"""Reconciliation: reason codes and amounts at stake; credit CDRs; invoice totals; builder."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from ocpikit.tariffs import Policy
from ocpikit.tariffs.builder import build_cdr
from ocpikit.tariffs.reconcile import check_cdr, reconcile_invoice
from tests.unit.tariffs.tariff_corpus import load_case

TARIFF: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "TST",
    "id": "T1",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 1, "vat": 21, "step_size": 1}]},
        {
            "price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21, "step_size": 1}],
            "restrictions": {"start_time": "07:00", "end_time": "23:00"},
        },
        {"price_components": [{"type": "ENERGY", "price": 0.20, "vat": 21, "step_size": 1}]},
        {"price_components": [{"type": "PARKING_TIME", "price": 2, "vat": 21, "step_size": 600}]},
    ],
    "tax_included": "NO",
    "last_updated": "2024-01-01T00:00:00Z",
}

SESSION: dict[str, Any] = {
    "country_code": "NL",
    "party_id": "TST",
    "id": "S-42",
    "start_date_time": "2024-06-01T20:30:00Z",
    "end_date_time": "2024-06-01T22:35:00Z",
    "kwh": 30,
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
    "charging_periods": [
        {
            "start_date_time": "2024-06-01T20:30:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 10}, {"type": "TIME", "volume": 0.5}],
        },
        # 21:00Z = 23:00 in Amsterdam (CEST): the night rate starts
        {
            "start_date_time": "2024-06-01T21:00:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 20}, {"type": "TIME", "volume": 1}],
        },
        {
            "start_date_time": "2024-06-01T22:00:00Z",
            "dimensions": [{"type": "PARKING_TIME", "volume": 35 / 60}],
        },
    ],
    "status": "COMPLETED",
    "last_updated": "2024-06-01T22:35:00Z",
}
ZONE = "Europe/Amsterdam"


@pytest.fixture
def cdr() -> dict[str, Any]:
    built = build_cdr(SESSION, TARIFF, time_zone=ZONE)
    return built.cdr.dump()


def test_builder_fills_costs_and_drops_nothing_needed(cdr: dict[str, Any]) -> None:
    # FLAT 1 + 10 kWh x 0.30 + 20 kWh x 0.20 + 35 -> 40 min parking x 2/h
    assert cdr["total_cost"]["before_taxes"] == pytest.approx(1 + 3 + 4 + 40 / 60 * 2, abs=0.005)
    assert cdr["total_energy_cost"]["before_taxes"] == 7
    assert cdr["total_parking_cost"]["taxes"][0]["percentage"] == 21
    assert cdr["session_id"] == "S-42" and cdr["total_energy"] == 30
    assert check_cdr(cdr, TARIFF, SESSION, time_zone=ZONE).ok


def test_time_zone_reason_and_amount_at_stake() -> None:
    # the CPO read the restrictions in UTC instead of the location's zone
    partner = build_cdr(SESSION, TARIFF, time_zone="UTC").cdr.dump()
    report = check_cdr(partner, TARIFF, time_zone=ZONE)
    codes = {d.field: d.code for d in report.discrepancies}
    assert codes["total_cost"] == "time_zone"
    assert report.amount_at_stake.quantize(Decimal("0.01")) == Decimal("2.00")  # 0.30 not 0.20


def test_step_size_reason() -> None:
    case = load_case("spec__tariff14_step_size__ex1_1655_10min_charge_2min_park.json")
    partner = copy.deepcopy(case["cdr_or_session"])
    partner["session_id"] = "S"
    partner["total_cost"] = {"excl_vat": 0.38, "incl_vat": 0.38}  # the 2.2.1-text reading
    report = check_cdr(partner, case["tariff"], time_zone="UTC")
    d = next(d for d in report.discrepancies if d.field == "total_cost")
    assert d.code == "step_size" and d.amount is not None and d.amount < 0
    assert check_cdr(partner, case["tariff"], policy=Policy(step_size="session_total")).ok


def test_rounding_reason(cdr: dict[str, Any]) -> None:
    cdr["total_cost"]["before_taxes"] = round(cdr["total_cost"]["before_taxes"] + 0.008, 2)
    report = check_cdr(cdr, TARIFF, time_zone=ZONE)
    assert [d.code for d in report.discrepancies] == ["rounding"]


def test_session_mismatches(cdr: dict[str, Any]) -> None:
    session = copy.deepcopy(SESSION)
    session["id"] = "S-43"
    session["kwh"] = 31
    session["cdr_token"]["uid"] = "OTHER"
    session["evse_uid"] = "E2"
    codes = {d.code for d in check_cdr(cdr, TARIFF, session, time_zone=ZONE).discrepancies}
    assert {"session_id", "energy", "token", "location"} <= codes
    del cdr["session_id"]
    assert "session_id" in {
        d.code for d in check_cdr(cdr, TARIFF, SESSION, time_zone=ZONE).discrepancies
    }


def test_quantity_and_version_rules(cdr: dict[str, Any]) -> None:
    cdr["total_energy"] = 25
    cdr["id"] = "X" * 38
    cdr["charging_periods"][0]["dimensions"].append({"type": "STATE_OF_CHARGE", "volume": 50})
    codes = [d.code for d in check_cdr(cdr, TARIFF, time_zone=ZONE).discrepancies]
    assert "energy" in codes and codes.count("version_rule") == 2


def _credit(cdr: dict[str, Any], *, all_costs: bool = True) -> dict[str, Any]:
    credit = copy.deepcopy(cdr)
    credit.update(id=cdr["id"] + "-C", credit=True, credit_reference_id=cdr["id"])
    for key in list(credit):
        if key.startswith("total_") and key.endswith("cost") and (all_costs or key == "total_cost"):
            price = credit[key]
            price["before_taxes"] = -price["before_taxes"]
            for t in price.get("taxes") or []:
                t["amount"] = -t["amount"]
    return credit


def test_credit_cdr_rules(cdr: dict[str, Any]) -> None:
    good = _credit(cdr)
    assert check_cdr(good, TARIFF, original=cdr, time_zone=ZONE).ok
    strict = _credit(cdr, all_costs=False)
    assert "credit" in {
        d.code for d in check_cdr(strict, TARIFF, original=cdr, time_zone=ZONE).discrepancies
    }
    assert check_cdr(
        strict, TARIFF, original=cdr, time_zone=ZONE, policy=Policy(credit="total_cost_only")
    ).ok
    positive = copy.deepcopy(good)
    positive["total_cost"]["before_taxes"] = cdr["total_cost"]["before_taxes"]
    assert "credit" in {d.code for d in check_cdr(positive, TARIFF, time_zone=ZONE).discrepancies}


def test_a_credit_under_total_cost_only_is_explained_field_by_field() -> None:
    """Under ``credit = "total_cost_only"`` only total_cost is negated: the other cost fields
    are compared unsigned, and so are the readings that may explain them."""
    partner = build_cdr(SESSION, TARIFF, time_zone="UTC").cdr.dump()  # restrictions read in UTC
    credit = _credit(partner, all_costs=False)
    policy = Policy(credit="total_cost_only")
    report = check_cdr(credit, TARIFF, original=partner, time_zone=ZONE, policy=policy)
    codes = {d.field: d.code for d in report.discrepancies}
    assert codes == {"total_cost": "time_zone", "total_energy_cost": "time_zone"}
    energy = next(d for d in report.discrepancies if d.field == "total_energy_cost")
    assert energy.amount == Decimal("2")  # declared 9 (unsigned), expected 7


def test_invoice_reconciliation(cdr: dict[str, Any]) -> None:
    second = copy.deepcopy(cdr)
    second["id"] = "C2"
    credit = _credit(cdr)
    record = {
        "country_code": "NL",
        "party_id": "TST",
        "id": "R1",
        "invoice_id": "INV-1",
        "cdrs": [cdr["id"], "C2", credit["id"]],
        "last_updated": "2024-07-01T00:00:00Z",
    }
    each = Decimal(str(cdr["total_cost"]["before_taxes"]))
    report = reconcile_invoice(
        record, [cdr, second, credit], invoiced_total=each, tariffs=TARIFF, time_zone=ZONE
    )
    assert report.ok and report.declared_total.excl == each
    wrong = reconcile_invoice(
        record, [cdr, second], invoiced_total=each * 2, tariffs=TARIFF, time_zone=ZONE
    )
    assert {d.code for d in wrong.discrepancies} == {"missing_cdr"}
    off = reconcile_invoice(record, [cdr, second, credit], invoiced_total=each + 1, recompute=False)
    assert [d.code for d in off.discrepancies] == ["invoice_total"]
