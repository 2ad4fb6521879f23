from __future__ import annotations

import json

import pytest

from ocpikit.cli.main import main


def test_bare_command_lists_versions_and_modules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    out = capsys.readouterr().out
    for v in ("2.1.1", "2.2.1", "2.3.0"):
        assert f"OCPI {v}" in out


def test_info_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    versions = {v["version"]: v for v in data["versions"]}
    assert "chargingprofiles" not in versions["2.1.1"]["modules"]
    assert "payments" in versions["2.3.0"]["modules"]
