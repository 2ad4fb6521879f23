"""The AFIR data check: the demo data's missing items are named with their OCPI fields; the
supplement and OCPI fields fill them; a location with everything is complete."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ocpikit.afir.check import check_location, check_locations, tariffs_by_id
from ocpikit.afir.items import EVSE_ITEMS, LOCATION_ITEMS
from ocpikit.afir.mobilithek import Dataset
from ocpikit.afir.supplement import Supplement, SupplementError, parse_supplement

from .conftest import FULL_SUPPLEMENT, complete_location

#: what the demo generator never fills, with the OCPI field the report must name
DEMO_MISSING = {
    "A4": "none (no attendance value in Location.facilities)",
    "A5": "Location.help_phone",
    "A8": "EVSE.floor_level, EVSE.physical_reference, Location.directions",
    "A10": "none (Location.state is a name, not a NUTS code)",
    "A16": "Location.parking_places[].vehicle_types",
    "A17": "Location.parking_places[].max_vehicle_* (cm)",
    "A18": "Location.parking_places (count)",
    "A19": "Location.parking_places[].vehicle_types DISABLED",
    "A22": "none in OCPI 2.3.0",
    "A23": "none in OCPI 2.3.0",
    "B7": "EVSE.accepted_service_providers",
    "B8": "Connector.capabilities ISO_15118_*_PLUG_AND_CHARGE",
    "B9": "none in OCPI 2.3.0",
    "B10": "Location.energy_mix.is_green_energy",
}


def test_every_item_of_tables_a_b_f_is_checked() -> None:
    codes = {i.code for i in (*LOCATION_ITEMS, *EVSE_ITEMS)}
    expected = (
        {f"A{n}" for n in range(1, 25)} | {f"B{n}" for n in range(1, 11)} | {"F1", "F2", "F3"}
    )
    # A20/A21/A24 are on the EVSE (capabilities), the rest of A on the location
    assert codes == expected


def test_demo_names_each_missing_item_with_its_ocpi_field(demo: Dataset) -> None:
    report = check_locations(demo.locations, demo.supplement, demo.tariffs)
    summary = report["summary"]
    assert summary["complete"] == 0 and summary["complete_share"] == 0.0
    missing = {m["item"]: m for m in summary["missing"]}
    assert {code: m["ocpi_field"] for code, m in missing.items()} == DEMO_MISSING
    assert all(m["locations"] == summary["locations"] for m in missing.values())
    first = report["locations"][0]
    assert first["missing"] == list(DEMO_MISSING)
    rows = {r["item"]: r for r in first["items"]}
    assert rows["A1"] == {
        "item": "A1",
        "name": "Legal name of the operator",
        "level": "station",
        "state": "present",
        "ocpi_field": "none (Location.operator has one business name)",
        "source": "[afir] legal_name",
    }
    assert rows["A9"]["state"] == "derivable" and "(alpha-2)" in rows["A9"]["source"]
    evse_rows = {r["item"]: r for r in first["evses"][0]["items"]}
    assert evse_rows["F3"]["state"] == "derivable"
    assert evse_rows["F1"]["state"] == evse_rows["F2"]["state"] == "derivable"


def test_filled_location_iscomplete_location(demo: Dataset) -> None:
    supplement = parse_supplement(
        {**FULL_SUPPLEMENT, "location": {str(demo.locations[0]["id"]): {"nuts1": "DE3"}}}
    )
    loc = complete_location(dict(demo.locations[0]))
    report = check_location(loc, supplement, tariffs_by_id(demo.tariffs))
    assert report["complete"], report["missing"]
    other = complete_location(dict(demo.locations[1]))  # no nuts1 for this one
    assert check_location(other, supplement, tariffs_by_id(demo.tariffs))["missing"] == ["A10"]


def test_unknown_tariff_and_country_are_missing(demo: Dataset) -> None:
    loc = copy.deepcopy(dict(demo.locations[0]))
    loc["country"] = "XXX"
    for evse in loc["evses"]:
        for con in evse["connectors"]:
            con["tariff_ids"] = ["NOPE"]
    report = check_location(loc, Supplement(), tariffs_by_id(demo.tariffs))
    assert "A9" in report["missing"] and "F3" in report["missing"]
    assert "A1" in report["missing"] and "A2" not in report["missing"]  # operator.name


def test_ad_hoc_tariff_is_present(demo: Dataset) -> None:
    tariffs = [dict(t, type="AD_HOC_PAYMENT") for t in demo.tariffs]
    report = check_location(demo.locations[0], Supplement(), tariffs_by_id(tariffs))
    f3 = next(r for r in report["evses"][0]["items"] if r["item"] == "F3")
    assert f3["state"] == "present"


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"legal_nam": "x"}, "unknown key 'legal_nam'"),
        ({"service_support": "sometimes"}, "service_support: one of"),
        ({"payment_methods": "emv"}, "payment_methods: expected a list"),
        ({"location": {"L1": {"nuts1": 3}}}, "afir.location.L1.nuts1: expected a non-empty string"),
        ({"party": []}, "must be tables"),
    ],
)
def test_bad_supplement_names_the_key(section: dict[str, Any], message: str) -> None:
    with pytest.raises(SupplementError, match=message):
        parse_supplement(section)


def test_supplement_levels() -> None:
    s = parse_supplement(
        {
            "legal_name": "A",
            "party": {"de-okt": {"legal_name": "B"}},
            "location": {"L1": {"legal_name": "C"}},
        }
    )
    assert s.for_location("DE", "OKT", "L1")["legal_name"] == "C"
    assert s.for_location("DE", "OKT", "L2")["legal_name"] == "B"
    assert s.for_location("NL", "OKT", "L2")["legal_name"] == "A"
