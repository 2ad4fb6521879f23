"""The ``[ocpp]`` configuration (every bad key named), the OCPP → OCPI value tables and the
energy readings out of both versions' meter values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocpikit.ocpp_bridge.config import ocpp_config
from ocpikit.ocpp_bridge.mapping import command_result, ocpi_status
from ocpikit.ocpp_bridge.readings import energy_readings

PARTIES = [("NL", "CPO"), ("NL", "CP2")]


def test_charge_points_are_read_with_their_party_and_numbers() -> None:
    config = ocpp_config(
        {
            "ocpp": {
                "enabled": True,
                "charge_points": [
                    {"id": "CP1", "location_id": "L1", "evse_uids": ["L1-E1", "L1-E2"]},
                    {
                        "id": "CP2",
                        "location_id": "L2",
                        "evse_uids": ["L2-E1"],
                        "party": "NL-CP2",
                        "password": "secret",
                    },
                ],
            }
        },
        PARTIES,
    )
    assert config.enabled
    cp1, cp2 = config.charge_points
    assert (cp1.country_code, cp1.party_id) == ("NL", "CPO")
    assert (cp2.country_code, cp2.party_id) == ("NL", "CP2")
    assert cp1.evse_uid(2) == "L1-E2" and cp1.evse_uid(0) is None and cp1.evse_uid(3) is None
    assert cp1.number_of("l1-e2") == 2
    assert config.at("L1", "L1-E1") is cp1 and config.at("L1", "nope") is None
    assert config.passwords == {"CP2": "secret"} and "secret" not in repr(config)


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"enabled": "yes"}, "ocpp.enabled"),
        ({"charge_points": [{"location_id": "L", "evse_uids": ["E"]}]}, ".id"),
        ({"charge_points": [{"id": "C", "location_id": "L", "evse_uids": []}]}, "evse_uids"),
        (
            {
                "charge_points": [
                    {"id": "C", "location_id": "L", "evse_uids": ["E"], "party": "X-Y"}
                ]
            },
            ".party",
        ),
        (
            {
                "charge_points": [
                    {"id": "C", "location_id": "L", "evse_uids": ["E"]},
                    {"id": "C", "location_id": "M", "evse_uids": ["F"]},
                ]
            },
            "twice",
        ),
        ({"command_poll": 0}, "ocpp.command_poll"),
    ],
)
def test_bad_configuration_names_the_key(section: dict, named: str) -> None:
    with pytest.raises(ValueError, match=named.replace(".", r"\.")):
        ocpp_config({"ocpp": section}, PARTIES)


def test_status_and_result_tables() -> None:
    assert ocpi_status("1.6", "Charging") == "CHARGING"
    assert ocpi_status("1.6", "Faulted") == "OUTOFORDER"
    assert ocpi_status("1.6", "Unavailable") == "INOPERATIVE"
    assert ocpi_status("2.0.1", "Occupied") == "CHARGING"
    assert ocpi_status("2.0.1", "Reserved") == "RESERVED"
    assert ocpi_status("2.0.1", "Weird") == "UNKNOWN"
    assert command_result("Accepted") == "ACCEPTED"
    assert command_result("Unlocked") == "ACCEPTED"
    assert command_result("Rejected") == "REJECTED"
    assert command_result("Occupied") == "EVSE_OCCUPIED"
    assert command_result(None) == "FAILED"


def test_energy_readings_of_both_versions() -> None:
    v16 = [
        {
            "timestamp": "2026-01-01T10:10:00Z",
            "sampled_value": [
                {"value": "230", "measurand": "Voltage"},
                {"value": "1.5", "unit": "kWh"},
            ],
        },
        {"timestamp": "2026-01-01T10:05:00Z", "sampled_value": [{"value": "700"}]},
        {"timestamp": "bad", "sampled_value": [{"value": "1"}]},
    ]
    assert energy_readings(v16) == [
        (datetime(2026, 1, 1, 10, 5, tzinfo=UTC), 700.0),
        (datetime(2026, 1, 1, 10, 10, tzinfo=UTC), 1500.0),
    ]
    v201 = [
        {
            "timestamp": "2026-01-01T10:00:00Z",
            "sampled_value": [
                {"value": 2.5, "unit_of_measure": {"unit": "Wh", "multiplier": 3}},
            ],
        }
    ]
    assert energy_readings(v201) == [(datetime(2026, 1, 1, 10, tzinfo=UTC), 2500.0)]


def test_charging_profiles_both_ways() -> None:
    from ocpikit.ocpp_bridge.profiles import active_profile, ocpp_profile, profile_result

    ocpi = {
        "start_date_time": "2026-01-01T10:00:00Z",
        "charging_rate_unit": "A",
        "min_charging_rate": 6,
        "charging_profile_period": [
            {"start_period": 0, "limit": 16},
            {"start_period": 600, "limit": 8},
        ],
    }
    v16 = ocpp_profile("1.6", ocpi, "42")
    assert v16["transaction_id"] == 42 and v16["charging_profile_purpose"] == "TxProfile"
    assert v16["charging_profile_kind"] == "Absolute"
    schedule = v16["charging_schedule"]
    assert (
        schedule["start_schedule"] == "2026-01-01T10:00:00Z" and schedule["min_charging_rate"] == 6
    )
    assert schedule["charging_schedule_period"][1] == {"start_period": 600, "limit": 8.0}
    v201 = ocpp_profile("2.0.1", {**ocpi, "start_date_time": None}, "tx-1")
    assert v201["transaction_id"] == "tx-1" and v201["charging_profile_kind"] == "Relative"
    assert v201["charging_schedule"][0]["id"] == v201["id"]
    back = active_profile("2026-01-01T10:00:00Z", {**schedule, "duration": 900})
    assert back == {
        "start_date_time": "2026-01-01T10:00:00Z",
        "charging_profile": {
            "charging_rate_unit": "A",
            "charging_profile_period": [
                {"start_period": 0, "limit": 16.0},
                {"start_period": 600, "limit": 8.0},
            ],
            "duration": 900,
        },
    }
    assert active_profile(None, None) is None
    assert [profile_result(a) for a in ("Accepted", "Rejected", None)] == [
        "ACCEPTED",
        "REJECTED",
        "UNKNOWN",
    ]
