"""The exchange-log batcher (``server.exchange_log``): it writes what it was given, in order,
like writing each exchange at once (its reference), and an excerpt of a long body."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ocpikit.protocol.ports import Exchange, ExchangeDirection
from ocpikit.server.exchange_log import LOG_BODY, ExchangeLogBatcher, log_excerpt
from ocpikit.storage.memory import MemoryStorage

pytestmark = pytest.mark.anyio


def _exchange(n: int) -> Exchange:
    return Exchange(
        direction=ExchangeDirection.INBOUND,
        method="GET",
        url=f"http://cpo.test/ocpi/versions?n={n}",
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        status=200,
    )


async def test_the_batches_hold_what_writing_each_at_once_holds() -> None:
    batched, plain = MemoryStorage(), MemoryStorage()
    log = ExchangeLogBatcher(batched)
    for n in range(25):
        log.record(_exchange(n))
        await plain.exchanges.record([_exchange(n)])
    await log.close()
    got = await batched.exchanges.recent(limit=100)
    want = await plain.exchanges.recent(limit=100)
    assert [x.url for x in got] == [x.url for x in want] and len(got) == 25


async def test_a_disabled_log_keeps_nothing() -> None:
    storage = MemoryStorage()
    log = ExchangeLogBatcher(storage, enabled=False)
    log.record(_exchange(1))
    await log.close()
    assert await storage.exchanges.recent(limit=10) == []


def test_a_long_body_is_logged_as_its_two_ends() -> None:
    short = b"x" * LOG_BODY
    assert log_excerpt(short) is short
    body = bytes(range(256)) * 40
    excerpt = log_excerpt(body)
    assert excerpt.startswith(body[:256]) and excerpt.endswith(body[-256:])
    assert b"...[%d bytes left out]..." % (len(body) - 512) in excerpt
