"""The exchange log's size cap (``[exchange_log] max_mb``): ``prune_to`` deletes the oldest
exchanges until the estimate of what the log holds (``stored_size``) is within the cap, the same
on every backend; the newest are kept."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from ocpikit.protocol.exchanges import stored_size
from ocpikit.protocol.ports import Exchange, ExchangeDirection, Storage

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.anyio


async def test_the_oldest_go_until_the_log_fits(storage: Storage, clock: FakeClock) -> None:
    rows = [
        Exchange(
            direction=ExchangeDirection.INBOUND,
            method="PUT",
            url=f"https://us/ocpi/2.2.1/emsp/sessions/NL/CPO/S{n}",
            started_at=clock.now + timedelta(seconds=n),
            status=200,
            request_headers=(("content-type", "application/json"),),
            request_body=b"x" * 1000,
        )
        for n in range(40)
    ]
    await storage.exchanges.record(rows)
    one = stored_size((await storage.exchanges.recent(limit=1))[0])
    assert await storage.exchanges.prune_to(one * 100) == 0  # within the cap: nothing goes
    removed = await storage.exchanges.prune_to(one * 25)
    kept = await storage.exchanges.recent(limit=100)
    assert removed + len(kept) == 40 and 20 <= len(kept) <= 25
    assert sum(stored_size(e) for e in kept) <= one * 25 + 64 * len(kept)  # estimates agree
    assert kept[0].url.endswith("/S39") and kept[-1].url.endswith(f"/S{40 - len(kept)}")
    assert await storage.exchanges.prune_to(0) == len(kept)
    assert await storage.exchanges.recent(limit=10) == []
