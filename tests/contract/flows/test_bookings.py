"""Bookings (2.3.0 mod_bookings; DIGEST §3.10): a booking request is answered by the operator's
decision (a hook or webhook; the demo policy leaves it PENDING), and the CPO's later changes of
the booking go, through the outbox, to the eMSP that asked for it and to no one else."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.protocol.decisions import HookDecisions

from .conftest import ADMIN, Pair, make_pair

pytestmark = pytest.mark.anyio

REQUEST = {
    "country_code": "DE",
    "party_id": "MSP",
    "request_id": "R1",
    "location_id": "LOC00001",
    "booking_location_id": "BL1",
    "period": {"start_date_time": "2026-04-01T10:00:00Z", "end_date_time": "2026-04-01T11:00:00Z"},
    "authorization_reference": "AUTH-R1",
}


async def _book(pair: Pair) -> dict[str, Any]:
    partner = await pair.emsp.storage.partners.get("NL-CPO")
    assert partner is not None and partner.outbound_token
    async with pair.emsp.admin() as http:
        r = await http.post(
            "http://cpo.test/ocpi/2.3.0/cpo/bookings",
            json=REQUEST,
            headers={"Authorization": f"Token {partner.outbound_token}"},
        )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


@pytest.mark.parametrize(
    ("answer", "status", "request_status", "message"),
    [
        ({"status": "RESERVED"}, "RESERVED", "ACCEPTED", "Success"),
        ({"status": "REJECTED", "message": "full"}, "REJECTED", "DECLINED", "full"),
        # nonsense fails closed
        ({"status": "MAYBE"}, "FAILED", "FAILED", "the operator's decision service did not answer"),
    ],
)
async def test_the_operator_decides_a_booking_request(
    answer: dict[str, Any], status: str, request_status: str, message: str
) -> None:
    seen: list[dict[str, Any]] = []

    def hook(request: dict[str, Any]) -> dict[str, Any]:
        seen.append(request)
        return answer

    pair = await make_pair("2.3.0", cpo_decisions=HookDecisions(hook))
    reply = await _book(pair)
    booking = reply["data"]
    assert booking["reservation_status"] == status
    assert booking["booking_requests"][0]["request_status"] == request_status
    assert reply.get("status_message") == message
    [asked] = seen
    assert asked["kind"] == "booking" and asked["partner"] == "DE-MSP"
    assert asked["booking_request"]["request_id"] == "R1"
    assert asked["location"]["id"] == "LOC00001"


async def test_the_demo_policy_leaves_it_pending_and_changes_go_to_the_emsp() -> None:
    pair = await make_pair("2.3.0")
    booking = (await _book(pair))["data"]
    assert booking["reservation_status"] == "PENDING"
    change = {
        "reservation_status": "RESERVED",
        "booking_requests": [{**booking["booking_requests"][0], "request_status": "ACCEPTED"}],
        "last_updated": "2026-03-01T12:05:00Z",
    }
    url = f"/admin/api/bookings/NL/CPO/{booking['id']}"
    async with pair.cpo.admin() as http:
        r = await http.patch(url, json=change, headers=ADMIN)
        assert r.status_code == 200, r.text
    assert await pair.cpo.deliver_outbox() == ["sent"]
    async with pair.emsp.admin() as http:
        r = await http.get("/admin/api/bookings?owner=NL-CPO", headers=ADMIN)
    [stored] = [i["object"] for i in r.json()["items"]]
    assert stored["id"] == booking["id"] and stored["reservation_status"] == "RESERVED"


async def test_a_booking_nobody_asked_for_is_not_broadcast() -> None:
    pair = await make_pair("2.3.0")
    booking = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "B-OPERATOR",
        "request_id": "R9",
        "location_id": "LOC00001",
        "period": REQUEST["period"],
        "reservation_status": "RESERVED",
        "authorization_reference": "AUTH-9",
        "booking_requests": [
            {
                "request_status": "ACCEPTED",
                "booking_request": {**REQUEST, "request_id": "R9"},
                "request_received": "2026-03-01T11:00:00Z",
            }
        ],
        "booking_terms": {
            "supported_access_methods": ["OPEN"],
            "change_until_minutes": 0,
            "cancel_until_minutes": 0,
        },
        "last_updated": "2026-03-01T12:00:00Z",
    }
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/bookings/NL/CPO/B-OPERATOR", json=booking, headers=ADMIN)
        assert r.status_code == 201, r.text
    assert await pair.cpo.deliver_outbox() == []


async def test_a_booking_location_goes_to_every_emsp_with_the_receiver() -> None:
    pair = await make_pair("2.3.0")
    place = {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "BL1",
        "location_id": "LOC00001",
        "booking_option": {"evse_uid": "LOC00001-E1"},
        "policy": {"reservation_required": False},
        "last_updated": "2026-03-01T12:00:00Z",
    }
    url = f"/admin/api/booking_locations/NL/CPO/{place['id']}"
    async with pair.cpo.admin() as http:
        r = await http.put(url, json=place, headers=ADMIN)
        assert r.status_code == 201, r.text
    assert await pair.cpo.deliver_outbox() == ["sent"]
    async with pair.emsp.admin() as http:
        r = await http.get("/admin/api/booking_locations?owner=NL-CPO", headers=ADMIN)
    [stored] = [i["object"] for i in r.json()["items"]]
    assert stored["id"] == place["id"]
