"""A session of ours that ends (status COMPLETED through the backend API) becomes a CDR the
platform builds from the session, the tariff in force and the location, stores as ours and
queues for the session's eMSP; once per session, durably queued in the write that ends it
(memory, SQLite and PostgreSQL stores)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from ocpikit.core.versions import Role
from ocpikit.operations.cdr_builds import list_builds, run_pending_builds
from ocpikit.protocol.ports import ObjectKey, Storage
from ocpikit.storage.memory import MemoryStorage
from ocpikit.storage.sql import SqlStorage

from .conftest import Node, Router, make_node
from .test_cdr_checks import TARIFF, Events

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}
V = "?version=2.2.1"


def location(tariff_ids: list[str]) -> dict[str, Any]:
    """Our 2.2.1 Location LOC00001 whose connector 1 of EVSE LOC00001-E1 has ``tariff_ids``."""
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "LOC00001",
        "publish": True,
        "address": "Street 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.090000", "longitude": "5.120000"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": "LOC00001-E1",
                "evse_id": "NL*CPO*E1",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 16,
                        "tariff_ids": tariff_ids,
                        "last_updated": "2026-01-01T00:00:00Z",
                    }
                ],
                "last_updated": "2026-01-01T00:00:00Z",
            }
        ],
        "last_updated": "2026-01-01T00:00:00Z",
    }


def session(session_id: str, status: str = "ACTIVE", **changes: Any) -> dict[str, Any]:
    """A 2.2.1 Session of 10 kWh at LOC00001 (no tariff_id: the connector's tariff applies)."""
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": session_id,
        "start_date_time": "2026-01-01T10:00:00Z",
        "kwh": 0,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "10000000",
            "type": "RFID",
            "contract_id": "DE-MSP-C1",
        },
        "auth_method": "WHITELIST",
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": status,
        "last_updated": "2026-01-01T10:00:00Z",
        **changes,
    }


FINAL = {
    "status": "COMPLETED",
    "end_date_time": "2026-01-01T11:00:00Z",
    "kwh": 10,
    "charging_periods": [
        {
            "start_date_time": "2026-01-01T10:00:00Z",
            "dimensions": [{"type": "ENERGY", "volume": 10}],
        }
    ],
    "last_updated": "2026-01-01T11:00:00Z",
}


@pytest.fixture
async def cpo(storage_url: str) -> AsyncIterator[Node]:
    storage: Storage = (
        MemoryStorage() if storage_url == "memory" else SqlStorage.from_url(storage_url)
    )
    router = Router()
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), storage=storage)
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,))
    await emsp.register(cpo)
    async with cpo.client() as admin:
        for path, body in (
            (f"/admin/api/tariffs/NL/CPO/T1{V}", TARIFF),
            (f"/admin/api/locations/NL/CPO/LOC00001{V}", location(["T1"])),
        ):
            r = await admin.put(path, json=body, headers=ADMIN)
            assert r.status_code == 201, r.text
    try:
        yield cpo
    finally:
        await storage.aclose()


async def _end(cpo: Node, session_id: str, **final: Any) -> None:
    """Start the session (PUT, ACTIVE), then end it with its final PATCH (COMPLETED)."""
    start = {"start_date_time": final["start_date_time"]} if "start_date_time" in final else {}
    async with cpo.client() as admin:
        r = await admin.put(
            f"/admin/api/sessions/NL/CPO/{session_id}{V}",
            json=session(session_id, **start),
            headers=ADMIN,
        )
        assert r.status_code == 201, r.text
        r = await admin.patch(
            f"/admin/api/sessions/NL/CPO/{session_id}{V}", json={**FINAL, **final}, headers=ADMIN
        )
        assert r.status_code == 200, r.text


async def test_signed_data_kept_beside_the_session_goes_into_its_cdr(cpo: Node) -> None:
    """The OCPP bridge keeps the charger's SignedData beside the Session (a Session has no such
    field, so partners never get it with the Session); the built CDR carries it."""
    from ocpikit.operations.cdr_builds import keep_signed_data

    signed = {"encoding_method": "OCMF", "signed_values": [{"nature": "Start", "plain_data": "x"}]}
    await keep_signed_data(cpo.storage, ObjectKey("Session", "NL", "CPO", "S2"), signed)
    await _end(cpo, "S2")
    assert await run_pending_builds(cpo.storage, Events(), mode="auto") == 1
    stored = await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S2"))
    assert stored is not None and stored.document["signed_data"] == signed
    session = await cpo.storage.objects.get(ObjectKey("Session", "NL", "CPO", "S2"))
    assert session is not None and "signed_data" not in session.document


async def test_a_completed_session_becomes_a_priced_cdr_queued_for_the_emsp(cpo: Node) -> None:
    await _end(cpo, "S1", signed_data={"encoding_method": "OCMF", "signed_values": []})
    assert [b["state"] for b in await list_builds(cpo.storage)] == ["pending"]  # durably queued
    events = Events()
    assert await run_pending_builds(cpo.storage, events, mode="auto") == 1
    stored = await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S1"))
    assert stored is not None and stored.owner is None
    doc = stored.document
    assert doc["session_id"] == "S1"
    assert Decimal(str(doc["total_cost"]["before_taxes"])) == Decimal("3.00")
    assert Decimal(str(doc["total_energy"])) == Decimal(10)
    assert doc["cdr_location"]["evse_id"] == "NL*CPO*E1"
    assert [t["id"] for t in doc["tariffs"]] == ["T1"]
    assert doc["signed_data"]["encoding_method"] == "OCMF"  # carried through from the session
    due = [e for e in await cpo.storage.outbox.entries() if e.key.kind == "CDR"]
    assert [(e.partner_id, e.key.id) for e in due] == [("DE-MSP", "S1")]
    assert [(e[0], e[1]["cdr_id"], e[1]["state"]) for e in events.seen] == [
        ("cdr.built", "S1", "built")
    ]
    rows = await list_builds(cpo.storage)
    assert [(r["session_id"], r["state"], r["cdr_id"]) for r in rows] == [("S1", "built", "S1")]

    async with cpo.client() as admin:  # the session written again: no second build
        r = await admin.patch(
            f"/admin/api/sessions/NL/CPO/S1{V}",
            json={"last_updated": "2026-01-01T12:00:00Z"},
            headers=ADMIN,
        )
        assert r.status_code == 200, r.text
        r = await admin.get("/admin/api/cdr-builds?state=built", headers=ADMIN)
        assert r.status_code == 200, r.text
        assert [x["session_id"] for x in r.json()] == ["S1"]
        r = await admin.get("/admin/api/cdr-builds?state=bogus", headers=ADMIN)
        assert r.status_code == 400, r.text
    assert await run_pending_builds(cpo.storage, mode="auto") == 0


async def test_sessions_that_cannot_or_need_not_become_cdrs(cpo: Node) -> None:
    # the operator supplied the CDR already: left alone
    async with cpo.client() as admin:
        from .test_cdr_checks import cdr

        r = await admin.put(f"/admin/api/cdrs/NL/CPO/S2{V}", json=cdr("S2"), headers=ADMIN)
        assert r.status_code == 201, r.text
        # a connector without tariff: the build fails and says why
        r = await admin.put(
            f"/admin/api/locations/NL/CPO/LOC00001{V}", json=location([]), headers=ADMIN
        )
        assert r.status_code == 200, r.text
    await _end(cpo, "S2")
    await _end(cpo, "S3")
    assert await run_pending_builds(cpo.storage, mode="auto") == 2
    rows = {r["session_id"]: r for r in await list_builds(cpo.storage)}
    assert rows["S2"]["state"] == "skipped"
    assert rows["S3"]["state"] == "failed" and "no tariff" in rows["S3"]["error"]
    assert await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S3")) is None


async def test_the_tariff_named_by_the_periods_and_in_force_at_the_start(cpo: Node) -> None:
    later = {
        **TARIFF,
        "id": "T2",
        "elements": [{"price_components": [{"type": "ENERGY", "price": 0.50, "step_size": 1}]}],
        "start_date_time": "2026-06-01T00:00:00Z",
    }
    async with cpo.client() as admin:
        r = await admin.put(f"/admin/api/tariffs/NL/CPO/T2{V}", json=later, headers=ADMIN)
        assert r.status_code == 201, r.text
        r = await admin.put(
            f"/admin/api/locations/NL/CPO/LOC00001{V}", json=location(["T2", "T1"]), headers=ADMIN
        )
        assert r.status_code == 200, r.text
    await _end(cpo, "S4")  # January: T2 not yet in force, T1 is
    july = "2026-07-01T10:00:00Z"
    periods = [{"start_date_time": july, "dimensions": [{"type": "ENERGY", "volume": 10}]}]
    await _end(  # July, named by the periods: T2
        cpo,
        "S5",
        start_date_time=july,
        end_date_time="2026-07-01T11:00:00Z",
        charging_periods=[{**periods[0], "tariff_id": "T2"}],
        last_updated="2026-07-01T11:00:00Z",
    )
    assert await run_pending_builds(cpo.storage, mode="auto") == 2
    totals = {}
    for sid in ("S4", "S5"):
        got = await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", sid))
        assert got is not None
        totals[sid] = Decimal(str(got.document["total_cost"]["before_taxes"]))
    assert totals == {"S4": Decimal("3.00"), "S5": Decimal("5.00")}


async def test_off_marks_them_skipped_and_two_workers_never_share_one(cpo: Node) -> None:
    await _end(cpo, "S6")
    first = await cpo.storage.cdr_builds.claim()
    assert [b.session_id for b in first] == ["S6"]
    assert await cpo.storage.cdr_builds.claim() == []  # leased to the first
    assert await run_pending_builds(cpo.storage, mode="auto") == 0
    await _end(cpo, "S7")
    assert await run_pending_builds(cpo.storage, mode="off") == 1
    rows = {r["session_id"]: r["state"] for r in await list_builds(cpo.storage)}
    assert rows == {"S6": "pending", "S7": "skipped"}
    assert await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S7")) is None


async def test_a_correction_is_a_credit_cdr_then_a_new_cdr(cpo: Node) -> None:
    await _end(cpo, "S8")
    assert await run_pending_builds(cpo.storage, mode="auto") == 1
    async with cpo.client() as admin:
        r = await admin.post("/admin/api/cdrs/S8/credit", json={}, headers=ADMIN)
        assert r.status_code == 201, r.text
        done = r.json()
        credit, new = done["credit"], done["cdr"]
        assert (credit["id"], credit["credit"], credit["credit_reference_id"]) == (
            "S8-C",
            True,
            "S8",
        )
        assert Decimal(str(credit["total_cost"]["before_taxes"])) == Decimal("-3.00")
        assert Decimal(str(credit["total_energy_cost"]["before_taxes"])) == Decimal("-3.00")
        assert Decimal(str(credit["total_energy"])) == Decimal(10)  # volumes stay positive
        assert new["id"] == "S8-2" and "credit" not in new
        assert Decimal(str(new["total_cost"]["before_taxes"])) == Decimal("3.00")
        # a second credit of the same CDR, a credit of a credit, an unknown CDR: refused
        r = await admin.post("/admin/api/cdrs/S8/credit", json={}, headers=ADMIN)
        assert r.status_code == 400 and "credit_id" in r.text, r.text
        r = await admin.post("/admin/api/cdrs/S8-C/credit", json={}, headers=ADMIN)
        assert r.status_code == 400, r.text
        r = await admin.post("/admin/api/cdrs/NOPE/credit", json={}, headers=ADMIN)
        assert r.status_code == 404, r.text
        r = await admin.post("/admin/api/cdrs/S8-2/credit", json={"rebuild": "yes"}, headers=ADMIN)
        assert r.status_code == 400 and "rebuild" in r.text, r.text
    ids = {e.key.id for e in await cpo.storage.outbox.entries() if e.key.kind == "CDR"}
    assert ids == {"S8", "S8-C", "S8-2"}  # all three queued for the eMSP


async def test_a_correction_interrupted_between_its_writes_is_completed_when_asked_again(
    cpo: Node, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the Credit CDR is stored and before the new CDR is: the next request to
    correct the CDR stores the new CDR (as first asked, not refused as credited already)."""
    from ocpikit.operations import cdr_credits

    await _end(cpo, "S9")
    assert await run_pending_builds(cpo.storage, mode="auto") == 1
    real = cdr_credits.put_own_object

    async def crash_on_the_new_cdr(storage: Storage, key: ObjectKey, *a: Any, **kw: Any) -> Any:
        if key.id == "S9-2":
            raise RuntimeError("the process died here")
        return await real(storage, key, *a, **kw)

    monkeypatch.setattr(cdr_credits, "put_own_object", crash_on_the_new_cdr)
    async with cpo.client() as admin:
        r = await admin.post("/admin/api/cdrs/S9/credit", json={}, headers=ADMIN)
        assert r.status_code == 500
    assert await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S9-C")) is not None
    assert await cpo.storage.objects.get(ObjectKey("CDR", "NL", "CPO", "S9-2")) is None

    monkeypatch.setattr(cdr_credits, "put_own_object", real)
    async with cpo.client() as admin:
        r = await admin.post("/admin/api/cdrs/S9/credit", json={"new_id": "OTHER"}, headers=ADMIN)
        assert r.status_code == 201, r.text
        assert (r.json()["credit"]["id"], r.json()["cdr"]["id"]) == ("S9-C", "S9-2")
        # finished: a third request is refused as credited already
        r = await admin.post("/admin/api/cdrs/S9/credit", json={}, headers=ADMIN)
        assert r.status_code == 400 and "credit_id" in r.text, r.text
    ids = {e.key.id for e in await cpo.storage.outbox.entries() if e.key.kind == "CDR"}
    assert ids == {"S9", "S9-C", "S9-2"}
