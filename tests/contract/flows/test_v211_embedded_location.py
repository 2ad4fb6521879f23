"""A 2.1.1 Session or CDR embeds its full Location (DIGEST §6.4-§6.5). The CPO serves and pushes
them to a 2.1.1 partner with the real stored Location (address, connector voltage and amperage),
not the converter's placeholder (0 V, 0 A, empty address); a change of the Location shows in the
next page (2.1.1 Session/CDR bytes are not cached). And the ``session.received`` and
``token.received`` webhooks are emitted after a partner's PUT/PATCH."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import orjson
import pytest

from ocpikit.client.partner import PartnerClient
from ocpikit.core.types import parse_datetime
from ocpikit.core.versions import V2_1_1
from ocpikit.models import model_for
from ocpikit.operations.commands import sweep
from ocpikit.protocol.ports import ObjectKey

from .conftest import VERSIONS, Pair, make_pair

pytestmark = pytest.mark.anyio

STAMP = "2026-06-01T10:00:00Z"
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "T-ALWAYS",
    "type": "RFID",
    "contract_id": "DE-MSP-T-ALWAYS",
}


async def _location(pair: Pair, address: str = "Stationsplein 1") -> dict[str, Any]:
    """A head Location LOCX (from a demo one) with distinctive values."""
    demo = await pair.cpo.storage.objects.get(ObjectKey("Location", "NL", "CPO", "LOC00001"))
    assert demo is not None
    loc = copy.deepcopy(demo.document)
    loc["id"] = "LOCX"
    loc["address"] = address
    loc["city"] = "Utrecht"
    evse = loc["evses"][0]
    evse["uid"] = "LOCX-E1"
    evse["evse_id"] = "NL*CPO*ELOCX1"
    conn = evse["connectors"][0]
    conn.update({"id": "1", "max_voltage": 400, "max_amperage": 32})
    evse["connectors"] = [conn]
    loc["evses"] = [evse]
    loc["last_updated"] = STAMP
    return loc


def _session() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "SX",
        "start_date_time": "2026-06-01T09:00:00Z",
        "kwh": 4.5,
        "cdr_token": TOKEN,
        "auth_method": "WHITELIST",
        "location_id": "LOCX",
        "evse_uid": "LOCX-E1",
        "connector_id": "1",
        "currency": "EUR",
        "status": "ACTIVE",
        "last_updated": STAMP,
    }


def _cdr() -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "CX",
        "start_date_time": "2026-06-01T09:00:00Z",
        "end_date_time": "2026-06-01T10:00:00Z",
        "session_id": "SX",
        "cdr_token": TOKEN,
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOCX",
            "address": "Stationsplein 1",
            "city": "Utrecht",
            "postal_code": "3511 AA",
            "country": "NLD",
            "coordinates": {"latitude": "52.090000", "longitude": "5.110000"},
            "evse_uid": "LOCX-E1",
            "evse_id": "NL*CPO*ELOCX1",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "charging_periods": [
            {
                "start_date_time": "2026-06-01T09:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 4.5}],
            }
        ],
        "total_cost": {"before_taxes": 2.0},
        "total_energy": 4.5,
        "total_time": 1.0,
        "last_updated": STAMP,
    }


async def _store_own(pair: Pair, kind: str, doc: dict[str, Any]) -> None:
    await pair.cpo.storage.objects.put(
        ObjectKey(kind, "NL", "CPO", doc["id"]),
        orjson.dumps(doc),
        last_updated=parse_datetime(doc["last_updated"]),
        owner=None,
    )


def _check_embedded(obj: dict[str, Any], name: str, address: str = "Stationsplein 1") -> None:
    model_for(V2_1_1, name).model_validate(obj)  # a valid 2.1.1 object
    loc = obj["location"]
    assert loc["id"] == "LOCX"
    assert loc["address"] == address and loc["city"] == "Utrecht"
    [evse] = loc["evses"]
    assert evse["uid"] == "LOCX-E1" and evse["status"] != "UNKNOWN"
    [conn] = evse["connectors"]
    assert (conn["id"], conn["voltage"], conn["amperage"]) == ("1", 400, 32)


async def _pull(pair: Pair, module: str) -> list[dict[str, Any]]:
    """What the 2.1.1 eMSP gets from the CPO's Sender (raw 2.1.1 JSON)."""
    cpo_side = await pair.emsp.storage.partners.get("NL-CPO")
    assert cpo_side is not None
    async with httpx.AsyncClient(transport=pair.router) as http:
        client = PartnerClient(cpo_side, http)
        url = client.endpoint(module, client.SENDER)
        reply = await client.request(
            "GET", url, module=module, params={"date_from": "2026-05-01T00:00:00Z"}
        )
    data = reply.envelope.data
    assert isinstance(data, list)
    return data


async def test_211_pull_embeds_the_stored_location() -> None:
    pair = await make_pair("2.1.1")
    await _store_own(pair, "Location", await _location(pair))
    await _store_own(pair, "Session", _session())
    await _store_own(pair, "CDR", _cdr())
    [session] = await _pull(pair, "sessions")
    _check_embedded(session, "Session")
    [cdr] = await _pull(pair, "cdrs")
    _check_embedded(cdr, "CDR")
    # the Location changes: the next pull embeds the new one (no stale cached bytes)
    await _store_own(pair, "Location", await _location(pair, "Neude 11"))
    [session] = await _pull(pair, "sessions")
    _check_embedded(session, "Session", "Neude 11")
    [cdr] = await _pull(pair, "cdrs")
    _check_embedded(cdr, "CDR")  # a CDR is sealed: its own address wins


async def test_211_pull_without_stored_location_falls_back_to_placeholder() -> None:
    pair = await make_pair("2.1.1")
    await _store_own(pair, "Session", _session())
    [session] = await _pull(pair, "sessions")
    model_for(V2_1_1, "Session").model_validate(session)
    conn = session["location"]["evses"][0]["connectors"][0]
    assert (conn["voltage"], conn["amperage"]) == (0, 0)


class Recording(httpx.AsyncBaseTransport):
    """Records the bodies of requests to one host, then passes them on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.bodies: list[tuple[str, str, bytes]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        self.bodies.append((request.method, request.url.path, body))
        return await self.inner.handle_async_request(request)


async def test_211_outbox_push_embeds_the_stored_location() -> None:
    pair = await make_pair("2.1.1")
    recorder = Recording(pair.router.apps["emsp.test"])
    pair.router.apps["emsp.test"] = recorder  # type: ignore[assignment]
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/locations/NL/CPO/LOCX", json=await _location(pair))
        assert r.status_code == 201, r.text
        r = await http.put("/admin/api/sessions/NL/CPO/SX", json=_session())
        assert r.status_code == 201, r.text
        r = await http.put("/admin/api/cdrs/NL/CPO/CX", json=_cdr())
        assert r.status_code == 201, r.text
    assert await pair.cpo.deliver_outbox() == ["sent"] * 3
    sent = {path.split("/")[-1] or path: (m, orjson.loads(b)) for m, path, b in recorder.bodies}
    method, session = sent["SX"]
    assert method == "PUT"
    _check_embedded(session, "Session")
    [(method, cdr)] = [v for v in sent.values() if v[0] == "POST"]
    _check_embedded(cdr, "CDR")
    # the CPO reads its Session back from the eMSP's Receiver: the eMSP embeds the Location
    # the CPO pushed to it (owned by the CPO partner there)
    emsp_side = await pair.cpo.storage.partners.get("DE-MSP")
    assert emsp_side is not None
    async with httpx.AsyncClient(transport=pair.router) as http:
        client = PartnerClient(emsp_side, http)
        key = ObjectKey("Session", "NL", "CPO", "SX")
        reply = await client.request("GET", client.object_url("Session", key), module="sessions")
    assert isinstance(reply.envelope.data, dict)
    _check_embedded(reply.envelope.data, "Session")


# --- webhooks: session.received and token.received ------------------------------------------
async def _sweep(pair: Pair) -> list[dict[str, Any]]:
    await sweep(pair.cpo.flows)
    await sweep(pair.emsp.flows)
    return pair.hooks.events()


@pytest.mark.parametrize("version", VERSIONS)
async def test_session_and_token_received_webhooks(version: str) -> None:
    pair = await make_pair(version, webhook=True)
    # the eMSP pushes a token: the CPO emits token.received
    token = {
        **TOKEN,
        "contract_id": "DE-MSP-T-ALWAYS",
        "issuer": "test",
        "valid": True,
        "whitelist": "ALWAYS",
        "last_updated": "2026-01-01T00:00:00Z",
    }
    async with pair.emsp.admin() as http:
        r = await http.put("/admin/api/tokens/DE/MSP/T-ALWAYS", json=token)
        assert r.status_code == 201, r.text
    assert await pair.emsp.deliver_outbox() == ["sent"]
    # the CPO pushes a session: the eMSP emits session.received
    async with pair.cpo.admin() as http:
        r = await http.put("/admin/api/sessions/NL/CPO/SX", json=_session())
        assert r.status_code == 201, r.text
    assert await pair.cpo.deliver_outbox() == ["sent"]
    events = await _sweep(pair)
    by_type = {e["type"]: e for e in events}
    assert by_type["token.received"]["partner"] == "DE-MSP"
    assert by_type["token.received"]["data"]["uid"] == "T-ALWAYS"
    assert by_type["session.received"]["partner"] == "NL-CPO"
    assert by_type["session.received"]["data"]["id"] == "SX"
    assert by_type["session.received"]["data"]["kwh"] == 4.5

    # PATCHes by the partners emit again, with the merged state
    emsp_side = await pair.cpo.storage.partners.get("DE-MSP")
    cpo_side = await pair.emsp.storage.partners.get("NL-CPO")
    assert emsp_side is not None and cpo_side is not None
    async with httpx.AsyncClient(transport=pair.router) as http:
        await PartnerClient(emsp_side, http).patch_object(
            "Session",
            ObjectKey("Session", "NL", "CPO", "SX"),
            {"kwh": 6.0, "last_updated": "2026-06-01T10:30:00Z"},
        )
        await PartnerClient(cpo_side, http).patch_object(
            "Token",
            ObjectKey("Token", "DE", "MSP", "T-ALWAYS"),
            {"valid": False, "last_updated": "2026-01-02T00:00:00Z"},
        )
    events = await _sweep(pair)
    sessions = [e for e in events if e["type"] == "session.received"]
    tokens = [e for e in events if e["type"] == "token.received"]
    assert len(sessions) == 2 and sessions[-1]["data"]["kwh"] == 6.0
    assert sessions[-1]["data"]["status"] == "ACTIVE"  # merged, not just the patch
    assert len(tokens) == 2 and tokens[-1]["data"]["valid"] is False
    assert len({e["id"] for e in events}) == len(events)
