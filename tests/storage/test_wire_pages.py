"""``list_wire``, the serving hot path: the same pages as ``list_page`` (filters, order, totals,
offsets past the end), fresh cache bytes only, and positions that stay true across creations,
deletions and owner changes (SQLite serves them from anchor seqs instead of OFFSET walks).

Runs on memory, SQLite and PostgreSQL (``storage`` fixture).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, Storage, StoredObject, WireEntry

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=UTC)
N = 700  # more than two anchor strides (256)


def loc(i: int, pid: str = "ABC") -> ObjectKey:
    return ObjectKey("Location", "NL", pid, f"LOC{i:04d}")


async def put(storage: Storage, i: int, *, owner: str | None = None, pid: str = "ABC") -> None:
    key = loc(i, pid)
    ts = T0 + timedelta(seconds=i)
    body = {"id": key.id, "party_id": pid, "last_updated": ts.strftime("%Y-%m-%dT%H:%M:%SZ")}
    await storage.objects.put(key, orjson.dumps(body), last_updated=ts, owner=owner)


def ids_of(items: list[bytes | StoredObject]) -> list[str]:
    out = []
    for item in items:
        if isinstance(item, bytes):
            out.append(str(orjson.loads(item)["id"]))
        else:
            out.append(item.key.id)
    return out


async def same_as_list_page(storage: Storage, **kwargs: Any) -> None:
    wire = await storage.objects.list_wire("Location", **kwargs)
    page = await storage.objects.list_page("Location", **kwargs)
    assert wire.total == page.total, kwargs
    assert ids_of(wire.items) == [o.key.id for o in page.items], kwargs


async def test_pages_match_list_page_across_anchors_deletes_and_owner_moves(
    storage: Storage,
) -> None:
    for i in range(N):
        await put(storage, i, owner=None if i % 3 else "P1", pid="ABC" if i % 2 else "XYZ")
    await storage.objects.put(  # another kind interleaved in creation order
        ObjectKey("Tariff", "NL", "ABC", "T1"), b'{"id":"T1"}', last_updated=T0, owner=None
    )
    rng = random.Random(7)
    filters: list[dict[str, Any]] = [
        {},
        {"owner": None},
        {"owner": "P1"},
        {"owner": None, "country_code": "nl", "party_id": "abc"},
        {"owner": ANY_OWNER, "party_id": "XYZ"},
    ]

    async def check_all() -> None:
        for f in filters:
            for offset in [0, 1, 255, 256, 257, 511, 512, N - 100, N - 1, N, N + 50]:
                await same_as_list_page(storage, offset=offset, limit=100, **f)
            for _ in range(5):
                await same_as_list_page(storage, offset=rng.randrange(N), limit=37, **f)
            await same_as_list_page(storage, offset=3, limit=0, **f)

    await check_all()
    # deletions shift every later position; moves change an owner's listing in the middle
    for i in (0, 5, 300, 301, 600):
        assert await storage.objects.delete(loc(i, "ABC" if i % 2 else "XYZ"))
    await put(storage, 10, owner="P1", pid="XYZ")  # was ours (10 % 3 != 0): moves to P1
    await put(storage, 9, owner=None, pid="ABC")  # was P1's
    await check_all()
    # creations append (and past two strides, the anchors are extended)
    for i in range(N, N + 600):
        await put(storage, i, owner=None if i % 3 else "P1", pid="ABC" if i % 2 else "XYZ")
    await check_all()
    page = await storage.objects.list_wire("Location", offset=0, limit=1000)
    assert page.total == N - 5 + 600


async def test_dates_and_empty_listings(storage: Storage) -> None:
    empty = await storage.objects.list_wire("Location", offset=0, limit=10)
    assert empty.items == [] and empty.total == 0
    for i in range(20):
        await put(storage, i)
    await same_as_list_page(storage, offset=2, limit=5, date_from=T0 + timedelta(seconds=5))
    await same_as_list_page(
        storage,
        offset=0,
        limit=50,
        date_from=T0 + timedelta(seconds=3),
        date_to=T0 + timedelta(seconds=9),
    )
    with pytest.raises(ValueError):
        await storage.objects.list_wire("Location", offset=-1, limit=5)


async def test_head_bytes_and_only_fresh_cache_entries(storage: Storage) -> None:
    for i in range(3):
        await put(storage, i)
    head = await storage.objects.list_wire("Location", limit=10)
    assert all(isinstance(item, bytes) for item in head.items)
    assert ids_of(head.items) == ["LOC0000", "LOC0001", "LOC0002"]

    cold = await storage.objects.list_wire("Location", limit=10, version="2.1.1")
    assert all(isinstance(item, StoredObject) for item in cold.items)
    await storage.objects.store_wire(
        WireEntry(o.key, o.revision, "2.1.1", b'{"id":"w-%s"}' % o.key.id.encode())
        for o in cold.items
        if isinstance(o, StoredObject)
    )
    warm = await storage.objects.list_wire("Location", limit=10, version="2.1.1")
    assert warm.items == [b'{"id":"w-LOC0000"}', b'{"id":"w-LOC0001"}', b'{"id":"w-LOC0002"}']

    await put(storage, 1)  # a write makes the cached bytes stale: never served
    again = await storage.objects.list_wire("Location", limit=10, version="2.1.1")
    assert again.items[0] == b'{"id":"w-LOC0000"}'
    stale = again.items[1]
    assert isinstance(stale, StoredObject) and stale.key.id == "LOC0001" and stale.revision == 2
    assert again.items[2] == b'{"id":"w-LOC0002"}'
