"""A hub's counters on every backend: a batch adds to what is stored (several writers add up),
and a broadcast's object and its queue entries are written in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from ocpikit.protocol.ports import ObjectKey, Partner, PartnerStatus, PartyRole, Storage
from ocpikit.storage import MemoryStorage

pytestmark = pytest.mark.anyio


async def test_counter_batches_add_up(storage: Storage) -> None:
    await storage.hub_counters.add({("NL-CPA", "sent.delivered"): 3, ("NL-CPA", "sent.4003"): 1})
    await storage.hub_counters.add({("NL-CPA", "sent.delivered"): 2, ("NL-EMX", "loss:x"): 7})
    await storage.hub_counters.add({})
    assert await storage.hub_counters.all() == {
        "NL-CPA": {"sent.delivered": 5, "sent.4003": 1},
        "NL-EMX": {"loss:x": 7},
    }


async def test_an_object_and_its_queue_entries_are_one_write(storage: Storage) -> None:
    """What the hub's broadcast relies on: the entries carry the object's revision, and (SQL)
    a write whose queue entries cannot be inserted (an unknown connection) leaves neither the
    object nor any entry behind."""
    for pid in ("NL-EMX", "NL-EMY"):
        await storage.partners.save(
            Partner(pid, PartnerStatus.REGISTERED, (PartyRole("EMSP", "NL", pid[3:]),))
        )
    key = ObjectKey("Location", "NL", "CPB", "LOC1")
    stamp = datetime(2026, 3, 1, tzinfo=UTC)
    doc = orjson.dumps({"id": "LOC1", "last_updated": "2026-03-01T00:00:00Z"})
    stored = await storage.objects.put(
        key, doc, last_updated=stamp, owner=None, push_to=["NL-EMX", "NL-EMY"]
    )
    entries = await storage.outbox.entries()
    assert {(e.partner_id, e.revision) for e in entries} == {
        ("NL-EMX", stored.revision),
        ("NL-EMY", stored.revision),
    }
    if isinstance(storage, MemoryStorage):
        return
    other = ObjectKey("Location", "NL", "CPB", "LOC2")
    with pytest.raises(Exception):  # noqa: B017 - the driver's integrity error
        await storage.objects.put(
            other, doc, last_updated=stamp, owner=None, push_to=["NL-EMX", "NOBODY"]
        )
    assert await storage.objects.get(other) is None
    assert len(await storage.outbox.entries()) == 2
