"""The traffic log's filters (``ExchangeQuery``) and the outbox depths of the metrics, the same
on every backend; :meth:`ExchangeQuery.matches` is the reference the SQL filters are held to."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from ocpikit.protocol.ports import (
    Exchange,
    ExchangeDirection,
    ExchangeQuery,
    ObjectKey,
    OutboxOperation,
    OutboxState,
    Storage,
)

from .test_operational import LEASE, partner

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.anyio

IN, OUT = ExchangeDirection.INBOUND, ExchangeDirection.OUTBOUND


async def _log(storage: Storage, clock: FakeClock) -> list[Exchange]:
    rows = []
    shapes = itertools.product(
        (IN, OUT), ("p1", "p2", None), ("sessions", "cdrs"), (200, 404, 502, None)
    )
    for n, (direction, who, module, status) in enumerate(shapes):
        rows.append(
            Exchange(
                direction=direction,
                method="PUT",
                url=f"https://p/{n}",
                started_at=clock.now,
                partner_id=who,
                status=status,
                module=module,
                object_id=f"S{n % 3}",
            )
        )
        clock.advance(seconds=10)
    await storage.exchanges.record(rows)
    return await storage.exchanges.recent(limit=1000)


QUERIES = [
    ExchangeQuery(),
    ExchangeQuery(direction=OUT),
    ExchangeQuery(direction=IN, partner_id="p1"),
    ExchangeQuery(module="cdrs", object_id="S2"),
    ExchangeQuery(status="error"),
    ExchangeQuery(status="4xx", direction=OUT),
    ExchangeQuery(status="502"),
    ExchangeQuery(status="2xx", partner_id="p2", module="sessions"),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
async def test_filters_keep_what_the_reference_keeps(
    storage: Storage, clock: FakeClock, query: ExchangeQuery
) -> None:
    stored = await _log(storage, clock)
    assert len(stored) == 48 and all(e.module and e.object_id for e in stored)
    expected = [e.id for e in stored if query.matches(e)]
    assert expected, "every query keeps something"
    got = await storage.exchanges.recent(limit=1000, query=query)
    assert [e.id for e in got] == expected


async def test_since_and_before_page_the_filtered_log(storage: Storage, clock: FakeClock) -> None:
    stored = await _log(storage, clock)
    middle = stored[24]
    since = ExchangeQuery(direction=OUT, since=middle.started_at)
    got = await storage.exchanges.recent(limit=1000, query=since)
    assert got and all(e.started_at >= middle.started_at and e.direction is OUT for e in got)
    assert [e.id for e in got] == [e.id for e in stored if since.matches(e)]
    page = ExchangeQuery(direction=IN, before_id=middle.id)
    got = await storage.exchanges.recent(limit=5, query=page)
    assert [e.id for e in got] == [e.id for e in stored if page.matches(e)][:5]


def test_a_status_that_is_none_of_the_forms_is_refused() -> None:
    for text in ("teapot", "6xx", "20", "2000"):
        with pytest.raises(ValueError, match="status"):
            ExchangeQuery(status=text).status_bounds()
    assert ExchangeQuery(status="4XX").status_bounds() == (400, 499)


async def test_outbox_depths_by_partner_and_state(storage: Storage, clock: FakeClock) -> None:
    await storage.partners.save(partner())
    await storage.partners.save(partner("p2"))
    first = clock.now
    for n in range(3):
        key = ObjectKey("Session", "NL", "ABC", f"s{n}")
        await storage.outbox.enqueue("p1", key, OutboxOperation.PUT, {"n": n})
        clock.advance(minutes=1)
    await storage.outbox.enqueue(
        "p2", ObjectKey("Session", "NL", "ABC", "s9"), OutboxOperation.PUT, {}
    )
    [claimed, *_] = await storage.outbox.claim("w1", limit=1, lease=LEASE)
    assert await storage.outbox.bury(claimed, reason="gone")
    depths = {(d.partner_id, d.state): d for d in await storage.outbox.depths()}
    assert {k: d.count for k, d in depths.items()} == {
        ("p1", OutboxState.DEAD): 1,
        ("p1", OutboxState.PENDING): 2,
        ("p2", OutboxState.PENDING): 1,
    }
    assert depths["p1", OutboxState.PENDING].oldest == first + timedelta(minutes=1)
