"""The backend API: our own objects in head or any version, partner data, OpenAPI."""

from __future__ import annotations

import pytest

from .conftest import Node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}


def _tariff(version: str) -> dict[str, object]:
    element = {"price_components": [{"type": "ENERGY", "price": 0.25, "step_size": 1}]}
    if version == "2.1.1":
        return {
            "id": "T9",
            "currency": "EUR",
            "elements": [element],
            "last_updated": "2026-02-01T00:00:00Z",
        }
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": "T9",
        "currency": "EUR",
        "tax_included": "NO",
        "elements": [element],
        "last_updated": "2026-02-01T00:00:00Z",
    }


async def test_admin_token_is_required(cpo: Node) -> None:
    async with cpo.client() as http:
        r = await http.get("/admin/api/partners")
        assert r.status_code == 401
        r = await http.get("/admin/api/partners", headers={"Authorization": "Bearer nope"})
        assert r.status_code == 401


async def test_put_in_head_and_in_2_1_1_then_read_in_another_version(cpo: Node) -> None:
    async with cpo.client() as http:
        r = await http.put("/admin/api/tariffs/NL/CPO/T9", json=_tariff("2.3.0"), headers=ADMIN)
        assert r.status_code == 201, r.text
        r = await http.put(
            "/admin/api/tariffs/NL/CPO/T9?version=2.1.1", json=_tariff("2.1.1"), headers=ADMIN
        )
        assert r.status_code == 200, r.text
        r = await http.get(
            "/admin/api/tariffs/NL/CPO/T9", headers={**ADMIN, "OCPI-Version": "2.2.1"}
        )
        assert r.json()["country_code"] == "NL" and r.json()["id"] == "T9"
        r = await http.patch(
            "/admin/api/tariffs/NL/CPO/T9", json={"currency": "CHF"}, headers=ADMIN
        )
        assert r.status_code == 200 and r.json()["currency"] == "CHF"
        r = await http.put("/admin/api/tariffs/NL/CPO/T8", json=_tariff("2.3.0"), headers=ADMIN)
        assert r.status_code == 400 and r.json()["status_code"] == 2001
        r = await http.put("/admin/api/tariffs/FR/XXX/T9", json=_tariff("2.3.0"), headers=ADMIN)
        assert r.status_code == 404
        r = await http.get("/admin/api/tariffs?owner=own&limit=10", headers=ADMIN)
        assert r.json()["total"] == 4
        r = await http.delete("/admin/api/tariffs/NL/CPO/T9", headers=ADMIN)
        assert r.status_code == 204


async def test_bad_body_names_the_field(cpo: Node) -> None:
    bad = _tariff("2.3.0")
    bad["currency"] = 12
    async with cpo.client() as http:
        r = await http.put("/admin/api/tariffs/NL/CPO/T9", json=bad, headers=ADMIN)
    assert r.status_code == 400
    assert "currency" in r.json()["error"]


async def test_partners_and_openapi(cpo: Node, emsp: Node) -> None:
    await emsp.register(cpo)
    async with cpo.client() as http:
        r = await http.get("/admin/api/partners", headers=ADMIN)
        assert [p["id"] for p in r.json()] == ["DE-MSP"]
        assert "outbound_token" not in r.text and "ok-" not in r.text
        r = await http.get("/admin/api/openapi.json")
        doc = r.json()
        assert doc["openapi"].startswith("3.")
        assert "/admin/api/locations/{country_code}/{party_id}/{id}" in doc["paths"]
        assert "Location" in doc["components"]["schemas"]
        r = await http.post("/admin/api/invites", headers=ADMIN)
        assert r.status_code == 201 and r.json()["token"]
