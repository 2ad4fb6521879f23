"""PostgreSQL puts and field PATCHes written in runs (one statement for the writes that waited,
``storage/sql/postgres_runs.py``) store what one write at a time stores: documents, revisions,
counts, owners (an object of another owner is moved by the plain path), and a write that
cannot be stored fails alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, SetFields
from ocpikit.storage import SqlStorage
from tests.storage.conftest import _truncate_pg

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TASKS = 24
KEYS = 5  # per task: each task writes its own keys, one write after the other
ROUNDS = 4


@pytest.fixture
async def store(pg_schema_url: str) -> AsyncIterator[SqlStorage]:
    _truncate_pg(pg_schema_url)
    storage = SqlStorage.from_url(pg_schema_url, pool_size=2)
    try:
        yield storage
    finally:
        await storage.aclose()


def key(task: int, k: int) -> ObjectKey:
    return ObjectKey("Session", "NL", "CPO", f"S-{task:02d}-{k}")


def stamp(n: int) -> str:
    return (T0 + timedelta(seconds=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_runs_store_what_single_writes_store(store: SqlStorage) -> None:
    pg = store.objects._pg
    assert pg is not None

    async def task(t: int) -> None:
        owner = None if t % 3 else "P1"
        for r in range(ROUNDS):
            for k in range(KEYS):
                doc = {"id": key(t, k).id, "round": r, "last_updated": stamp(r)}
                stored = await store.objects.put(
                    key(t, k), orjson.dumps(doc), last_updated=T0, owner=owner
                )
                assert (stored.revision, stored.owner) == (2 * r + 1, owner)
                fields = {"kwh": r + k, "last_updated": stamp(100 + r)}
                patched = await store.objects.patch(key(t, k), SetFields(fields), owner=owner)
                assert patched is not None and patched.revision == 2 * r + 2
                assert patched.document == {**doc, **fields}
        # one object moves to another owner (the plain path), one PATCH names a wrong owner
        moved = await store.objects.put(key(t, 0), b'{"id":"m"}', last_updated=T0, owner="P9")
        assert moved.owner == "P9" and moved.revision == 2 * ROUNDS + 1
        wrong = await store.objects.patch(
            key(t, 1), SetFields({"last_updated": stamp(1)}), owner="nobody"
        )
        assert wrong is None

    await asyncio.gather(*(task(t) for t in range(TASKS)))
    assert pg.puts.runs < pg.puts.writes and pg.patches.runs < pg.patches.writes
    for t in range(TASKS):
        for k in range(1, KEYS):
            got = await store.objects.get(key(t, k))
            assert got is not None and got.revision == 2 * ROUNDS
            assert got.document["round"] == ROUNDS - 1 and got.document["kwh"] == ROUNDS - 1 + k
    for owner, n in (
        (None, sum(KEYS - 1 for t in range(TASKS) if t % 3)),
        ("P1", sum(KEYS - 1 for t in range(TASKS) if not t % 3)),
        ("P9", TASKS),
        (ANY_OWNER, TASKS * KEYS),
    ):
        # a page shorter than the listing: its total is the maintained count
        page = await store.objects.list_page("Session", limit=1, owner=owner)
        counted = await store.objects.list_page(
            "Session", limit=1000, owner=owner, date_from=T0 - timedelta(days=1)
        )
        assert page.total == counted.total == len(counted.items) == n, owner


async def test_a_write_that_cannot_be_stored_fails_alone(store: SqlStorage) -> None:
    pg = store.objects._pg
    assert pg is not None
    writes = [
        store.objects.put(key(0, k), f'{{"id":"{k}"}}', last_updated=T0, owner=None)
        for k in range(12)
    ]
    bad = store.objects.put(key(1, 0), "{not json", last_updated=T0, owner=None)
    results = await asyncio.gather(*writes[:6], bad, *writes[6:], return_exceptions=True)
    assert isinstance(results[6], Exception)
    stored = [r for i, r in enumerate(results) if i != 6]
    assert all(not isinstance(r, Exception) and r.revision == 1 for r in stored)
    assert await store.objects.get(key(1, 0)) is None
    page = await store.objects.list_page("Session", limit=1, owner=None)
    assert page.total == 12
    assert pg.puts.runs < pg.puts.writes
