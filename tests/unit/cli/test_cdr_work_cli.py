"""``ocpikit cdr work --once`` on a SQLite database: the checks of received CDRs and the
builds of our finished sessions, done by a process that does not serve; ``[cdrs] work =
"worker"`` keeps them out of ``ocpikit serve``."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ocpikit.cli.flows import cdr_work_in_serve
from ocpikit.cli.main import main
from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus
from ocpikit.server.settings import load_settings
from ocpikit.storage import SqlStorage, upgrade
from tests.contract.server.test_cdr_checks import TARIFF, cdr


def _seed(url: str) -> None:
    async def run() -> None:
        s = SqlStorage.from_url(url)
        at = datetime(2026, 1, 1, 11, tzinfo=UTC)
        try:
            await s.partners.save(Partner("NL-CPO", PartnerStatus.REGISTERED))
            await s.objects.put(
                ObjectKey("Tariff", "NL", "CPO", "T1"),
                orjson.dumps(TARIFF),
                last_updated=at,
                owner="NL-CPO",
            )
            for body in (cdr("C1"), cdr("C2", excl=4.5, incl=4.95)):
                await s.objects.put(
                    ObjectKey("CDR", "NL", "CPO", body["id"]),
                    orjson.dumps(body),
                    last_updated=at,
                    owner="NL-CPO",
                )
        finally:
            await s.aclose()

    asyncio.run(run())


def test_cdr_work_once_checks_the_pending_cdrs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    monkeypatch.setenv("OCPIKIT_DATABASE_URL", url)
    monkeypatch.delenv("OCPIKIT_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ocpikit.toml").write_text('[cdrs]\nwork = "worker"\n')
    upgrade(url)
    _seed(url)
    assert not cdr_work_in_serve(load_settings(str(tmp_path / "ocpikit.toml")))
    assert main(["cdr", "work", "--once"]) == 0
    assert "2 CDR checks and builds done" in capsys.readouterr().out
    assert main(["cdr", "disputes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["cdr_id"], r["verdict"]) for r in rows] == [("C2", "disputed")]
    assert main(["cdr", "work", "--once"]) == 0
    assert "0 CDR checks and builds done" in capsys.readouterr().out
