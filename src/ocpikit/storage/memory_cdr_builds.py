"""The in-memory ``cdr_builds``: :class:`~ocpikit.protocol.cdr_builds.CdrBuildStore` over a
dict keyed by the Session's creation order. :meth:`MemoryCdrBuilds.queue` is called by the
memory object store in the same write that stores one of our completed Sessions (what the SQL
trigger does)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ocpikit.protocol.cdr_builds import BUILD_LEASE_SECONDS, CdrBuild, CdrBuildState

__all__ = ["MemoryCdrBuilds"]


class MemoryCdrBuilds:
    def __init__(self, clock: Callable[[], datetime], objects: Mapping[Any, Any]) -> None:
        self._clock = clock
        self._objects = objects  # ObjectKey -> the memory store's object (seq, key)
        self._rows: dict[int, CdrBuild] = {}
        self._leases: dict[int, datetime] = {}

    def queue(self, seq: int, key: Any, at: datetime) -> None:
        if seq not in self._rows:
            self._rows[seq] = CdrBuild(
                seq=seq,
                country_code=key.country_code,
                party_id=key.party_id,
                session_id=key.id,
                state=CdrBuildState.PENDING,
                queued_at=at,
            )

    def _live(self) -> list[CdrBuild]:
        alive = {obj.seq for obj in self._objects.values()}
        return [self._rows[s] for s in sorted(self._rows) if s in alive]

    async def claim(self, *, limit: int = 50, lease: float = BUILD_LEASE_SECONDS) -> list[CdrBuild]:
        now = self._clock()
        taken: list[CdrBuild] = []
        for b in self._live():
            if len(taken) >= limit:
                break
            held = self._leases.get(b.seq)
            if b.state is CdrBuildState.PENDING and (held is None or held < now):
                self._leases[b.seq] = now + timedelta(seconds=lease)
                taken.append(b)
        return taken

    async def finish(
        self, seq: int, state: CdrBuildState, *, cdr_id: str | None, error: str | None
    ) -> bool:
        current = self._rows.get(seq)
        if current is None or current.state is not CdrBuildState.PENDING:
            return False
        self._leases.pop(seq, None)
        self._rows[seq] = dataclasses.replace(
            current, state=state, cdr_id=cdr_id, error=error, built_at=self._clock()
        )
        return True

    async def listing(
        self, *, states: Sequence[CdrBuildState] = (), limit: int = 1000
    ) -> list[CdrBuild]:
        return [b for b in self._live() if not states or b.state in states][:limit]
