"""``ocpikit afir check`` and ``ocpikit afir export`` on a SQLite database holding the demo
dataset (as ``ocpikit serve --demo`` stores it) and an ``[afir]`` section."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import orjson
import pytest

from ocpikit.cli.main import main
from ocpikit.server.demo import load_demo
from ocpikit.storage import SqlStorage, upgrade
from tests.afir_schemas import datex37_json, json_errors, mobilithek_table, xml_errors

CONFIG = """
[[party]]
country_code = "DE"
party_id = "OKT"
roles = ["CPO"]

[afir]
lang = "de"
legal_name = "OK Test GmbH"

[afir.location."LOC00001"]
nuts1 = "DE3"
"""


@pytest.fixture
def demo_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    url = f"sqlite:///{tmp_path / 'afir.db'}"
    monkeypatch.setenv("OCPIKIT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ocpikit.toml").write_text(CONFIG)
    upgrade(url)

    async def seed() -> None:
        storage = SqlStorage.from_url(url)
        try:
            await load_demo(storage, [("DE", "OKT", ("CPO",))], locations=20)
        finally:
            await storage.aclose()

    asyncio.run(seed())
    return tmp_path


def test_check(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["afir", "check"]) == 1  # the demo is incomplete
    out = capsys.readouterr().out
    assert "0 of 20 locations complete (0.0 %)" in out
    assert "Location.help_phone" in out and "EVSE.accepted_service_providers" in out
    assert main(["afir", "check", "--location", "LOC00001", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["summary"]["locations"] == 1
    assert "A10" not in report["locations"][0]["missing"]  # [afir.location."LOC00001"]
    assert main(["afir", "check", "--location", "LOC00001"]) == 1
    assert "[afir] legal_name" in capsys.readouterr().out  # not eaten as markup
    assert main(["afir", "check", "--location", "NOPE"]) == 2


def test_export(demo_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["afir", "export", "--format", "datex2-json", "--out", "m.json"]) == 0
    assert json_errors(mobilithek_table(), orjson.loads((demo_db / "m.json").read_bytes())) == []
    assert main(["afir", "export", "--format", "datex2-xml", "--out", "d.xml"]) == 0
    assert xml_errors((demo_db / "d.xml").read_bytes()) == []
    capsys.readouterr()
    assert main(["afir", "export", "--format", "datex2-json", "--profile", "datex2-3.7"]) == 0
    assert json_errors(datex37_json(), json.loads(capsys.readouterr().out)) == []
    assert main(["afir", "export", "--format", "datex2-xml", "--profile", "mobilithek"]) == 2
    assert "JSON only" in capsys.readouterr().err
