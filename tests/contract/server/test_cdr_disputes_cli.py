"""``ocpikit cdr disputes``: the contract of its JSON and CSV output and of --accept/--contest,
over a SQLite platform database holding checked CDRs."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ocpikit.cli.main import main
from ocpikit.operations.cdr_checks import run_pending_checks
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus
from ocpikit.storage.sql import SqlStorage

from .test_cdr_checks import TARIFF, cdr


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("OCPIKIT_PARTY", "OCPIKIT_PORT", "OCPIKIT_BASE_URL", "OCPIKIT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OCPIKIT_ADMIN_TOKEN", "cli-admin")
    return tmp_path


async def _fill(url: str) -> None:
    storage = SqlStorage.from_url(url)
    try:
        await storage.partners.save(Partner("NL-CPO", PartnerStatus.REGISTERED, version="2.2.1"))
        at = datetime(2026, 1, 1, tzinfo=UTC)
        await storage.objects.put(
            ObjectKey("Tariff", "NL", "CPO", "T1"),
            orjson.dumps(TARIFF),
            last_updated=at,
            owner="NL-CPO",
        )
        for body in (cdr("C-OK"), cdr("C-WRONG", excl=4.5, incl=4.95)):
            await storage.objects.put(
                ObjectKey("CDR", "NL", "CPO", body["id"]),
                orjson.dumps(body),
                last_updated=at,
                owner="NL-CPO",
            )
        assert await run_pending_checks(storage) == 2
    finally:
        await storage.aclose()


def test_disputes_json_csv_and_resolution(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    asyncio.run(_fill(f"sqlite:///{workdir / 'ocpikit.db'}"))
    capsys.readouterr()

    assert main(["cdr", "disputes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [
        {k: r[k] for k in ("cdr_id", "partner", "verdict", "reasons", "differences")} for r in rows
    ] == [
        {
            "cdr_id": "C-WRONG",
            "partner": "NL-CPO",
            "verdict": "disputed",
            "reasons": ["cost"],
            "differences": {
                "total_cost": {"declared": "4.5", "expected": "3.0", "difference": "1.5"}
            },
        }
    ]
    assert main(["cdr", "disputes", "--json", "--partner", "XX-YYY"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["cdr", "disputes", "--json", "--since", "1h"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 1
    assert main(["cdr", "disputes", "--json", "--since", "2999-01-01T00:00:00Z"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["cdr", "disputes", "--since", "yesterday"]) == 2
    capsys.readouterr()

    assert main(["cdr", "disputes", "--csv"]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["cdr_id"], r["verdict"], r["reasons"]) for r in table] == [
        ("C-WRONG", "disputed", "cost")
    ]

    assert main(["cdr", "disputes", "--contest", "C-WRONG", "--note", "0.30/kWh agreed"]) == 0
    capsys.readouterr()
    assert main(["cdr", "disputes", "--accept", "C-NONE"]) == 2
    capsys.readouterr()
    assert main(["cdr", "disputes", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["resolution"], row["note"]) == ("contested", "0.30/kWh agreed")
    assert main(["cdr", "disputes"]) == 0
    assert "C-WRONG" in capsys.readouterr().out
