"""The tariffs in force for a session when nothing names them (docs/cdrs.md): the
``tariff_ids`` of the connector the session used (OCPI 2.2.1 locations §8.3.3 Connector
``tariff_ids``), as held for the Location's owner, keeping those whose validity
(``start_date_time`` / ``end_date_time``, 2.2.1 tariffs §11.3.1: "The time when this tariff
becomes active / is no longer valid") contains the session's start.

Used by the CDRs the platform builds (our Location and Tariffs, ``owner`` None) and by the check
of a partner's CDR that names no tariff (the partner's Location and Tariffs).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.protocol.ports import ObjectKey, Storage

__all__ = ["connector_tariff_ids", "in_force", "tariffs_by_id", "tariffs_in_force"]


def connector_tariff_ids(
    location: Mapping[str, Any] | None, evse_uid: Any, connector_id: Any
) -> list[str]:
    """The ``tariff_ids`` of the connector (case-insensitive uid and id), [] when unknown."""
    if not location:
        return []
    for evse in location.get("evses") or ():
        if str(evse.get("uid", "")).upper() != str(evse_uid).upper():
            continue
        for conn in evse.get("connectors") or ():
            if str(conn.get("id", "")).upper() == str(connector_id).upper():
                return [str(t) for t in conn.get("tariff_ids") or ()]
    return []


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def in_force(tariff: Mapping[str, Any], at: datetime | None) -> bool:
    """Whether ``tariff`` is valid at ``at`` (no bound: always; unknown ``at``: yes)."""
    if at is None:
        return True
    start, end = _time(tariff.get("start_date_time")), _time(tariff.get("end_date_time"))
    return (start is None or start <= at) and (end is None or at < end)


async def tariffs_by_id(
    storage: Storage, country_code: str, party_id: str, ids: list[str], owner: str | None
) -> list[dict[str, Any]]:
    """The stored Tariffs of the party with these ids that belong to ``owner``."""
    out = []
    for tid in dict.fromkeys(ids):
        got = await storage.objects.get(ObjectKey("Tariff", country_code, party_id, tid))
        if got is not None and got.owner == owner:
            out.append(dict(got.document))
    return out


async def tariffs_in_force(
    storage: Storage,
    country_code: str,
    party_id: str,
    *,
    location: Mapping[str, Any] | None,
    evse_uid: Any,
    connector_id: Any,
    start: datetime | None,
    owner: str | None,
) -> list[dict[str, Any]]:
    """The connector's tariffs held for ``owner`` that were in force at ``start``."""
    ids = connector_tariff_ids(location, evse_uid, connector_id)
    held = await tariffs_by_id(storage, country_code, party_id, ids, owner)
    return [t for t in held if in_force(t, start)]
