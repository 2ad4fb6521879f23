"""Locations conversions 2.1.1 ⇄ 2.2.1 ⇄ 2.3.0: round trips give back the original except what
was reported lost, and every lossy mapping is reported with its JSON path."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.convert import LOSS_TABLE, Context, Loss, convert, from_head, to_head
from ocpikit.models import v2_1_1, v2_2_1, v2_3_0

RULE_IDS = {rule.id for rule in LOSS_TABLE}

LOCATION_211: dict[str, Any] = {
    "id": "LOC1",
    "type": "PARKING_LOT",
    "name": "Gent Zuid",
    "address": "F.Rooseveltlaan 3A",
    "city": "Gent",
    "postal_code": "9000",
    "country": "BEL",
    "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
    "related_locations": [
        {
            "latitude": "51.047600",
            "longitude": "3.729945",
            "name": {"language": "en", "text": "Entrance"},
        }
    ],
    "evses": [
        {
            "uid": "3256",
            "evse_id": "BE*BEC*E041503001",
            "status": "AVAILABLE",
            "status_schedule": [{"period_begin": "2015-03-20T00:00:00Z", "status": "REMOVED"}],
            "capabilities": ["RESERVABLE", "RFID_READER"],
            "connectors": [
                {
                    "id": "1",
                    "standard": "IEC_62196_T2",
                    "format": "CABLE",
                    "power_type": "AC_3_PHASE",
                    "voltage": 220,
                    "amperage": 16,
                    "tariff_id": "11",
                    "last_updated": "2015-03-16T10:10:02Z",
                }
            ],
            "physical_reference": "1",
            "floor_level": "-1",
            "last_updated": "2015-03-16T10:10:02Z",
        }
    ],
    "operator": {"name": "BeCharged"},
    "facilities": ["CAFE"],
    "time_zone": "Europe/Brussels",
    "opening_times": {
        "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "20:00"}],
        "twentyfourseven": False,
        "exceptional_closings": [
            {"period_begin": "2014-06-24T00:00:00Z", "period_end": "2014-06-25T00:00:00Z"}
        ],
    },
    "charging_when_closed": True,
    "energy_mix": {
        "is_green_energy": False,
        "energy_sources": [{"source": "GENERAL_GREEN", "percentage": 35.9}],
        "environ_impact": [{"source": "CARBON_DIOXIDE", "amount": 372}],
    },
    "last_updated": "2015-03-16T10:10:02Z",
}

OWNER = Context(country_code="BE", party_id="BEC")


def _example(data_dir: Path, version: str, name: str) -> Any:
    return json.loads((data_dir / "spec" / version / "examples" / name).read_text())


def _rules(losses: list[Loss]) -> dict[str, str]:
    """path -> rule id; also checks every reported rule is in the loss table."""
    assert {loss.rule for loss in losses} <= RULE_IDS
    return {loss.path: loss.rule for loss in losses}


# --- round trips ------------------------------------------------------------------------------


def test_2_1_1_location_round_trips_through_head_without_loss() -> None:
    ctx = Context(country_code="BE", party_id="BEC")
    head, up = to_head(LOCATION_211, "2.1.1", "Location", ctx)
    assert up == []
    assert isinstance(head, v2_3_0.locations.Location)
    assert (head.country_code, head.party_id, head.publish) == ("BE", "BEC", True)
    assert head.parking_type is v2_2_1.locations.ParkingType.PARKING_LOT
    assert head.evses is not None
    connector = head.evses[0].connectors[0]
    assert (connector.max_voltage, connector.max_amperage, connector.tariff_ids) == (
        220,
        16,
        ["11"],
    )
    assert head.opening_times is not None and head.opening_times.twentyfourseven is False
    assert head.energy_mix is not None and head.energy_mix.environ_impact is not None
    assert head.energy_mix.environ_impact[0].category == "CARBON_DIOXIDE"
    back, down = from_head(head, "2.1.1")
    assert down == []
    assert isinstance(back, v2_1_1.locations.Location)
    assert back.dump() == LOCATION_211


def test_2_1_1_round_trip_differs_only_where_losses_were_reported() -> None:
    data = copy.deepcopy(LOCATION_211)
    data["type"] = "OTHER"
    del data["time_zone"]
    data["opening_times"]["regular_hours"][0]["period_end"] = "24:00"
    head, up = to_head(data, "2.1.1", "Location", Context())
    assert _rules(up) == {
        "country_code": "2.1.1>2.2.1 Location.country_code/party_id",
        "type": "2.1.1>2.2.1 Location.type",
        "time_zone": "2.1.1>2.2.1 Location.time_zone",
        "opening_times.regular_hours[0].period_end": "2.1.1>2.2.1 RegularHours.period_begin/period_end",
    }
    assert head.dump()["country_code"] == "XX" and head.dump()["party_id"] == "XXX"
    assert head.dump()["time_zone"] == "Europe/Brussels"  # BEL has one zone
    back = from_head(head, "2.1.1")[0].dump()
    expected = copy.deepcopy(data)
    expected["type"] = "UNKNOWN"  # OTHER was dropped going up
    expected["time_zone"] = "Europe/Brussels"  # defaulted going up
    expected["opening_times"]["regular_hours"][0]["period_end"] = "23:59"
    assert back == expected


def test_time_zone_falls_back_to_utc_for_multi_zone_countries() -> None:
    data = {k: v for k, v in LOCATION_211.items() if k != "time_zone"}
    data["country"] = "USA"
    head, losses = to_head(data, "2.1.1", "Location", OWNER)
    assert head.dump()["time_zone"] == "UTC"
    assert [(loss.path, loss.detail) for loss in losses] == [("time_zone", "UTC")]


LOCATION_FILES = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]


@pytest.mark.parametrize("name", LOCATION_FILES)
def test_2_2_1_examples_round_trip_through_head_losslessly(data_dir: Path, name: str) -> None:
    data = _example(data_dir, "2.2.1", name)
    head, up = to_head(data, "2.2.1", "Location")
    back, down = from_head(head, "2.2.1")
    assert up == [] and down == []
    assert json.loads(back.dump_json()) == data


@pytest.mark.parametrize("name", LOCATION_FILES)
def test_2_2_1_examples_down_to_2_1_1_report_every_difference(data_dir: Path, name: str) -> None:
    data = _example(data_dir, "2.2.1", name)
    old, losses = convert(data, "Location", "2.2.1", "2.1.1")
    v2_1_1.locations.Location.model_validate(old)  # valid 2.1.1
    again, up = convert(
        old, "Location", "2.1.1", "2.2.1", Context(data["country_code"], data["party_id"])
    )
    lost = {loss.path.split("[")[0].split(".")[0] for loss in losses + up}
    for key in set(data) | set(again):
        if data.get(key) != again.get(key):
            assert key in lost or key == "evses", key


def test_2_3_0_afir_data_is_reported_when_going_down(data_dir: Path) -> None:
    data = _example(data_dir, "2.3.0", "location_example.json")
    data["help_phone"] = "+3212345678"
    data["evses"][0]["accepted_service_providers"] = ["Example eMSP"]
    data["evses"][0]["connectors"][0]["capabilities"] = ["ISO_15118_2_PLUG_AND_CHARGE"]
    down, losses = convert(data, "Location", "2.3.0", "2.2.1")
    v2_2_1.locations.Location.model_validate(down)
    rules = _rules(losses)
    assert rules["parking_places"] == "2.3.0>2.2.1 Location.parking_places"
    assert rules["help_phone"] == "2.3.0>2.2.1 Location.help_phone"
    assert rules["evses[0].parking"] == "2.3.0>2.2.1 EVSE.parking"
    assert rules["evses[1].parking"] == "2.3.0>2.2.1 EVSE.parking"
    assert rules["evses[0].accepted_service_providers"].endswith("accepted_service_providers")
    assert rules["evses[0].connectors[0].capabilities"].endswith("Connector.capabilities")
    up, none = convert(down, "Location", "2.2.1", "2.3.0")
    assert none == []
    for key in ("parking_places", "help_phone"):
        assert key not in up


def test_2_3_0_open_enum_values_are_dropped_going_down(data_dir: Path) -> None:
    data = _example(data_dir, "2.3.0", "location_example.json")
    data["facilities"] = ["HOTEL", "EV_LOUNGE"]
    data["parking_type"] = "ROOFTOP"
    data["images"] = [{"url": "https://e.com/i.png", "category": "DRONE", "type": "png"}]
    data["publish"] = False
    data["publish_allowed_to"] = [{"uid": "NL-TNM-C12345678-X", "type": "EMAID"}]
    evse = data["evses"][0]
    evse["capabilities"] = ["RFID_READER", "NFC_PHONE"]
    evse["parking_restrictions"] = ["EV_ONLY", "TAXIS"]
    kept_ids = [c["id"] for c in evse["connectors"]]
    evse["connectors"].append({**evse["connectors"][0], "id": "MCS1", "standard": "MCS"})
    mcs = f"evses[0].connectors[{len(kept_ids)}]"
    data["evses"][1]["connectors"][0]["standard"] = "SAE_J3400"
    data["energy_mix"] = {
        "is_green_energy": False,
        "environ_impact": [
            {"category": "CARBON_DIOXIDE", "amount": 300},
            {"category": "METHANE", "amount": 1},
        ],
    }
    head = v2_3_0.locations.Location.model_validate(data)
    back, losses = from_head(head, "2.2.1")
    assert isinstance(back, v2_2_1.locations.Location)
    rules = _rules(losses)
    assert set(rules) >= {
        "facilities[1]",
        "parking_type",
        "images[0].category",
        "publish_allowed_to[0].type",
        "evses[0].capabilities[1]",
        "evses[0].parking_restrictions[1]",
        mcs,
        "evses[1].connectors[0]",
        "evses[1]",
        "energy_mix.environ_impact[1]",
    }
    out = back.dump()
    assert out["facilities"] == ["HOTEL"]
    assert "parking_type" not in out
    assert out["images"][0]["category"] == "OTHER"
    assert out["publish_allowed_to"][0]["type"] == "OTHER"
    assert [c["id"] for c in out["evses"][0]["connectors"]] == kept_ids
    assert len(out["evses"]) == 1  # the SAE_J3400-only EVSE cannot be expressed


# --- individual 2.2.1 -> 2.1.1 rules -----------------------------------------------------------


@pytest.fixture
def loc221(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = _example(data_dir, "2.2.1", "location_example.json")
    return data


def test_parking_type_and_publish_going_down(loc221: dict[str, Any]) -> None:
    loc221.update(parking_type="ALONG_MOTORWAY", publish=False, state="Oost-Vlaanderen")
    loc221["publish_allowed_to"] = [{"visual_number": "1", "issuer": "X"}]
    loc221["facilities"] = ["BIKE_SHARING", "CAFE"]
    old, losses = convert(loc221, "Location", "2.2.1", "2.1.1")
    assert old["type"] == "OTHER"
    assert "publish" not in old and "state" not in old and "publish_allowed_to" not in old
    assert old["facilities"] == ["CAFE"]
    assert set(_rules(losses)) == {
        "parking_type",
        "publish",
        "publish_allowed_to",
        "state",
        "facilities[0]",
    }
    loc221.pop("parking_type")
    old, _ = convert(loc221, "Location", "2.2.1", "2.1.1")
    assert old["type"] == "UNKNOWN"


def test_long_address_and_missing_postal_code_going_down(loc221: dict[str, Any]) -> None:
    loc221["address"] = "A" * 60
    loc221.pop("postal_code", None)
    old, losses = convert(loc221, "Location", "2.2.1", "2.1.1")
    assert old["address"] == "A" * 45 and old["postal_code"] == ""
    assert _rules(losses)["address"] == "2.2.1>2.1.1 Location.address"
    assert _rules(losses)["postal_code"] == "2.2.1>2.1.1 Location.postal_code"
    v2_1_1.locations.Location.model_validate(old)
    back, _ = convert(old, "Location", "2.1.1", "2.2.1", OWNER)
    assert "postal_code" not in back  # "" meant "none"


def test_coordinates_become_six_decimals(loc221: dict[str, Any]) -> None:
    loc221["coordinates"] = {"latitude": "51.04759", "longitude": "3.7299441"}
    loc221["evses"][0]["coordinates"] = {"latitude": "51.0475904", "longitude": "3.72994"}
    old, losses = convert(loc221, "Location", "2.2.1", "2.1.1")
    assert old["coordinates"] == {"latitude": "51.047590", "longitude": "3.729944"}
    assert old["evses"][0]["coordinates"] == {"latitude": "51.047590", "longitude": "3.729940"}
    assert set(_rules(losses)) == {"coordinates.longitude", "evses[0].coordinates.latitude"}
    v2_1_1.locations.Location.model_validate(old)


def test_connector_going_down(loc221: dict[str, Any]) -> None:
    connector = loc221["evses"][0]["connectors"][0]
    connector.update(power_type="AC_2_PHASE_SPLIT", max_electric_power=7400)
    connector["tariff_ids"] = ["11", "12"]
    old, losses = convert(connector, "Connector", "2.2.1", "2.1.1")
    assert old["power_type"] == "AC_1_PHASE"
    assert old["tariff_id"] == "11" and "tariff_ids" not in old
    assert "max_electric_power" not in old
    assert old["voltage"] == connector["max_voltage"]
    assert set(_rules(losses)) == {"power_type", "max_electric_power", "tariff_ids"}
    v2_1_1.locations.Connector.model_validate(old)


def test_connector_standard_unknown_to_2_1_1_drops_it(loc221: dict[str, Any]) -> None:
    loc221["evses"][0]["connectors"][0]["standard"] = "GBT_DC"
    old, losses = convert(loc221, "Location", "2.2.1", "2.1.1")
    rules = _rules(losses)
    assert rules["evses[0].connectors[0]"] == "2.2.1>2.1.1 Connector.standard"
    v2_1_1.locations.Location.model_validate(old)


def test_datetime_fractions_are_cut_for_2_1_1(loc221: dict[str, Any]) -> None:
    loc221["last_updated"] = "2015-06-29T20:39:09.123Z"
    loc221["evses"][0]["last_updated"] = "2015-06-29T20:39:09.000Z"
    head = v2_2_1.locations.Location.model_validate(loc221)
    old, losses = from_head(to_head(head, "2.2.1")[0], "2.1.1")
    out = old.dump()
    assert out["last_updated"] == "2015-06-29T20:39:09Z"
    assert out["evses"][0]["last_updated"] == "2015-06-29T20:39:09Z"
    assert _rules(losses) == {"last_updated": "2.2.1>2.1.1 DateTime.(any timestamp)"}


def test_2_1_1_hours_without_the_flag_report_it_going_up() -> None:
    hours = {"regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "18:00"}]}
    up, losses = convert(hours, "Hours", "2.1.1", "2.2.1")
    assert up["twentyfourseven"] is False
    assert _rules(losses) == {"twentyfourseven": "2.1.1>2.2.1 Hours.twentyfourseven"}
    assert convert(up, "Hours", "2.2.1", "2.1.1")[0] == {**hours, "twentyfourseven": False}


def test_hours_choice(loc221: dict[str, Any]) -> None:
    hours = {
        "twentyfourseven": True,
        "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "18:00"}],
    }
    old, losses = convert(hours, "Hours", "2.2.1", "2.1.1")
    assert old == {"twentyfourseven": True}
    assert _rules(losses) == {"regular_hours": "2.2.1>2.1.1 Hours.regular_hours"}
    v2_1_1.locations.Hours.model_validate(old)


def test_energy_mix_is_exposed_for_tariffs() -> None:
    mix_211 = {
        "is_green_energy": True,
        "environ_impact": [{"source": "NUCLEAR_WASTE", "amount": 1}],
    }
    mix_221, losses = convert(mix_211, "EnergyMix", "2.1.1", "2.2.1")
    assert mix_221["environ_impact"] == [{"category": "NUCLEAR_WASTE", "amount": 1}]
    assert convert(mix_221, "EnergyMix", "2.2.1", "2.1.1")[0] == mix_211
    assert losses == []


def test_conversion_does_not_modify_its_input(loc221: dict[str, Any]) -> None:
    before = copy.deepcopy(loc221)
    convert(loc221, "Location", "2.2.1", "2.1.1")
    convert(loc221, "Location", "2.2.1", "2.3.0")
    assert loc221 == before
