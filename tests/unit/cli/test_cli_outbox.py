"""``ocpikit outbox list/dead/replay`` on a SQLite database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from ocpikit.cli.main import main
from ocpikit.protocol.ports import ObjectKey, OutboxOperation, Partner, PartnerStatus
from ocpikit.storage import SqlStorage, upgrade


def _seed(url: str) -> None:
    async def run() -> None:
        s = SqlStorage.from_url(url)
        try:
            await s.partners.save(Partner(id="P1", status=PartnerStatus.REGISTERED))
            for i in range(2):
                await s.outbox.enqueue(
                    "P1", ObjectKey("CDR", "NL", "CPO", f"C{i}"), OutboxOperation.PUT, {"i": i}
                )
            from datetime import timedelta

            [e, _] = await s.outbox.claim("w", limit=2, lease=timedelta(minutes=1))
            await s.outbox.bury(e, reason="rejected by the partner: OCPI 2001")
        finally:
            await s.aclose()

    asyncio.run(run())


def test_list_dead_and_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    monkeypatch.setenv("OCPIKIT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    upgrade(url)
    _seed(url)
    assert main(["outbox", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["counts"]["dead"] == 1 and len(listed["entries"]) == 2
    assert main(["outbox", "dead"]) == 0
    out = capsys.readouterr().out
    assert "dead: rejected by the partner: OCPI 2001" in out
    assert main(["outbox", "replay", "--partner", "P1"]) == 0
    assert "replayed 1" in capsys.readouterr().out
    assert main(["outbox", "replay", "--partner", "P1"]) == 1
