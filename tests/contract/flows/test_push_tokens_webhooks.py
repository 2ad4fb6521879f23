"""Push on change through the backend API (transactional outbox), tokens pushed by the eMSP and
authorized in real time by the CPO with the whitelist rules, webhooks to the operator (signed,
retried, one id per event), charging profiles (2.2+) and hub client info."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ocpikit.operations.commands import sweep
from ocpikit.protocol.ports import ObjectKey
from ocpikit.protocol.webhooks import verify
from tests.contract.server.test_async_modules import as_hub

from .conftest import HOOK_SECRET, Pair, make_pair

pytestmark = pytest.mark.anyio


def token(uid: str, whitelist: str, valid: bool = True) -> dict[str, Any]:
    return {
        "country_code": "DE",
        "party_id": "MSP",
        "uid": uid,
        "type": "RFID",
        "contract_id": f"DE-MSP-{uid}",
        "issuer": "test",
        "valid": valid,
        "whitelist": whitelist,
        "last_updated": "2026-01-01T00:00:00Z",
    }


def session(sid: str, status: str, kwh: float) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": sid,
        "start_date_time": "2026-03-01T12:00:00Z",
        "kwh": kwh,
        "cdr_token": {
            "country_code": "DE",
            "party_id": "MSP",
            "uid": "T-ALWAYS",
            "type": "RFID",
            "contract_id": "DE-MSP-T-ALWAYS",
        },
        "auth_method": "COMMAND",
        "location_id": "LOC00001",
        "evse_uid": "LOC00001-E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": status,
        "last_updated": "2026-03-01T12:05:00Z",
    }


async def _push_tokens(pair: Pair) -> None:
    async with pair.emsp.admin() as http:
        for uid, wl, valid in [
            ("T-ALWAYS", "ALWAYS", True),
            ("T-NEVER", "NEVER", True),
            ("T-OFF", "ALLOWED_OFFLINE", True),
            ("T-BAD", "ALWAYS", False),
        ]:
            r = await http.put(f"/admin/api/tokens/DE/MSP/{uid}", json=token(uid, wl, valid))
            assert r.status_code == 201, r.text
    assert await pair.emsp.deliver_outbox() == ["sent"] * 4


async def _authorize(pair: Pair, uid: str, **extra: Any) -> dict[str, Any]:
    async with pair.cpo.admin() as http:
        r = await http.post("/admin/api/authorize", json={"uid": uid, **extra})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_tokens_pushed_then_authorized_by_whitelist(pair: Pair) -> None:
    await _push_tokens(pair)
    stored = await pair.cpo.storage.objects.get(ObjectKey("Token", "DE", "MSP", "T-NEVER"))
    assert stored is not None and stored.owner == "DE-MSP"
    loc = {"location_id": "LOC00001", "evse_uids": ["LOC00001-E1"]}
    always = await _authorize(pair, "T-ALWAYS")
    assert (always["allowed"], always["source"]) == ("ALLOWED", "cache")
    assert (await _authorize(pair, "T-BAD"))["allowed"] == "BLOCKED"
    never = await _authorize(pair, "T-NEVER", location=loc)
    assert (never["allowed"], never["source"]) == ("ALLOWED", "realtime")
    unknown = await _authorize(pair, "T-NOBODY", emsp="DE-MSP")
    assert (unknown["allowed"], unknown["source"]) == ("NOT_ALLOWED", "realtime")
    # the eMSP is unreachable: ALLOWED_OFFLINE falls back to the cache, NEVER does not
    pair.router.down.add("emsp.test")
    off = await _authorize(pair, "T-OFF")
    assert (off["allowed"], off["source"]) == ("ALLOWED", "offline")
    assert (await _authorize(pair, "T-NEVER"))["allowed"] == "NOT_ALLOWED"


async def test_token_update_is_pushed_with_its_latest_state(pair: Pair) -> None:
    await _push_tokens(pair)
    async with pair.emsp.admin() as http:
        r = await http.patch(
            "/admin/api/tokens/DE/MSP/T-OFF",
            json={"valid": False, "last_updated": "2026-01-02T00:00:00Z"},
        )
        assert r.status_code == 200, r.text
    assert await pair.emsp.deliver_outbox() == ["sent"]
    stored = await pair.cpo.storage.objects.get(ObjectKey("Token", "DE", "MSP", "T-OFF"))
    assert stored is not None and stored.document["valid"] is False


async def test_session_and_cdr_pushed_on_change(pair: Pair) -> None:
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/sessions/NL/CPO/S1", json=session("S1", "ACTIVE", 1.0))
        assert r.status_code == 201, r.text
        assert await pair.cpo.deliver_outbox() == ["sent"]
        r = await http.patch(
            "/admin/api/sessions/NL/CPO/S1",
            json={"kwh": 7.5, "status": "COMPLETED", "last_updated": "2026-03-01T13:00:00Z"},
        )
        assert r.status_code == 200, r.text
    assert await pair.cpo.deliver_outbox() == ["sent"]
    mine = await pair.cpo.storage.objects.get(ObjectKey("Session", "NL", "CPO", "S1"))
    theirs = await pair.emsp.storage.objects.get(ObjectKey("Session", "NL", "CPO", "S1"))
    assert mine is not None and theirs is not None and theirs.owner == "NL-CPO"
    assert theirs.document["kwh"] == 7.5 and theirs.document["status"] == "COMPLETED"
    # no registered partner of another party gets it; a Location change reaches the eMSP
    page = await pair.cpo.storage.outbox.entries()
    assert page == []


async def test_webhooks_are_signed_retried_and_identified() -> None:
    pair = await make_pair("2.2.1", webhook=True)
    pair.hooks.fail = 1
    await _push_tokens(pair)
    loc = {"location_id": "LOC00001"}
    await _authorize(pair, "T-NEVER", location=loc)  # the eMSP is asked: an event there
    assert await sweep(pair.emsp.flows) >= 1
    assert len(pair.hooks.received) == 1  # answered 500
    headers, body = pair.hooks.received[0]
    assert verify(HOOK_SECRET, headers, body)
    assert not verify("wrong", headers, body)
    assert await sweep(pair.emsp.flows) == 0  # backoff
    pair.clock.advance(timedelta(seconds=2))
    assert await sweep(pair.emsp.flows) == 1
    events = pair.hooks.events()
    assert [e["type"] for e in events] == ["authorization.requested"] * 2
    assert events[0]["id"] == events[1]["id"]  # the same event, retried
    assert events[0]["data"]["answer"]["allowed"] == "ALLOWED"
    # a CDR received by the eMSP, and a command result
    async with pair.cpo.admin() as http:
        cdr = await http.get("/admin/api/cdrs?limit=1")
        first = cdr.json()["items"][0]["object"]
        first["cdr_token"]["party_id"] = "MSP"
        first["cdr_token"]["country_code"] = "DE"
        r = await http.put(f"/admin/api/cdrs/NL/CPO/{first['id']}", json=first)
        assert r.status_code in (200, 201), r.text
    assert "sent" in await pair.cpo.deliver_outbox()
    await sweep(pair.emsp.flows)
    types = [e["type"] for e in pair.hooks.events()]
    assert "cdr.received" in types


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_charging_profile_set_and_result(version: str) -> None:
    pair = await make_pair(version)
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/sessions/NL/CPO/S1", json=session("S1", "ACTIVE", 1.0))
        assert r.status_code == 201
    profile = {
        "charging_profile": {
            "charging_rate_unit": "W",
            "charging_profile_period": [{"start_period": 0, "limit": 11000}],
        }
    }
    async with pair.emsp.admin() as http:
        r = await http.post("/admin/api/partners/NL-CPO/chargingprofiles/S1", json=profile)
        assert r.status_code == 201, r.text
        sent = r.json()
        assert sent["state"] == "PENDING" and sent["command"] == "SET_PROFILE"
    async with pair.cpo.admin() as http:
        [received] = (await http.get("/admin/api/commands?direction=received")).json()
        assert received["command"] == "SET_PROFILE"
        r = await http.post(
            f"/admin/api/commands/{received['id']}/result", json={"result": "ACCEPTED"}
        )
        assert r.json()["state"] == "DELIVERED", r.text
    async with pair.emsp.admin() as http:
        got = (await http.get(f"/admin/api/commands/sent/{sent['id']}")).json()
    assert got["state"] == "ACCEPTED" and got["final"]


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
async def test_hub_client_info_is_stored_and_exposed(version: str) -> None:
    pair = await make_pair(version)
    partner = await pair.cpo.storage.partners.get("DE-MSP")
    assert partner is not None and partner.outbound_token
    info = {
        "country_code": "BE",
        "party_id": "XYZ",
        "role": "EMSP",
        "status": "OFFLINE",
        "last_updated": "2026-03-01T12:00:00Z",
    }
    from ocpikit.client.partner import PartnerClient

    # only a hub connection may push HubClientInfo: the CPO side acts as one here
    await as_hub(pair.cpo, "DE-MSP")
    cpo_side = await pair.emsp.storage.partners.get("NL-CPO")
    assert cpo_side is not None
    client = PartnerClient(cpo_side, pair.emsp.http)
    url = client.endpoint("hubclientinfo", client.RECEIVER) + "/BE/XYZ"
    await client.request("PUT", url, module="hubclientinfo", body=info)
    async with pair.cpo.admin() as http:
        rows = (await http.get("/admin/api/hubclientinfo")).json()
    assert rows == [{"hub": "DE-MSP", **info}]
