"""The demo dataset exported for the Mobilithek profile validates against its JSON Schemas,
for DATEX II 3.7 against the XSDs and JSON Schemas; the validators themselves are shown to
reject what the schemas forbid (so a pass means something)."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from ocpikit.afir.datex37 import table_publication_xml
from ocpikit.afir.datex37_json import table_publication_37
from ocpikit.afir.export import ExportError, render_static
from ocpikit.afir.mobilithek import Dataset, table_publication
from ocpikit.afir.status import delta_window, status_publication
from ocpikit.afir.supplement import parse_supplement
from tests.afir_schemas import (
    MOBILITHEK_STATUS,
    MOBILITHEK_TABLE,
    datex37_json,
    json_errors,
    mobilithek_status,
    mobilithek_table,
    xml_errors,
)

from .conftest import DEMO_LOCATIONS, FULL_SUPPLEMENT, NOW, complete_location


def _sites(doc: dict[str, Any]) -> list[dict[str, Any]]:
    pub = doc["payload"]["aegiEnergyInfrastructureTablePublication"]
    sites: list[dict[str, Any]] = pub["energyInfrastructureTable"][0]["energyInfrastructureSite"]
    return sites


def test_the_profiles_own_examples_validate() -> None:
    table = orjson.loads(
        (MOBILITHEK_TABLE / "EnergyInfrastructureTablePublication_rev2.json").read_bytes()
    )
    status = orjson.loads(
        (MOBILITHEK_STATUS / "EnergyInfrastructureStatusPublication_rev2.json").read_bytes()
    )
    assert json_errors(mobilithek_table(), table) == []
    assert json_errors(mobilithek_status(), status) == []


def test_demo_static_mobilithek_validates(demo: Dataset) -> None:
    doc = table_publication(demo)
    assert json_errors(mobilithek_table(), doc) == []
    sites = _sites(doc)
    assert len(sites) == DEMO_LOCATIONS
    # opening hours of both kinds are in the dataset, and both validated
    kinds = {next(iter(s["operatingHours"])) for s in sites}
    assert kinds == {"afacOpenAllHours", "afacOperatingHoursSpecification"}


def test_a_broken_document_is_rejected(demo: Dataset) -> None:
    doc = table_publication(demo)
    bad = copy.deepcopy(doc)
    station = _sites(bad)[0]["energyInfrastructureStation"][0]
    del station["totalMaximumPower"]
    station["refillPoint"][0]["aegiElectricChargingPoint"]["connector"][0]["connectorType"] = {
        "value": "IEC_62196_T2"
    }
    errors = json_errors(mobilithek_table(), bad)
    assert any("totalMaximumPower" in e for e in errors)
    assert any("IEC_62196_T2" in e for e in errors)


def test_demo_status_full_and_delta_validate(demo: Dataset) -> None:
    full = status_publication(demo, delta_window(None, NOW))
    assert json_errors(mobilithek_status(), full) == []
    pub = full["messageContainer"]["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
    assert len(pub["energyInfrastructureSiteStatus"]) == DEMO_LOCATIONS
    delta = status_publication(demo, delta_window(NOW.replace(hour=11), NOW))
    assert json_errors(mobilithek_status(), delta) == []
    protocol = delta["messageContainer"]["exchangeInformation"]["exchangeContext"]
    assert protocol["codedExchangeProtocol"] == {"value": "deltaPull"}


def test_demo_datex37_xml_validates(demo: Dataset) -> None:
    xml = table_publication_xml(demo)
    assert xml_errors(xml) == []
    assert xml.count(b"<egi:energyInfrastructureSite ") == DEMO_LOCATIONS
    broken = xml.replace(b"<egi:maxPowerAtSocket>", b"<egi:maxPowerAtSocket>x", 1)
    assert xml_errors(broken)


def test_demo_datex37_json_validates(demo: Dataset) -> None:
    doc = table_publication_37(demo)
    assert json_errors(datex37_json(), doc) == []
    doc["payload"]["egiEnergyInfrastructureTablePublication"]["lang"] = "german"
    assert json_errors(datex37_json(), doc)


def test_render_static_offers_three_combinations(demo: Dataset) -> None:
    assert render_static(demo, "datex2-json")[1] == "application/json"
    assert render_static(demo, "datex2-xml")[0].startswith(b"<?xml")
    body, _ = render_static(demo, "datex2-json", "datex2-3.7")
    assert b"egiEnergyInfrastructureTablePublication" in body
    with pytest.raises(ExportError, match="JSON only"):
        render_static(demo, "datex2-xml", "mobilithek")
    with pytest.raises(ExportError, match="format"):
        render_static(demo, "csv")


def test_a_complete_location_validates_with_parking_and_prices(demo: Dataset) -> None:
    loc = complete_location(dict(demo.locations[0]))
    loc["parking_places"][0].update(max_vehicle_weight=3500, roofed=True, lighting=False)
    supplement = parse_supplement(
        {**FULL_SUPPLEMENT, "location": {str(loc["id"]): {"nuts1": "DE3"}}}
    )
    ds = Dataset([loc], demo.tariffs, supplement, NOW)
    doc = table_publication(ds)
    assert json_errors(mobilithek_table(), doc) == []
    assert xml_errors(table_publication_xml(ds)) == []
    assert json_errors(datex37_json(), table_publication_37(ds)) == []
    [site] = _sites(doc)
    [space] = site["dedicatedParkingSpaces"]
    assert space["userSpecific"] == [{"value": "personsWithDisabilities"}]
    vehicles = space["applicableForVehicles"][0]
    assert vehicles["vehicleType"] == [{"value": "car"}]
    assert vehicles["heightCharacteristic"][0]["vehicleHeight"] == 2.1  # 210 cm
    assert vehicles["grossWeightCharacteristic"][0]["grossVehicleWeight"] == 3.5  # 3500 kg
    assert space["amenities"] == {"roofed": True, "illuminated": False}
    station = site["energyInfrastructureStation"][0]
    assert station["serviceType"] == [{"serviceType": {"value": "unattended"}}]
    assert station["helpdesk"]["afacAnOrganisation"]["organisationUnit"][0]["contactInformation"]
    assert station["electricEnergy"] == [{"isGreenEnergy": True}]
    point = station["refillPoint"][0]["aegiElectricChargingPoint"]
    assert {"value": "plugAndCharge"} in point["smartRechargingServices"]
    facility = station["locationReference"]["locPointLocation"]["locLocationExtensionG"]
    assert facility["FacilityLocation"]["nutsArea"][0]["nutsCode"] == "DE3"
