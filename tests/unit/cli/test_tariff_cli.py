"""``ocpikit tariff price`` as a user (or an acceptance check) runs it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ocpikit.cli.main import main
from tests.unit.tariffs.split_scenarios import SCENARIOS, Scenario, as_2_1_1, as_2_3_0
from tests.unit.tariffs.tariff_corpus import at, case_index, load_case

COST_FIELDS = (
    "total_energy_cost",
    "total_time_cost",
    "total_parking_cost",
    "total_fixed_cost",
    "total_reservation_cost",
)


def _write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


def _price(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main(["tariff", "price", *args, "--json"]) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


@pytest.mark.parametrize(
    "name", [e["file"] for e in case_index() if e["confidence"] in ("high", "medium")]
)
def test_every_pass_fail_case_through_the_cli(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = load_case(name)
    args = ["--cdr", _write(tmp_path, "cdr.json", case["cdr_or_session"])]
    args += ["--time-zone", case["time_zone"]]
    if case["tariff"] is not None:
        args += ["--tariff", _write(tmp_path, "tariff.json", case["tariff"])]
    out = _price(capsys, *args)
    assert set(COST_FIELDS) <= set(out)
    for key in (*COST_FIELDS, "total_cost", "total_energy", "total_time", "total_parking_time"):
        assert key in out
    total = case["expected"]["total_cost"]
    d = case["comparison"]["decimals"]
    if isinstance(total, (int, float)):
        assert at(out["total_cost"]["excl_vat"], d) == at(total, d)
    elif "excl_vat" in total:
        assert at(out["total_cost"]["excl_vat"], d) == at(total["excl_vat"], d)
        if isinstance(total.get("incl_vat"), (int, float)):
            assert at(out["total_cost"]["incl_vat"], d) == at(total["incl_vat"], d)
    assert isinstance(out["breakdown"], list) and out["breakdown"]


def test_tariff_list_envelope_and_2_3_0_form(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = load_case("spec__tariff4_complex__saturday_1330_114min_43A_71min_parking.json")
    other = {
        **case["tariff_v230"],
        "id": "OTHER",
        "elements": [{"price_components": [{"type": "FLAT", "price": 99, "step_size": 1}]}],
    }
    envelope = {
        "data": [other, case["tariff_v230"]],
        "status_code": 1000,
        "timestamp": "2024-01-01T00:00:00Z",
    }
    out = _price(
        capsys,
        "--cdr",
        _write(tmp_path, "c.json", case["cdr_or_session"]),
        "--tariff",
        _write(tmp_path, "t.json", envelope),
        "--time-zone",
        "UTC",
    )
    assert out["total_cost"]["excl_vat"] == pytest.approx(12.375)
    assert out["input"]["tariff_versions"] == ["2.3.0", "2.3.0"]
    assert out["total_parking_cost"] == {"excl_vat": 7.5, "incl_vat": pytest.approx(8.25)}


def test_session_file_and_readable_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = load_case("spec__tariff9_start_fee__20kwh.json")
    cdr = case["cdr_or_session"]
    session = {
        k: v
        for k, v in cdr.items()
        if k not in ("cdr_location", "total_energy", "total_time", "total_parking_time")
    }
    session.update(
        kwh=20, location_id="LOC1", evse_uid="3256", connector_id="1", status="COMPLETED"
    )
    path = _write(tmp_path, "s.json", session)
    tariff = _write(tmp_path, "t.json", case["tariff"])
    out = _price(capsys, "--cdr", path, "--tariff", tariff)
    assert out["input"]["object"] == "Session" and out["total_cost"]["excl_vat"] == 5.5
    assert main(["tariff", "price", "--session", path, "--tariff", tariff]) == 0
    table = capsys.readouterr().out
    assert "total_cost" in table and "5.5000" in table and "FLAT" in table


def test_time_zone_option_changes_the_price(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = load_case("spec-cdrs__step_size_time_6_plus_22min.json")
    cdr = _write(tmp_path, "c.json", case["cdr_or_session"])
    tariff = _write(tmp_path, "t.json", case["tariff"])
    utc = _price(capsys, "--cdr", cdr, "--tariff", tariff, "--time-zone", "UTC")
    # in New York both periods are before 17:00 local: all 30 min at 5.00/h
    ny = _price(capsys, "--cdr", cdr, "--tariff", tariff, "--time-zone", "America/New_York")
    assert at(utc["total_cost"]["excl_vat"], 2) == Decimal("3.30")
    assert at(ny["total_cost"]["excl_vat"], 2) == Decimal("2.50")
    assert ny["time_zone"] == "America/New_York"


def test_policy_option_and_version_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = load_case("spec__tariff14_step_size__ex1_1655_10min_charge_2min_park.json")
    cdr = _write(tmp_path, "c.json", case["cdr_or_session"])
    tariff = _write(tmp_path, "t.json", case["tariff"])
    out = _price(capsys, "--cdr", cdr, "--tariff", tariff, "--policy", "step_size=session_total")
    assert at(out["total_cost"]["excl_vat"], 3) == Decimal("0.383")
    assert out["policy"] == {"step_size": "session_total"}
    forced = _price(
        capsys, "--cdr", cdr, "--tariff", tariff, "--version", "2.2.1", "--decimals", "2"
    )
    assert forced["total_cost"]["excl_vat"] == 0.55 and forced["input"]["version"] == "2.2.1"


def test_bad_inputs_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case = load_case("spec__tariff9_start_fee__20kwh.json")
    cdr = _write(tmp_path, "c.json", case["cdr_or_session"])
    assert main(["tariff", "price", "--cdr", cdr]) == 2  # no tariff anywhere
    assert main(["tariff", "price", "--cdr", str(tmp_path / "missing.json")]) == 2
    tariff = _write(tmp_path, "t.json", case["tariff"])
    assert main(["tariff", "price", "--cdr", cdr, "--tariff", tariff, "--policy", "x=y"]) == 2
    assert "error" in capsys.readouterr().err


# --- periods crossing a tariff boundary, as 2.1.1 and 2.3.0 input ---------------------------


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_split_scenario_as_2_1_1_cdr_with_location_zone(
    s: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The 2.1.1 CDR embeds the tariff and a Location whose time_zone is used (no --time-zone);
    hand-computed totals in ``split_scenarios`` (each scenario's ``why``)."""
    out = _price(capsys, "--cdr", _write(tmp_path, "c.json", as_2_1_1(s)))
    assert out["input"]["version"] == "2.1.1" and out["input"]["validated"]
    assert out["time_zone"] == s.zone
    assert at(out["total_cost"]["excl_vat"], 2) == Decimal(s.total), s.why
    assert len(out["breakdown"][0]["sub_periods"]) == s.subs


@pytest.mark.parametrize("s", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_split_scenario_as_2_3_0_inputs(
    s: Scenario, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same sessions as 2.3.0 tariff (tax_included NO) and CDR, zone on the command line;
    the period-start reading stays available as a policy."""
    t, c = as_2_3_0(s)
    args = ["--cdr", _write(tmp_path, "c.json", c), "--tariff", _write(tmp_path, "t.json", t)]
    args += ["--time-zone", s.zone]
    out = _price(capsys, *args)
    assert out["input"]["version"] == "2.3.0" and out["input"]["validated"]
    assert at(out["total_cost"]["excl_vat"], 2) == Decimal(s.total), s.why
    old = _price(capsys, *args, "--policy", "period-start")
    assert at(old["total_cost"]["excl_vat"], 2) == Decimal(s.by_start), s.why


def test_json_money_is_exact_with_a_half_up_2_decimal_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """tariff_3: 20.45 kWh -> 20.5 kWh x 0.25 = 5.125 + FLAT 0.50 = 5.625 exact; the spec's
    5.63 is its half-up rounding. The contract keys keep the exact amount (cases compare at 3
    or 4 decimals too); ``rounded`` has it at 2 decimals half-up, and ``--decimals 2`` rounds
    the contract keys themselves."""
    case = load_case("spec__tariff3_alt_url__20_45kwh.json")
    args = ["--cdr", _write(tmp_path, "c.json", case["cdr_or_session"])]
    args += ["--tariff", _write(tmp_path, "t.json", case["tariff"]), "--time-zone", "UTC"]
    out = _price(capsys, *args)
    assert out["total_cost"]["excl_vat"] == 5.625
    assert out["rounded"]["total_cost"] == {"excl_vat": 5.63, "incl_vat": 6.24}
    assert out["rounded"]["total_energy_cost"]["excl_vat"] == 5.13  # 5.125
    assert at(out["total_cost"]["excl_vat"], 2) == Decimal("5.63")
    assert round(out["total_cost"]["excl_vat"], 2) == 5.62  # why the rounded copy exists
    rounded = _price(capsys, *args, "--decimals", "2")
    assert rounded["total_cost"] == {"excl_vat": 5.63, "incl_vat": 6.24}


def test_half_up_ignores_the_noise_of_inexact_quotients() -> None:
    from ocpikit.tariffs.result import json_number

    assert json_number(Decimal("0.1349999999999999999999999999"), 2) == 0.14
    assert json_number(Decimal("5.625"), 2) == 5.63
    assert json_number(Decimal("0.03125"), 3) == 0.031
