"""Receiving through a hub: objects a hub pushes for the parties behind it are stored under
their own key, owned by the hub connection, and the party directory learns them (OCPI 2.2.1
transport_and_format §Message Routing; ocpikit.protocol.parties)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocpikit.protocol.parties import directory
from ocpikit.protocol.party_records import Learned, Path
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.app import platform_of
from tests.testdata import SPEC

from .conftest import Node
from .test_async_modules import _tokens, as_hub

pytestmark = pytest.mark.anyio


def location(cc: str, pid: str, ident: str = "LOC1") -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SPEC / "2.2.1/examples/location_example.json").read_text())
    return {**doc, "country_code": cc, "party_id": pid, "id": ident}


def sender(cc: str, pid: str) -> dict[str, str]:
    return {
        "OCPI-from-country-code": cc,
        "OCPI-from-party-id": pid,
        "OCPI-to-country-code": "DE",
        "OCPI-to-party-id": "MSP",
    }


async def _hub_connection(cpo: Node, emsp: Node) -> str:
    """The eMSP's connection NL-CPO becomes a hub; its token C."""
    _, to_emsp = await _tokens(cpo, emsp)
    await as_hub(emsp, "NL-CPO")
    platform_of(emsp.app).auth.forget()
    return to_emsp


async def test_a_hub_pushes_objects_of_the_parties_behind_it(cpo: Node, emsp: Node) -> None:
    token = await _hub_connection(cpo, emsp)
    async with emsp.client(token) as http:
        url = "/ocpi/2.2.1/emsp/locations/DE/AAA/LOC1"
        r = await http.put(url, json=location("DE", "AAA"), headers=sender("DE", "AAA"))
        assert r.status_code == 201, r.text
        r = await http.get(url, headers=sender("DE", "AAA"))
        assert r.json()["data"]["party_id"] == "AAA"
    stored = await emsp.storage.objects.get(ObjectKey("Location", "DE", "AAA", "LOC1"))
    assert stored is not None and stored.owner == "NL-CPO"
    partners = await emsp.storage.partners.all()
    entries = directory(partners, await emsp.storage.parties.learned())
    behind = [e for e in entries if e.party_id == "AAA"]
    assert [(e.role, e.partner_id, e.path, e.learned) for e in behind] == [
        ("CPO", "NL-CPO", Path.HUB, Learned.TRAFFIC)
    ]


async def test_a_direct_partner_still_writes_only_its_own_parties(cpo: Node, emsp: Node) -> None:
    _, token = await _tokens(cpo, emsp)
    async with emsp.client(token) as http:
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/DE/AAA/LOC1",
            json=location("DE", "AAA"),
            headers=sender("DE", "AAA"),
        )
        assert r.status_code == 404, r.text
        assert "not a party you registered with" in r.json()["status_message"]
    assert await emsp.storage.parties.learned() == []


async def test_a_hub_never_writes_for_our_own_party(cpo: Node, emsp: Node) -> None:
    token = await _hub_connection(cpo, emsp)
    async with emsp.client(token) as http:
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/DE/MSP/LOC1",
            json=location("DE", "MSP"),
            headers=sender("DE", "MSP"),
        )
        assert r.status_code == 404, r.text
        assert "party of this platform" in r.json()["status_message"]
    assert await emsp.storage.objects.get(ObjectKey("Location", "DE", "MSP", "LOC1")) is None


async def test_the_sender_header_must_name_the_urls_party(cpo: Node, emsp: Node) -> None:
    token = await _hub_connection(cpo, emsp)
    async with emsp.client(token) as http:
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/DE/AAA/LOC1",
            json=location("DE", "AAA"),
            headers=sender("DE", "BBB"),
        )
        assert r.status_code == 400, r.text
        body = r.json()
        assert body["status_code"] == 2001 and "OCPI-from-party-id" in body["status_message"]
    assert await emsp.storage.objects.get(ObjectKey("Location", "DE", "AAA", "LOC1")) is None


async def test_hubclientinfo_fills_the_directory_with_status(cpo: Node, emsp: Node) -> None:
    token = await _hub_connection(cpo, emsp)
    info = {
        "country_code": "BE",
        "party_id": "ABC",
        "role": "CPO",
        "status": "PLANNED",
        "last_updated": "2026-01-01T00:00:00Z",
    }
    async with emsp.client(token) as http:
        r = await http.put("/ocpi/2.2.1/emsp/hubclientinfo/BE/ABC", json=info)
        assert r.status_code == 201, r.text
        # the hub later pushes an object of that party: the listed status stays
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/BE/ABC/L9",
            json=location("BE", "ABC", "L9"),
            headers=sender("BE", "ABC"),
        )
        assert r.status_code == 201, r.text
    [entry] = await emsp.storage.parties.learned()
    assert (entry.key, entry.status, entry.learned) == ("BE-ABC", "PLANNED", Learned.HUBCLIENTINFO)


async def test_the_backend_api_lists_the_directory(cpo: Node, emsp: Node) -> None:
    token = await _hub_connection(cpo, emsp)
    async with emsp.client(token) as http:
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/DE/AAA/LOC1",
            json=location("DE", "AAA"),
            headers=sender("DE", "AAA"),
        )
        assert r.status_code == 201, r.text
    async with emsp.client() as http:
        r = await http.get(
            "/admin/api/parties", headers={"Authorization": f"Bearer {emsp.settings.admin_token}"}
        )
        assert r.status_code == 200, r.text
    rows = {(row["party"], row["role"]): row for row in r.json()}
    assert rows["DE-AAA", "CPO"] == {
        **rows["DE-AAA", "CPO"],
        "partner": "NL-CPO",
        "path": "hub",
        "learned": "traffic",
        "chosen": True,
    }
    # the hub's own credentials roles are direct entries of the connection
    assert rows["NL-CPO", "HUB"]["path"] == "direct"


async def test_an_e_clearing_hubs_placeholders_are_read_as_absent(cpo: Node, emsp: Node) -> None:
    import dataclasses

    token = await _hub_connection(cpo, emsp)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    await emsp.storage.partners.save(
        dataclasses.replace(partner, settings={"profile": "e-clearing"})
    )
    platform_of(emsp.app).auth.forget()
    doc = {**location("DE", "AAA"), "postal_code": "-", "name": "-"}
    async with emsp.client(token) as http:
        r = await http.put(
            "/ocpi/2.2.1/emsp/locations/DE/AAA/LOC1", json=doc, headers=sender("DE", "AAA")
        )
        assert r.status_code == 201, r.text
    stored = await emsp.storage.objects.get(ObjectKey("Location", "DE", "AAA", "LOC1"))
    assert stored is not None
    assert "postal_code" not in stored.document and "name" not in stored.document


async def _e_clearing(cpo: Node, emsp: Node, **switches: Any) -> str:
    import dataclasses

    token = await _hub_connection(cpo, emsp)
    partner = await emsp.storage.partners.get("NL-CPO")
    assert partner is not None
    settings = {"profile": "e-clearing", **switches}
    await emsp.storage.partners.save(dataclasses.replace(partner, settings=settings))
    platform_of(emsp.app).auth.forget()
    return token


async def test_an_id_differing_only_in_case_is_another_object_at_e_clearing(
    cpo: Node, emsp: Node
) -> None:
    token = await _e_clearing(cpo, emsp)
    base = "/ocpi/2.2.1/emsp/locations/DE/AAA"
    async with emsp.client(token) as http:
        r = await http.put(f"{base}/LOC1", json=location("DE", "AAA"), headers=sender("DE", "AAA"))
        assert r.status_code == 201, r.text
        # the hub's "loc1" is not our "LOC1": refused, naming the id, nothing overwritten
        r = await http.put(
            f"{base}/loc1",
            json={**location("DE", "AAA", "loc1"), "name": "other"},
            headers=sender("DE", "AAA"),
        )
        assert r.status_code == 400 and r.json()["status_code"] == 2001, r.text
        assert "differs only in case" in r.json()["status_message"]
        assert "'LOC1'" in r.json()["status_message"]
        # and reading, patching or deleting "loc1" finds nothing
        assert (await http.get(f"{base}/loc1", headers=sender("DE", "AAA"))).status_code == 404
        patch = {"name": "x", "last_updated": "2026-01-02T00:00:00Z"}
        r = await http.patch(f"{base}/loc1", json=patch, headers=sender("DE", "AAA"))
        assert r.status_code == 404, r.text
        # a body id differing in case from the URL is refused too
        r = await http.put(
            f"{base}/LOC1", json=location("DE", "AAA", "Loc1"), headers=sender("DE", "AAA")
        )
        assert r.status_code == 400 and "case-sensitive" in r.json()["status_message"], r.text
        # the exact id still works
        r = await http.patch(f"{base}/LOC1", json=patch, headers=sender("DE", "AAA"))
        assert r.status_code == 200, r.text
    stored = await emsp.storage.objects.get(ObjectKey("Location", "DE", "AAA", "LOC1"))
    assert stored is not None and stored.document["id"] == "LOC1"
    assert stored.document["name"] == "x"


async def test_without_the_switch_ids_stay_case_insensitive(cpo: Node, emsp: Node) -> None:
    token = await _e_clearing(cpo, emsp, case_sensitive_ids=False)
    base = "/ocpi/2.2.1/emsp/locations/DE/AAA"
    async with emsp.client(token) as http:
        r = await http.put(f"{base}/LOC1", json=location("DE", "AAA"), headers=sender("DE", "AAA"))
        assert r.status_code == 201, r.text
        r = await http.get(f"{base}/loc1", headers=sender("DE", "AAA"))
        assert r.status_code == 200 and r.json()["data"]["id"] == "LOC1", r.text
