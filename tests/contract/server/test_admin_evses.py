"""The backend API's EVSE and Connector changes: stored in our Location, refused with the
field named when invalid, and pushed to a registered eMSP (a real ocpikit receiver in
process) as an EVSE-level PATCH, which the eMSP merges into its copy."""

from __future__ import annotations

import httpx
import pytest

from ocpikit.client.delivery import DeliveryWorker
from ocpikit.protocol.ports import ObjectKey
from tests.contract.client.helpers import locations

from .conftest import Node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}


async def deliver(node: Node) -> list[tuple[str, str]]:
    sent: list[tuple[str, str]] = []

    async def record(request: httpx.Request) -> None:
        sent.append((request.method, request.url.path))

    async with httpx.AsyncClient(transport=node.router, event_hooks={"request": [record]}) as http:
        await DeliveryWorker(node.storage, http).run_once()
    return sent


async def test_evse_status_through_the_backend_api_reaches_the_emsp_as_a_patch(
    cpo: Node, emsp: Node
) -> None:
    await emsp.register(cpo)
    doc = locations(1)[0]
    uid, cid = doc["evses"][0]["uid"], doc["evses"][0]["connectors"][0]["id"]
    async with cpo.client() as http:
        r = await http.put(f"/admin/api/locations/NL/CPO/{doc['id']}", json=doc, headers=ADMIN)
        assert r.status_code in (200, 201), r.text
        assert ("PUT", f"/ocpi/2.3.0/emsp/locations/NL/CPO/{doc['id']}") in await deliver(cpo)
        url = f"/admin/api/locations/{doc['id']}/evses/{uid}"
        r = await http.patch(url, json={"status": "CHARGING"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "CHARGING" and r.json()["uid"] == uid
        r = await http.patch(
            f"{url}/connectors/{cid}", json={"max_electric_power": 11000}, headers=ADMIN
        )
        assert r.status_code == 200 and r.json()["max_electric_power"] == 11000
        r = await http.get(url, headers=ADMIN)
        assert r.json()["status"] == "CHARGING"
    sent = await deliver(cpo)
    # one entry for the Location: an EVSE PATCH, then the Connector PATCH
    assert sent == [
        ("PATCH", f"/ocpi/2.3.0/emsp/locations/NL/CPO/{doc['id']}/{uid}"),
        ("PATCH", f"/ocpi/2.3.0/emsp/locations/NL/CPO/{doc['id']}/{uid}/{cid}"),
    ]
    stored = await emsp.storage.objects.get(ObjectKey("Location", "NL", "CPO", doc["id"]))
    assert stored is not None
    evse = stored.document["evses"][0]
    assert evse["status"] == "CHARGING"
    assert evse["connectors"][0]["max_electric_power"] == 11000


async def test_bad_evse_changes_are_refused_with_the_field_named(cpo: Node) -> None:
    doc = locations(1)[0]
    uid = doc["evses"][0]["uid"]
    async with cpo.client() as http:
        await http.put(f"/admin/api/locations/NL/CPO/{doc['id']}", json=doc, headers=ADMIN)
        url = f"/admin/api/locations/{doc['id']}/evses/{uid}"
        r = await http.patch(url, json={"status": "ON_FIRE"}, headers=ADMIN)
        assert r.status_code == 400 and r.json()["status_code"] == 2001
        assert "status" in r.json()["error"]
        r = await http.patch(url, json=["status"], headers=ADMIN)
        assert r.status_code == 400
        r = await http.patch(
            f"/admin/api/locations/{doc['id']}/evses/NOPE",
            json={"status": "AVAILABLE"},
            headers=ADMIN,
        )
        assert r.status_code == 404 and "NOPE" in r.json()["error"]
        r = await http.patch(
            f"/admin/api/locations/NOPE/evses/{uid}", json={"status": "AVAILABLE"}, headers=ADMIN
        )
        assert r.status_code == 404
        r = await http.patch(f"{url}/connectors/9", json={"max_voltage": 230}, headers=ADMIN)
        assert r.status_code == 404
        r = await http.get(url, headers=ADMIN)
        assert r.json()["status"] == doc["evses"][0]["status"]
