"""``ocpikit validate`` and ``ocpikit convert`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocpikit.cli.main import main
from ocpikit.testing.spec_examples import markdown_json_blocks


def _write(tmp_path: Path, name: str, value: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(value))
    return str(path)


@pytest.fixture
def location_221(data_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (data_dir / "spec/2.2.1/examples/location_example.json").read_text()
    )
    return data


@pytest.fixture
def location_211(data_dir: Path) -> dict[str, Any]:
    blocks = markdown_json_blocks((data_dir / "spec/2.1.1/examples/mod_locations.md").read_text())
    return next(b for b in blocks if isinstance(b, dict) and "evses" in b)


def test_valid_file_prints_valid(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "loc.json", location_221)
    assert main(["validate", path, "--version", "2.2.1", "--object", "Location"]) == 0
    assert capsys.readouterr().out.strip() == "valid"


def test_each_problem_starts_with_its_json_path(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    location_221["evses"][0]["connectors"][0]["max_voltage"] = "high"
    location_221["evses"][1]["status"] = "BROKEN"
    location_221["name"] = "x" * 256
    del location_221["city"]
    location_221["coordinates"]["latitude"] = "51.04"
    location_221["last_updated"] = "yesterday"
    path = _write(tmp_path, "loc.json", location_221)
    assert main(["validate", path, "--version", "2.2.1"]) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    starts = {line.split(":")[0] for line in lines}
    assert {
        "evses[0].connectors[0].max_voltage",
        "evses[1].status",
        "name",
        "city",
        "coordinates.latitude",
        "last_updated",
    } <= starts


def test_object_kind_is_detected_and_named_on_stderr(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    del location_221["city"]  # an incomplete Location is still recognised as a Location
    path = _write(tmp_path, "loc.json", location_221)
    assert main(["validate", path, "--version", "2.2.1"]) == 1
    captured = capsys.readouterr()
    assert "Location" in captured.err
    assert captured.out.strip() == "city: Field required"


def test_list_and_envelope_inputs(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    bad = json.loads(json.dumps(location_221))
    bad["evses"][0]["uid"] = 7
    envelope = {
        "data": [location_221, bad],
        "status_code": 1000,
        "timestamp": "2024-01-01T00:00:00Z",
    }
    path = _write(tmp_path, "page.json", envelope)
    assert main(["validate", path, "--version", "2.2.1", "--object", "Location"]) == 1
    assert capsys.readouterr().out.strip() == "[1].evses[0].uid: Input should be a valid string"


def test_not_json_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "x.json"
    path.write_text("{not json")
    assert main(["validate", str(path), "--version", "2.2.1"]) == 1
    assert "not valid JSON" in capsys.readouterr().out


def test_convert_up_prints_head_json_and_losses(
    tmp_path: Path, location_211: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    location_211["x_vendor_field"] = {"kept": True}
    path = _write(tmp_path, "loc.json", location_211)
    code = main(["convert", path, "--from", "2.1.1", "--to", "2.3.0", "--party", "BE-BEC"])
    captured = capsys.readouterr()
    assert code == 0
    out = json.loads(captured.out)
    assert (out["country_code"], out["party_id"]) == ("BE", "BEC")
    assert out["x_vendor_field"] == {"kept": True}
    connector = out["evses"][0]["connectors"][0]
    assert "max_voltage" in connector and "voltage" not in connector
    assert main(["validate", _write(tmp_path, "o.json", out), "--version", "2.3.0"]) == 0


def test_convert_down_reports_what_is_lost(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    location_221["publish"] = False
    location_221["publish_allowed_to"] = [{"visual_number": "123", "issuer": "X"}]
    path = _write(tmp_path, "loc.json", location_221)
    assert main(["convert", path, "--from", "2.2.1", "--to", "2.1.1"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert "publish_allowed_to" not in out and "country_code" not in out
    lost = [line for line in captured.err.splitlines() if line.startswith("lost: ")]
    assert any("publish_allowed_to" in line for line in lost)


def test_convert_of_invalid_input_prints_problems(
    tmp_path: Path, location_221: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    del location_221["evses"][0]["connectors"]
    path = _write(tmp_path, "loc.json", location_221)
    assert main(["convert", path, "--from", "2.2.1", "--to", "2.3.0"]) == 1
    assert capsys.readouterr().out.startswith("evses[0].connectors: ")


def test_convert_of_an_object_the_target_version_lacks(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    terminal = json.loads(
        (data_dir / "spec/2.3.0/examples/payment_terminal_create.json").read_text()
    )
    path = _write(tmp_path, "terminal.json", terminal)
    assert main(["convert", path, "--from", "2.3.0", "--to", "2.2.1", "--object", "Terminal"]) == 1
    assert "does not exist in OCPI 2.2.1" in capsys.readouterr().out
