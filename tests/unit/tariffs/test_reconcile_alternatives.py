"""The check of a wrong total leaves out the readings that price as the CDR was priced (min or
max price ignored where that limit did not apply): over the tariff corpus, with declared totals
off by an unexplained amount and by each reading's own amount, the findings are those of the
check that prices every reading."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ocpikit.tariffs import reconcile
from ocpikit.tariffs.engine import price
from ocpikit.tariffs.policy import Policy
from ocpikit.tariffs.reconcile import check_cdr
from tests.unit.tariffs.tariff_corpus import case_index, load_case

CASES = [e["file"] for e in case_index()]


def _declared(doc: dict[str, Any], excl: Decimal) -> dict[str, Any]:
    return {**doc, "total_cost": {"excl_vat": float(excl)}}


def _findings(doc: Any, case: dict[str, Any], prune: bool, mp: pytest.MonkeyPatch) -> Any:
    with mp.context() as m:
        if not prune:
            m.setattr(reconcile, "_limit_not_applied", lambda *_: False)
        report = check_cdr(doc, case["tariff"], time_zone=case.get("time_zone"))
    return [d.to_json() for d in report.discrepancies]


@pytest.mark.parametrize("name", CASES)
def test_left_out_readings_change_no_finding(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    case = load_case(name)
    doc = case["cdr_or_session"]
    if not isinstance(doc, dict) or not isinstance(case.get("tariff"), dict):
        pytest.skip("no single tariff and CDR")
    try:
        base = price(doc, case["tariff"], time_zone=case.get("time_zone")).total_cost.excl
    except Exception:
        pytest.skip("the case does not price")
    amounts = [base + Decimal("1.37"), base - Decimal("0.91")]
    for changes in ({"min_price": "ignore"}, {"max_price": "ignore"}):
        policy = Policy().with_(**changes)
        alt = price(doc, case["tariff"], time_zone=case.get("time_zone"), policy=policy)
        amounts.append(alt.total_cost.excl)
    for excl in amounts:
        wrong = _declared(doc, excl)
        assert _findings(wrong, case, True, monkeypatch) == _findings(
            wrong, case, False, monkeypatch
        ), excl
