"""Every module x role x version: the CPO pushes Locations, Tariffs, Sessions and CDRs to the
eMSP's Receivers and pulls nothing; the eMSP pushes Tokens to the CPO's Receiver; both pull the
other's Senders. Bodies are head objects converted to the version; answers are validated with
that version's models."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.convert import from_head
from ocpikit.core.versions import V2_1_1, V2_2_1, V2_3_0, Role, Version
from ocpikit.models import model_for
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_locations, demo_tariffs, demo_tokens, load_demo

from .conftest import SESSION, Router, make_node

pytestmark = pytest.mark.anyio

TOKEN_REF = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "10000000",
    "type": "RFID",
    "contract_id": "DE-MSP-C00000000",
}


def head_session(sid: str, stamp: str) -> dict[str, Any]:
    return {**SESSION, "id": sid, "kwh": 4.5, "cdr_token": TOKEN_REF, "last_updated": stamp}


def head_cdr(cid: str) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": cid,
        "start_date_time": "2026-01-01T10:00:00Z",
        "end_date_time": "2026-01-01T11:00:00Z",
        "cdr_token": TOKEN_REF,
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": "LOC00001",
            "address": "Keizersgracht 1",
            "city": "Amsterdam",
            "postal_code": "1015 CJ",
            "country": "NLD",
            "coordinates": {"latitude": "52.370000", "longitude": "4.890000"},
            "evse_uid": "LOC00001-E1",
            "evse_id": "NL*CPO*E000011",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2",
            "connector_format": "SOCKET",
            "connector_power_type": "AC_3_PHASE",
        },
        "currency": "EUR",
        "tariffs": [demo_tariffs("NL", "CPO")[0]],
        "charging_periods": [
            {
                "start_date_time": "2026-01-01T10:00:00Z",
                "dimensions": [{"type": "ENERGY", "volume": 10}],
                "tariff_id": "AC-STD",
            }
        ],
        "total_cost": {"before_taxes": 3.9, "taxes": [{"name": "VAT", "amount": 0.82}]},
        "total_energy": 10,
        "total_time": 1,
        "last_updated": "2026-01-01T11:00:00Z",
    }


def in_version(head: dict[str, Any], version: Version, name: str) -> dict[str, Any]:
    model, _ = from_head(head, version, name)
    out: dict[str, Any] = model.dump()
    return out


async def _pull(http: Any, url: str, **params: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    r = await http.get(url, params={"limit": "2", **params})
    while True:
        assert r.status_code == 200, r.text
        items.extend(r.json()["data"])
        link = r.headers.get("Link")
        if not link:
            return items
        r = await http.get(link[1 : link.index(">")])


@pytest.mark.parametrize("version", [V2_1_1, V2_2_1, V2_3_0], ids=str)
async def test_every_module_and_role(router: Router, version: Version) -> None:
    v = version.text
    cpo = make_node(router, "cpo.test", "NL", "CPO", (Role.CPO,), (version,))
    emsp = make_node(router, "emsp.test", "DE", "MSP", (Role.EMSP,), (version,))
    await load_demo(cpo.storage, [("NL", "CPO", ("CPO",))], locations=5)
    await load_demo(emsp.storage, [("DE", "MSP", ("EMSP",))])
    for i in range(3):
        s = head_session(f"S{i}", f"2026-01-01T10:0{i}:00Z")
        await cpo.storage.objects.put(
            ObjectKey("Session", "NL", "CPO", s["id"]),
            model_for(V2_3_0, "Session").parse(s).dump_json(),
            last_updated=model_for(V2_3_0, "Session").parse(s).last_updated,  # type: ignore[attr-defined]
            owner=None,
        )
    await emsp.register(cpo)
    to_cpo = (await emsp.storage.partners.get("NL-CPO")).outbound_token  # type: ignore[union-attr]
    to_emsp = (await cpo.storage.partners.get("DE-MSP")).outbound_token  # type: ignore[union-attr]

    # --- CPO Senders, pulled by the eMSP
    async with cpo.client(to_cpo) as http:
        for module, name, extra in (
            ("locations", "Location", {}),
            ("tariffs", "Tariff", {}),
            ("sessions", "Session", {"date_from": "2026-01-01T00:00:00Z"}),
            ("cdrs", "CDR", {}),
        ):
            items = await _pull(http, f"/ocpi/{v}/cpo/{module}", **extra)
            for item in items:
                model_for(version, name).model_validate(item)
            expected = {"locations": 5, "tariffs": 3, "sessions": 3, "cdrs": 40}[module]
            assert len(items) == expected, module

        # --- CPO Receiver of Tokens, pushed by the eMSP
        token = in_version(demo_tokens("DE", "MSP")[0], version, "Token")
        uid = token["uid"]
        # the CPO is the receiver here: the eMSP calls the CPO with its token
        r = await http.put(f"/ocpi/{v}/cpo/tokens/DE/MSP/{uid}", json=token)
        assert r.status_code == 201, r.text
        r = await http.patch(
            f"/ocpi/{v}/cpo/tokens/DE/MSP/{uid}",
            json={"valid": False, "last_updated": "2026-03-01T00:00:00Z"},
        )
        assert r.status_code == 200, r.text
        r = await http.get(f"/ocpi/{v}/cpo/tokens/DE/MSP/{uid}")
        got = model_for(version, "Token").model_validate(r.json()["data"])
        assert got.valid is False  # type: ignore[attr-defined]

    # --- eMSP Receivers, pushed by the CPO; eMSP Sender of Tokens, pulled by the CPO
    async with emsp.client(to_emsp) as http:
        loc = in_version(next(iter(demo_locations("NL", "CPO", 1))), version, "Location")
        r = await http.put(f"/ocpi/{v}/emsp/locations/NL/CPO/{loc['id']}", json=loc)
        assert r.status_code == 201, r.text
        r = await http.get(f"/ocpi/{v}/emsp/locations/NL/CPO/{loc['id']}")
        model_for(version, "Location").model_validate(r.json()["data"])

        tariff = in_version(demo_tariffs("NL", "CPO")[1], version, "Tariff")
        r = await http.put(f"/ocpi/{v}/emsp/tariffs/NL/CPO/{tariff['id']}", json=tariff)
        assert r.status_code == 201, r.text
        r = await http.delete(f"/ocpi/{v}/emsp/tariffs/NL/CPO/{tariff['id']}")
        assert r.status_code == 200

        session = in_version(head_session("S9", "2026-01-02T00:00:00Z"), version, "Session")
        r = await http.put(f"/ocpi/{v}/emsp/sessions/NL/CPO/S9", json=session)
        assert r.status_code == 201, r.text
        r = await http.patch(
            f"/ocpi/{v}/emsp/sessions/NL/CPO/S9",
            json={"status": "COMPLETED", "last_updated": "2026-01-02T01:00:00Z"},
        )
        assert r.status_code == 200, r.text
        r = await http.get(f"/ocpi/{v}/emsp/sessions/NL/CPO/S9")
        assert r.json()["data"]["status"] == "COMPLETED"

        cdr = in_version(head_cdr("C1"), version, "CDR")
        r = await http.post(f"/ocpi/{v}/emsp/cdrs", json=cdr)
        assert r.status_code == 201, r.text
        where = r.headers["Location"]
        r = await http.get(where)
        assert r.status_code == 200, r.text
        model_for(version, "CDR").model_validate(r.json()["data"])

        tokens = await _pull(http, f"/ocpi/{v}/emsp/tokens")
        assert len(tokens) == 50
        for t in tokens[:5]:
            model_for(version, "Token").model_validate(t)
        r = await http.post(
            f"/ocpi/{v}/emsp/tokens/{tokens[0]['uid']}/authorize",
            json={"location_id": "LOC00001"},
        )
        assert r.status_code == 200, r.text
        model_for(version, "AuthorizationInfo").model_validate(r.json()["data"])

        # v2.2+ modules exist only there
        r = await http.get(f"/ocpi/{v}/emsp/hubclientinfo/NL/CPO")
        assert r.status_code == 404
