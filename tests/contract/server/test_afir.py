"""The AFIR HTTP surface in process: the NAP feeds (a tariff change reaches the delta, the
one-second memo), open data off by default and its rate limit, config errors at start."""

from __future__ import annotations

import dataclasses

import pytest

from ocpikit.server.app import create_app
from ocpikit.server.settings import ConfigError
from ocpikit.storage.memory import MemoryStorage

from .conftest import Node

pytestmark = pytest.mark.anyio

ADMIN = {"Authorization": "Bearer admin-secret"}


def _sites(doc: dict[str, object]) -> set[str]:
    container = doc["messageContainer"]
    assert isinstance(container, dict)
    pub = container["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
    return {s["reference"]["idG"] for s in pub["energyInfrastructureSiteStatus"]}


async def test_tariff_change_reaches_the_delta_with_its_price(cpo: Node) -> None:
    async with cpo.client() as http:
        since = (await http.get("/nap/status")).headers["X-Nap-Until"]
        r = await http.patch(
            "/admin/api/tariffs/NL/CPO/DC-FAST",
            headers=ADMIN,
            json={
                "elements": [
                    {"price_components": [{"type": "ENERGY", "price": 0.79, "step_size": 1}]}
                ]
            },
        )
        assert r.status_code == 200, r.text
        delta = (await http.get("/nap/status", params={"since": since})).json()
        sites = _sites(delta)
        assert sites  # every location with a DC connector
        pub = delta["messageContainer"]["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
        prices = [
            price
            for site in pub["energyInfrastructureSiteStatus"]
            for station in site["energyInfrastructureStationStatus"]
            for rp in station["refillPointStatus"]
            for update in rp["aegiElectricChargingPointStatus"].get("energyRateUpdate", [])
            if update["energyRateReference"]["idG"] == "NL-CPO-DC-FAST"
            for price in update["energyPrice"]
        ]
        assert prices and all(
            p == {"priceType": {"value": "pricePerKWh"}, "value": 0.79, "taxIncluded": False}
            for p in prices
        )


async def test_a_repeated_delta_within_a_second_is_the_same_document(cpo: Node) -> None:
    async with cpo.client() as http:
        since = (await http.get("/nap/status")).headers["X-Nap-Until"]
        first = await http.get("/nap/status", params={"since": since})
        await http.patch("/admin/api/locations/NL/CPO/LOC00001", headers=ADMIN, json={"name": "x"})
        again = await http.get("/nap/status", params={"since": since})
        assert again.content == first.content
        assert again.headers["X-Nap-Until"] == first.headers["X-Nap-Until"]


async def test_nap_static_formats(cpo: Node) -> None:
    async with cpo.client() as http:
        xml = await http.get("/nap/static", params={"format": "datex2-xml"})
        assert xml.status_code == 200 and xml.content.startswith(b"<?xml")
        bad = await http.get("/nap/static", params={"format": "csv"})
        assert bad.status_code == 400 and bad.json()["status_code"] == 2001


async def test_open_data_is_off_by_default(cpo: Node) -> None:
    async with cpo.client() as http:
        r = await http.get("/open/ocpi/2.2.1/locations")
        assert r.status_code == 404
        assert r.json()["status_message"] == "Open data is not enabled on this platform"


async def test_open_data_rate_limit_and_unknown_version(cpo: Node) -> None:
    settings = dataclasses.replace(
        cpo.settings, extra={"open_data": {"enabled": True, "requests_per_second": 1, "burst": 2}}
    )
    cpo.router.add(cpo.host, create_app(settings, cpo.storage))
    async with cpo.client() as http:
        assert (await http.get("/open/ocpi/9.9/locations")).status_code == 404
        assert (await http.get("/open/ocpi/2.3.0/locations")).status_code == 200
        limited = await http.get("/open/ocpi/2.3.0/locations")
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"afir": {"legal_nam": "x"}}, "unknown key 'legal_nam'"),
        ({"open_data": {"enabled": "yes"}}, "open_data.enabled"),
    ],
)
async def test_bad_sections_fail_at_start(
    cpo: Node, extra: dict[str, object], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app(dataclasses.replace(cpo.settings, extra=extra), MemoryStorage())


async def test_open_data_in_every_version(cpo: Node) -> None:
    settings = dataclasses.replace(
        cpo.settings, extra={"open_data": {"enabled": True, "burst": 100}}
    )
    cpo.router.add(cpo.host, create_app(settings, cpo.storage))
    async with cpo.client() as http:
        versions = (await http.get("/open/ocpi/versions")).json()["data"]
        assert [v["version"] for v in versions] == ["2.1.1", "2.2.1", "2.3.0"]
        for v in versions:
            details = (await http.get(v["url"].removeprefix("http://cpo.test"))).json()["data"]
            assert {e["identifier"] for e in details["endpoints"]} == {"locations", "tariffs"}
            page = await http.get(f"/open/ocpi/{v['version']}/locations", params={"limit": 5})
            body = page.json()
            assert page.status_code == 200 and len(body["data"]) == 5, body
            assert page.headers["X-Total-Count"] == "25" and "next" in page.links
            one = await http.get(f"/open/ocpi/{v['version']}/tariffs/DC-FAST")
            assert one.json()["data"]["id"] == "DC-FAST"
        bad = await http.get("/open/ocpi/2.2.1/locations", params={"offset": "x"})
        assert bad.status_code == 400 and "offset" in bad.json()["status_message"]
