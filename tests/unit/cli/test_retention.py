"""Exchange-log retention: the hourly task of ``ocpikit serve`` and its config key."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ocpikit.cli.serve import TASK_MODULES
from ocpikit.client.background import TaskContext
from ocpikit.client.retention import DEFAULT_KEEP_DAYS, keep_days, prune_exchange_log
from ocpikit.protocol.ports import Exchange, ExchangeDirection
from ocpikit.server.settings import STARTER_CONFIG, load_settings
from ocpikit.storage import MemoryStorage

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class _Clock:
    def now(self) -> datetime:
        return NOW


def _exchange(days_ago: float) -> Exchange:
    return Exchange(
        direction=ExchangeDirection.INBOUND,
        method="GET",
        url="http://x/ocpi/versions",
        started_at=NOW - timedelta(days=days_ago),
        status=200,
    )


def test_the_starter_config_sets_it_and_serve_runs_the_task(tmp_path: Path) -> None:
    path = tmp_path / "ocpikit.toml"
    path.write_text(STARTER_CONFIG)
    settings = load_settings(path, environ={}, cwd=tmp_path)
    assert keep_days(settings.extra) == 30
    assert keep_days({}) == DEFAULT_KEEP_DAYS
    assert "ocpikit.client.retention" in TASK_MODULES


@pytest.mark.parametrize("bad", [-1, "30", True, {"x": 1}])
def test_bad_values_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="keep_days"):
        keep_days({"exchange_log": {"keep_days": bad}})


def test_old_exchanges_are_pruned_and_zero_keeps_everything() -> None:
    async def run() -> tuple[int, int]:
        storage = MemoryStorage()
        await storage.exchanges.record([_exchange(d) for d in (0.5, 10, 40, 400)])
        async with httpx.AsyncClient() as http:
            keep_all = TaskContext(storage, http, _Clock(), {"exchange_log": {"keep_days": 0}})
            await prune_exchange_log(keep_all)
            before = len(await storage.exchanges.recent(limit=10))
            await prune_exchange_log(TaskContext(storage, http, _Clock(), {}))
            after = len(await storage.exchanges.recent(limit=10))
        return before, after

    assert asyncio.run(run()) == (4, 2)
