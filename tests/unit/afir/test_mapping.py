"""Unit and code conversions of the DATEX II mapping, what is left out of a publication, and
the delta feed's rules."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

from ocpikit.afir import codes
from ocpikit.afir.common import utc_offset, version_of
from ocpikit.afir.mobilithek import Dataset, site, table_publication
from ocpikit.afir.prices import energy_prices
from ocpikit.afir.status import LOOKBACK, SNAPSHOT_EVERY, delta_window, status_publication
from ocpikit.core.types import format_datetime
from tests.afir_schemas import json_errors, mobilithek_status

from .conftest import NOW


def _stations(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return list(doc["energyInfrastructureStation"])


def test_codes() -> None:
    assert codes.country_alpha2("DEU") == "DE" and codes.country_alpha2("XXX") is None
    assert codes.connector_type("IEC_62196_T2_COMBO") == "iec62196T2COMBO"
    assert codes.connector_type("DOMESTIC_F") == "domesticF"
    assert codes.connector_type("GBT_DC") == "other"
    assert codes.connector_format("CABLE", "DC") == "otherCable"
    assert codes.connector_format("CABLE", "AC_3_PHASE") == "cableMode3"
    assert codes.evse_status("OUTOFORDER") == "outOfOrder"
    assert codes.power_watts(
        {"max_voltage": 230, "max_amperage": 16, "power_type": "AC_3_PHASE"}
    ) == (11040, True)
    assert codes.power_watts(
        {"max_electric_power": 22000, "max_voltage": 400, "max_amperage": 32}
    ) == (22000, False)
    assert codes.enum_value("girocard", codes.PAYMENT_BRANDS) == {
        "value": "extendedG",
        "extendedValueG": "girocard",
    }
    assert utc_offset("Europe/Berlin", NOW) == "+01:00"
    assert utc_offset("Europe/Berlin", NOW.replace(month=7)) == "+02:00"
    assert utc_offset("Mars/Olympus", NOW) is None


def test_prices_units_and_conditions() -> None:
    tariff = {
        "tax_included": "YES",
        "last_updated": "2026-01-01T00:00:00Z",
        "elements": [
            {"price_components": [{"type": "ENERGY", "price": 0.49, "step_size": 1}]},
            {"price_components": [{"type": "TIME", "price": 3.0, "step_size": 60}]},
            {"price_components": [{"type": "FLAT", "price": 1.0, "step_size": 1}]},
            {
                "price_components": [{"type": "PARKING_TIME", "price": 6.0, "step_size": 60}],
                "restrictions": {
                    "start_time": "09:00",
                    "end_time": "18:00",
                    "day_of_week": ["MONDAY", "FRIDAY"],
                    "min_duration": 7200,
                },
            },
            {
                "price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}],
                "restrictions": {"max_power": 11.0},
            },
        ],
    }
    base = {"taxIncluded": True}
    assert energy_prices(tariff, "de") == [
        {"priceType": {"value": "pricePerKWh"}, "value": 0.49, **base},
        {"priceType": {"value": "pricePerMinute"}, "value": 0.05, **base},
        {"priceType": {"value": "basePrice"}, "value": 1.0, **base},
        {
            "priceType": {"value": "pricePerMinute"},
            "value": 0.1,
            **base,
            "additionalInformation": {
                "values": [{"lang": "de", "value": "parking fee per minute (OCPI PARKING_TIME)"}]
            },
            "overallPeriod": {
                "overallStartTime": "2026-01-01T00:00:00Z",
                "validPeriod": [
                    {
                        "recurringTimePeriodOfDay": [
                            {"startTimeOfPeriod": "09:00:00", "endTimeOfPeriod": "18:00:00"}
                        ],
                        "recurringDayWeekMonthPeriod": [
                            {
                                "comDayWeekMonth": {
                                    "applicableDay": [{"value": "monday"}, {"value": "friday"}]
                                }
                            }
                        ],
                    }
                ],
            },
            "timeBasedApplicability": {"fromMinute": 120},
        },
        # the max_power element is left out: the profile cannot state that condition
    ]


def test_site_mapping(demo: Dataset) -> None:
    loc = copy.deepcopy(dict(demo.locations[0]))
    loc["evses"][0]["connectors"][0].pop("max_electric_power")
    loc["evses"][0]["coordinates"] = {"latitude": "52.100000", "longitude": "13.200000"}
    s = site(loc, demo)
    stations = _stations(s)
    here = stations[0]["locationReference"]["locPointLocation"]["pointByCoordinates"]
    assert here["pointCoordinates"] == {"latitude": 52.1, "longitude": 13.2}  # the EVSE's own
    site_point = s["locationReference"]["locPointLocation"]["coordinatesForDisplay"]
    assert site_point["latitude"] == float(loc["coordinates"]["latitude"])
    assert s["idG"] == f"DE-OKT-{loc['id']}"
    address = s["locationReference"]["locPointLocation"]["locLocationExtensionG"][
        "FacilityLocation"
    ]["address"]
    assert address["countryCode"] == codes.country_alpha2(loc["country"])
    point = _stations(s)[0]["refillPoint"][0]["aegiElectricChargingPoint"]
    con = loc["evses"][0]["connectors"][0]
    phases = 3 if con["power_type"] == "AC_3_PHASE" else 1
    assert (
        point["connector"][0]["maxPowerAtSocket"]
        == con["max_voltage"] * con["max_amperage"] * phases
    )
    assert point["externalIdentifier"][0]["identifier"] == loc["evses"][0]["evse_id"]
    assert s["operator"]["afacAnOrganisation"]["legalName"]["values"][0]["value"] == "OK Test GmbH"


def test_versions_follow_static_content_only(demo: Dataset) -> None:
    loc = copy.deepcopy(dict(demo.locations[0]))
    before = site(loc, demo)
    loc["evses"][0]["status"] = "CHARGING"
    loc["evses"][0]["last_updated"] = format_datetime(NOW)
    assert site(loc, demo)["versionG"] == before["versionG"]  # a status is dynamic data
    loc["name"] = "Renamed"
    assert site(loc, demo)["versionG"] != before["versionG"]
    assert version_of({"a": 1}) == version_of({"a": 1, "lastUpdated": "x"})


def test_unpublished_and_restricted_locations_are_left_out(demo: Dataset) -> None:
    locs = [dict(loc) for loc in demo.locations[:3]]
    locs[0]["publish"] = False
    locs[1]["publish_allowed_to"] = [{"uid": "TOKEN1"}]
    ds = Dataset(locs, demo.tariffs, demo.supplement, NOW)
    table = table_publication(ds)["payload"]["aegiEnergyInfrastructureTablePublication"]
    sites = table["energyInfrastructureTable"][0]["energyInfrastructureSite"]
    assert [s["idG"] for s in sites] == [f"DE-OKT-{locs[2]['id']}"]


def test_delta_window_rules() -> None:
    assert delta_window(None, NOW).since is None
    assert delta_window(NOW - SNAPSHOT_EVERY - timedelta(seconds=1), NOW).since is None
    w = delta_window(NOW - timedelta(minutes=5), NOW)
    assert w.since == NOW - timedelta(minutes=5) and w.until == NOW
    assert delta_window(NOW + timedelta(hours=1), NOW).since == NOW  # from the future: empty


def _site_ids(doc: dict[str, Any]) -> list[str]:
    pub = doc["messageContainer"]["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
    return [s["reference"]["idG"] for s in pub["energyInfrastructureSiteStatus"]]


def test_delta_holds_changed_locations_and_users_of_changed_tariffs(demo: Dataset) -> None:
    locs = [copy.deepcopy(dict(loc)) for loc in demo.locations[:10]]
    locs[3]["evses"][0]["status"] = "CHARGING"
    locs[3]["evses"][0]["last_updated"] = format_datetime(NOW - timedelta(seconds=2))
    ds = Dataset(locs, demo.tariffs, demo.supplement, NOW)
    window = delta_window(NOW - timedelta(seconds=10), NOW)
    assert _site_ids(status_publication(ds, window)) == [f"DE-OKT-{locs[3]['id']}"]
    changed = frozenset({("DE", "OKT", "DC-FAST")})
    users = [
        f"DE-OKT-{loc['id']}"
        for loc in locs
        if any("DC-FAST" in c.get("tariff_ids", []) for e in loc["evses"] for c in e["connectors"])
    ]
    assert users
    got = _site_ids(status_publication(ds, window, changed_tariffs=changed))
    assert set(got) == set(users) | {f"DE-OKT-{locs[3]['id']}"}


def test_delta_reports_closed_locations_and_removed_evses(demo: Dataset) -> None:
    locs = [copy.deepcopy(dict(loc)) for loc in demo.locations[:4]]
    stamp = format_datetime(NOW - timedelta(seconds=2))
    locs[0].update(publish=False, last_updated=stamp)
    locs[1].update(publish_allowed_to=[{"uid": "T1"}], last_updated=stamp)
    locs[2]["evses"][0].update(status="REMOVED", last_updated=stamp)
    ds = Dataset(locs, demo.tariffs, demo.supplement, NOW)
    delta = status_publication(ds, delta_window(NOW - timedelta(seconds=10), NOW))
    assert json_errors(mobilithek_status(), delta) == []
    pub = delta["messageContainer"]["payload"][0]["aegiEnergyInfrastructureStatusPublication"]
    found = {s["reference"]["idG"]: s for s in pub["energyInfrastructureSiteStatus"]}
    assert set(found) == {f"DE-OKT-{locs[i]['id']}" for i in range(3)}

    def statuses(i: int) -> list[str]:
        return [
            rp["aegiElectricChargingPointStatus"]["status"]["value"]
            for st in found[f"DE-OKT-{locs[i]['id']}"]["energyInfrastructureStationStatus"]
            for rp in st["refillPointStatus"]
        ]

    assert set(statuses(0)) == set(statuses(1)) == {"removed"}
    # a changed location brings all its EVSEs: the removed one says so, the others their status
    assert statuses(2)[0] == "removed" and "removed" not in statuses(2)[1:]
    assert len(statuses(2)) == len(locs[2]["evses"])
    full = status_publication(ds, delta_window(None, NOW))
    assert _site_ids(full) == [f"DE-OKT-{locs[i]['id']}" for i in (2, 3)]


def test_delta_looks_back_a_minute_and_takes_future_stamps(demo: Dataset) -> None:
    locs = [copy.deepcopy(dict(loc)) for loc in demo.locations[:4]]
    since = NOW - timedelta(seconds=5)
    # stamped before the previous poll read, committed after it: still in this delta
    locs[0]["last_updated"] = format_datetime(since - LOOKBACK + timedelta(seconds=1))
    locs[1]["last_updated"] = format_datetime(since - LOOKBACK - timedelta(seconds=1))
    locs[2]["last_updated"] = format_datetime(NOW + timedelta(minutes=3))  # sender's clock ahead
    ds = Dataset(locs, demo.tariffs, demo.supplement, NOW)
    got = _site_ids(status_publication(ds, delta_window(since, NOW)))
    assert got == [f"DE-OKT-{locs[i]['id']}" for i in (0, 2)]
