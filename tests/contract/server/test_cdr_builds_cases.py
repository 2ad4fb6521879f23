"""A CPO with ``[cdrs] build = "auto"`` builds, for the sessions of the shared tariff cases
(``tests/data/tariff-cases``, the ``high``/``medium`` ones with a tariff), CDRs whose totals are
the cases' expected totals at the cases' decimals: each case's tariff, a Location in its time
zone whose connector has the tariff, and its session ended through the backend API."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_builds import run_pending_builds
from ocpikit.protocol.ports import ObjectKey
from tests.unit.tariffs.tariff_corpus import case_index, load_case

from .conftest import Router, make_node
from .test_cdr_builds import location

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}

PASS_FAIL = [e["file"] for e in case_index() if e["confidence"] in ("high", "medium")]


def expected_totals(case: dict[str, Any]) -> dict[str, Any]:
    """The case's expected ``total_cost`` as ``{"excl_vat", "incl_vat"}`` (either may be None)."""
    total = case["expected"].get("total_cost")
    if isinstance(total, (int, float)):
        return {"excl_vat": total, "incl_vat": None}
    if not isinstance(total, dict):
        return {}
    if "amount_including_taxes" in total:
        return {"excl_vat": None, "incl_vat": total["amount_including_taxes"]}
    if "before_taxes" in total:
        return {"excl_vat": total["before_taxes"], "incl_vat": None}
    return {"excl_vat": total.get("excl_vat"), "incl_vat": total.get("incl_vat")}


def _ours(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "country_code": "NL", "party_id": "CPO"}


TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "10000000",
    "type": "RFID",
    "contract_id": "DE-MSP-C1",
}


def _complete(cdr: dict[str, Any]) -> dict[str, Any]:
    """The case's CDR with what a session needs and some cases leave out (the tandemdrive
    inputs carry only what pricing reads): an id, a token, a location."""
    loc = {"id": "LOC1", "evse_uid": "E1", "connector_id": "1", **cdr["cdr_location"]}
    return {
        "id": "S1",
        "cdr_token": TOKEN,
        "auth_method": "WHITELIST",
        **cdr,
        "cdr_location": loc,
    }


def _session(cdr: dict[str, Any]) -> dict[str, Any]:
    """The finished 2.2.1 Session behind a case's CDR."""
    loc = cdr["cdr_location"]
    return _ours(
        {
            "id": cdr["id"],
            "start_date_time": cdr["start_date_time"],
            "end_date_time": cdr["end_date_time"],
            "kwh": cdr.get("total_energy", 0),
            "cdr_token": cdr["cdr_token"],
            "auth_method": cdr["auth_method"],
            "location_id": loc["id"],
            "evse_uid": loc["evse_uid"],
            "connector_id": loc["connector_id"],
            "currency": cdr["currency"],
            "charging_periods": cdr["charging_periods"],
            "status": "COMPLETED",
            "last_updated": cdr["last_updated"],
        }
    )


def _location(cdr: dict[str, Any], tariff_id: str, zone: str) -> dict[str, Any]:
    loc = cdr["cdr_location"]
    out = location([tariff_id])
    out.update(id=loc["id"], time_zone=zone)
    out["evses"][0]["uid"] = loc["evse_uid"]
    out["evses"][0]["connectors"][0]["id"] = loc["connector_id"]
    return out


@pytest.mark.parametrize("name", PASS_FAIL)
async def test_the_built_cdr_has_the_cases_totals(name: str) -> None:
    case = load_case(name)
    cdr = case["cdr_or_session"]
    if case["tariff"] is None or not isinstance(cdr, dict) or "cdr_location" not in cdr:
        pytest.skip("no tariff of its own, or not a CDR with a location")
    cdr = _complete(cdr)
    decimals = case["comparison"]["decimals"]
    want = expected_totals(case)
    cpo = make_node(Router(), "cpo.test", "NL", "CPO", (Role.CPO,))
    tariff = _ours(copy.deepcopy(case["tariff"]))
    async with cpo.client() as admin:
        for path, body in (
            (f"tariffs/NL/CPO/{tariff['id']}", tariff),
            (
                f"locations/NL/CPO/{cdr['cdr_location']['id']}",
                _location(cdr, tariff["id"], case["time_zone"]),
            ),
            (f"sessions/NL/CPO/{cdr['id']}", _session(cdr)),
        ):
            r = await admin.put(f"/admin/api/{path}?version=2.2.1", json=body, headers=ADMIN)
            assert r.status_code == 201, (path, r.text)
    # the cases compare at up to 4 decimals: the CDRs are rounded at the cases' decimals
    assert await run_pending_builds(cpo.storage, mode="auto", decimals=decimals) == 1
    built = await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", cdr["id"]))
    assert built is not None, [b for b in await cpo.storage.cdr_builds.listing()]
    total = built.document["total_cost"]
    excl = Decimal(str(total["before_taxes"]))
    incl = excl + sum((Decimal(str(t["amount"])) for t in total.get("taxes", [])), Decimal(0))
    q = Decimal(1).scaleb(-decimals)
    if want.get("excl_vat") is not None:
        assert excl.quantize(q) == Decimal(str(want["excl_vat"])).quantize(q), total
    if want.get("incl_vat") is not None and "taxes" in total:
        assert incl.quantize(q) == Decimal(str(want["incl_vat"])).quantize(q), total
