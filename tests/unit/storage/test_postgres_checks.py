"""The coalesced freshness checks of PostgreSQL pages (``_Checks`` in
``storage/sql/postgres_wire_pages.py``): a check answers the pages asked before it was sent,
never one asked while it was on its way (that page could miss a commit that returned after
the check's snapshot was taken); those share the next check."""

from __future__ import annotations

import asyncio

import pytest

from ocpikit.storage.sql.postgres_wire_pages import _Checked, _Checks


def test_a_check_answers_only_the_pages_asked_before_it_was_sent() -> None:
    async def scenario() -> None:
        gates: list[asyncio.Event] = []

        async def run() -> _Checked:
            gate = asyncio.Event()
            gates.append(gate)
            number = len(gates)
            await gate.wait()  # on its way to the server
            return (1, f"check {number}"), True

        checks = _Checks(run)
        first = asyncio.ensure_future(checks.ask())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert len(gates) == 1  # sent
        later = [asyncio.ensure_future(checks.ask()) for _ in range(3)]
        await asyncio.sleep(0)
        assert len(gates) == 1  # they wait for the next one
        gates[0].set()
        assert await first == ((1, "check 1"), True)
        for _ in range(10):
            await asyncio.sleep(0)
        assert not any(t.done() for t in later)
        assert len(gates) == 2  # the next check is on its way
        gates[1].set()
        assert [await t for t in later] == [((1, "check 2"), True)] * 3
        assert len(gates) == 2  # one check for the three

    asyncio.run(scenario())


def test_a_failed_check_fails_its_pages_only() -> None:
    async def scenario() -> None:
        calls = 0

        async def run() -> _Checked:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ConnectionError("server gone")
            return (1, "ok"), True

        checks = _Checks(run)
        with pytest.raises(ConnectionError):
            await checks.ask()
        assert await checks.ask() == ((1, "ok"), True)

    asyncio.run(scenario())
