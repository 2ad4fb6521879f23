"""The hub's HubClientInfo: one ClientInfo per party of every connection, kept as the hub's
own objects and pushed through the outbox to every other connected party that has the
HubClientInfo Receiver (OCPI 2.2.1 mod_hub_client_info; DIGEST §3.8). The same objects are the
hub's HubClientInfo Sender list.

Invariants: a party's status is CONNECTED while its connection is REGISTERED and answers, OFFLINE
while the hub's probe cannot reach it (:data:`OFFLINE_FACT`, kept by :func:`record_reachability`)
or once it is gone (unregistered or deleted: a ClientInfo is never deleted, mod_hub_client_info
§PUT), SUSPENDED while it is suspended; a ClientInfo is written (and queued) only when its status or
role changes; a party that connects gets every other party's current ClientInfo.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson

from ocpikit.core.clock import Clock
from ocpikit.core.types import format_datetime
from ocpikit.operations.hub_counters import forwarded_summary
from ocpikit.protocol.hub_routing import connection_role
from ocpikit.protocol.party_records import Path
from ocpikit.protocol.ports import (
    ObjectKey,
    OutboxOperation,
    Partner,
    PartnerStatus,
    Storage,
    StoredObject,
)

__all__ = [
    "OFFLINE_FACT",
    "client_info_key",
    "desired_client_infos",
    "hub_parties",
    "offline_connections",
    "record_reachability",
    "sync_client_info",
]

#: the platform fact holding the connections the hub cannot reach: ``{partner id: since}`` as
#: JSON (every process of the hub reads the same)
OFFLINE_FACT = "hub_offline"


async def offline_connections(storage: Storage) -> dict[str, str]:
    """The connections the hub's probe could not reach last time, with since when."""
    raw = await storage.facts.get(OFFLINE_FACT)
    try:
        found = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


async def record_reachability(
    storage: Storage, partner_id: str, reachable: bool, clock: Clock
) -> bool:
    """Note whether the probe reached a connection; True when that changed its state."""
    offline = await offline_connections(storage)
    if reachable == (partner_id not in offline):
        return False
    if reachable:
        del offline[partner_id]
    else:
        offline[partner_id] = format_datetime(clock.now())
    await storage.facts.set(OFFLINE_FACT, orjson.dumps(offline).decode())
    return True


_STATUS = {PartnerStatus.REGISTERED: "CONNECTED", PartnerStatus.SUSPENDED: "SUSPENDED"}


def client_info_key(country_code: str, party_id: str) -> ObjectKey:
    """Where a party's ClientInfo is kept (as a hub's HubClientInfo Receiver keys it)."""
    return ObjectKey("ClientInfo", country_code, party_id, f"{country_code}{party_id}")


def desired_client_infos(
    partners: Sequence[Partner], learned: Mapping[str, str], offline: Collection[str] = ()
) -> dict[ObjectKey, tuple[str, str, str]]:
    """``key -> (role, status, partner id)`` for every party of every connection (``offline``:
    the connections the hub cannot reach)."""
    out: dict[ObjectKey, tuple[str, str, str]] = {}
    for partner in sorted(partners, key=lambda p: p.status is PartnerStatus.REGISTERED):
        status = _STATUS.get(partner.status, "OFFLINE")
        if status == "CONNECTED" and partner.id in offline:
            status = "OFFLINE"
        for role in partner.roles:
            name = role.role.upper()
            if name in ("OTHER", "HUB"):
                name = connection_role(partner, learned.get(partner.id)) or "OTHER"
            if name == "HUB":
                name = "OTHER"
            out[client_info_key(role.country_code, role.party_id)] = (name, status, partner.id)
    return out


def _receivers(partners: Sequence[Partner], exclude: str | None) -> list[str]:
    return [
        p.id
        for p in partners
        if p.id != exclude
        and p.status is PartnerStatus.REGISTERED
        and any(
            e.identifier.lower() == "hubclientinfo" and (e.role or "").upper() == "RECEIVER"
            for e in p.endpoints
        )
    ]


async def sync_client_info(storage: Storage, clock: Clock) -> int:
    """Bring the ClientInfo objects in line with the connections (module invariants); the
    number written."""
    partners = await storage.partners.all()
    learned = {
        e.partner_id: e.role for e in await storage.parties.learned() if e.path is Path.DIRECT
    }
    desired = desired_client_infos(partners, learned, await offline_connections(storage))
    page = await storage.objects.list_page("ClientInfo", limit=10_000, owner=None)
    current: dict[ObjectKey, StoredObject] = {item.key: item for item in page.items}
    for key, stored in current.items():
        if key not in desired and stored.document.get("status") != "OFFLINE":
            desired[key] = (str(stored.document.get("role", "OTHER")), "OFFLINE", "")
    written = 0
    now = clock.now()
    for key, (role, status, partner_id) in desired.items():
        known = current.get(key)
        doc = known.document if known is not None else {}
        if doc.get("status") == status and doc.get("role") == role:
            continue
        info: dict[str, Any] = {
            "party_id": key.party_id,
            "country_code": key.country_code,
            "role": role,
            "status": status,
            "last_updated": format_datetime(now),
        }
        await storage.objects.put(
            key,
            orjson.dumps(info),
            last_updated=now,
            owner=None,
            push_to=_receivers(partners, partner_id or None),
        )
        written += 1
        if status == "CONNECTED" and doc.get("status") != "CONNECTED" and partner_id:
            await _catch_up(storage, partners, partner_id, key)
    return written


async def _catch_up(
    storage: Storage, partners: Sequence[Partner], partner_id: str, own: ObjectKey
) -> None:
    """A party that connects gets the current ClientInfo of every other party."""
    if partner_id not in _receivers(partners, None):
        return
    page = await storage.objects.list_page("ClientInfo", limit=10_000, owner=None)
    for item in page.items:
        if item.key != own:
            await storage.outbox.enqueue(
                partner_id, item.key, OutboxOperation.PUT, item.raw, revision=item.revision
            )


async def hub_parties(
    storage: Storage, counters: Mapping[str, Mapping[str, int]] | None = None
) -> list[dict[str, Any]]:
    """One row per party of every connection of the hub (``ocpikit hub parties``): the party,
    its role, the connection, its OCPI version, its connection status (its ClientInfo), when
    the connection last exchanged a message with the hub, and the connection's counters of
    forwarded requests by outcome (``forwarded``: ``sent`` and ``received``,
    :func:`~ocpikit.operations.hub_counters.forwarded_summary`; ``counters``: as stored when
    not given)."""
    if counters is None:
        counters = await storage.hub_counters.all()
    partners = await storage.partners.all()
    learned = {
        e.partner_id: e.role for e in await storage.parties.learned() if e.path is Path.DIRECT
    }
    desired = desired_client_infos(partners, learned, await offline_connections(storage))
    by_id = {p.id: p for p in partners}
    rows: list[dict[str, Any]] = []
    last: dict[str, str | None] = {}
    for key, (role, status, partner_id) in sorted(desired.items(), key=lambda kv: kv[0].norm):
        partner = by_id[partner_id]
        if partner_id not in last:
            recent = await storage.exchanges.recent(limit=1, partner_id=partner_id)
            last[partner_id] = format_datetime(recent[0].started_at) if recent else None
        rows.append(
            {
                "party": f"{key.country_code}-{key.party_id}".upper(),
                "country_code": key.country_code,
                "party_id": key.party_id,
                "roles": [role],
                "partner": partner_id,
                "version": partner.version,
                "status": status,
                "last_exchange": last[partner_id],
                "forwarded": forwarded_summary(counters.get(partner_id, {})),
            }
        )
    return rows
