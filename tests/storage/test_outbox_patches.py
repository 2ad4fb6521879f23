"""Outbox PATCH entries: an object write with ``push_patch`` queues the changed fields beside
the full state, coalesced per partner and object; a PUT queued for the object wins, and
appended items in flight turn the entry into a PUT (never sent twice).

Runs on memory, SQLite and PostgreSQL (``storage`` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from ocpikit.protocol.ports import (
    ObjectKey,
    OutboxOperation,
    Partner,
    PartnerStatus,
    Storage,
)
from ocpikit.protocol.push_patches import Changes, PushPatch

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=UTC)
KEY = ObjectKey("Location", "NL", "ABC", "LOC1")
SESSION = ObjectKey("Session", "NL", "ABC", "S1")


def stamp(i: int) -> str:
    return (T0 + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


def location(i: int, status: str) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "ABC",
        "id": "LOC1",
        "last_updated": stamp(i),
        "evses": [{"uid": "E1", "status": status, "last_updated": stamp(i)}],
    }


async def setup(storage: Storage, *partners: str) -> None:
    for pid in partners:
        await storage.partners.save(Partner(id=pid, status=PartnerStatus.REGISTERED))
    await storage.objects.put(KEY, location(0, "AVAILABLE"), last_updated=T0, owner=None)


async def patch_status(
    storage: Storage, i: int, status: str, push_to: list[str], patch_to: list[str]
) -> None:
    changes = Changes.of(["status"], ["E1"])
    await storage.objects.patch(
        KEY,
        lambda d: location(i, status),
        push_to=push_to,
        push_patch=PushPatch(changes, frozenset(patch_to)),
    )


async def test_patch_entry_holds_full_state_and_changes(storage: Storage) -> None:
    await setup(storage, "p1", "p2")
    await patch_status(storage, 1, "CHARGING", ["p1", "p2"], ["p1"])
    entries = {e.partner_id: e for e in await storage.outbox.entries()}
    assert entries["p1"].operation is OutboxOperation.PATCH
    assert entries["p1"].changes is not None
    assert Changes.loads(entries["p1"].changes).fields == {
        ("E1",): frozenset({"status", "last_updated"})
    }
    assert orjson.loads(entries["p1"].payload or b"")["evses"][0]["status"] == "CHARGING"
    assert entries["p2"].operation is OutboxOperation.PUT and entries["p2"].changes is None


async def test_a_burst_coalesces_into_one_patch_with_the_union_of_fields(
    storage: Storage,
) -> None:
    await setup(storage, "p1")
    await patch_status(storage, 1, "CHARGING", ["p1"], ["p1"])
    await storage.objects.patch(
        KEY,
        lambda d: {**location(2, "CHARGING"), "name": "x"},
        push_to=["p1"],
        push_patch=PushPatch(Changes.of(["name"]), frozenset({"p1"})),
    )
    [entry] = await storage.outbox.entries()
    assert entry.operation is OutboxOperation.PATCH and entry.changes is not None
    assert Changes.loads(entry.changes).fields == {
        ("E1",): frozenset({"status", "last_updated"}),
        (): frozenset({"name", "last_updated"}),
    }
    assert orjson.loads(entry.payload or b"")["name"] == "x"


async def test_a_queued_put_stays_a_put_with_the_latest_state(storage: Storage) -> None:
    await setup(storage, "p1")
    await storage.objects.put(
        KEY, location(1, "BLOCKED"), last_updated=T0, owner=None, push_to=["p1"]
    )
    await patch_status(storage, 2, "CHARGING", ["p1"], ["p1"])
    [entry] = await storage.outbox.entries()
    assert entry.operation is OutboxOperation.PUT and entry.changes is None
    assert orjson.loads(entry.payload or b"")["evses"][0]["status"] == "CHARGING"


async def test_appended_periods_in_flight_turn_the_entry_into_a_put(storage: Storage) -> None:
    await storage.partners.save(Partner(id="p1", status=PartnerStatus.REGISTERED))
    doc = {"id": "S1", "last_updated": stamp(0), "charging_periods": []}
    await storage.objects.put(SESSION, doc, last_updated=T0, owner=None)

    async def add_period(i: int) -> None:
        periods = [{"start_date_time": stamp(n)} for n in range(i)]
        changes = Changes.of([], appended={"charging_periods": i - 1})
        await storage.objects.patch(
            SESSION,
            lambda d: {**d, "last_updated": stamp(i), "charging_periods": periods},
            push_to=["p1"],
            push_patch=PushPatch(changes, frozenset({"p1"})),
        )

    await add_period(1)
    await add_period(2)  # pending: merged, from the first new one
    [entry] = await storage.outbox.entries()
    assert entry.operation is OutboxOperation.PATCH and entry.changes is not None
    assert Changes.loads(entry.changes).appended == {"charging_periods": 0}
    [claimed] = await storage.outbox.claim("w", limit=10, lease=timedelta(minutes=1))
    await add_period(3)  # in flight: period 0 and 1 would be sent again
    [entry] = await storage.outbox.entries()
    assert entry.operation is OutboxOperation.PUT and entry.changes is None
    assert await storage.outbox.complete(claimed)  # a newer revision: back to pending
    [again] = await storage.outbox.claim("w", limit=10, lease=timedelta(minutes=1))
    assert again.operation is OutboxOperation.PUT
    assert len(orjson.loads(again.payload or b"")["charging_periods"]) == 3
