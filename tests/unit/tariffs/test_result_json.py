"""A price's JSON (the breakdown a CDR check stores) is what the plain field-by-field form
gives: every time formatted on its own, every amount through ``json_number``; over the tariff
corpus and the split scenarios (periods cut in several pieces, in other zones)."""

from __future__ import annotations

from typing import Any

import orjson

from ocpikit.core.types import format_datetime
from ocpikit.tariffs.engine import price
from ocpikit.tariffs.errors import PricingInputError
from ocpikit.tariffs.result import COST_BUCKETS, Amount, PeriodResult, PriceResult, json_number
from tests.unit.tariffs.split_scenarios import SCENARIOS
from tests.unit.tariffs.tariff_corpus import case_index, load_case


def _amount(a: Amount, decimals: int) -> dict[str, Any]:
    return {"excl_vat": json_number(a.excl, decimals), "incl_vat": json_number(a.incl, decimals)}


def _period(p: PeriodResult, d: int) -> dict[str, Any]:
    return {
        "period": p.index,
        "kind": p.kind,
        "start_date_time": format_datetime(p.start),
        "end_date_time": format_datetime(p.end),
        "local_start": p.local_start.isoformat(),
        "tariff_id": p.tariff_id,
        "sub_periods": [
            {
                "sub_period": s.index,
                "start_date_time": format_datetime(s.start),
                "end_date_time": format_datetime(s.end),
                "local_start": s.local_start.isoformat(),
                "starts_because": s.cause,
            }
            for s in p.subs
        ],
        "dimensions": [{**line.to_json(d), "cost": _amount(line.cost, d)} for line in p.lines],
    }


def _plain(r: PriceResult) -> dict[str, Any]:
    d = r.decimals
    out: dict[str, Any] = {"total_cost": _amount(r.total_cost, d)}
    out.update({name: _amount(r.cost(name), d) for name in COST_BUCKETS})
    rounded: dict[str, Any] = {"decimals": 2, "rounding": "ROUND_HALF_UP"}
    rounded["total_cost"] = _amount(r.total_cost, 2)
    rounded.update({name: _amount(r.cost(name), 2) for name in COST_BUCKETS})
    out["rounded"] = rounded
    out["total_energy"] = json_number(r.total_energy)
    out["total_time"] = json_number(r.total_time)
    out["total_parking_time"] = json_number(r.total_parking_time)
    out["currency"] = r.currency
    out["tariff_ids"] = r.tariff_ids
    out["time_zone"] = r.time_zone
    out["breakdown"] = [_period(p, d) for p in r.periods]
    out["step_size"] = [s.to_json() for s in r.step_effects]
    out["min_max_price"] = r.adjustments
    out["uncapped_total_cost"] = _amount(r.uncapped_total, d)
    out["taxes"] = [
        {"vat": json_number(rate), "amount": json_number(amount)}
        for rate, amount in r.taxes.items()
    ]
    out["policy"] = dict(r.policy)
    out["warnings"] = r.warnings
    return out


def test_price_json_is_the_plain_form() -> None:
    inputs = [(s.cdr, s.tariff, s.zone) for s in SCENARIOS]
    for entry in case_index():
        case = load_case(entry["file"])
        inputs.append((case["cdr_or_session"], case.get("tariff"), case.get("time_zone")))
    pieces = 0
    for doc, tariffs, zone in inputs:
        try:
            result = price(doc, tariffs, time_zone=zone)
        except PricingInputError:
            continue
        pieces += sum(len(p.subs) > 1 for p in result.periods)
        assert orjson.dumps(result.to_json()) == orjson.dumps(_plain(result))  # 3 is not 3.0
    assert pieces > 5  # periods in several pieces are among them
