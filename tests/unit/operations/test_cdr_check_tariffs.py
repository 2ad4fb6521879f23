"""A run's normalised tariffs (``ParsedTariffs``) give every check the outcome it has when it
prices with the stored documents: the same document for many CDRs, right and wrong ones, two
partners' OCPI versions (what an omitted VAT means differs), a tariff the engine cannot read,
and a document that changed (another object: normalised again)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import orjson

from ocpikit.operations.cdr_check_judge import CheckInputs, judge
from ocpikit.operations.cdr_check_tariffs import ParsedTariffs
from ocpikit.protocol.cdr_checks import CdrCheck, CdrCheckState
from ocpikit.protocol.ports import Partner, PartnerStatus
from tests.contract.server.test_cdr_checks import TARIFF, cdr

CHECK = CdrCheck(
    1, "NL", "CPO", "X", "p1", 1, CdrCheckState.PENDING, datetime(2026, 1, 1, tzinfo=UTC)
)


def _partner(version: str) -> Partner:
    return Partner(id="p1", status=PartnerStatus.REGISTERED, version=version)


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(orjson.dumps(doc))
    return loaded


def test_the_runs_normalised_tariffs_give_the_same_outcomes() -> None:
    no_vat = _copy(TARIFF)
    del no_vat["elements"][0]["price_components"][0]["vat"]
    unreadable = {**_copy(TARIFF), "elements": []}
    changed = {**_copy(TARIFF), "currency": "USD"}
    tariffs = [[_copy(TARIFF)], [no_vat], [unreadable], [changed], [_copy(TARIFF), no_vat]]
    parsed = ParsedTariffs()
    compared = 0
    for version in ("2.2.1", "2.1.1", "2.3.0"):
        partner = _partner(version)
        for i in range(12):
            doc = _copy(cdr(f"C{i}", session_id=f"S{i}", excl=4.5 if i % 3 == 0 else 3.0))
            check = replace(CHECK, seq=i + 1, cdr_id=doc["id"])
            for given in tariffs:
                inputs = CheckInputs(doc, given, [], None, None, None)
                plain = judge(check, partner, inputs, {})
                fast = judge(check, partner, inputs, {}, parsed)
                assert fast.to_json() == plain.to_json(), (version, i, given)
                compared += 1
    assert compared == 3 * 12 * len(tariffs)
