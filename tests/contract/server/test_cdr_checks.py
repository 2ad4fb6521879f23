"""CDRs a CPO pushes into an eMSP are checked by the platform: the disputes list is exactly the
wrong ones, with the reasons and differences; the backend API lists and resolves them; the
``cdr.checked`` webhook event carries the verdict (memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_checks import list_checks, run_pending_checks
from ocpikit.protocol.cdr_checks import CheckOutcome, Verdict
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, Storage
from ocpikit.storage.memory import MemoryStorage
from ocpikit.storage.sql import SqlStorage

from .conftest import Node, Router, make_node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}

TARIFF = {
    "country_code": "NL",
    "party_id": "CPO",
    "id": "T1",
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 10.0, "step_size": 1}]}
    ],
    "last_updated": "2026-01-01T00:00:00Z",
}


def cdr(cdr_id: str, *, excl: float = 3.0, incl: float = 3.3, **changes: Any) -> dict[str, Any]:
    """A 2.2.1 CDR of 10 kWh at T1 (0.30/kWh, 10 % VAT): 3.00 excl, 3.30 incl."""
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": cdr_id,
        "start_date_time": "2026-01-01T10:00:00Z",
        "end_date_time": "2026-01-01T11:00:00Z",
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "10000000",
            "type": "RFID",
            "contract_id": "DE-MSP-C1",
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC00001",
            "address": "Street 1",
            "city": "Utrecht",
            "country": "NLD",
            "coordinates": {"latitude": "52.090000", "longitude": "5.120000"},
            "evse_uid": "LOC00001-E1",
            "evse_id": "NL*CPO*E1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10}],
                "tariff_id": "T1",
            }
        ],
        "total_cost": {"excl_vat": excl, "incl_vat": incl},
        "total_energy": 10,
        "total_time": 1.0,
        "last_updated": "2026-01-01T11:00:00Z",
        **changes,
    }


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Mapping[str, Any], str | None]] = []

    async def emit(
        self, event_type: str, data: Mapping[str, Any], *, partner_id: str | None = None
    ) -> None:
        self.seen.append((event_type, data, partner_id))


@pytest.fixture
async def emsp_and_token(storage_url: str) -> AsyncIterator[tuple[Node, str]]:
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,))
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), storage=storage)
    await emsp.register(cpo)
    partner = await cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.outbound_token
    try:
        yield emsp, partner.outbound_token
    finally:
        await storage.aclose()


async def test_pushed_cdrs_are_checked_and_the_disputes_are_exactly_the_wrong_ones(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    base = "/ocpi/2.2.1/emsp"
    pushed = [
        cdr("C-OK"),
        cdr("C-ROUND", excl=3.01, incl=3.31),  # a cent off: within the default tolerance
        cdr("C-WRONG", excl=4.5, incl=4.95),
        cdr(
            "C-NOTARIFF", charging_periods=[{**cdr("x")["charging_periods"][0], "tariff_id": "T9"}]
        ),
        cdr("C-DUP1", session_id="S-DUP"),
        cdr("C-DUP2", session_id="S-DUP"),  # the same session billed twice
    ]
    async with emsp.client(token) as http:
        r = await http.put(f"{base}/tariffs/NL/CPO/T1", json=TARIFF)
        assert r.status_code in (200, 201), r.text
        for body in pushed:
            r = await http.post(f"{base}/cdrs", json=body)
            assert r.status_code == 201, r.text
        r = await http.post(f"{base}/cdrs", json=cdr("C-OK"))  # a repeated POST: no new check
        assert r.status_code == 200, r.text

    assert len(await emsp.storage.cdr_checks.pending()) == len(pushed)  # queued durably
    events = Events()
    assert await run_pending_checks(emsp.storage, events) == len(pushed)
    assert await emsp.storage.cdr_checks.pending() == []

    verdicts = {r["cdr_id"]: r["verdict"] for r in await list_checks(emsp.storage)}
    assert verdicts == {
        "C-OK": "ok",
        "C-ROUND": "within_tolerance",
        "C-WRONG": "disputed",
        "C-NOTARIFF": "unverifiable",
        "C-DUP1": "ok",
        "C-DUP2": "disputed",
    }
    disputes = {r["cdr_id"]: r for r in await list_checks(emsp.storage, disputes=True)}
    assert set(disputes) == {"C-WRONG", "C-NOTARIFF", "C-DUP2"}
    assert disputes["C-WRONG"]["reasons"] == ["cost"]
    assert disputes["C-WRONG"]["differences"] == {
        "total_cost": {"declared": "4.5", "expected": "3.0", "difference": "1.5"}
    }
    assert disputes["C-NOTARIFF"]["reasons"] == ["tariff_missing"]
    assert disputes["C-DUP2"]["reasons"] == ["duplicate"]
    assert all(r["partner"] == "NL-CPO" for r in disputes.values())

    assert [(e[0], e[1]["cdr_id"], e[1]["verdict"]) for e in events.seen][:3] == [
        ("cdr.checked", "C-OK", "ok"),
        ("cdr.checked", "C-ROUND", "within_tolerance"),
        ("cdr.checked", "C-WRONG", "disputed"),
    ]
    assert {e[2] for e in events.seen} == {"NL-CPO"}

    async with emsp.client() as admin:
        r = await admin.get("/admin/api/cdr-checks?verdict=disputed", headers=ADMIN)
        assert r.status_code == 200, r.text
        assert [x["cdr_id"] for x in r.json()] == ["C-WRONG", "C-DUP2"]
        r = await admin.get("/admin/api/cdr-checks?verdict=bogus", headers=ADMIN)
        assert r.status_code == 400, r.text
        r = await admin.post(
            "/admin/api/cdr-checks/C-WRONG/resolution",
            json={"resolution": "contested", "note": "tariff says 0.30/kWh"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        assert r.json()["resolution"] == "contested"
        r = await admin.post(
            "/admin/api/cdr-checks/NOPE/resolution", json={"resolution": "accepted"}, headers=ADMIN
        )
        assert r.status_code == 404, r.text
        r = await admin.post(
            "/admin/api/cdr-checks/C-DUP2/resolution", json={"resolution": "maybe"}, headers=ADMIN
        )
        assert r.status_code == 400, r.text
    rows = {r["cdr_id"]: r for r in await list_checks(emsp.storage, disputes=True)}
    assert (rows["C-WRONG"]["resolution"], rows["C-WRONG"]["note"]) == (
        "contested",
        "tariff says 0.30/kWh",
    )


async def test_a_partner_tolerance_switch_decides_within_tolerance(
    emsp_and_token: tuple[Node, str],
) -> None:
    emsp, token = emsp_and_token
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    await emsp.storage.partners.save(
        dataclasses.replace(partner, settings={"cdr_tolerance": "2.00"})
    )
    async with emsp.client(token) as http:
        await http.put("/ocpi/2.2.1/emsp/tariffs/NL/CPO/T1", json=TARIFF)
        r = await http.post("/ocpi/2.2.1/emsp/cdrs", json=cdr("C-WRONG", excl=4.5, incl=4.95))
        assert r.status_code == 201, r.text
    await run_pending_checks(emsp.storage)
    (row,) = await list_checks(emsp.storage)
    assert row["verdict"] == "within_tolerance"


async def test_the_queue_is_written_with_the_cdr_and_follows_its_revision(
    storage_url: str,
) -> None:
    """Storage queues the check in the write that stores a partner's CDR (the SQL trigger),
    never for our own CDRs or other objects; a CDR written again is checked again, and an
    outcome for an older revision is not stored."""
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    try:
        await storage.partners.save(Partner("NL-CPO", PartnerStatus.REGISTERED))
        at = datetime(2026, 1, 1, tzinfo=UTC)
        key = ObjectKey("CDR", "NL", "CPO", "C1")
        await storage.objects.put(key, orjson.dumps(cdr("C1")), last_updated=at, owner="NL-CPO")
        await storage.objects.put(
            ObjectKey("CDR", "NL", "OWN", "C2"),
            orjson.dumps(cdr("C2")),
            last_updated=at,
            owner=None,
        )
        await storage.objects.put(
            ObjectKey("Tariff", "NL", "CPO", "T1"),
            orjson.dumps(TARIFF),
            last_updated=at,
            owner="NL-CPO",
        )
        (first,) = await storage.cdr_checks.pending()
        assert (first.cdr_id, first.owner, first.revision) == ("C1", "NL-CPO", 1)
        outcome = CheckOutcome(Verdict.OK, [], {}, None)
        await storage.objects.put(
            key, orjson.dumps(cdr("C1", excl=9.0)), last_updated=at, owner="NL-CPO"
        )
        assert not await storage.cdr_checks.finish(first, outcome)  # stale revision
        (again,) = await storage.cdr_checks.pending()
        assert again.revision == 2
        assert await storage.cdr_checks.finish(again, outcome)
        assert await storage.cdr_checks.pending() == []
        (done,) = await storage.cdr_checks.listing()
        assert (done.verdict, done.state.value) == (Verdict.OK, "done")
    finally:
        await storage.aclose()
