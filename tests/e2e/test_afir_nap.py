"""AFIR end to end, against a real ``ocpikit serve --demo`` process: the NAP feeds validate
against the Mobilithek JSON Schemas and the DATEX II 3.7 XSDs, a location edited through the
backend API is in the delta feed within a second, the AFIR check names the missing items, and
OCPI open data serves published locations to anyone while refusing unpublished and restricted
ones (and throttles a caller over its rate)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.afir_schemas import json_errors, mobilithek_status, mobilithek_table, xml_errors

from ._nodes import Databases, Instance

ADMIN = {"Authorization": "Bearer e2e-admin"}
CONFIG = """
[afir]
lang = "de"
legal_name = "OK Test GmbH"

[open_data]
enabled = true
requests_per_second = 1
burst = 20
"""


@pytest.fixture
def cpo(tmp_path: Path, databases: Databases) -> Iterator[Instance]:
    node = Instance(tmp_path / "cpo", "DE-OKT:CPO", databases.new(tmp_path / "cpo"), config=CONFIG)
    try:
        node.start("--demo")
        yield node
    finally:
        node.close()


def _site_statuses(doc: dict[str, Any]) -> dict[str, Any]:
    pub = doc["messageContainer"]["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
    return {s["reference"]["idG"]: s for s in pub["energyInfrastructureSiteStatus"]}


def test_nap_feeds_validate(cpo: Instance) -> None:
    with httpx.Client(base_url=cpo.url, timeout=60) as c:
        static = c.get("/nap/static")
        assert static.status_code == 200, static.text
        doc = static.json()
        assert json_errors(mobilithek_table(), doc) == []
        sites = doc["payload"]["aegiEnergyInfrastructureTablePublication"][
            "energyInfrastructureTable"
        ][0]["energyInfrastructureSite"]
        assert len(sites) == 300  # the whole demo dataset
        xml = c.get("/nap/static", params={"format": "datex2-xml"})
        assert xml.headers["content-type"].startswith("application/xml")
        assert xml_errors(xml.content) == []
        full = c.get("/nap/status")
        assert json_errors(mobilithek_status(), full.json()) == []
        assert len(_site_statuses(full.json())) == 300
        bad = c.get("/nap/static", params={"format": "datex2-xml", "profile": "mobilithek"})
        assert bad.status_code == 400 and "JSON only" in bad.json()["error"]
        assert c.get("/nap/status", params={"since": "yesterday"}).status_code == 400


def test_backend_edit_is_in_the_delta_within_a_second(cpo: Instance) -> None:
    with httpx.Client(base_url=cpo.url, timeout=30) as c:
        since = c.get("/nap/status").headers["X-Nap-Until"]
        location = c.get("/admin/api/locations/DE/OKT/LOC00007", headers=ADMIN).json()
        evses = location["evses"]
        evses[0]["status"] = "BLOCKED" if evses[0]["status"] != "BLOCKED" else "AVAILABLE"
        quiet = c.get("/nap/status", params={"since": since})
        assert _site_statuses(quiet.json()) == {}  # nothing changed yet
        since = quiet.headers["X-Nap-Until"]
        edited = time.monotonic()
        r = c.patch("/admin/api/locations/DE/OKT/LOC00007", headers=ADMIN, json={"evses": evses})
        assert r.status_code == 200, r.text
        while True:
            delta = c.get("/nap/status", params={"since": since})
            found = _site_statuses(delta.json())
            if found:
                break
            since = delta.headers["X-Nap-Until"]
            assert time.monotonic() - edited < 5, "the edit never reached the delta feed"
            time.sleep(0.05)
        latency = time.monotonic() - edited
        assert set(found) == {"DE-OKT-LOC00007"}
        station = found["DE-OKT-LOC00007"]["energyInfrastructureStationStatus"][0]
        point = station["refillPointStatus"][0]["aegiElectricChargingPointStatus"]
        assert (
            point["status"]["value"]
            == {"BLOCKED": "blocked", "AVAILABLE": "available"}[evses[0]["status"]]
        )
        # the status is as new as the edit (the EVSE's own last_updated did not change)
        assert point["lastUpdated"] == r.json()["last_updated"]
        assert json_errors(mobilithek_status(), delta.json()) == []
        assert latency < 1.0, f"delta after {latency:.3f} s"


def test_afir_check_names_missing_items(cpo: Instance) -> None:
    with httpx.Client(base_url=cpo.url, timeout=30) as c:
        assert c.get("/admin/api/afir/check").status_code == 401
        report = c.get("/admin/api/afir/check", headers=ADMIN).json()
        missing = {m["item"]: m["ocpi_field"] for m in report["summary"]["missing"]}
        assert missing["A5"] == "Location.help_phone"
        assert missing["B7"] == "EVSE.accepted_service_providers"
        assert "A1" not in missing  # [afir] legal_name
        r = c.put("/admin/api/afir/supplement/LOC00001", headers=ADMIN, json={"nuts1": "DE3"})
        assert r.status_code == 200, r.text
        one = c.get("/admin/api/afir/check", params={"location": "LOC00001"}, headers=ADMIN).json()
        assert "A10" not in one["locations"][0]["missing"]
        bad = c.put("/admin/api/afir/supplement/LOC00001", headers=ADMIN, json={"nuts": "x"})
        assert bad.status_code == 400 and "nuts" in bad.json()["error"]
    cli = cpo.cli("afir", "check", "--json")
    assert cli.returncode == 1, cli.stderr  # the demo is not complete
    assert '"A5"' in cli.stdout


def test_open_data(cpo: Instance) -> None:
    with httpx.Client(base_url=cpo.url, timeout=30) as c:
        for loc_id, change in (
            ("LOC00002", {"publish": False}),
            ("LOC00003", {"publish_allowed_to": [{"uid": "ABC123", "type": "RFID"}]}),
        ):
            r = c.patch(f"/admin/api/locations/DE/OKT/{loc_id}", headers=ADMIN, json=change)
            assert r.status_code == 200, r.text
        ids: set[str] = set()
        url: str | None = f"{cpo.url}/open/ocpi/2.2.1/locations?limit=500"
        while url:  # no token anywhere; pages of at most 100, linked
            page = c.get(url)
            assert page.status_code == 200 and page.json()["status_code"] == 1000
            assert page.headers["X-Total-Count"] == "298" and page.headers["X-Limit"] == "100"
            ids |= {loc["id"] for loc in page.json()["data"]}
            url = page.links.get("next", {}).get("url")
        assert len(ids) == 298 and "LOC00001" in ids
        assert {"LOC00002", "LOC00003"}.isdisjoint(ids)
        one = c.get("/open/ocpi/2.3.0/locations/LOC00001")
        assert one.json()["data"]["id"] == "LOC00001"
        for closed in ("LOC00002", "LOC00003"):
            refused = c.get(f"/open/ocpi/2.2.1/locations/{closed}")
            assert refused.status_code == 404
            assert refused.json()["status_message"] == f"No open Location {closed!r}"
        tariffs = c.get("/open/ocpi/2.2.1/tariffs").json()["data"]
        assert {t["id"] for t in tariffs} == {"AC-STD", "AC-PARK", "DC-FAST"}
        assert c.post("/open/ocpi/2.2.1/locations").status_code == 405
        statuses = [c.get("/open/ocpi/versions").status_code for _ in range(40)]
        assert 429 in statuses  # over the bucket (1/s, burst 20)
