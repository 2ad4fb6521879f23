"""The emulated CPO's charge points as its Locations (``ocpikit emulate cpo --chargepoints N``).

Charge point ``k`` (identity ``{party_id}-CP{k:02d}``, e.g. ``ECP-CP01``) is the CPO's ``k``-th
generated Location, reshaped to one EVSE per connector: OCPP 1.6 connector ``n`` / OCPP 2.0.1
EVSE ``n`` is the Location's ``n``-th EVSE (uid ``{location_id}-E{n}``), which has one
Connector, ``1`` (2.2.1 mod_locations §Location, §EVSE, §Connector objects). Every EVSE is
served with status UNKNOWN until its charger reports one.

Invariant: the site keeps the Location in its 2.2.1 form (what Sessions and CDRs are built
from); the served object (the dataset entry) is always that form in the emulator's version
(:func:`~.data.in_version`), with the entry's ``last_updated`` the Location's.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .data import Dataset, Entry, in_version, location_221, object_id, stamp

__all__ = ["CONNECTOR_ID", "Site", "chargepoint_id", "equip", "plan_sites"]

#: the id of the single Connector of each charge-point EVSE
CONNECTOR_ID = "1"


def chargepoint_id(party: str, k: int) -> str:
    """The OCPP identity of the ``k``-th charge point of ``party`` (``CC-PID``)."""
    return f"{party.split('-')[1]}-CP{k:02d}"


@dataclass
class Site:
    """One charge point and the Location it is."""

    id: str
    party: str
    location_id: str
    evse_uids: tuple[str, ...]
    #: the 2.2.1 form of the Location (statuses and last_updated kept current)
    location: dict[str, Any] = field(repr=False)
    #: the dataset entry that serves the Location
    entry: Entry = field(repr=False)

    def evse_uid(self, n: int) -> str | None:
        """The EVSE uid of connector ``n`` (1-based), None when the charger has no such one."""
        return self.evse_uids[n - 1] if 1 <= n <= len(self.evse_uids) else None

    def number_of(self, evse_uid: str) -> int | None:
        """The connector number of an EVSE uid (compared case-insensitively: CiString)."""
        wanted = evse_uid.upper()
        return next((i + 1 for i, u in enumerate(self.evse_uids) if u.upper() == wanted), None)

    def evse(self, n: int) -> dict[str, Any]:
        """The 2.2.1 EVSE object of connector ``n``."""
        evse: dict[str, Any] = self.location["evses"][n - 1]
        return evse

    @property
    def tariff_id(self) -> str | None:
        ids = self.evse(1)["connectors"][0].get("tariff_ids") or []
        return str(ids[0]) if ids else None

    def set_status(self, n: int, status: str, when: datetime, version: str) -> bool:
        """Set EVSE ``n``'s status (and the ``last_updated`` of the EVSE and the Location:
        2.2.1 mod_locations §PUT/PATCH) in both forms; False when it already had it."""
        evse = self.evse(n)
        if evse["status"] == status:
            return False
        text = stamp(when)
        evse["status"] = status
        evse["last_updated"] = text
        self.location["last_updated"] = text
        self.entry.data = in_version("locations", self.location, version)
        self.entry.last_updated = when.replace(microsecond=when.microsecond // 1000 * 1000)
        return True

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "location_id": self.location_id,
            "evse_uids": list(self.evse_uids),
            "tariff_id": self.tariff_id,
        }


def equip(location: dict[str, Any], k: int, connectors: int) -> dict[str, Any]:
    """The 2.2.1 ``location`` reshaped for a charge point with ``connectors`` connectors: EVSE
    ``n`` is a copy of its first EVSE with uid ``{location_id}-E{n}``, status UNKNOWN and only
    its first Connector, renumbered ``1``."""
    out = copy.deepcopy(location)
    template = out["evses"][0]
    connector = {**template["connectors"][0], "id": CONNECTOR_ID}
    cc, pid = out["country_code"], out["party_id"]
    out["evses"] = [
        {
            **copy.deepcopy(template),
            "uid": f"{out['id']}-E{n}",
            "evse_id": f"{cc}*{pid}*E{k:04d}{n}",
            "status": "UNKNOWN",
            "connectors": [copy.deepcopy(connector)],
        }
        for n in range(1, connectors + 1)
    ]
    return out


def plan_sites(
    data: Dataset, party: str, count: int, connectors: int, *, seed: int, version: str
) -> list[Site]:
    """Make the first ``count`` Locations of ``party`` in ``data`` charge points (they are
    reshaped in place, see :func:`equip`); ValueError when ``party`` has fewer Locations."""
    sites = []
    for k in range(1, count + 1):
        loc_id = object_id("locations", party, k)
        entry = data.find("locations", loc_id)
        if entry is None:
            raise ValueError(f"{count} charge points need {count} locations of {party}")
        location = equip(location_221(party, k, seed), k, connectors)
        entry.data = in_version("locations", location, version)
        evse_uids = tuple(str(e["uid"]) for e in location["evses"])
        sites.append(Site(chargepoint_id(party, k), party, loc_id, evse_uids, location, entry))
    return sites
