"""A received CDR whose ``cdr_location`` lacks ``evse_uid``, from a partner with the
``cdr_evse_uid_from_location`` switch: the uid is taken from that partner's own Location.

OCPI 2.2.1 mod_cdrs §CdrLocation class: ``evse_uid`` (CiString(36)) is required, beside
``evse_id`` (CiString(48), the eMI3 id). A CPO whose CdrLocation model lacks the field
(extrawest-ocpi, docs/testing.md "Tried against") sends every CDR without it, so every CDR it
sends would be refused. With the switch, the EVSE is looked up in the Location the CDR names
(``cdr_location.id`` under the CDR's ``country_code``/``party_id``), as that partner pushed it or
we pulled it:

- only a Location owned by the same partner connection is used (never ours or another's);
- the EVSE is the one whose ``evse_id`` equals ``cdr_location.evse_id`` ignoring case (both
  are CiStrings); exactly one must match, else nothing is filled;
- nothing else of the CDR is changed, and a CDR that names an ``evse_uid`` is left alone;
- every repair is logged; a CDR that cannot be repaired is refused as before (the caller
  validates what this returns).

2.1.1 CDRs embed the whole Location and are not touched (they have no ``cdr_location``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ocpikit.protocol.ports import ObjectKey, ObjectRepository
from ocpikit.protocol.profiles import effective_settings

__all__ = ["SWITCH", "switched_on", "with_evse_uid"]

_log = logging.getLogger("ocpikit.profiles")

SWITCH = "cdr_evse_uid_from_location"


def switched_on(settings: Mapping[str, Any] | None) -> bool:
    """Whether a connection's settings turn the repair on."""
    return effective_settings(settings).get(SWITCH) is True


def _evse_uid(location: Mapping[str, Any], evse_id: str) -> str | None:
    wanted = evse_id.casefold()
    found = [
        evse.get("uid")
        for evse in location.get("evses") or ()
        if isinstance(evse, Mapping)
        and isinstance(evse.get("evse_id"), str)
        and evse["evse_id"].casefold() == wanted
    ]
    return found[0] if len(found) == 1 and isinstance(found[0], str) else None


async def with_evse_uid(objects: ObjectRepository, raw: Any, *, owner: str) -> Any:
    """``raw`` (a CDR in the partner's 2.2+ wire form) with ``cdr_location.evse_uid`` filled
    from ``owner``'s stored Location (module docstring); ``raw`` itself when there is nothing
    to fill or no single EVSE to fill it from."""
    if not isinstance(raw, Mapping):
        return raw
    where = raw.get("cdr_location")
    if not isinstance(where, Mapping) or where.get("evse_uid") is not None:
        return raw
    cc, pid = raw.get("country_code"), raw.get("party_id")
    location_id, evse_id = where.get("id"), where.get("evse_id")
    if not all(isinstance(v, str) and v for v in (cc, pid, location_id, evse_id)):
        return raw
    stored = await objects.get(ObjectKey("Location", str(cc), str(pid), str(location_id)))
    if stored is None or stored.owner != owner:
        _log.info(
            "%s: CDR %s: no Location %s of that partner to find evse_uid in (%s)",
            owner,
            raw.get("id"),
            location_id,
            SWITCH,
        )
        return raw
    uid = _evse_uid(stored.document, str(evse_id))
    if uid is None:
        _log.info(
            "%s: CDR %s: no single EVSE %s in Location %s (%s)",
            owner,
            raw.get("id"),
            evse_id,
            location_id,
            SWITCH,
        )
        return raw
    _log.info(
        "%s: CDR %s: cdr_location.evse_uid %s taken from Location %s (%s)",
        owner,
        raw.get("id"),
        uid,
        location_id,
        SWITCH,
    )
    return {**raw, "cdr_location": {**where, "evse_uid": uid}}
