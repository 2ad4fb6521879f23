"""``ocpikit outbox list/dead/replay/drop`` on a SQLite database, the queue overview, and
``ocpikit console hash-password``."""

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


def test_drop_deletes_dead_letters_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'o.db'}"
    monkeypatch.setenv("OCPIKIT_DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)
    upgrade(url)
    _seed(url)
    assert main(["outbox", "drop", "--partner", "P1"]) == 0
    assert "dropped 1" in capsys.readouterr().out
    assert main(["outbox", "drop", "--all"]) == 0  # nothing left to drop: not an error
    assert "dropped 0" in capsys.readouterr().out
    assert main(["outbox", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["counts"]["dead"] == 0 and len(listed["entries"]) == 1  # the live one stays


def test_queue_overview_counts_per_partner(tmp_path: Path) -> None:
    from ocpikit.operations.outbox import QueueOverview, queue_overview

    url = f"sqlite:///{tmp_path / 'o.db'}"
    upgrade(url)
    _seed(url)

    async def run() -> QueueOverview:
        s = SqlStorage.from_url(url)
        try:
            return await queue_overview(s)
        finally:
            await s.aclose()

    overview = asyncio.run(run())
    assert overview.totals == {"pending": 0, "in_flight": 1, "dead": 1}
    [row] = overview.partners
    assert (row.partner_id, row.depth, row.in_flight, row.dead) == ("P1", 1, 1, 1)
    assert row.oldest is not None and not overview.truncated


def test_console_hash_password_reads_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    from ocpikit.server.console.passwords import verify_password

    monkeypatch.setattr("sys.stdin", io.StringIO("open sesame\n"))
    assert main(["console", "hash-password"]) == 0
    stored = capsys.readouterr().out.strip()
    assert stored.startswith("pbkdf2_sha256$600000$") and verify_password("open sesame", stored)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    assert main(["console", "hash-password"]) == 2
