"""The party directory's learned entries and object pins in dictionaries (the memory store's
:class:`~ocpikit.protocol.ports.PartyDirectory`; same invariants as
:mod:`ocpikit.storage.sql.parties`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from ocpikit.core.types import ci_key
from ocpikit.protocol.party_records import Learned, Path, RemoteParty

__all__ = ["MemoryParties"]


class MemoryParties:
    """``partners``: the store's live partner rows; entries and pins of a partner that is gone
    are never answered (the SQL tables cascade)."""

    def __init__(self, clock: Callable[[], datetime], partners: Mapping[str, object]) -> None:
        self._clock = clock
        self._partners = partners
        self._entries: dict[tuple[str, str, str, str], RemoteParty] = {}
        self._pins: dict[tuple[str, str, str, str], str] = {}

    async def learn(self, entries: Sequence[RemoteParty]) -> None:
        now = self._clock()
        for e in entries:
            key = (e.partner_id, ci_key(e.country_code), ci_key(e.party_id), e.role.upper())
            known = self._entries.get(key)
            if known is not None and e.learned is Learned.TRAFFIC:
                continue
            self._entries[key] = dataclasses.replace(
                e,
                country_code=known.country_code if known else e.country_code,
                party_id=known.party_id if known else e.party_id,
                role=e.role.upper(),
                path=Path.HUB,
                updated_at=e.updated_at or now,
            )

    async def learned(self, *, partner_id: str | None = None) -> list[RemoteParty]:
        return [
            e
            for k, e in sorted(self._entries.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0]))
            if (partner_id is None or e.partner_id == partner_id) and e.partner_id in self._partners
        ]

    async def forget(self, partner_id: str, *, learned: Learned | None = None) -> int:
        gone = [
            k
            for k, e in self._entries.items()
            if e.partner_id == partner_id and (learned is None or e.learned is learned)
        ]
        for k in gone:
            del self._entries[k]
        return len(gone)

    async def pin(
        self, kind: str, country_code: str, party_id: str, object_id: str, to: str
    ) -> str:
        key = (kind, ci_key(country_code), ci_key(party_id), ci_key(object_id))
        if self._pins.get(key) not in self._partners:
            self._pins.pop(key, None)
        return self._pins.setdefault(key, to)

    async def pinned(
        self, kind: str, country_code: str, party_id: str, object_id: str
    ) -> str | None:
        found = self._pins.get((kind, ci_key(country_code), ci_key(party_id), ci_key(object_id)))
        return found if found in self._partners else None
