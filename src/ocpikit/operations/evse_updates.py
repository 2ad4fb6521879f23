"""Fine-grained changes of our own Locations: one EVSE's or one Connector's fields (status
included) patched by the operator's systems or the OCPP bridge, stored in the Location and
queued for the partners as the smallest PATCH each one takes (EVSE- or Connector-level, OCPI
2.2.1 mod_locations §8.2.2.3; :func:`~ocpikit.operations.own_objects.patch_own_object`).

Invariants: the EVSE's (and the Location's) ``last_updated`` follows the child's (OCPI 2.2.1
mod_locations §8.3.1: a change of an EVSE or Connector updates its parents' ``last_updated``);
the merged Location is validated as a whole before it is stored, so an invalid status or field
is refused with 2001 naming it, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ocpikit.core.errors import NotFound
from ocpikit.core.patch import merge_patch
from ocpikit.core.types import ci_equal, format_datetime
from ocpikit.core.versions import HEAD, Version
from ocpikit.protocol.handlers.base import head_to_version, load_head
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.ports import ObjectKey, Storage, StoredObject

from .own_objects import patch_own_object

__all__ = ["find_child", "patch_evse", "set_evse_status"]


def find_child(items: Any, id_field: str, ident: str) -> int:
    """The index of the item of ``items`` whose ``id_field`` is ``ident`` (ids compare
    case-insensitively, OCPI CiString), or -1."""
    for i, item in enumerate(items or []):
        if isinstance(item, Mapping) and ci_equal(str(item.get(id_field, "")), ident):
            return i
    return -1


async def patch_evse(
    storage: Storage,
    key: ObjectKey,
    evse_uid: str,
    patch: Mapping[str, Any],
    *,
    now: datetime,
    connector_id: str | None = None,
    version: Version = HEAD,
    rules: RoutingRules | None = None,
) -> StoredObject:
    """Merge ``patch`` (fields of the EVSE, or of its Connector ``connector_id``, in
    ``version``; validated by :func:`~ocpikit.protocol.handlers.base.load_patch`) into our
    Location ``key`` and queue the change. :class:`NotFound` names what does not exist."""
    stamp = patch.get("last_updated")
    if not isinstance(stamp, str):
        stamp = format_datetime(now)

    def merge(current: Mapping[str, Any]) -> Mapping[str, Any]:
        doc = head_to_version(current, version, "Location")  # a shallow copy at HEAD
        evses = list(doc.get("evses") or [])
        i = find_child(evses, "uid", evse_uid)
        if i < 0:
            raise NotFound(f"Unknown EVSE {evse_uid!r} in Location {key.id!r}")
        evse = evses[i]
        if connector_id is None:
            evse = merge_patch(evse, patch)
        else:
            connectors = list(evse.get("connectors") or [])
            j = find_child(connectors, "id", connector_id)
            if j < 0:
                raise NotFound(f"Unknown connector {connector_id!r} of EVSE {evse_uid!r}")
            connectors[j] = {**merge_patch(connectors[j], patch), "last_updated": stamp}
            evse = {**evse, "connectors": connectors}
        evses[i] = {**evse, "last_updated": stamp}
        doc["evses"] = evses
        doc["last_updated"] = stamp
        return load_head(
            version, "Location", doc, country_code=key.country_code, party_id=key.party_id
        )

    stored = await patch_own_object(storage, key, merge, rules)
    if stored is None:
        raise NotFound(f"Unknown Location {key.id!r}")
    return stored


async def set_evse_status(
    storage: Storage,
    key: ObjectKey,
    evse_uid: str,
    status: str,
    *,
    now: datetime,
    rules: RoutingRules | None = None,
) -> StoredObject | None:
    """Set one EVSE's ``status`` (OCPI 2.2.1 §8.4.22 Status); None when it is that already
    (nothing stored, nothing pushed)."""
    current = await storage.objects.get(key)
    if current is None:
        raise NotFound(f"Unknown Location {key.id!r}")
    evses = current.document.get("evses") or []
    i = find_child(evses, "uid", evse_uid)
    if i >= 0 and evses[i].get("status") == status:
        return None
    patch = {"status": status, "last_updated": format_datetime(now)}
    return await patch_evse(storage, key, evse_uid, patch, now=now, rules=rules)
