"""Object repository: keys, pages, date windows, order, wire cache, patch, delete.

Runs on memory, SQLite and PostgreSQL (``storage`` fixture).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ocpikit.protocol.ports import (
    ANY_OWNER,
    ObjectKey,
    Partner,
    PartnerStatus,
    ReplaceDocument,
    SetFields,
    Storage,
    WireEntry,
)

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def loc(i: int, *, cc: str = "NL", pid: str = "ABC") -> ObjectKey:
    return ObjectKey("Location", cc, pid, f"LOC{i:04d}")


def doc(key: ObjectKey, ts: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "country_code": key.country_code,
        "party_id": key.party_id,
        "id": key.id,
        "last_updated": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }


async def put(
    storage: Storage, key: ObjectKey, ts: datetime, owner: str | None = None, **extra: Any
) -> None:
    await storage.objects.put(key, doc(key, ts, **extra), last_updated=ts, owner=owner)


async def ids(storage: Storage, **kwargs: Any) -> list[str]:
    page = await storage.objects.list_page("Location", limit=1000, **kwargs)
    return [item.key.id for item in page.items]


async def test_put_get_roundtrip_keeps_case_and_matches_case_insensitively(
    storage: Storage,
) -> None:
    key = ObjectKey("Location", "nl", "aBc", "Loc-1")
    written = await storage.objects.put(
        key, doc(key, T0, name="Station"), last_updated=T0, owner=None
    )
    assert written.created and written.revision == 1

    got = await storage.objects.get(ObjectKey("Location", "NL", "ABC", "LOC-1"))
    assert got is not None
    assert (got.key.country_code, got.key.party_id, got.key.id) == ("nl", "aBc", "Loc-1")
    assert got.document["name"] == "Station"
    assert got.last_updated == T0
    assert got.owner is None
    # another kind with the same ids is another object
    assert await storage.objects.get(ObjectKey("Tariff", "NL", "ABC", "LOC-1")) is None


async def test_put_is_a_full_replace_that_keeps_creation_order(storage: Storage) -> None:
    for i in range(3):
        await put(storage, loc(i), T0 + timedelta(minutes=i), name=f"v1-{i}")
    first = await storage.objects.get(loc(0))
    assert first is not None

    # replace the first object through differently-cased keys
    again = ObjectKey("Location", "nl", "abc", "loc0000")
    replaced = await storage.objects.put(
        again, {"id": "loc0000", "other": True}, last_updated=T0 + timedelta(hours=1), owner=None
    )
    assert not replaced.created and replaced.revision == 2
    assert replaced.seq == first.seq

    got = await storage.objects.get(loc(0))
    assert got is not None
    assert got.document == {"id": "loc0000", "other": True}  # nothing merged from v1
    assert got.key.id == "loc0000"  # the latest write's case
    page = await storage.objects.list_page("Location", limit=10)
    assert [i.key.id.upper() for i in page.items] == ["LOC0000", "LOC0001", "LOC0002"]
    assert page.total == 3


async def test_paging_limit_one_walks_everything_once_in_creation_order(storage: Storage) -> None:
    # last_updated deliberately not in creation order
    stamps = [T0 + timedelta(minutes=m) for m in (5, 1, 4, 2, 3)]
    for i, ts in enumerate(stamps):
        await put(storage, loc(i), ts)
    seen = []
    offset = 0
    while True:
        page = await storage.objects.list_page("Location", offset=offset, limit=1)
        assert page.total == 5
        if not page.items:
            break
        assert len(page.items) == 1
        seen.append(page.items[0].key.id)
        offset += 1
    assert seen == [loc(i).id for i in range(5)]


async def test_offset_past_the_end_is_empty_with_the_total(storage: Storage) -> None:
    for i in range(3):
        await put(storage, loc(i), T0)
    page = await storage.objects.list_page("Location", offset=10, limit=5)
    assert page.items == [] and page.total == 3
    page = await storage.objects.list_page("Location", offset=3, limit=5)
    assert page.items == [] and page.total == 3
    last = await storage.objects.list_page("Location", offset=2, limit=5)
    assert [i.key.id for i in last.items] == [loc(2).id] and last.total == 3
    middle = await storage.objects.list_page("Location", offset=1, limit=1)
    assert [i.key.id for i in middle.items] == [loc(1).id] and middle.total == 3
    empty = await storage.objects.list_page("Session", offset=0, limit=5)
    assert empty.items == [] and empty.total == 0
    with pytest.raises(ValueError, match="negative"):
        await storage.objects.list_page("Location", offset=-1, limit=5)


async def test_date_window_from_inclusive_to_exclusive(storage: Storage) -> None:
    for i in range(6):
        await put(storage, loc(i), T0 + timedelta(hours=i))
    t = [T0 + timedelta(hours=h) for h in range(7)]
    assert await ids(storage, date_from=t[2]) == [loc(i).id for i in (2, 3, 4, 5)]
    assert await ids(storage, date_to=t[2]) == [loc(i).id for i in (0, 1)]
    assert await ids(storage, date_from=t[1], date_to=t[4]) == [loc(i).id for i in (1, 2, 3)]
    assert await ids(storage, date_from=t[3], date_to=t[3]) == []
    page = await storage.objects.list_page("Location", limit=1, offset=1, date_from=t[2])
    assert page.total == 4 and [i.key.id for i in page.items] == [loc(3).id]
    # sub-second precision and other offsets compare as instants
    await put(storage, loc(9), T0 + timedelta(hours=2, microseconds=1500))
    assert loc(9).id in await ids(storage, date_from=t[2], date_to=t[2] + timedelta(seconds=1))
    cet = datetime.fromisoformat("2024-01-01T03:00:00+01:00")  # = T0 + 2h
    assert await ids(storage, date_from=cet, date_to=t[3]) == [loc(2).id, loc(9).id]


async def test_order_is_stable_under_updates_while_paging(storage: Storage) -> None:
    for i in range(6):
        await put(storage, loc(i), T0)
    first = await storage.objects.list_page("Location", offset=0, limit=3)
    # objects of the first page change (newer last_updated) before the second page is read
    for i in (0, 1, 4):
        await put(storage, loc(i), T0 + timedelta(days=1), changed=True)
    second = await storage.objects.list_page("Location", offset=3, limit=3)
    got = [i.key.id for i in first.items + second.items]
    assert got == [loc(i).id for i in range(6)]


async def test_owner_and_party_filters(storage: Storage) -> None:
    await put(storage, loc(0), T0, owner=None)
    await put(storage, loc(1, cc="DE", pid="XYZ"), T0, owner="partner-1")
    await put(storage, loc(2, cc="DE", pid="XYZ"), T0, owner="partner-1")
    await put(storage, loc(3, cc="BE", pid="QQQ"), T0, owner="partner-2")
    assert await ids(storage, owner=None) == [loc(0).id]
    assert await ids(storage, owner="partner-1") == [loc(1).id, loc(2).id]
    assert await ids(storage, owner=ANY_OWNER) == [loc(i).id for i in range(4)]
    assert await ids(storage, country_code="de", party_id="xyz") == [loc(1).id, loc(2).id]
    assert await ids(storage, country_code="BE") == [loc(3).id]
    assert await ids(storage, owner="partner-2", party_id="XYZ") == []
    page = await storage.objects.list_page("Location", owner="partner-1", limit=1)
    assert page.total == 2


async def test_wire_cache_is_served_and_invalidated_by_writes(storage: Storage) -> None:
    await put(storage, loc(0), T0)
    await put(storage, loc(1), T0)
    page = await storage.objects.list_page("Location", limit=10, version="2.1.1")
    assert [i.wire for i in page.items] == [None, None]

    await storage.objects.store_wire(
        WireEntry(i.key, i.revision, "2.1.1", f"wire-{i.key.id}".encode()) for i in page.items
    )
    page = await storage.objects.list_page("Location", limit=10, version="2.1.1")
    assert [i.wire for i in page.items] == [b"wire-LOC0000", b"wire-LOC0001"]
    other = await storage.objects.list_page("Location", limit=10, version="2.2.1")
    assert [i.wire for i in other.items] == [None, None]
    plain = await storage.objects.list_page("Location", limit=10)
    assert [i.wire for i in plain.items] == [None, None]
    got = await storage.objects.get(loc(0), version="2.1.1")
    assert got is not None and got.wire == b"wire-LOC0000"

    await put(storage, loc(0), T0 + timedelta(minutes=1))  # a write drops the cache
    page = await storage.objects.list_page("Location", limit=10, version="2.1.1")
    assert [i.wire for i in page.items] == [None, b"wire-LOC0001"]

    # a cache fill computed from an older revision is ignored
    await storage.objects.store_wire([WireEntry(loc(0), 1, "2.1.1", b"stale")])
    got = await storage.objects.get(loc(0), version="2.1.1")
    assert got is not None and got.wire is None
    # and one for the current revision is kept, also for a differently-cased key
    await storage.objects.store_wire(
        [WireEntry(ObjectKey("Location", "nl", "abc", "loc0000"), 2, "2.1.1", b"fresh")]
    )
    got = await storage.objects.get(loc(0), version="2.1.1")
    assert got is not None and got.wire == b"fresh"


async def test_patch_merges_in_one_step_and_indexes_the_new_last_updated(
    storage: Storage,
) -> None:
    await put(storage, loc(0), T0, owner="partner-1", status="AVAILABLE", name="A")
    later = T0 + timedelta(hours=3)

    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        return {**current, "status": "CHARGING", "last_updated": "2024-01-01T03:00:00Z"}

    patched = await storage.objects.patch(ObjectKey("Location", "nl", "ABC", "loc0000"), merge)
    assert patched is not None and patched.revision == 2
    got = await storage.objects.get(loc(0))
    assert got is not None
    assert got.document["status"] == "CHARGING" and got.document["name"] == "A"
    assert got.last_updated == later
    assert got.owner == "partner-1"
    assert await ids(storage, date_from=later) == [loc(0).id]
    assert await storage.objects.patch(loc(5), merge) is None

    def no_timestamp(current: Mapping[str, Any]) -> Mapping[str, Any]:
        return {k: v for k, v in current.items() if k != "last_updated"}

    with pytest.raises(ValueError, match="last_updated"):
        await storage.objects.patch(loc(0), no_timestamp)
    still = await storage.objects.get(loc(0))
    assert still is not None and still.revision == 2  # nothing written


async def test_concurrent_patches_lose_no_update(storage: Storage) -> None:
    """Each PATCH appends to a list; 40 at once, interleaved with PUTs of another object,
    must all land (SQLite merges optimistically outside the write and merges again inside it
    when the revision moved)."""
    import asyncio

    await put(storage, loc(0), T0, owner=None, seen=[])
    calls = 0

    def append(n: int) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
        def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
            nonlocal calls
            calls += 1
            return {**current, "seen": [*current["seen"], n]}

        return merge

    async def other(i: int) -> None:
        await put(storage, loc(1), T0, owner=None, i=i)

    await asyncio.gather(
        *(storage.objects.patch(loc(0), append(n)) for n in range(40)),
        *(other(i) for i in range(10)),
    )
    got = await storage.objects.get(loc(0))
    assert got is not None
    assert sorted(got.document["seen"]) == list(range(40))
    assert got.revision == 41
    assert calls >= 40


async def test_patch_with_an_owner_only_touches_that_owners_object(storage: Storage) -> None:
    await put(storage, loc(0), T0, owner="partner-1", status="AVAILABLE")
    await put(storage, loc(1), T0, owner=None, status="AVAILABLE")
    calls: list[str] = []

    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append(str(current["id"]))
        return {**current, "status": "CHARGING"}

    assert await storage.objects.patch(loc(0), merge, owner="partner-2") is None
    assert await storage.objects.patch(loc(0), merge, owner=None) is None
    assert await storage.objects.patch(loc(1), merge, owner="partner-1") is None
    assert calls == []  # refused before merging
    done = await storage.objects.patch(loc(0), merge, owner="partner-1")
    assert done is not None and done.document["status"] == "CHARGING"
    ours = await storage.objects.patch(loc(1), merge, owner=None)
    assert ours is not None and ours.owner is None
    assert calls == [loc(0).id, loc(1).id]


async def test_delete(storage: Storage) -> None:
    for i in range(3):
        await put(storage, loc(i), T0)
    assert await storage.objects.delete(ObjectKey("Location", "nl", "abc", "loc0001"))
    assert not await storage.objects.delete(loc(1))
    assert await storage.objects.get(loc(1)) is None
    page = await storage.objects.list_page("Location", limit=10)
    assert [i.key.id for i in page.items] == [loc(0).id, loc(2).id] and page.total == 2
    # re-created: it is a new object, at the end of the order
    await put(storage, loc(1), T0)
    assert await ids(storage) == [loc(0).id, loc(2).id, loc(1).id]


async def test_put_with_push_to_writes_the_outbox_entry(storage: Storage) -> None:
    await storage.partners.save(Partner(id="p1", status=PartnerStatus.REGISTERED))
    key = loc(0)
    stored = await storage.objects.put(
        key, doc(key, T0), last_updated=T0, owner=None, push_to=["p1"]
    )
    [entry] = await storage.outbox.entries()
    assert entry.partner_id == "p1" and entry.key == key
    # the same JSON (PostgreSQL's JSONB may reorder keys, so compare parsed)
    assert entry.payload is not None and orjson.loads(entry.payload) == stored.document
    assert entry.revision == 1


async def test_totals_follow_creates_deletes_and_owner_changes(storage: Storage) -> None:
    async def total(**kwargs: Any) -> int:
        return (await storage.objects.list_page("Location", limit=0, **kwargs)).total

    for i in range(4):
        await put(storage, loc(i), T0, owner=None)
    await put(storage, loc(0), T0, owner=None)  # an update does not count twice
    assert (await total(), await total(owner=None), await total(owner="p1")) == (4, 4, 0)
    await put(storage, loc(1), T0, owner="p1")  # the object changes hands
    assert (await total(), await total(owner=None), await total(owner="p1")) == (4, 3, 1)
    await storage.objects.delete(loc(1))
    await storage.objects.delete(loc(2))
    assert (await total(), await total(owner=None), await total(owner="p1")) == (2, 2, 0)
    assert await total(date_from=T0) == 2  # the counting path agrees


async def test_patch_with_fields_stores_what_the_merge_stores(storage: Storage) -> None:
    """A ``SetFields`` plan (plain top-level values; SQLite merges them in its UPDATE with
    ``json_patch``) leaves the same object as the merge it stands for: document bytes, key
    order, revision, indexed timestamp, owner check, outbox entry, the listing's change."""
    from ocpikit.storage.sql import SqlStorage

    await storage.partners.save(Partner(id="p1", status=PartnerStatus.REGISTERED))
    fields = {
        "name": 'Zürich "Hbf" \\ ✓',
        "publish": False,
        "kwh": 3.5,
        "big": 12345678901234567890,
        "tags": ["a", "b"],
        "new_field": 1,
        "last_updated": "2024-01-02T03:04:05.678Z",
    }
    outcomes = []
    for n, use_fields in enumerate((False, True)):
        key = loc(n)
        await put(storage, key, T0, owner="cpo", name="Old", kwh=0, tags=["x"], nested={"a": 1})
        calls: list[Any] = []

        def merge(current: Mapping[str, Any], calls: list[Any] = calls) -> Mapping[str, Any]:
            calls.append(current)
            return {**current, **fields}

        plan = SetFields(fields) if use_fields else ReplaceDocument(merge)
        assert await storage.objects.patch(key, plan, owner="other") is None
        stored = await storage.objects.patch(key, plan, owner="cpo", push_to=["p1"])
        assert stored is not None and stored.owner == "cpo" and stored.key == key
        again = await storage.objects.get(key)
        assert again is not None and again.document == stored.document and again.revision == 2
        assert again.last_updated == datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
        entries = [e for e in await storage.outbox.entries() if e.key == key]
        assert [e.revision for e in entries] == [2] and entries[0].payload is not None
        assert orjson.loads(entries[0].payload) == again.document
        window = await storage.objects.list_page(
            "Location", limit=10, date_from=datetime(2024, 1, 2, tzinfo=UTC)
        )
        assert key in [i.key for i in window.items]
        if use_fields:
            assert calls == []  # merged by the store (SQLite: in its UPDATE), not by ``merge``
        else:
            assert len(calls) == 1
        outcomes.append(again)
    plain, merged = outcomes  # of LOC0000 and LOC0001
    assert {**merged.document, "id": "LOC0000"} == plain.document
    assert plain.document == {**doc(loc(0), T0, name="Old", nested={"a": 1}), **fields}
    if not isinstance(storage, SqlStorage) or storage.engines.inline:  # PostgreSQL: JSONB order
        # the same bytes, key order included
        assert merged.raw.replace(b"LOC0001", b"LOC0000") == plain.raw
