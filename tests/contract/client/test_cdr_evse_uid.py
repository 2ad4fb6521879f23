"""The ``cdr_evse_uid_from_location`` switch on a pull: a CPO whose CDRs come without
``cdr_location.evse_uid`` (its CdrLocation model lacks the field, as extrawest-ocpi's does,
docs/testing.md "Tried against") has them stored with the uid of the EVSE its own Location
lists under that ``evse_id`` (protocol/cdr_evse_uid.py; OCPI 2.2.1 mod_cdrs §CdrLocation)."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from ocpikit.client.partner import PartnerClient
from ocpikit.client.sync import pull_into_storage
from ocpikit.convert import convert
from ocpikit.core.types import parse_datetime
from ocpikit.core.versions import HEAD, V2_2_1
from ocpikit.protocol.ports import ObjectKey
from ocpikit.server.demo import demo_locations
from ocpikit.storage.memory import MemoryStorage

from .helpers import cdrs, mock, ok, partner

pytestmark = pytest.mark.anyio


def _wire_cdrs(n: int) -> list[dict[str, Any]]:
    """Our demo CDRs in 2.2.1, each ``cdr_location`` without ``evse_uid``, the ``evse_id``
    lower-cased (the peer lower-cases its CiStrings)."""
    out = []
    for doc in cdrs(n):
        wire, _losses = convert(doc, "CDR", HEAD, V2_2_1)
        where = dict(wire["cdr_location"])
        where.pop("evse_uid")
        where["evse_id"] = where["evse_id"].lower()
        out.append({**wire, "cdr_location": where})
    return out


async def _storage_with_locations(owner: str | None) -> MemoryStorage:
    storage = MemoryStorage()
    for loc in demo_locations("NL", "CPO", 40):
        key = ObjectKey("Location", "NL", "CPO", loc["id"])
        await storage.objects.put(
            key, orjson.dumps(loc), last_updated=parse_datetime(loc["last_updated"]), owner=owner
        )
    return storage


async def _pull(storage: MemoryStorage, settings: dict[str, Any], n: int = 2) -> Any:
    wire = _wire_cdrs(n)

    def handler(req: httpx.Request) -> httpx.Response:
        return ok(wire, headers={"X-Total-Count": str(len(wire))})

    async with mock(handler) as http:
        client = PartnerClient(partner("2.2.1", settings=settings), http)
        return await pull_into_storage(client, storage, "cdrs")


async def test_without_the_switch_such_cdrs_are_skipped() -> None:
    storage = await _storage_with_locations("NL-CPO")
    report = await _pull(storage, {})
    assert report.skipped == 2 and report.created == 0


async def test_the_switch_fills_evse_uid_from_the_partners_location() -> None:
    storage = await _storage_with_locations("NL-CPO")
    report = await _pull(storage, {"cdr_evse_uid_from_location": True})
    assert report.skipped == 0 and report.created == 2
    for doc in cdrs(2):
        stored = await storage.objects.get(ObjectKey("CDR", "NL", "CPO", doc["id"]))
        assert stored is not None
        assert stored.document["cdr_location"]["evse_uid"] == doc["cdr_location"]["evse_uid"]


async def test_a_location_that_is_not_the_partners_is_not_used() -> None:
    storage = await _storage_with_locations(None)  # our own Locations under the same key
    report = await _pull(storage, {"cdr_evse_uid_from_location": True})
    assert report.skipped == 2 and report.created == 0
