"""Object ids compared case-sensitively, for a connection whose hub does (the
``case_sensitive_ids`` switch of :mod:`ocpikit.protocol.profiles`; the ``e-clearing`` profile).

OCPI types object ids as CiString (2.2.1 types §CiString: compared case-insensitively), and
ocpikit keys every object so: ``LOC1`` and ``loc1`` of one party are one object (docs/storage.md
§Objects). A hub that compares ids case-sensitively treats them as two objects. ocpikit cannot
hold both under one key, and merging them would silently lose one, so for such a connection:

- a write (PUT, pulled object) whose id differs only in case from the stored object's id is
  refused with an error naming the id field, and nothing is stored;
- a read, PATCH or DELETE addressing an object by an id that differs only in case from the
  stored one answers 404 (at the hub, that object does not exist);
- the id a body carries must equal the URL's exactly.

Invariant: with the switch off (every connection but such hubs) nothing here reads storage or
changes an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocpikit.protocol.ports import Partner
from ocpikit.protocol.profiles import effective_settings

__all__ = ["case_conflict", "compares_case", "id_field_of"]


def compares_case(partner: Partner | None) -> bool:
    """Whether ``partner``'s ids are compared case-sensitively (its effective switch)."""
    if partner is None or not partner.settings:
        return False
    return effective_settings(partner.settings).get("case_sensitive_ids") is True


def id_field_of(kind: str) -> str:
    """The field holding the id of head object ``kind`` (Tokens: ``uid``)."""
    return "uid" if kind == "Token" else "id"


def case_conflict(kind: str, document: Mapping[str, Any], incoming_id: str) -> str | None:
    """The stored object's id when it differs from ``incoming_id`` only in case, else None."""
    stored = document.get(id_field_of(kind))
    if isinstance(stored, str) and stored != incoming_id:
        return stored
    return None
