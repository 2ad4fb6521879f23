"""The pure pieces of an emulated CPO with simulated charge points: the charge points as
Locations, OCPP values read as OCPI ones, a transaction as a Session and a CDR, the CDR's price
(held to ocpikit's own CDR check, which must find nothing), and the token decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ocpikit.eichrecht import verify_cdr
from ocpikit.models import model_for
from ocpikit.tariffs.reconcile import check_cdr
from ocpikit.testing.chargepoint.ocmf import TEST_PUBLIC_KEY, signed_reading
from ocpikit.testing.emulator.authorization import cdr_token, local_decision, stored_token
from ocpikit.testing.emulator.charging import Charge, session_id
from ocpikit.testing.emulator.config import ConfigError, EmulatorConfig
from ocpikit.testing.emulator.data import in_version
from ocpikit.testing.emulator.ocpp_values import (
    authorization_status,
    command_result,
    energy_readings,
    evse_status,
    signed_records,
)
from ocpikit.testing.emulator.pricing import UnsupportedTariff, price
from ocpikit.testing.emulator.sites import Site, plan_sites
from ocpikit.testing.emulator.state import Emulator

VERSIONS = ["2.1.1", "2.2.1", "2.3.0"]
T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
TOKEN = {
    "country_code": "DE",
    "party_id": "MSP",
    "uid": "RFID-1",
    "type": "RFID",
    "contract_id": "DE-MSP-C1",
}


def _emulator(version: str = "2.2.1", **kw: Any) -> Emulator:
    config = EmulatorConfig(role="cpo", version=version, chargepoints=2, connectors=3, **kw)
    return Emulator(config, "http://emu.test")


def _sites(emu: Emulator) -> list[Site]:
    cfg = emu.config
    return plan_sites(
        emu.data, cfg.party, cfg.chargepoints, cfg.connectors, seed=cfg.seed, version=cfg.version
    )


# --- the charge points as Locations ---------------------------------------------------------
@pytest.mark.parametrize("version", VERSIONS)
def test_each_charge_point_is_a_location_with_one_evse_per_connector(version: str) -> None:
    emu = _emulator(version)
    before = [e.data for e in emu.data.entries("locations")[2:]]
    sites = _sites(emu)
    assert [s.id for s in sites] == ["ECP-CP01", "ECP-CP02"]
    assert [s.location_id for s in sites] == ["ECP-LOC-0001", "ECP-LOC-0002"]
    for site in sites:
        served = site.entry.data
        model_for(version, "Location").model_validate(served)
        assert [e["uid"] for e in served["evses"]] == list(site.evse_uids)
        assert site.evse_uids == tuple(f"{site.location_id}-E{n}" for n in (1, 2, 3))
        assert all(e["status"] == "UNKNOWN" for e in served["evses"])
        assert all([c["id"] for c in e["connectors"]] == ["1"] for e in served["evses"])
        assert site.number_of(site.evse_uids[2].lower()) == 3 and site.evse_uid(4) is None
    # the other locations are served as generated
    assert [e.data for e in emu.data.entries("locations")[2:]] == before


def test_a_status_change_is_served_and_bubbles_last_updated_up() -> None:
    emu = _emulator("2.1.1")
    [site, _] = _sites(emu)
    when = T0 + timedelta(milliseconds=250)
    assert site.set_status(2, "OUTOFORDER", when, "2.1.1") is True
    assert site.set_status(2, "OUTOFORDER", when, "2.1.1") is False
    served = site.entry.data
    assert served["evses"][1]["status"] == "OUTOFORDER"
    assert (
        served["evses"][1]["last_updated"] == served["last_updated"] == "2026-03-01T10:00:00.250Z"
    )
    assert site.entry.last_updated == when


def test_charge_points_need_a_cpo_with_enough_locations() -> None:
    with pytest.raises(ConfigError, match="only an emulated cpo"):
        EmulatorConfig(role="emsp", chargepoints=1)
    with pytest.raises(ConfigError, match="locations=3"):
        EmulatorConfig(role="cpo", chargepoints=3, counts={"locations": 2})
    with pytest.raises(ConfigError, match="--ocpp"):
        EmulatorConfig(role="cpo", chargepoints=1, ocpp="1.5")
    with pytest.raises(ConfigError, match="--connectors"):
        EmulatorConfig(role="cpo", chargepoints=1, connectors=0)
    assert EmulatorConfig(role="emsp", ocpp="x").chargepoints == 0  # ignored without them


# --- OCPP values ------------------------------------------------------------------------------
def test_statuses_authorizations_and_answers() -> None:
    assert evse_status("1.6", "Preparing") == evse_status("2.0.1", "Occupied") == "CHARGING"
    assert evse_status("1.6", "Faulted") == "OUTOFORDER"
    assert evse_status("2.0.1", "Unavailable") == "INOPERATIVE"
    assert evse_status("2.0.1", "Charging") == "UNKNOWN"  # a 1.6 word, not 2.0.1's
    assert authorization_status("1.6", "NO_CREDIT") == "Invalid"
    assert authorization_status("2.0.1", "NO_CREDIT") == "NoCredit"
    assert authorization_status("1.6", "SOMETHING") == "Invalid"
    assert command_result("Accepted") == command_result("Unlocked") == "ACCEPTED"
    assert command_result("Rejected") == "REJECTED"
    assert command_result(None) == command_result("Odd") == "FAILED"


def test_energy_and_signed_readings_of_both_versions() -> None:
    v16 = [
        {
            "timestamp": "2026-03-01T10:05:00.120Z",
            "sampled_value": [
                {"value": "OCMF|{}|{}", "format": "SignedData"},
                {"value": "230", "measurand": "Voltage"},
                {"value": "5", "phase": "L1"},
                {"value": "1.5", "unit": "kWh"},
            ],
        },
        {"timestamp": "2026-03-01T10:01:00Z", "sampled_value": [{"value": "1200"}]},
        {"timestamp": "not a time", "sampled_value": [{"value": "9"}]},
        {"timestamp": "2026-03-01T10:09:00Z", "sampled_value": [{"value": "NaN"}]},
    ]
    assert energy_readings(v16) == [
        (T0 + timedelta(minutes=1), Decimal(1200)),
        (T0 + timedelta(minutes=5, milliseconds=120), Decimal("1500.0")),
    ]
    assert signed_records(v16) == [("OCMF|{}|{}", None)]
    v201 = [
        {
            "timestamp": "2026-03-01T10:00:00Z",
            "sampled_value": [
                {
                    "value": 2.5,
                    "unit_of_measure": {"unit": "kWh", "multiplier": 1},
                    "signed_meter_value": {
                        "signed_meter_data": "OCMF|a|b",
                        "encoding_method": "OCMF",
                        "public_key": "KEY",
                    },
                }
            ],
        }
    ]
    assert energy_readings(v201) == [(T0, Decimal("25000.0"))]
    assert signed_records(v201) == [("OCMF|a|b", "KEY")]


# --- a transaction as a Session and a CDR ---------------------------------------------------
def _charge(site: Site, n: int = 1, method: str = "COMMAND") -> Charge:
    charge = Charge(site, n, "17", dict(TOKEN), method, "AUTH-9", T0, Decimal(1000))
    assert charge.reading(Decimal(2834), T0 + timedelta(minutes=10)) is not None
    assert charge.reading(Decimal(2900), T0 + timedelta(minutes=10)) is None  # not newer
    assert charge.reading(Decimal(2000), T0 + timedelta(minutes=11)) is None  # meter went back
    assert charge.reading(Decimal(4667), T0 + timedelta(minutes=20)) is not None
    # the end a millisecond after the last reading, with energy: a period of its own
    last = charge.finish(Decimal(4668), T0 + timedelta(minutes=20))
    assert last is not None and charge.end == T0 + timedelta(minutes=20, milliseconds=1)
    begin = signed_reading(site.id, "RFID-1", "B", T0, 1000, 1)
    end = signed_reading(site.id, "RFID-1", "E", T0 + timedelta(minutes=20), 4668, 2)
    charge.signed += [begin, end]
    charge.public_key = TEST_PUBLIC_KEY
    return charge


def test_periods_add_up_to_the_energy_and_the_ids_fit() -> None:
    [site, _] = _sites(_emulator())
    charge = _charge(site)
    energies = [
        Decimal(str(d["volume"]))
        for p in charge.periods
        for d in p["dimensions"]
        if d["type"] == "ENERGY"
    ]
    assert energies == [Decimal("1.834"), Decimal("1.833"), Decimal("0.001")]
    assert sum(energies) == charge.kwh == Decimal("3.668")
    assert {p["tariff_id"] for p in charge.periods} == {site.tariff_id}
    assert charge.periods[0]["start_date_time"] == "2026-03-01T10:00:00Z"
    assert session_id("CP", "7") == "CP-7"
    long = session_id("ECP-CP01", "f" * 40)
    assert len(long) <= 36 and long == session_id("ECP-CP01", "f" * 40)


@pytest.mark.parametrize("version", VERSIONS)
def test_session_patch_and_cdr_are_valid_in_every_version(version: str) -> None:
    emu = _emulator(version)
    [site, _] = _sites(emu)
    charge = _charge(site)
    tariff = emu.data.find("tariffs", site.tariff_id or "")
    assert tariff is not None
    costs = charge.costs(tariff.data)
    session = in_version("sessions", charge.session(costs), version, site.location)
    model_for(version, "Session").model_validate(session)
    cdr = in_version("cdrs", charge.cdr(tariff.data, costs), version, site.location)
    model_for(version, "CDR").model_validate(cdr)
    if version == "2.1.1":  # sessions are PUT whole in 2.1.1
        assert session["auth_method"] == cdr["auth_method"] == "AUTH_REQUEST"  # no COMMAND
        assert not {"session_id", "signed_data", "authorization_reference"} & set(cdr)
        assert cdr["total_cost"] == float(costs.total) if costs else False
        assert [e["uid"] for e in cdr["location"]["evses"]] == [site.evse_uids[0]]
    else:
        patch = in_version("sessions", charge.session_patch(charge.periods[-1:], costs), version)
        assert patch["status"] == "COMPLETED" and "last_updated" in patch
        assert cdr["session_id"] == session["id"] == "ECP-CP01-17"
        assert cdr["tariffs"] == [tariff.data]
        assert [v["nature"] for v in cdr["signed_data"]["signed_values"]] == ["Start", "End"]
        key = "before_taxes" if version == "2.3.0" else "excl_vat"
        assert key in cdr["total_cost"] and key in patch["total_cost"]


@pytest.mark.parametrize("version", ["2.2.1", "2.3.0"])
@pytest.mark.parametrize("method", ["COMMAND", "AUTH_REQUEST", "WHITELIST"])
def test_ocpikits_cdr_check_finds_nothing_and_the_signed_data_verifies(
    version: str, method: str
) -> None:
    emu = _emulator(version)
    [_, site] = _sites(emu)
    charge = _charge(site, 2, method)
    tariff = emu.data.find("tariffs", site.tariff_id or "")
    assert tariff is not None
    costs = charge.costs(tariff.data)
    session = in_version("sessions", charge.session(costs), version, site.location)
    cdr = in_version("cdrs", charge.cdr(tariff.data, costs), version, site.location)
    report = check_cdr(cdr, [tariff.data], session, origin=version)
    assert report.ok, [d.to_json() for d in report.discrepancies]
    assert report.result is not None
    assert report.result.total_cost.excl == costs.total if costs else False
    assert verify_cdr(cdr).status.value == "valid"


# --- the price --------------------------------------------------------------------------------
TARIFF = {
    "currency": "EUR",
    "elements": [
        {"price_components": [{"type": "FLAT", "price": 0.5, "step_size": 1}]},
        {"price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1000}]},
        {
            "price_components": [{"type": "PARKING_TIME", "price": 2.0, "step_size": 300}],
            "restrictions": {"min_duration": 3600},
        },
        {"price_components": [{"type": "PARKING_TIME", "price": 1.0, "step_size": 60}]},
    ],
}


def _period(minutes: float, **dims: float) -> dict[str, Any]:
    start = T0 + timedelta(minutes=minutes)
    return {
        "start_date_time": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dimensions": [{"type": k, "volume": v} for k, v in dims.items()],
    }


def test_price_by_element_restriction_and_step_size() -> None:
    periods = [
        _period(0, ENERGY=2.2, TIME=0.5),
        _period(30, PARKING_TIME=0.5),  # before an hour: the second parking element
        _period(60, ENERGY=0.5, PARKING_TIME=0.25),  # from an hour on: the first
    ]
    costs = price(TARIFF, periods, T0)
    assert costs.fixed == Decimal("0.5")
    assert costs.energy == Decimal("0.9")  # 2.7 kWh in steps of 1 kWh: 3 kWh
    assert costs.time == 0  # no element prices TIME
    # 0.5 h at 1.00/h (steps of 60 s) + 0.25 h at 2.00/h (steps of 300 s)
    assert costs.parking == Decimal("1.0")
    assert costs.total == Decimal("2.4")


def test_a_restriction_it_cannot_read_is_refused() -> None:
    tariff = {
        "elements": [
            {
                "price_components": [{"type": "ENERGY", "price": 0.3, "step_size": 1}],
                "restrictions": {"start_time": "18:00"},
            }
        ]
    }
    with pytest.raises(UnsupportedTariff, match="start_time"):
        price(tariff, [_period(0, ENERGY=1)], T0)


# --- tokens -----------------------------------------------------------------------------------
def test_token_decisions_and_cdr_tokens() -> None:
    assert local_decision({"valid": False, "whitelist": "ALWAYS"}) == "BLOCKED"
    assert local_decision({"valid": True}) == "ALLOWED"
    assert local_decision({"valid": True, "whitelist": "ALWAYS"}) == "ALLOWED"
    assert local_decision({"valid": True, "whitelist": "ALLOWED_OFFLINE"}) is None
    assert local_decision({"valid": True, "whitelist": "NEVER"}) is None
    v211 = {"uid": "abc", "type": "RFID", "auth_id": "NL-EMS-1", "valid": True}
    assert cdr_token(v211, "NL-EMS") == {
        "country_code": "NL",
        "party_id": "EMS",
        "uid": "abc",
        "type": "RFID",
        "contract_id": "NL-EMS-1",
    }
    emu = _emulator()
    emu.stored[("tokens", "DE-MSP", "RFID-1")] = TOKEN
    assert stored_token(emu, "rfid-1") == ("DE-MSP", TOKEN)
    assert stored_token(emu, "RFID-2") is None
