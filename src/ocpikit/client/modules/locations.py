"""The Locations module at a partner (OCPI 2.2.1 ``mod_locations``; DIGEST §3.1): its Sender
list and objects (a Location, one of its EVSEs or one of their Connectors) and its Receiver
for our Locations."""

from __future__ import annotations

from typing import Any

from .objects import ObjectsClient

__all__ = ["LocationsClient"]

_KIND_AT_DEPTH = {1: "Location", 2: "EVSE", 3: "Connector"}


class LocationsClient(ObjectsClient):
    module = "locations"

    __slots__ = ()

    def kind_at(self, ids: tuple[str, ...]) -> str | None:
        """``{location_id}``, ``{location_id}/{evse_uid}`` or ``.../{connector_id}``."""
        return _KIND_AT_DEPTH.get(len(ids), self.kind)

    async def get_location(
        self, location_id: str, evse_uid: str | None = None, connector_id: str | None = None
    ) -> dict[str, Any]:
        """One Location, EVSE or Connector from the CPO's Sender, in head form."""
        ids = [location_id]
        if evse_uid is not None:
            ids.append(evse_uid)
            if connector_id is not None:
                ids.append(connector_id)
        return await self.get(*ids)
