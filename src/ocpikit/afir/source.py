"""Reading what the AFIR check and the NAP publications are made of from storage: our own
Locations and Tariffs (head 2.3.0 documents) and the ``[afir]`` supplement, the config's
merged with what the backend API stored (the platform fact ``afir.supplement``, a JSON object
of location id → supplement keys; a location's stored entry wins over the config's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import orjson

from ocpikit.afir.mobilithek import Dataset
from ocpikit.afir.supplement import Supplement, SupplementError
from ocpikit.protocol.ports import Storage

__all__ = [
    "SUPPLEMENT_FACT",
    "load_dataset",
    "own_documents",
    "store_supplement",
    "stored_supplement",
]

SUPPLEMENT_FACT = "afir.supplement"
_PAGE = 1000


async def own_documents(
    storage: Storage, kind: str, *, since: datetime | None = None
) -> list[dict[str, Any]]:
    """Every own object of ``kind`` (``last_updated >= since`` when given), creation order."""
    out: list[dict[str, Any]] = []
    offset = 0
    while True:
        page = await storage.objects.list_page(
            kind, offset=offset, limit=_PAGE, owner=None, date_from=since
        )
        out += [dict(item.document) for item in page.items]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            return out


async def stored_supplement(storage: Storage, config: Supplement) -> Supplement:
    """``config`` with the backend API's per-location entries laid over it."""
    raw = await storage.facts.get(SUPPLEMENT_FACT)
    if not raw:
        return config
    merged = config
    for location_id, values in orjson.loads(raw).items():
        merged = merged.with_location(
            location_id, {**config.locations.get(location_id, {}), **values}
        )
    return merged


async def store_supplement(
    storage: Storage, config: Supplement, location_id: str, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Check and store one location's supplement (replacing what the API stored for it
    before); returns the location's merged entry. Raises :class:`SupplementError`."""
    config.with_location(location_id, values)  # checks the keys and values
    raw = await storage.facts.get(SUPPLEMENT_FACT)
    table: dict[str, Any] = orjson.loads(raw) if raw else {}
    if not isinstance(table, dict):
        raise SupplementError("stored afir supplement is not an object")
    table[location_id] = dict(values)
    await storage.facts.set(SUPPLEMENT_FACT, orjson.dumps(table).decode())
    merged = await stored_supplement(storage, config)
    return dict(merged.locations.get(location_id, {}))


async def load_dataset(
    storage: Storage,
    config: Supplement,
    now: datetime,
    *,
    locations: Sequence[Mapping[str, Any]] | None = None,
) -> Dataset:
    """Our Locations (or the ``locations`` given), Tariffs and the merged supplement."""
    supplement = await stored_supplement(storage, config)
    if locations is None:
        locations = await own_documents(storage, "Location")
    return Dataset(locations, await own_documents(storage, "Tariff"), supplement, now)
