"""``ocpikit cdr build`` / ``check`` / ``invoice``: exit codes and output a user relies on."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.cli.main import main
from tests.unit.tariffs.test_reconcile import SESSION, TARIFF, ZONE


def _write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


def _build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str = "2.2.1"
) -> dict[str, Any]:
    args = ["cdr", "build", "--session", _write(tmp_path, "s.json", SESSION)]
    args += [
        "--tariff",
        _write(tmp_path, "t.json", TARIFF),
        "--version",
        version,
        "--time-zone",
        ZONE,
    ]
    assert main(args) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


@pytest.mark.parametrize("version", ["2.1.1", "2.2.1", "2.3.0"])
def test_build_writes_the_asked_version(
    version: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdr = _build(tmp_path, capsys, version)
    if version == "2.1.1":
        assert "stop_date_time" in cdr and cdr["total_cost"] == pytest.approx(9.33, abs=0.005)
    elif version == "2.2.1":
        assert cdr["total_cost"]["excl_vat"] == pytest.approx(9.33, abs=0.005)
        assert cdr["total_energy_cost"] == {"excl_vat": 7, "incl_vat": 8.47}
    else:
        assert cdr["total_cost"]["before_taxes"] == pytest.approx(9.33, abs=0.005)


def test_build_then_check_reconciles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cdr = _build(tmp_path, capsys)
    path = _write(tmp_path, "c.json", cdr)
    session = _write(tmp_path, "s.json", SESSION)
    assert main(["cdr", "check", path, "--session", session, "--time-zone", ZONE, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["reconciles"] is True and report["discrepancies"] == []


def test_check_reports_discrepancies_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cdr = _build(tmp_path, capsys)
    bad = copy.deepcopy(cdr)
    bad["total_cost"] = {"excl_vat": 20, "incl_vat": 24.2}
    bad["session_id"] = "WRONG"
    path = _write(tmp_path, "c.json", bad)
    session = _write(tmp_path, "s.json", SESSION)
    tariff = _write(tmp_path, "t.json", TARIFF)
    args = ["cdr", "check", path, "--tariff", tariff, "--session", session, "--time-zone", ZONE]
    assert main([*args, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    codes = {d["code"] for d in report["discrepancies"]}
    assert "session_id" in codes and "cost" in codes
    assert report["amount_at_stake"] == pytest.approx(20 - 9.3333, abs=0.001)
    assert main(args) == 1
    text = capsys.readouterr().out
    assert "discrepancies" in text and "session_id" in text


def test_check_of_a_spec_cdr_with_embedded_tariff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.unit.tariffs.tariff_corpus import load_case

    case = load_case("spec-2.2.1__cdr_example.json")
    path = _write(tmp_path, "c.json", case["cdr_or_session"])
    assert main(["cdr", "check", path]) == 0
    assert "reconciles" in capsys.readouterr().out


def test_invoice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cdr = _build(tmp_path, capsys, "2.3.0")
    record = {
        "country_code": "NL",
        "party_id": "TST",
        "id": "R1",
        "invoice_id": "INV-9",
        "cdrs": [cdr["id"]],
        "last_updated": "2024-07-01T00:00:00Z",
    }
    rec = _write(tmp_path, "r.json", record)
    cdrs = _write(tmp_path, "cdrs.json", [cdr])
    total = str(cdr["total_cost"]["before_taxes"])
    assert main(["cdr", "invoice", rec, "--cdrs", cdrs, "--total", total, "--time-zone", ZONE]) == 0
    capsys.readouterr()
    assert main(["cdr", "invoice", rec, "--cdrs", cdrs, "--total", "1", "--json"]) == 1
    assert "invoice_total" in capsys.readouterr().out
