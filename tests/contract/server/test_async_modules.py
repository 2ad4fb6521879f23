"""Commands results, ChargingProfiles, charging preferences, HubClientInfo, Payments, Bookings
and Invoice Reconciliation (2.2.1 / 2.3.0)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from ocpikit.protocol.ports import CommandDirection, ObjectKey, PartyRole
from ocpikit.server.app import platform_of

from .conftest import Node
from .test_versions_matrix import head_session

pytestmark = pytest.mark.anyio


async def _tokens(cpo: Node, emsp: Node) -> tuple[str, str]:
    await emsp.register(cpo)
    a = await emsp.storage.partners.get("NL-CPO")
    b = await cpo.storage.partners.get("DE-MSP")
    assert a and b and a.outbound_token and b.outbound_token
    return a.outbound_token, b.outbound_token


async def _own_session(cpo: Node, sid: str = "S1") -> None:
    await cpo.storage.objects.put(
        ObjectKey("Session", "NL", "CPO", sid),
        head_session(sid, "2026-01-01T10:00:00Z"),
        last_updated=datetime(2026, 1, 1, tzinfo=UTC),
        owner=None,
    )


async def test_command_result_is_recorded(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    async with emsp.client(to_emsp) as http:
        r = await http.post(
            "/ocpi/2.2.1/emsp/commands/START_SESSION/cmd-1", json={"result": "ACCEPTED"}
        )
        assert r.status_code == 200, r.text
        r = await http.post("/ocpi/2.2.1/emsp/commands/START_SESSION/cmd-2", json={"result": 5})
        assert r.json()["status_code"] == 2001
    record = await emsp.storage.commands.get(CommandDirection.SENT, "cmd-1")
    assert record is not None and record.state == "ACCEPTED"


async def test_charging_profiles_cpo_receiver_and_emsp_results(cpo: Node, emsp: Node) -> None:
    to_cpo, to_emsp = await _tokens(cpo, emsp)
    await _own_session(cpo)
    profile = {
        "charging_profile": {
            "charging_rate_unit": "W",
            "charging_profile_period": [{"start_period": 0, "limit": 11000}],
        },
        "response_url": "http://emsp.test/ocpi/2.2.1/emsp/chargingprofiles/S1/req-1",
    }
    async with cpo.client(to_cpo) as http:
        r = await http.put("/ocpi/2.2.1/cpo/chargingprofiles/S1", json=profile)
        assert r.json()["data"] == {"result": "ACCEPTED", "timeout": 30}
        r = await http.put("/ocpi/2.2.1/cpo/chargingprofiles/NOPE", json=profile)
        assert r.json()["data"]["result"] == "UNKNOWN_SESSION"
        r = await http.get("/ocpi/2.2.1/cpo/chargingprofiles/S1?duration=900")
        assert r.json()["status_code"] == 2001  # response_url missing
        r = await http.get(
            "/ocpi/2.2.1/cpo/chargingprofiles/S1",
            params={"duration": "900", "response_url": "http://emsp.test/x"},
        )
        assert r.json()["data"]["result"] == "ACCEPTED"
        r = await http.delete(
            "/ocpi/2.2.1/cpo/chargingprofiles/S1", params={"response_url": "http://emsp.test/x"}
        )
        assert r.json()["data"]["result"] == "ACCEPTED"
        r = await http.put(
            "/ocpi/2.2.1/cpo/sessions/S1/charging_preferences",
            json={"profile_type": "FAST"},
        )
        assert r.json()["data"] == "ACCEPTED"
    async with emsp.client(to_emsp) as http:
        r = await http.post(
            "/ocpi/2.2.1/emsp/chargingprofiles/S1/req-1", json={"result": "ACCEPTED"}
        )
        assert r.status_code == 200, r.text
        r = await http.put(
            "/ocpi/2.2.1/emsp/chargingprofiles/S1",
            json={
                "start_date_time": "2026-01-01T10:00:00Z",
                "charging_profile": {"charging_rate_unit": "A"},
            },
        )
        assert r.status_code == 200, r.text


async def as_hub(node: Node, partner_id: str) -> None:
    """Give the connection ``partner_id`` of ``node`` the HUB role too."""
    partner = await node.storage.partners.get(partner_id)
    assert partner is not None
    hub = PartyRole("HUB", partner.roles[0].country_code, partner.roles[0].party_id)
    await node.storage.partners.save(dataclasses.replace(partner, roles=(*partner.roles, hub)))


async def test_hubclientinfo_receiver(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    info = {
        "country_code": "BE",
        "party_id": "ABC",
        "role": "CPO",
        "status": "CONNECTED",
        "last_updated": "2026-01-01T00:00:00Z",
    }
    async with emsp.client(to_emsp) as http:
        r = await http.put("/ocpi/2.3.0/emsp/hubclientinfo/BE/ABC", json=info)
        assert r.status_code == 404, r.text  # only a hub may say who is connected behind it
        await as_hub(emsp, "NL-CPO")
        platform_of(emsp.app).auth.forget()
        r = await http.put("/ocpi/2.3.0/emsp/hubclientinfo/BE/ABC", json=info)
        assert r.status_code == 201, r.text
        r = await http.get("/ocpi/2.3.0/emsp/hubclientinfo/BE/ABC")
        assert r.json()["data"]["status"] == "CONNECTED"
        # no routing headers on configuration modules
        assert "OCPI-from-party-id" not in r.headers


async def test_payments_terminal_and_fac_on_the_cpo(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    fac: dict[str, Any] = {
        "id": "F1",
        "authorization_reference": "AUTH1",
        "total_costs": {"before_taxes": 10, "taxes": [{"name": "VAT", "amount": 2.1}]},
        "currency": "EUR",
        "eft_data": ["line 1"],
        "capture_status_code": "SUCCESS",
        "last_updated": "2026-01-01T00:00:00Z",
    }
    async with cpo.client(to_cpo) as http:
        r = await http.post(
            "/ocpi/2.3.0/cpo/payments/terminals",
            json={"terminal_id": "T1", "last_updated": "2026-01-01T00:00:00Z"},
        )
        assert r.status_code == 201, r.text
        assert (await http.get("/ocpi/2.3.0/cpo/payments/terminals/T1")).json()["data"][
            "terminal_id"
        ] == "T1"
        r = await http.post("/ocpi/2.3.0/cpo/payments/financial-advice-confirmations", json=fac)
        assert r.status_code == 201, r.text
        r = await http.get("/ocpi/2.3.0/cpo/payments/financial-advice-confirmations/F1")
        assert r.json()["data"]["capture_status_code"] == "SUCCESS"
        r = await http.get("/ocpi/2.2.1/cpo/payments/terminals/T1")
        assert r.status_code == 404  # 2.3.0 only


async def test_bookings_request_and_receiver(cpo: Node, emsp: Node) -> None:
    to_cpo, to_emsp = await _tokens(cpo, emsp)
    request = {
        "country_code": "DE",
        "party_id": "MSP",
        "request_id": "R1",
        "location_id": "LOC00001",
        "booking_location_id": "BL1",
        "period": {
            "start_date_time": "2026-02-01T10:00:00Z",
            "end_date_time": "2026-02-01T11:00:00Z",
        },
        "authorization_reference": "AUTH-R1",
    }
    async with cpo.client(to_cpo) as http:
        r = await http.post("/ocpi/2.3.0/cpo/bookings", json=request)
        assert r.status_code == 200, r.text
        booking = r.json()["data"]
        assert booking["reservation_status"] == "PENDING"
        r = await http.post("/ocpi/2.3.0/cpo/bookings", json={**request, "location_id": "NOPE"})
        assert r.json()["status_code"] == 2003
        r = await http.get("/ocpi/2.3.0/cpo/bookings")
        assert len(r.json()["data"]) == 1
    async with emsp.client(to_emsp) as http:
        r = await http.put(f"/ocpi/2.3.0/emsp/bookings/NL/CPO/{booking['id']}", json=booking)
        assert r.status_code == 201, r.text
        r = await http.patch(
            f"/ocpi/2.3.0/emsp/bookings/NL/CPO/{booking['id']}",
            json={"reservation_status": "RESERVED", "last_updated": "2026-03-01T00:00:00Z"},
        )
        assert r.status_code == 200, r.text
        r = await http.get(f"/ocpi/2.3.0/emsp/bookings/NL/CPO/{booking['id']}")
        assert r.json()["data"]["reservation_status"] == "RESERVED"


async def test_invoice_reconciliation(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    record = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "IR1",
        "invoice_id": "INV-2026-01",
        "cdrs": ["C1", "C2"],
        "last_updated": "2026-02-01T00:00:00Z",
    }
    async with emsp.client(to_emsp) as http:
        r = await http.post("/ocpi/2.3.0/emsp/invoicereconciliation", json=record)
        assert r.status_code == 201, r.text
        r = await http.put(
            "/ocpi/2.3.0/emsp/invoicereconciliation/NL/CPO/IR1", json={**record, "cdrs": ["C1"]}
        )
        assert r.status_code == 200, r.text
        r = await http.get("/ocpi/2.3.0/emsp/invoicereconciliation/NL/CPO/IR1")
        assert r.json()["data"]["cdrs"] == ["C1"]
        r = await http.delete("/ocpi/2.3.0/emsp/invoicereconciliation/NL/CPO/IR1")
        assert r.status_code == 200
