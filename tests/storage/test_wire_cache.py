"""The in-process wire bytes cache of SQLite pages (``SqlObjects.wire_cache``): a page served
twice reads no document the second time, serves the same items as ``list_page`` (and as the
cache turned off) after writes, deletes, reused ``seq``s, other processes' writes and evictions,
and never holds more bytes than its budget.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, StoredObject, WireEntry, WirePage
from ocpikit.storage import SqlStorage, upgrade

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N = 600  # more than two anchor strides (256)
V = "2.2.1"

Open = Callable[[int], Awaitable[SqlStorage]]


@pytest.fixture
async def open_storage(tmp_path: Path) -> AsyncIterator[Open]:
    """Opens storages with a given cache budget on one migrated SQLite file."""
    url = f"sqlite:///{tmp_path / 'ocpikit.db'}"
    upgrade(url)
    opened: list[SqlStorage] = []

    async def open_(budget: int) -> SqlStorage:
        store = SqlStorage.from_url(url, pool_size=2, wire_cache_bytes=budget)
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


def held(cache: Any) -> list[tuple[int, bytes]]:
    """(seq, bytes) of every item the cache holds, over all listings and versions."""
    return [
        (seq, body)
        for listing in cache._listings.values()
        for bodies in listing.bodies.values()
        for seq, body in zip(listing.seqs, bodies, strict=True)
        if body is not None
    ]


def wire_of(obj: StoredObject, version: str | None) -> bytes | None:
    return obj.raw if version is None else obj.wire


async def expected(store: SqlStorage, version: str | None, **kwargs: Any) -> list[Any]:
    """``list_page``'s items as ``list_wire`` should serve them: the bytes where they exist,
    else (a version without fresh wire bytes) the object's (seq, revision)."""
    page = await store.objects.list_page("Location", version=version, **kwargs)
    out: list[Any] = []
    for obj in page.items:
        wire = wire_of(obj, version)
        out.append(wire if wire is not None else (obj.seq, obj.revision))
    return out


def blobs(page: WirePage) -> list[bytes]:
    out = [item for item in page.items if isinstance(item, bytes)]
    assert len(out) == len(page.items)
    return out


def served(page: WirePage) -> list[Any]:
    return [item if isinstance(item, bytes) else (item.seq, item.revision) for item in page.items]


async def check(store: SqlStorage, version: str | None = None, **kwargs: Any) -> WirePage:
    page = await store.objects.list_wire("Location", version=version, **kwargs)
    assert served(page) == await expected(store, version, **kwargs), kwargs
    if page.wire:  # the caller trusts it and does not look at the items
        blobs(page)
    return page


async def test_second_serve_reads_no_document(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store)
    cache = cache_of(store)
    first = await check(store, offset=250, limit=100, owner=None)
    assert (cache.hits, cache.misses) == (0, 100)
    assert len(cache) == 100 and cache.size == sum(map(len, blobs(first)))
    second = await store.objects.list_wire("Location", offset=250, limit=100, owner=None)
    assert second.items == first.items and second.total == first.total == N
    assert second.wire and not first.wire  # served whole from the cache: all bytes
    assert (cache.hits, cache.misses) == (100, 100)  # no document read
    # an overlapping page reads only what it has not seen
    third = await check(store, offset=300, limit=100, owner=None)
    assert (cache.hits, cache.misses) == (150, 150)
    assert third.items[:50] == first.items[50:]


async def test_writes_serve_new_bytes(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store)
    before = await check(store, offset=0, limit=100, owner=None)
    await store.objects.put(
        loc(10), body(10, note="replaced"), last_updated=T0 + timedelta(days=1), owner=None
    )

    def merge(doc: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**doc, "note": "patched", "last_updated": "2024-02-01T00:00:00Z"}

    assert await store.objects.patch(loc(20), merge) is not None
    after = await check(store, offset=0, limit=100, owner=None)
    assert orjson.loads(blobs(after)[10])["note"] == "replaced"
    assert orjson.loads(blobs(after)[20])["note"] == "patched"
    changed = [i for i, (a, b) in enumerate(zip(before.items, after.items, strict=True)) if a != b]
    assert changed == [10, 20]
    assert cache_of(store).misses == 102  # the page, then only the two new revisions


async def test_reused_seq_and_other_processes(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    other = await open_storage(0)  # another process writing to the same file
    await fill(store, 50)
    await check(store, offset=0, limit=100, owner=None)
    last = await store.objects.get(loc(49))
    assert last is not None
    # SQLite reuses the seq of a deleted last row: same (seq, revision), different object
    assert await store.objects.delete(loc(49))
    new = await store.objects.put(loc(900), body(900), last_updated=T0, owner=None)
    assert (new.seq, new.revision) == (last.seq, last.revision)
    page = await check(store, offset=0, limit=100, owner=None)
    assert orjson.loads(blobs(page)[-1])["id"] == "LOC0900"
    # the same, written by the other process, and across kinds
    assert await other.objects.delete(loc(900))
    tariff = await other.objects.put(
        ObjectKey("Tariff", "NL", "ABC", "T1"), b'{"id":"T1"}', last_updated=T0, owner=None
    )
    assert tariff.seq == last.seq
    assert await other.objects.delete(ObjectKey("Tariff", "NL", "ABC", "T1"))
    again = await other.objects.put(loc(901), body(901), last_updated=T0, owner=None)
    assert (again.seq, again.revision) == (last.seq, 1)
    page = await check(store, offset=0, limit=100, owner=None)
    assert orjson.loads(blobs(page)[-1])["id"] == "LOC0901"
    await other.objects.put(loc(3), body(3, note="elsewhere"), last_updated=T0, owner=None)
    page = await check(store, offset=0, limit=100, owner=None)
    assert orjson.loads(blobs(page)[3])["note"] == "elsewhere"


async def test_budget_bounds_the_cache(open_storage: Open) -> None:
    store = await open_storage(4096)  # a few documents (each 90-140 bytes)
    await fill(store)
    cache = cache_of(store)
    rng = random.Random(3)
    for _ in range(40):
        offset = rng.randrange(N)
        await check(store, offset=offset, limit=rng.choice([1, 7, 100]), owner=None)
        assert cache.size <= cache.budget
        assert cache.size == sum(len(body) for _seq, body in held(cache))
        assert len(cache) == len(held(cache))
    assert 0 < len(cache) < N
    # least recently used goes first (by blocks of 128 positions): a page served again
    # outlives later ones
    await check(store, offset=100, limit=10, owner=None)
    await check(store, offset=200, limit=10, owner=None)
    await check(store, offset=100, limit=10, owner=None)

    async def seqs(offset: int) -> set[int]:
        page = await store.objects.list_page("Location", offset=offset, limit=10, owner=None)
        return {o.seq for o in page.items}

    def cached() -> set[int]:
        return {seq for seq, _body in held(cache)}

    recent, older = await seqs(100), await seqs(200)
    assert recent | older <= cached()
    offset = 300
    while older & cached():
        await check(store, offset=offset, limit=1, owner=None)
        offset += 1
    assert recent <= cached()
    hits = cache.hits
    await check(store, offset=100, limit=10, owner=None)
    assert cache.hits == hits + 10
    # an item bigger than the budget is served, and evicts nothing
    big = orjson.dumps({"id": "LOC0000", "note": "y" * 5000})
    await store.objects.put(loc(0), big, last_updated=T0, owner=None)
    size = cache.size
    page = await check(store, offset=0, limit=1, owner=None)
    assert page.items == [big] and cache.size == size
    tiny = await open_storage(10)  # below one document: nothing is kept
    await check(tiny, offset=5, limit=50, owner=None)
    assert len(cache_of(tiny)) == 0 and cache_of(tiny).size == 0


async def test_budget_zero_is_the_uncached_path(open_storage: Open) -> None:
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
            for offset in (0, 7, 256, 300, N - 3, N + 5):
                for _ in range(2):  # cold, then warm
                    a = await check(off, version, offset=offset, limit=100, **kwargs)
                    b = await check(on, version, offset=offset, limit=100, **kwargs)
                    assert served(a) == served(b) and a.total == b.total, kwargs


async def test_version_pages_with_hits_misses_and_missing_wire(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store, 200)
    cache = cache_of(store)
    head = await check(store, offset=0, limit=100, owner=None)
    await store.objects.store_wire(
        WireEntry(loc(i), 1, V, b'{"v":"%d"}' % i) for i in range(0, 200, 2)
    )
    # wire bytes of another revision (an update leaves the old ones) are not served
    database = store.engines.write.url.database
    assert database is not None
    with sqlite3.connect(database) as raw:
        raw.execute("UPDATE ocpi_object_wire SET revision = 7 WHERE body = ?", (b'{"v":"8"}',))
    cold = await check(store, V, offset=0, limit=100, owner=None)
    has_wire = [i % 2 == 0 and i != 8 for i in range(100)]
    assert [isinstance(item, bytes) for item in cold.items] == has_wire
    assert (cache.hits, cache.misses) == (0, 200)
    warm = await check(store, V, offset=0, limit=100, owner=None)
    assert served(warm) == served(cold)
    assert (cache.hits, cache.misses) == (49, 251)  # rows without wire bytes stay uncached
    # more wire bytes arrive; one object with wire bytes is written (its bytes are stale)
    await store.objects.store_wire(WireEntry(loc(i), 1, V, b'{"v":"%d"}' % i) for i in (1, 3))
    await store.objects.put(loc(4), body(4, note="new"), last_updated=T0, owner=None)
    mixed = await check(store, V, offset=0, limit=100, owner=None)
    assert mixed.items[1] == b'{"v":"1"}' and mixed.items[3] == b'{"v":"3"}'
    stale = mixed.items[4]
    assert isinstance(stale, StoredObject) and stale.revision == 2
    assert orjson.loads(stale.raw)["note"] == "new"
    # the head forms are cached apart from the version's
    again = await store.objects.list_wire("Location", offset=0, limit=100, owner=None)
    assert again.items[:4] == head.items[:4] and again.items[5:] == head.items[5:]
    assert orjson.loads(blobs(again)[4])["note"] == "new"


async def test_filters_and_positions_in_order(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store, mixed=True)
    rng = random.Random(11)
    filters: list[dict[str, Any]] = [
        {"owner": None},
        {"owner": "P1"},
        {"owner": ANY_OWNER, "party_id": "XYZ"},
        {"owner": None, "country_code": "NL", "party_id": "ABC"},
        {"date_from": T0 + timedelta(seconds=100), "date_to": T0 + timedelta(seconds=400)},
    ]
    for _round in range(2):
        for f in filters:
            for offset in [0, 255, 256, 257, 511, rng.randrange(N)]:
                await check(store, offset=offset, limit=100, **f)
        for i in (0, 6, 300):  # deletes and owner moves shift positions (new epoch)
            key = loc(i, "XYZ")
            if await store.objects.get(key) is not None:
                await store.objects.delete(key)
        await store.objects.put(loc(9, "ABC"), body(9, "ABC"), last_updated=T0, owner="P2")


async def test_listing_refreshed_row_by_row_or_reread(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    other = await open_storage(0)  # another process writing to the same file
    await fill(store)
    cache = cache_of(store)
    for offset in (0, 250, 500):
        await check(store, offset=offset, limit=100, owner=None)
    assert (cache.rereads, cache.refreshes) == (1, 0)
    # a few updates (one from the other process) and creations: only those rows are read,
    # and only the updated items' bytes are dropped
    await store.objects.put(loc(5), body(5, note="five"), last_updated=T0, owner=None)
    await other.objects.put(loc(260), body(260, note="260"), last_updated=T0, owner=None)
    for i in (N, N + 1):
        await other.objects.put(loc(i), body(i), last_updated=T0, owner=None)
    misses = cache.misses
    page = await check(store, offset=0, limit=100, owner=None)
    assert orjson.loads(blobs(page)[5])["note"] == "five"
    assert (cache.rereads, cache.refreshes, cache.misses) == (1, 1, misses + 1)
    tail = await check(store, offset=N - 10, limit=100, owner=None)
    assert tail.total == N + 2 and len(tail.items) == 12
    moved = await check(store, offset=250, limit=20, owner=None)
    assert orjson.loads(blobs(moved)[10])["note"] == "260"
    # another kind's writes leave the listing as it is
    await store.objects.put(
        ObjectKey("Tariff", "NL", "ABC", "T1"), b'{"id":"T1"}', last_updated=T0, owner=None
    )
    await check(store, offset=0, limit=100, owner=None)
    assert (cache.rereads, cache.refreshes) == (1, 1)
    # many updates (more than an eighth of the listing, and a block): read whole again
    for i in range(0, 400, 2):
        await other.objects.put(loc(i), body(i, note=f"n{i}"), last_updated=T0, owner=None)
    page = await check(store, offset=300, limit=100, owner=None)
    assert orjson.loads(blobs(page)[0])["note"] == "n300"
    assert (cache.rereads, cache.refreshes) == (2, 1)
    assert cache.size == sum(len(body) for _seq, body in held(cache))


async def test_a_transaction_older_than_the_listing_reads_sqlite(open_storage: Open) -> None:
    store = await open_storage(1 << 24)
    await fill(store, 300)
    await check(store, offset=0, limit=100, owner=None)
    with store.engines.read.connect() as conn, conn.begin():
        # the transaction's snapshot is taken at its first read
        conn.exec_driver_sql("SELECT count(*) FROM ocpi_objects").fetchone()
        await store.objects.put(loc(7), body(7, note="later"), last_updated=T0, owner=None)
        await store.objects.put(loc(301), body(301), last_updated=T0, owner=None)
        newer = await check(store, offset=0, limit=100, owner=None)  # the listing moves on
        assert orjson.loads(blobs(newer)[7])["note"] == "later" and newer.total == 301
        page = store.objects._wire_pages.page(conn, "Location", 0, 100, None, None, None, None)
        older = blobs(page)
        assert page.total == 300 and len(older) == 100
        assert orjson.loads(older[7])["note"] != "later"
        assert older[:7] == blobs(newer)[:7] and older[8:] == blobs(newer)[8:]
