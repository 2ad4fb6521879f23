"""Our own objects and their outbox entries, written together (``ocpikit.operations``)."""

from __future__ import annotations

from typing import Any

import pytest

from ocpikit.operations import delete_own_object, patch_own_object, put_own_object
from ocpikit.protocol.ports import (
    Endpoint,
    ObjectKey,
    OutboxState,
    Partner,
    PartnerStatus,
    PartyRole,
    SetFields,
)
from ocpikit.storage.memory import MemoryStorage

pytestmark = pytest.mark.anyio


async def _storage() -> MemoryStorage:
    storage = MemoryStorage()
    endpoints = tuple(
        Endpoint(m, f"https://emsp.example/2.2.1/{m}", "RECEIVER") for m in ("locations", "tariffs")
    )
    await storage.partners.save(
        Partner(
            id="DE-MSP",
            status=PartnerStatus.REGISTERED,
            roles=(PartyRole("EMSP", "DE", "MSP"),),
            version="2.2.1",
            endpoints=endpoints,
            outbound_token="t",
            local_party=("NL", "CPO"),
        )
    )
    return storage


def _doc(kind: str, ident: str) -> dict[str, Any]:
    return {
        "country_code": "NL",
        "party_id": "CPO",
        "id": ident,
        "last_updated": "2026-01-01T10:00:00Z",
        "currency": "EUR",
        "elements": [],
    }


async def _queued(storage: MemoryStorage) -> list[tuple[str, str]]:
    entries = await storage.outbox.entries(state=OutboxState.PENDING, limit=100)
    return sorted((e.key.kind, e.operation.value) for e in entries)


async def test_a_change_is_stored_and_queued_together() -> None:
    storage = await _storage()
    key = ObjectKey("Tariff", "NL", "CPO", "T1")
    stored = await put_own_object(storage, key, _doc("Tariff", "T1"))
    assert stored.created and stored.owner is None
    assert await _queued(storage) == [("Tariff", "PUT")]
    patched = await patch_own_object(
        storage, key, SetFields({"currency": "USD", "last_updated": "2026-01-02T10:00:00Z"})
    )
    assert patched is not None and patched.document["currency"] == "USD"
    assert (
        await patch_own_object(storage, ObjectKey("Tariff", "NL", "CPO", "NO"), lambda d: d) is None
    )


async def test_only_a_tariffs_deletion_is_queued() -> None:
    storage = await _storage()
    tariff, location = (
        ObjectKey("Tariff", "NL", "CPO", "T1"),
        ObjectKey("Location", "NL", "CPO", "L1"),
    )
    await put_own_object(storage, tariff, _doc("Tariff", "T1"))
    await storage.objects.put(location, b'{"id": "L1"}', last_updated=_stamp(), owner=None)
    assert await delete_own_object(storage, location)
    assert await delete_own_object(storage, tariff)
    assert not await delete_own_object(storage, tariff)
    operations = [op for _kind, op in await _queued(storage)]
    assert operations.count("DELETE") == 1


def _stamp() -> Any:
    from ocpikit.core.types import parse_datetime

    return parse_datetime("2026-01-01T10:00:00Z")
