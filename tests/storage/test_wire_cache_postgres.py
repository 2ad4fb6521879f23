"""The listing cache of PostgreSQL pages (``storage/sql/postgres_wire_pages.py``): a page
served twice reads no document the second time, and every page is what ``list_page`` gives,
after writes of this storage and of another one on the same database (a second process),
transactions that commit out of order (a creation whose ``seq`` is below objects already
listed; a transaction in progress when the listing was read), deletes, owner moves and
evictions.

The tests break the cache on purpose and compare: each of these breaks fails a test here
(checked by hand when the module was written): changes looked up past the snapshot's
``xmax`` only (the transactions in progress then, ``xip``, forgotten); a creation below the
last position appended instead of placed at its ``seq``; the epoch not compared; no ``chg``
stamped (the trigger of migration 0014 dropped); a coalesced check answering a page asked
after it was sent (``tests/unit/storage/test_listing_cache.py``).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, SetFields, StoredObject, WireEntry
from ocpikit.storage import SqlStorage
from ocpikit.storage.sql.objects_postgres import PostgresObjectStatements
from tests.storage.conftest import _truncate_pg

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N = 300
V = "2.2.1"

Open = Callable[[int], Awaitable[SqlStorage]]


@pytest.fixture
async def open_storage(pg_schema_url: str) -> AsyncIterator[Open]:
    """Opens storages (each as a process would: its own pools and caches) with a given cache
    budget on one emptied PostgreSQL schema."""
    _truncate_pg(pg_schema_url)
    opened: list[SqlStorage] = []

    async def open_(budget: int) -> SqlStorage:
        store = SqlStorage.from_url(pg_schema_url, pool_size=2, wire_cache_bytes=budget)
        opened.append(store)
        return store

    yield open_
    for store in opened:
        await store.aclose()


def loc(i: int, pid: str = "ABC") -> ObjectKey:
    return ObjectKey("Location", "NL", pid, f"LOC{i:04d}")


def body(i: int, pid: str = "ABC", note: str = "") -> bytes:
    ts = T0 + timedelta(seconds=i)
    doc = {"id": f"LOC{i:04d}", "party_id": pid, "note": note or "x" * (i % 50)}
    doc["last_updated"] = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return orjson.dumps(doc)


async def fill(store: SqlStorage, n: int = N, *, mixed: bool = False) -> None:
    for i in range(n):
        pid = "XYZ" if mixed and i % 2 == 0 else "ABC"
        owner = "P1" if mixed and i % 3 == 0 else None
        await store.objects.put(
            loc(i, pid), body(i, pid), last_updated=T0 + timedelta(seconds=i), owner=owner
        )


def cache_of(store: SqlStorage) -> Any:
    cache = store.objects.wire_cache
    assert cache is not None
    return cache


def served(items: list[bytes | StoredObject]) -> list[Any]:
    """Items as comparable values: the JSON value of bytes (PostgreSQL's ``JSONB`` text may
    space it differently from the bytes written), else the object's (seq, revision)."""
    return [
        orjson.loads(item) if isinstance(item, bytes) else (item.seq, item.revision)
        for item in items
    ]


async def expected(store: SqlStorage, version: str | None, **kwargs: Any) -> list[Any]:
    """``list_page``'s items as ``list_wire`` should serve them."""
    page = await store.objects.list_page("Location", version=version, **kwargs)
    out: list[Any] = []
    for obj in page.items:
        wire = obj.raw if version is None else obj.wire
        out.append(orjson.loads(wire) if wire is not None else (obj.seq, obj.revision))
    return out


async def check(store: SqlStorage, version: str | None = None, **kwargs: Any) -> list[Any]:
    page = await store.objects.list_wire("Location", version=version, **kwargs)
    listed = await store.objects.list_page("Location", version=version, **kwargs)
    items = served(page.items)
    assert items == await expected(store, version, **kwargs), kwargs
    assert page.total == listed.total, kwargs
    if page.wire:  # the caller trusts it and does not look at the items
        assert all(isinstance(item, bytes) for item in page.items)
    return items


def ids(items: list[Any]) -> list[str]:
    return [item["id"] for item in items]


async def test_second_serve_reads_no_document(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store)
    cache = cache_of(store)
    first = await check(store, offset=150, limit=100, owner=None)
    assert (cache.hits, cache.misses) == (0, 100)
    second = await store.objects.list_wire("Location", offset=150, limit=100, owner=None)
    assert second.wire and served(second.items) == first
    assert (cache.hits, cache.misses) == (100, 100)  # no document read
    third = await check(store, offset=200, limit=100, owner=None)
    assert (cache.hits, cache.misses) == (150, 150)
    assert third[:50] == first[50:]


async def test_another_storage_writes_are_served_at_once(open_storage: Open) -> None:
    """Two storages on one database, as two processes: what A wrote (its call returned) is
    in B's next page, whatever the kind of write."""
    b = await open_storage(1 << 24)
    a = await open_storage(1 << 24)
    await fill(a, mixed=True)
    filters: list[dict[str, Any]] = [
        {"owner": None},
        {"owner": "P1"},
        {"owner": ANY_OWNER},
        {"owner": ANY_OWNER, "party_id": "xyz"},
    ]

    async def all_pages() -> None:
        for f in filters:
            for offset in (0, 99, 150, N - 10):
                await check(b, offset=offset, limit=100, **f)

    def note(doc: dict[str, Any]) -> dict[str, Any]:
        return {**doc, "note": "merged", "last_updated": "2024-03-01T00:00:00Z"}

    await all_pages()
    writes: list[Callable[[], Awaitable[Any]]] = [
        lambda: a.objects.put(loc(5), body(5, note="put"), last_updated=T0, owner=None),
        lambda: a.objects.put(loc(N + 1), body(N + 1), last_updated=T0, owner=None),
        lambda: a.objects.patch(
            loc(7), SetFields({"note": "set", "last_updated": "2024-02-01T00:00:00Z"})
        ),
        lambda: a.objects.patch(loc(11), note, owner=None),
        lambda: a.objects.delete(loc(1)),
        lambda: a.objects.put(loc(4, "XYZ"), body(4, "XYZ"), last_updated=T0, owner="P1"),
    ]
    for write in writes:
        assert await write()
        await all_pages()
    page = await b.objects.list_wire("Location", offset=0, limit=20, owner=None)
    docs = {d["id"]: d for d in served(page.items)}
    assert docs["LOC0005"]["note"] == "put" and docs["LOC0007"]["note"] == "set"
    assert docs["LOC0011"]["note"] == "merged" and "LOC0001" not in docs
    assert cache_of(b).refreshes > 0  # brought up to date row by row, not only re-read


async def test_transactions_committing_out_of_order(open_storage: Open) -> None:
    """A creation whose ``seq`` is below objects already listed, and an update, both by a
    transaction that was in progress when the listing was read: each is served once it
    commits, and only the bytes from the new object's block on are read again."""
    b = await open_storage(1 << 24)
    a = await open_storage(0)
    await fill(a, N)
    for offset in range(0, N, 100):
        await check(b, offset=offset, limit=100, owner=ANY_OWNER)
    engine = sa.create_engine(b.engines.write.url)
    try:
        with engine.connect() as conn:
            tx = conn.begin()
            # in progress: takes the next seq, updates an object (other owner's count row)
            statements = PostgresObjectStatements(b._db)
            early = statements.write(conn, loc(900, "EAR"), body(900, "EAR").decode(), T0, "P1", ())
            statements.write(conn, loc(2), body(2, note="late update").decode(), T0, None, ())
            # meanwhile a later creation commits, and B's listing moves on to a snapshot in
            # which that transaction is in progress
            later = await a.objects.put(loc(901), body(901), last_updated=T0, owner=None)
            assert later.seq > early.seq
            page = await check(b, offset=N - 5, limit=100, owner=ANY_OWNER)
            assert ids(page)[-1] == "LOC0901" and "LOC0900" not in ids(page)
            tx.commit()
        misses = cache_of(b).misses
        whole = await check(b, offset=0, limit=N + 2, owner=ANY_OWNER)
        assert ids(whole)[-2:] == ["LOC0900", "LOC0901"]
        assert whole[2]["note"] == "late update"
        # read again: the updated item, and the block of the new one onwards (positions 256+)
        assert cache_of(b).misses == misses + 1 + (N + 2 - 256)
        await check(b, offset=0, limit=100, owner=None)
        await check(b, offset=250, limit=100, owner="P1")
    finally:
        engine.dispose()


async def test_budget_zero_and_versions_match_the_uncached_path(open_storage: Open) -> None:
    off = await open_storage(0)
    on = await open_storage(1 << 24)
    assert off.objects.wire_cache is None
    await fill(off, mixed=True)
    await off.objects.store_wire(
        WireEntry(loc(i, "XYZ" if i % 2 == 0 else "ABC"), 1, V, b'{"w":%d}' % i)
        for i in range(0, N, 3)
    )
    filters: list[dict[str, Any]] = [
        {"owner": None},
        {"owner": "P1"},
        {"owner": ANY_OWNER},
        {"owner": None, "country_code": "nl", "party_id": "abc"},
        {"owner": ANY_OWNER, "date_from": T0 + timedelta(seconds=30)},
    ]
    for version in (None, V):
        for kwargs in filters:
            for offset in (0, 7, 128, 200, N - 3, N + 5):
                for _ in range(2):  # cold, then warm
                    a = await check(off, version, offset=offset, limit=100, **kwargs)
                    b = await check(on, version, offset=offset, limit=100, **kwargs)
                    assert a == b, kwargs


async def test_filters_positions_and_budget(open_storage: Open) -> None:
    store = await open_storage(4096)  # a few documents (each 90-140 bytes)
    other = await open_storage(0)
    await fill(store, mixed=True)
    cache = cache_of(store)
    rng = random.Random(5)
    filters: list[dict[str, Any]] = [
        {"owner": None},
        {"owner": "P1"},
        {"owner": ANY_OWNER, "party_id": "XYZ"},
    ]
    for _round in range(3):
        for f in filters:
            for offset in (0, 127, 128, rng.randrange(N)):
                await check(store, offset=offset, limit=rng.choice([1, 30, 100]), **f)
                assert cache.size <= cache.budget
        for i in (0, 6, 150 + _round):  # deletes and owner moves shift positions (new epoch)
            key = loc(i, "XYZ")
            if await other.objects.get(key) is not None:
                await other.objects.delete(key)
        await other.objects.put(loc(9, "ABC"), body(9, "ABC"), last_updated=T0, owner="P2")
        await other.objects.put(loc(N + _round), body(N + _round), last_updated=T0, owner=None)
    assert len(cache) > 0 and cache.rereads > 1


async def test_connections_the_server_ended_are_replaced_unseen(open_storage: Open) -> None:
    """The server ends the sessions of the pool's idle connections (a restart, an operator):
    the next calls take fresh ones instead of failing."""
    store = await open_storage(1 << 24)
    await fill(store, 50)
    await asyncio.gather(*(check(store, offset=i, limit=10, owner=None) for i in range(8)))
    pool = store._db.pg_pool
    assert pool is not None and pool._idle
    pids = [conn.info.backend_pid for conn in pool._idle]
    engine = sa.create_engine(store.engines.write.url)
    try:
        with engine.begin() as conn:
            for pid in pids:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        engine.dispose()
    await asyncio.sleep(0.2)  # the server closes the sockets
    await store.objects.put(loc(1), body(1, note="after"), last_updated=T0, owner=None)
    page = await check(store, offset=0, limit=10, owner=None)
    assert page[1]["note"] == "after"
    assert not set(pids) & {conn.info.backend_pid for conn in pool._idle}
