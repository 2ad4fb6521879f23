"""Module interfaces through in-process ASGI: receivers (pushes, ownership, bad input),
senders (pagination edges, date windows), tokens authorize and commands."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.protocol.ports import ObjectKey

from .conftest import PERIOD, SESSION, Node

pytestmark = pytest.mark.anyio


async def _tokens(cpo: Node, emsp: Node) -> tuple[str, str]:
    """(token the eMSP uses to call the CPO, token the CPO uses to call the eMSP)."""
    await emsp.register(cpo)
    a = await emsp.storage.partners.get("NL-CPO")
    b = await cpo.storage.partners.get("DE-MSP")
    assert a and b and a.outbound_token and b.outbound_token
    return a.outbound_token, b.outbound_token


def _location(cc: str = "NL", pid: str = "CPO", loc_id: str = "L1") -> dict[str, Any]:
    return {
        "country_code": cc,
        "party_id": pid,
        "id": loc_id,
        "publish": True,
        "address": "Main 1",
        "city": "Utrecht",
        "country": "NLD",
        "coordinates": {"latitude": "52.090700", "longitude": "5.121400"},
        "time_zone": "Europe/Amsterdam",
        "evses": [],
        "last_updated": "2026-01-01T10:00:00Z",
    }


async def test_cpo_pushes_location_evse_and_patch_to_emsp(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    base = "/ocpi/2.2.1/emsp/locations/NL/CPO/L1"
    async with emsp.client(to_emsp) as http:
        r = await http.put(base, json=_location())
        assert r.status_code == 201, r.text
        assert r.json()["status_code"] == 1000
        evse = {
            "uid": "E1",
            "status": "AVAILABLE",
            "connectors": [
                {
                    "id": "1",
                    "standard": "IEC_62196_T2",
                    "format": "SOCKET",
                    "power_type": "AC_3_PHASE",
                    "max_voltage": 400,
                    "max_amperage": 32,
                    "last_updated": "2026-01-02T10:00:00Z",
                }
            ],
            "last_updated": "2026-01-02T10:00:00Z",
        }
        r = await http.put(base + "/E1", json=evse)
        assert r.status_code == 200, r.text
        r = await http.patch(
            base + "/E1", json={"status": "CHARGING", "last_updated": "2026-01-03T10:00:00Z"}
        )
        assert r.status_code == 200, r.text
        r = await http.get(base)
        loc = r.json()["data"]
        assert loc["evses"][0]["status"] == "CHARGING"
        assert loc["last_updated"] == "2026-01-03T10:00:00Z"
        r = await http.get(base + "/E1")
        assert r.json()["data"]["uid"] == "E1"
        # PATCH without last_updated is 2001 in 2.2+
        r = await http.patch(base, json={"name": "x"})
        assert r.status_code == 400
        assert r.json()["status_code"] == 2001
        assert "last_updated" in r.json()["status_message"]


async def test_bad_input_is_2001_naming_the_field_and_nothing_is_stored(
    cpo: Node, emsp: Node
) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    bad = _location(loc_id="BAD")
    bad["coordinates"] = {"latitude": "north"}
    async with emsp.client(to_emsp) as http:
        r = await http.put("/ocpi/2.2.1/emsp/locations/NL/CPO/BAD", json=bad)
        assert r.status_code == 400
        body = r.json()
        assert body["status_code"] == 2001
        assert "coordinates" in body["status_message"]
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/NL/CPO/BAD",
            content=b"{not json",
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400
        assert r.json()["status_code"] == 2000
        # id mismatch between URL and body
        r = await http.put("/ocpi/2.2.1/emsp/locations/NL/CPO/OTHER", json=_location())
        assert r.json()["status_code"] == 2001
    assert await emsp.storage.objects.get(ObjectKey("Location", "NL", "CPO", "BAD")) is None
    assert await emsp.storage.objects.get(ObjectKey("Location", "NL", "CPO", "OTHER")) is None


async def test_a_body_with_many_bad_fields_is_answered_with_a_bounded_status_message(
    cpo: Node, emsp: Node
) -> None:
    """status_message has no length in the spec; OpenAPI descriptions of OCPI bound it at 255,
    so the 2001 names the first problems and counts the rest."""
    _, to_emsp = await _tokens(cpo, emsp)
    bad = _location(loc_id="MANY")
    bad["evses"] = [{"uid": f"E{i}", "connectors": [{"id": 1}]} for i in range(30)]
    async with emsp.client(to_emsp) as http:
        r = await http.put("/ocpi/2.2.1/emsp/locations/NL/CPO/MANY", json=bad)
    assert r.status_code == 400
    body = r.json()
    assert body["status_code"] == 2001
    message = body["status_message"]
    assert len(message) <= 255
    assert message.startswith("Invalid or missing parameters: evses[0].status")
    assert message.endswith(" more)")


async def test_partner_may_only_write_its_own_party(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    async with emsp.client(to_emsp) as http:
        r = await http.put("/ocpi/2.2.1/emsp/locations/BE/EVL/L1", json=_location("BE", "EVL"))
    assert r.status_code == 404
    assert r.json()["status_code"] >= 2000
    assert await emsp.storage.objects.get(ObjectKey("Location", "BE", "EVL", "L1")) is None


async def test_pagination_edges_and_date_windows(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    async with cpo.client(to_cpo) as http:
        r = await http.get("/ocpi/2.2.1/cpo/locations?limit=1")
        assert len(r.json()["data"]) == 1
        assert r.headers["X-Total-Count"] == "25"
        assert r.headers["X-Limit"] == "1"
        assert "offset=1" in r.headers["Link"] and 'rel="next"' in r.headers["Link"]
        r = await http.get("/ocpi/2.2.1/cpo/locations?offset=1000")
        assert r.status_code == 200 and r.json()["data"] == []
        assert "Link" not in r.headers
        # demo locations are one minute apart from 2025-01-06T08:00:00Z
        r = await http.get(
            "/ocpi/2.2.1/cpo/locations?date_from=2025-01-06T08:02:00Z&date_to=2025-01-06T08:05:00Z"
        )
        ids = [x["id"] for x in r.json()["data"]]
        assert ids == ["LOC00003", "LOC00004", "LOC00005"]
        r = await http.get("/ocpi/2.2.1/cpo/locations?limit=abc")
        assert r.json()["status_code"] == 2001
        r = await http.get("/ocpi/2.2.1/cpo/sessions")
        assert r.json()["status_code"] == 2001  # date_from is required
        r = await http.get("/ocpi/2.2.1/cpo/locations/LOC00002/LOC00002-E1")
        assert r.json()["data"]["uid"] == "LOC00002-E1"
        r = await http.get("/ocpi/2.2.1/cpo/tariffs/")
        assert len(r.json()["data"]) == 3


async def test_sessions_patch_appends_charging_periods(cpo: Node, emsp: Node) -> None:
    _, to_emsp = await _tokens(cpo, emsp)
    url = "/ocpi/2.2.1/emsp/sessions/NL/CPO/S1"
    async with emsp.client(to_emsp) as http:
        assert (await http.put(url, json=SESSION)).status_code == 201
        for stamp in ("2026-01-01T10:05:00Z", "2026-01-01T10:10:00Z"):
            r = await http.patch(
                url, json={"charging_periods": [PERIOD], "kwh": 3, "last_updated": stamp}
            )
            assert r.status_code == 200, r.text
        data = (await http.get(url)).json()["data"]
    assert len(data["charging_periods"]) == 2
    assert data["kwh"] == 3


async def test_tokens_authorize_and_unknown_token(cpo: Node, emsp: Node) -> None:
    await _tokens(cpo, emsp)
    partner = await emsp.storage.partners.get("NL-CPO")
    cpo_partner = await cpo.storage.partners.get("DE-MSP")
    assert partner and cpo_partner and cpo_partner.outbound_token
    async with emsp.client(cpo_partner.outbound_token) as http:
        r = await http.get("/ocpi/2.3.0/emsp/tokens?limit=5")
        uid = r.json()["data"][0]["uid"]
        r = await http.post(
            f"/ocpi/2.3.0/emsp/tokens/{uid}/authorize", json={"location_id": "LOC00001"}
        )
        assert r.status_code == 200, r.text
        info = r.json()["data"]
        assert info["allowed"] == "ALLOWED" and info["token"]["uid"] == uid
        r = await http.post("/ocpi/2.3.0/emsp/tokens/NOPE/authorize")
        assert r.status_code == 404 and r.json()["status_code"] == 2004
        assert "data" not in r.json()


async def test_commands_start_session_and_unknown_location(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    command = {
        "response_url": "http://emsp.test/ocpi/2.3.0/emsp/commands/START_SESSION/abc",
        "token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "10000000",
            "type": "RFID",
            "contract_id": "DE-MSP-C1",
            "issuer": "x",
            "valid": True,
            "whitelist": "ALLOWED",
            "last_updated": "2026-01-01T10:00:00Z",
        },
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E1",
    }
    async with cpo.client(to_cpo) as http:
        r = await http.post("/ocpi/2.3.0/cpo/commands/START_SESSION", json=command)
        assert r.status_code == 200, r.text
        assert r.json()["data"]["result"] == "ACCEPTED"
        assert r.json()["data"]["timeout"] > 0
        r = await http.post(
            "/ocpi/2.3.0/cpo/commands/START_SESSION", json={**command, "location_id": "NOPE"}
        )
        assert r.json()["status_code"] == 2003
        assert r.json()["data"]["result"] == "REJECTED"


async def test_routing_headers_are_answered_swapped(cpo: Node, emsp: Node) -> None:
    to_cpo, _ = await _tokens(cpo, emsp)
    headers = {
        "OCPI-from-country-code": "DE",
        "OCPI-from-party-id": "MSP",
        "OCPI-to-country-code": "NL",
        "OCPI-to-party-id": "CPO",
    }
    async with cpo.client(to_cpo) as http:
        r = await http.get("/ocpi/2.2.1/cpo/tariffs", headers=headers)
        assert r.headers["OCPI-to-party-id"] == "MSP"
        assert r.headers["OCPI-from-party-id"] == "CPO"
        r = await http.get(
            "/ocpi/2.2.1/cpo/tariffs",
            headers={**headers, "OCPI-to-country-code": "FR", "OCPI-to-party-id": "XXX"},
        )
        assert r.json()["status_code"] == 2001
