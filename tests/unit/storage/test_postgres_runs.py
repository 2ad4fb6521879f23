"""Runs of PostgreSQL writes (``storage/sql/postgres_runs.py``) with a fake statement: writes
go at once while there is room, the ones that waited go together, a run never holds a key
twice, and a failed run is written again one write at a time so that only the failing write
fails."""

from __future__ import annotations

import asyncio

import pytest

from ocpikit.storage.sql.postgres_runs import MOST, WriteRuns


class FakeStatements:
    """Each run waits until released; records the runs; items starting with "bad" fail the
    whole statement they are in."""

    def __init__(self) -> None:
        self.sent: list[list[str]] = []
        self.release = asyncio.Event()

    async def send(self, items: list[str]) -> list[str]:
        self.sent.append(items)
        await self.release.wait()
        if any(item.startswith("bad") for item in items):
            raise ValueError(f"cannot write {items}")
        return [item.upper() for item in items]


def test_writes_that_wait_go_together_and_runs_end_at_a_repeated_key() -> None:
    async def scenario() -> None:
        fake = FakeStatements()
        runs = WriteRuns(fake.send, key=lambda item: item.split(":")[0], width=2)
        first = [asyncio.ensure_future(runs.submit(f"k{i}")) for i in range(2)]
        await asyncio.sleep(0)
        assert fake.sent == [["k0"], ["k1"]]  # room for two: they go at once
        waiting = ["a", "b", "a:again", "c", *(f"x{i}" for i in range(MOST + 3))]
        later = [asyncio.ensure_future(runs.submit(item)) for item in waiting]
        await asyncio.sleep(0)
        assert len(fake.sent) == 2  # no room: they wait
        fake.release.set()
        assert [await t for t in first] == ["K0", "K1"]
        assert [await t for t in later] == [item.upper() for item in waiting]
        assert fake.sent[2] == ["a", "b"]  # ends before the key it holds
        assert fake.sent[3][:2] == ["a:again", "c"] and len(fake.sent[3]) == MOST
        assert sum(map(len, fake.sent)) == 2 + len(waiting)
        assert (runs.runs, runs.writes) == (len(fake.sent), 2 + len(waiting))

    asyncio.run(scenario())


def test_a_failed_run_is_written_one_at_a_time() -> None:
    async def scenario() -> None:
        fake = FakeStatements()
        runs = WriteRuns(fake.send, key=lambda item: item, width=1)
        head = asyncio.ensure_future(runs.submit("head"))
        await asyncio.sleep(0)
        tasks = [asyncio.ensure_future(runs.submit(item)) for item in ("p", "bad", "q")]
        await asyncio.sleep(0)
        fake.release.set()
        assert await head == "HEAD"
        assert await tasks[0] == "P" and await tasks[2] == "Q"
        with pytest.raises(ValueError, match="bad"):
            await tasks[1]
        assert fake.sent == [["head"], ["p", "bad", "q"], ["p"], ["bad"], ["q"]]

    asyncio.run(scenario())
