"""Locations models of 2.1.1, 2.2.1 and 2.3.0: spec examples round-trip, bad input is rejected
with the JSON path of the offending field, unknown fields and OpenEnum values survive."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from ocpikit.models import OBJECTS
from ocpikit.models.base import OcpiModel
from ocpikit.models.v2_1_1 import locations as l211
from ocpikit.models.v2_2_1 import locations as l221
from ocpikit.models.v2_3_0 import locations as l230

LOCATION_211: dict[str, Any] = {
    "id": "LOC1",
    "type": "ON_STREET",
    "name": "Gent Zuid",
    "address": "F.Rooseveltlaan 3A",
    "city": "Gent",
    "postal_code": "9000",
    "country": "BEL",
    "coordinates": {"latitude": "51.047599", "longitude": "3.729944"},
    "evses": [
        {
            "uid": "3256",
            "evse_id": "BE*BEC*E041503001",
            "status": "AVAILABLE",
            "capabilities": ["RESERVABLE"],
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
            "last_updated": "2015-03-16T10:10:02Z",
        }
    ],
    "opening_times": {
        "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "24:00"}],
        "exceptional_closings": [
            {"period_begin": "2014-06-24T00:00:00Z", "period_end": "2014-06-25T00:00:00Z"}
        ],
    },
    "energy_mix": {
        "is_green_energy": False,
        "environ_impact": [{"source": "CARBON_DIOXIDE", "amount": 372}],
    },
    "last_updated": "2015-03-16T10:10:02Z",
}


def _example(data_dir: Path, version: str, name: str) -> Any:
    return json.loads((data_dir / "spec" / version / "examples" / name).read_text())


def _roundtrip(model: type[OcpiModel], data: Any) -> None:
    parsed = model.model_validate(data)
    assert json.loads(parsed.dump_json()) == data
    assert model.model_validate_json(json.dumps(data)).dump() == parsed.dump()


def _locs(err: ValidationError) -> set[tuple[str | int, ...]]:
    return {tuple(e["loc"]) for e in err.errors()}


# --- spec examples -----------------------------------------------------------------------------

LOCATION_FILES = [
    "location_example.json",
    "location_example_parking_garage_opening_hours.json",
    "location_example_uc2_destination_charger.json",
    "location_example_uc3_destination_charger_not_published.json",
    "location_example_uc4_limited_visibility.json",
    "location_example_uc5_home_charge_point.json",
]
HOURS_FILES = [
    "location_hours_247_open_exception_closing.json",
    "location_hours_opening_hours_with_exceptional_closing.json",
    "location_hours_opening_hours_with_exceptional_opening.json",
]
ENERGY_MIX_FILES = [
    "location_energymix_example_complete.json",
    "location_energymix_example_energy_provider.json",
    "location_energymix_example_simple.json",
]
VERSIONS = ["2.2.1", "2.3.0"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", LOCATION_FILES)
def test_location_examples_round_trip(data_dir: Path, version: str, name: str) -> None:
    _roundtrip(OBJECTS[version]["Location"], _example(data_dir, version, name))


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", HOURS_FILES)
def test_hours_examples_round_trip(data_dir: Path, version: str, name: str) -> None:
    _roundtrip(OBJECTS[version]["Hours"], _example(data_dir, version, name))


@pytest.mark.parametrize("version", VERSIONS)
def test_regular_hours_example_is_wrapped_in_opening_times(data_dir: Path, version: str) -> None:
    data = _example(data_dir, version, "location_regularhours_example.json")
    _roundtrip(OBJECTS[version]["Hours"], data["opening_times"])


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("name", ENERGY_MIX_FILES)
def test_energy_mix_examples_round_trip(data_dir: Path, version: str, name: str) -> None:
    _roundtrip(OBJECTS[version]["EnergyMix"], _example(data_dir, version, name)["energy_mix"])


@pytest.mark.parametrize("version", VERSIONS)
def test_patch_examples_validate_as_partial_objects(data_dir: Path, version: str) -> None:
    evse, connector, location = (OBJECTS[version][n] for n in ("EVSE", "Connector", "Location"))
    for model, name in (
        (evse, "location_patch_example_status.json"),
        (evse, "location_patch_example_remove_evse.json"),
        (connector, "location_patch_example_tariff.json"),
        (location, "location_patch_example_location.json"),
    ):
        data = _example(data_dir, version, name)
        assert model.parse_patch(data) == data


@pytest.mark.parametrize("version", VERSIONS)
def test_put_add_evse_example_is_a_known_erratum(data_dir: Path, version: str) -> None:
    """ERR (DIGEST §8.2): the connector lacks power_type, max_voltage, max_amperage and
    last_updated, and physical_reference is a number."""
    data = _example(data_dir, version, "location_put_example_add_evse.json")
    with pytest.raises(ValidationError) as err:
        OBJECTS[version]["EVSE"].model_validate(data)
    assert {
        ("connectors", 0, "power_type"),
        ("connectors", 0, "max_voltage"),
        ("connectors", 0, "max_amperage"),
        ("connectors", 0, "last_updated"),
        ("physical_reference",),
    } <= _locs(err.value)


def test_2_3_0_example_carries_afir_parking(data_dir: Path) -> None:
    loc = l230.Location.model_validate(_example(data_dir, "2.3.0", "location_example.json"))
    assert loc.parking_places and loc.evses
    place_ids = {p.id for p in loc.parking_places}
    for evse in loc.evses:
        for link in evse.parking or []:
            assert link.parking_id in place_ids
            assert isinstance(link.evse_position, l230.EVSEPosition)


# --- 2.1.1 -------------------------------------------------------------------------------------


def test_2_1_1_location_round_trips_and_keeps_24_00() -> None:
    _roundtrip(l211.Location, LOCATION_211)
    loc = l211.Location.model_validate(LOCATION_211)
    assert loc.type is l211.LocationType.ON_STREET
    assert loc.evses is not None
    assert loc.evses[0].connectors[0].voltage == 220


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d["coordinates"].update(latitude="51.04759"), ("coordinates", "latitude")),
        (lambda d: d.update(address="x" * 46), ("address",)),
        (lambda d: d.update(type="PARKING"), ("type",)),
        (lambda d: d.pop("postal_code"), ("postal_code",)),
        (lambda d: d.update(last_updated="yesterday"), ("last_updated",)),
        (
            lambda d: d["evses"][0]["connectors"][0].update(voltage="220"),
            ("evses", 0, "connectors", 0, "voltage"),
        ),
        (
            lambda d: d["evses"][0]["connectors"][0].update(standard="MCS"),
            ("evses", 0, "connectors", 0, "standard"),
        ),
        (lambda d: d["evses"][0].update(connectors=[]), ("evses", 0, "connectors")),
        (lambda d: d.update(facilities=["PARKING_LOT"]), ("facilities", 0)),
    ],
)
def test_2_1_1_bad_location_names_the_path(mutate: Any, loc: tuple[Any, ...]) -> None:
    data = copy.deepcopy(LOCATION_211)
    mutate(data)
    with pytest.raises(ValidationError) as err:
        l211.Location.model_validate(data)
    assert loc in _locs(err.value)


def test_2_1_1_hours_is_a_choice() -> None:
    with pytest.raises(ValidationError):
        l211.Hours.model_validate({"exceptional_openings": []})
    with pytest.raises(ValidationError):
        l211.Hours.model_validate(
            {
                "twentyfourseven": True,
                "regular_hours": [{"weekday": 1, "period_begin": "08:00", "period_end": "18:00"}],
            }
        )
    assert l211.Hours.model_validate({"twentyfourseven": True}).twentyfourseven is True


# --- 2.2.1 / 2.3.0 -----------------------------------------------------------------------------


@pytest.fixture(params=VERSIONS)
def location(request: pytest.FixtureRequest, data_dir: Path) -> tuple[str, dict[str, Any]]:
    version = str(request.param)
    return version, _example(data_dir, version, "location_example.json")


@pytest.mark.parametrize(
    ("mutate", "loc"),
    [
        (lambda d: d.pop("time_zone"), ("time_zone",)),
        (lambda d: d.pop("publish"), ("publish",)),
        (lambda d: d.update(publish="yes"), ("publish",)),
        (lambda d: d.update(country_code="BEL"), ("country_code",)),
        (lambda d: d.update(id="x" * 37), ("id",)),
        (lambda d: d.update(address="x" * 256), ("address",)),
        (lambda d: d.update(state="x" * 46), ("state",)),
        (lambda d: d["coordinates"].update(latitude="51.0476"), ("coordinates", "latitude")),
        (lambda d: d["coordinates"].update(longitude="3.72994401"), ("coordinates", "longitude")),
        (lambda d: d["coordinates"].update(latitude=51.04759), ("coordinates", "latitude")),
        (lambda d: d.update(last_updated=1434140400), ("last_updated",)),
        (lambda d: d["evses"][0].update(status="BROKEN"), ("evses", 0, "status")),
        (
            lambda d: d["evses"][0]["connectors"][0].update(power_type="AC_4_PHASE"),
            ("evses", 0, "connectors", 0, "power_type"),
        ),
        (
            lambda d: d["evses"][0]["connectors"][0].pop("max_voltage"),
            ("evses", 0, "connectors", 0, "max_voltage"),
        ),
        (
            lambda d: d["evses"][0]["connectors"][0].update(max_amperage=16.5),
            ("evses", 0, "connectors", 0, "max_amperage"),
        ),
        (
            lambda d: d["evses"][0]["connectors"][0].update(format="PLUG"),
            ("evses", 0, "connectors", 0, "format"),
        ),
    ],
)
def test_bad_location_names_the_path(
    location: tuple[str, dict[str, Any]], mutate: Any, loc: tuple[Any, ...]
) -> None:
    version, data = location
    mutate(data)
    with pytest.raises(ValidationError) as err:
        OBJECTS[version]["Location"].model_validate(data)
    assert loc in _locs(err.value)


def test_errata_lengths_are_accepted(location: tuple[str, dict[str, Any]]) -> None:
    version, data = location
    data.update(address="a" * 255, state="s" * 45)
    OBJECTS[version]["Location"].model_validate(data)


def test_unknown_fields_are_kept(location: tuple[str, dict[str, Any]]) -> None:
    version, data = location
    data["x_partner_note"] = {"kept": True}
    data["evses"][0]["connectors"][0]["nltnm_socket_colour"] = "blue"
    dumped = OBJECTS[version]["Location"].model_validate(data).dump()
    assert dumped["x_partner_note"] == {"kept": True}
    assert dumped["evses"][0]["connectors"][0]["nltnm_socket_colour"] == "blue"


def test_2_2_1_enums_are_closed(data_dir: Path) -> None:
    data = _example(data_dir, "2.2.1", "location_example.json")
    data["facilities"] = ["EV_LOUNGE"]
    data["evses"][0]["connectors"][0]["standard"] = "MCS"
    with pytest.raises(ValidationError) as err:
        l221.Location.model_validate(data)
    assert {("facilities", 0), ("evses", 0, "connectors", 0, "standard")} <= _locs(err.value)


def test_2_3_0_open_enums_keep_unknown_values(data_dir: Path) -> None:
    data = _example(data_dir, "2.3.0", "location_example.json")
    data["facilities"] = ["HOTEL", "EV_LOUNGE"]
    data["parking_type"] = "ROOFTOP"
    evse = data["evses"][0]
    evse["capabilities"] = ["RFID_READER", "NFC_PHONE"]
    evse["parking_restrictions"] = ["TAXIS", "POLICE"]
    evse["connectors"][0]["standard"] = "NACS_2"
    evse["connectors"][0]["capabilities"] = ["ISO_15118_20_PLUG_AND_CHARGE", "V2G"]
    loc = l230.Location.model_validate(data)
    assert loc.facilities == [l230.Facility.HOTEL, "EV_LOUNGE"]
    assert isinstance(loc.facilities[0], l230.Facility)
    assert loc.evses is not None
    assert loc.evses[0].parking_restrictions == [l230.ParkingRestriction.TAXIS, "POLICE"]
    assert loc.evses[0].connectors[0].standard == "NACS_2"
    assert json.loads(loc.dump_json()) == data


def test_2_3_0_closed_enums_stay_closed(data_dir: Path) -> None:
    data = _example(data_dir, "2.3.0", "location_example.json")
    data["evses"][0]["status"] = "SLEEPING"
    data["evses"][0]["parking"][0]["evse_position"] = "ABOVE"
    with pytest.raises(ValidationError) as err:
        l230.Location.model_validate(data)
    assert {("evses", 0, "status"), ("evses", 0, "parking", 0, "evse_position")} <= _locs(err.value)


@pytest.mark.parametrize("version", VERSIONS)
def test_hours_need_regular_hours_unless_247(version: str) -> None:
    hours = OBJECTS[version]["Hours"]
    with pytest.raises(ValidationError):
        hours.model_validate({"twentyfourseven": False})
    with pytest.raises(ValidationError) as err:
        hours.model_validate(
            {
                "twentyfourseven": False,
                "regular_hours": [{"weekday": 8, "period_begin": "24:00", "period_end": "8:00"}],
            }
        )
    assert {
        ("regular_hours", 0, "weekday"),
        ("regular_hours", 0, "period_begin"),
        ("regular_hours", 0, "period_end"),
    } <= _locs(err.value)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    "token",
    [
        {},
        {"uid": "012345678"},
        {"visual_number": "NL-TNM-1"},
        {"type": "RFID"},
    ],
)
def test_publish_token_rules(version: str, token: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        OBJECTS[version]["PublishTokenType"].model_validate(token)


def test_publish_token_type_is_open_only_in_2_3_0() -> None:
    token = {"uid": "0123", "type": "EMAID"}
    assert l230.PublishTokenType.model_validate(token).type is l230.TokenType.EMAID
    with pytest.raises(ValidationError):
        l221.PublishTokenType.model_validate(token)


def test_define_once_import_forward() -> None:
    assert l221.BusinessDetails is l211.BusinessDetails
    assert l221.Image is l211.Image
    assert l221.StatusSchedule is l211.StatusSchedule
    assert l230.GeoLocation is l221.GeoLocation
    assert l230.Hours is l221.Hours
    changed: list[tuple[type[OcpiModel], type[OcpiModel]]] = [
        (l230.Image, l221.Image),  # ImageCategory is open in 2.3.0
        (l221.GeoLocation, l211.GeoLocation),  # 6 vs 5-7 decimals
    ]
    assert all(new is not old for new, old in changed)


@pytest.mark.parametrize("module", [l211, l221, l230])
def test_objects_list_every_model_class(module: Any) -> None:
    classes = {
        name
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, OcpiModel) and value is not OcpiModel
    }
    assert classes == set(module.OBJECTS)
    assert all(module.OBJECTS[name].__name__ == name for name in module.OBJECTS)
