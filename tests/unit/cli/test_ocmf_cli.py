"""``ocpikit ocmf verify``: exit codes 0 / 1 / 2, readable and JSON output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.cli.main import main


def _sample(data_dir: Path, sample_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((data_dir / "ocmf-samples" / f"{sample_id}.json").read_text())
    return data


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


def test_valid_ocmf_string_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = _sample(data_dir, "road-labs__basic_brainpool384r1")
    path = tmp_path / "record.ocmf"
    path.write_text(sample["assembled_ocmf"] + "\n")
    code, out = _run(
        ["ocmf", "verify", str(path), "--public-key", sample["public_key_spki_hex"]], capsys
    )
    assert code == 0
    assert "VALID" in out and "brainpoolP384r1" in out


def test_tampered_record_exits_1_with_json(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = _sample(data_dir, "road-labs__tampered_payload_secp256r1")
    path = tmp_path / "record.ocmf"
    path.write_text(sample["assembled_ocmf"])
    code, out = _run(
        ["ocmf", "verify", str(path), "--public-key", sample["public_key_spki_hex"], "--json"],
        capsys,
    )
    assert code == 1
    data = json.loads(out)
    assert (
        data["status"] == "invalid_signature" and data["valid"] is False and data["exit_code"] == 1
    )


def test_missing_key_exits_2(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = _sample(data_dir, "road-labs__basic_secp256r1")
    path = tmp_path / "record.ocmf"
    path.write_text(sample["assembled_ocmf"])
    code, out = _run(["ocmf", "verify", str(path), "--json"], capsys)
    assert code == 2
    assert json.loads(out)["status"] == "no_public_key"


def _cdr(data_dir: Path, total_energy: float) -> dict[str, Any]:
    raw = (
        data_dir / "ocmf-samples" / "raw" / "safe-ev-transparenzsoftware" / "VW_OCMF_load.xml"
    ).read_text()
    ocmf = raw[raw.index("OCMF|") : raw.index("</signedData>")]
    key = raw[raw.index("<publicKey") : raw.index("</publicKey>")].split(">")[1]
    return {
        "country_code": "DE",
        "party_id": "ABC",
        "id": "CDR-1",
        "total_energy": total_energy,
        "signed_data": {
            "encoding_method": "OCMF",
            "public_key": key,
            "signed_values": [{"nature": "End", "plain_data": "", "signed_data": ocmf}],
        },
    }


def test_cdr_energy_match_and_mismatch(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_cdr(data_dir, 1.101)))
    code, out = _run(["ocmf", "verify", str(good)], capsys)
    assert code == 0
    assert "1.101 kWh" in out and "matches" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_cdr(data_dir, 2.5)))
    code, out = _run(["ocmf", "verify", str(bad), "--json"], capsys)
    assert code == 1
    data = json.loads(out)
    assert data["status"] == "energy_mismatch"
    assert data["energy"]["signed_kwh"] == "1.101" and data["energy"]["matches"] is False
    code, _ = _run(["ocmf", "verify", str(bad), "--tolerance", "1.5"], capsys)
    assert code == 0


def test_safe_xml_with_a_tampered_record(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = (
        data_dir / "ocmf-samples" / "raw" / "safe-ev-transparenzsoftware" / "test_ocmf_ebee_02.xml"
    )
    code, out = _run(["ocmf", "verify", str(path)], capsys)
    assert code == 1
    assert "INVALID_SIGNATURE" in out


def test_unsupported_format_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "signed.json"
    path.write_text(
        json.dumps(
            {
                "encoding_method": "Alfen Eichrecht",
                "signed_values": [
                    {"nature": "End", "plain_data": "", "signed_data": "AP;0;3;ALCV3A"}
                ],
            }
        )
    )
    code, out = _run(["ocmf", "verify", str(path)], capsys)
    assert code == 2
    assert "not supported: Alfen Eichrecht" in out


def test_unreadable_input_and_missing_file_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "junk.json"
    path.write_text("{not json")
    code, out = _run(["ocmf", "verify", str(path), "--json"], capsys)
    assert code == 2 and json.loads(out)["status"] == "malformed"
    assert main(["ocmf", "verify", str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
