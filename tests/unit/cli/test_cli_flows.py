"""``ocpikit flows commands/clients/work`` on a SQLite database: the CLI reads and sweeps
through ``ocpikit.operations`` like the backend API."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from ocpikit.cli.main import main
from ocpikit.protocol.ports import (
    CommandDirection,
    CommandRecord,
    ObjectKey,
    Partner,
    PartnerStatus,
)
from ocpikit.protocol.webhooks import new_event
from ocpikit.storage import SqlStorage, upgrade


def _seed(url: str) -> None:
    async def run() -> None:
        s = SqlStorage.from_url(url)
        past = datetime.now(UTC) - timedelta(minutes=1)
        try:
            await s.partners.save(Partner(id="P1", status=PartnerStatus.REGISTERED))
            await s.commands.save(
                CommandRecord(
                    "C1", CommandDirection.SENT, "START_SESSION", "PENDING", "P1", deadline=past
                )
            )
            await s.commands.save(new_event("command.result", {}, past, partner_id="P1"))
            info = {
                "party_id": "XYZ",
                "country_code": "BE",
                "role": "EMSP",
                "status": "CONNECTED",
                "last_updated": "2026-03-01T12:00:00Z",
            }
            await s.objects.put(
                ObjectKey("ClientInfo", "BE", "XYZ", "BE-XYZ"),
                orjson.dumps(info),
                last_updated=past,
                owner="P1",
            )
        finally:
            await s.aclose()

    asyncio.run(run())


def test_commands_clients_and_one_sweep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'f.db'}"
    monkeypatch.setenv("OCPIKIT_DATABASE_URL", url)
    monkeypatch.delenv("OCPIKIT_WEBHOOK_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    upgrade(url)
    _seed(url)
    assert main(["flows", "commands", "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)  # the webhook event is not a command
    assert (row["id"], row["direction"], row["state"]) == ("C1", "sent", "PENDING")
    assert main(["flows", "clients", "--json"]) == 0
    [client] = json.loads(capsys.readouterr().out)
    assert (client["hub"], client["party_id"], client["status"]) == ("P1", "XYZ", "CONNECTED")
    assert main(["flows", "work", "--once"]) == 0
    assert "2 due records handled" in capsys.readouterr().out  # the event waits for a URL
    assert main(["flows", "commands", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []  # C1 timed out
