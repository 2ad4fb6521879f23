"""The compact breakdown a CDR check stores (``pack_breakdown``) gives back the engine's report
(``PriceResult.to_json``, as ``ocpikit tariff price --json``) exactly, once stored as JSON and
read back: over every case of the tariff corpus, in both tariff forms, in UTC and in a zone of
its own, under several policies (a Decimal setting among them), and for credit-like results
(negative amounts, pieces of a period starting at restriction boundaries)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import orjson
import pytest

from ocpikit.operations.cdr_check_breakdown import FORMAT, breakdown_json, pack_breakdown
from ocpikit.tariffs import Policy, PricingError, price
from ocpikit.tariffs.result import PriceResult
from tests.unit.tariffs.tariff_corpus import case_index, load_case

CASES = [e["file"] for e in case_index()]
POLICIES = [
    Policy(),
    Policy.parse(["no-step-size"]),
    Policy(missing_vat="auto", decimals=2),
    Policy(time_step_tolerance=Decimal("0.25"), min_price="ignore"),
]


def _stored(result: PriceResult) -> Any:
    """The compact form as a check stores it: JSON, read back."""
    return orjson.loads(orjson.dumps(pack_breakdown(result)))


def _forms(case: dict[str, Any]) -> list[Any]:
    """The 2.2.1 form (None: the CDR's own tariffs) and the 2.3.0 form, where given."""
    return [case["tariff"], *([case["tariff_v230"]] if case.get("tariff_v230") else [])]


@pytest.mark.parametrize("name", CASES)
def test_the_compact_breakdown_gives_back_the_report(name: str) -> None:
    case = load_case(name)
    compared = 0
    for tariff in _forms(case):
        for zone in (case["time_zone"], "America/New_York"):
            for policy in POLICIES:
                try:
                    result = price(case["cdr_or_session"], tariff, time_zone=zone, policy=policy)
                except PricingError:
                    continue
                stored = _stored(result)
                assert stored[0] == FORMAT
                assert breakdown_json(stored) == result.to_json(), (name, zone, policy)
                compared += 1
    assert compared


def test_the_compact_breakdown_is_smaller_than_the_report() -> None:
    case = load_case(CASES[0])
    result = price(case["cdr_or_session"], case["tariff"], time_zone=case["time_zone"])
    assert len(orjson.dumps(pack_breakdown(result))) < len(orjson.dumps(result.to_json()))


def test_a_breakdown_of_another_form_is_given_back_as_it_is() -> None:
    report = {"total_cost": {"excl_vat": 1, "incl_vat": None}}
    assert breakdown_json(report) == report
    assert breakdown_json(None) is None


def _split_tariff() -> dict[str, Any]:
    """Time priced higher from 12:00 local (a period crossing it is priced in pieces), no VAT
    on the parking price (an unknown incl. VAT), a FLAT and a minimum price."""
    return {
        "id": "SPLIT",
        "currency": "EUR",
        "min_price": {"excl_vat": 50, "incl_vat": 60},
        "elements": [
            {
                "price_components": [{"type": "TIME", "price": 4, "vat": 21, "step_size": 300}],
                "restrictions": {"start_time": "12:00", "end_time": "14:00"},
            },
            {
                "price_components": [
                    {"type": "TIME", "price": 2, "vat": 21, "step_size": 60},
                    {"type": "ENERGY", "price": 0.25, "vat": 21, "step_size": 1},
                    {"type": "FLAT", "price": 0.5, "vat": 21, "step_size": 1},
                ]
            },
            {"price_components": [{"type": "PARKING_TIME", "price": 1.5, "step_size": 60}]},
        ],
    }


def _split_cdr() -> dict[str, Any]:
    return {
        "id": "C1",
        "currency": "EUR",
        "start_date_time": "2026-03-29T09:30:00Z",
        "end_date_time": "2026-03-29T13:00:00Z",
        "charging_periods": [
            {
                "start_date_time": "2026-03-29T09:30:00Z",
                "dimensions": [
                    {"type": "ENERGY", "volume": 20.123},
                    {"type": "TIME", "volume": 2.5},
                ],
            },
            {
                "start_date_time": "2026-03-29T12:00:00.250Z",
                "dimensions": [{"type": "PARKING_TIME", "volume": 1}],
            },
        ],
        "total_cost": {"excl_vat": 10, "incl_vat": 12.1},
        "total_energy": 20.123,
        "total_time": 3.5,
    }


@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Asia/Kathmandu", "UTC"])
@pytest.mark.parametrize("policy", POLICIES)
def test_pieces_of_a_period_unknown_vat_and_minimum_price(zone: str, policy: Policy) -> None:
    result = price(_split_cdr(), _split_tariff(), time_zone=zone, policy=policy)
    assert breakdown_json(_stored(result)) == result.to_json()
