"""The in-memory ``cdr_checks``: :class:`~ocpikit.protocol.cdr_checks.CdrCheckStore` over a
dict keyed by the CDR's creation order. :meth:`MemoryCdrChecks.queue` is called by the memory
object store in the same write that stores a partner's CDR (what the SQL trigger does)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import orjson

from ocpikit.core.types import ci_key
from ocpikit.protocol.cdr_checks import (
    CHECK_LEASE_SECONDS,
    CdrCheck,
    CdrCheckState,
    CheckOutcome,
    Resolution,
    Verdict,
)

__all__ = ["MemoryCdrChecks"]


class MemoryCdrChecks:
    def __init__(self, clock: Callable[[], datetime], objects: Mapping[Any, Any]) -> None:
        self._clock = clock
        self._objects = objects  # ObjectKey -> the memory store's object (seq, key)
        self._rows: dict[int, CdrCheck] = {}
        self._sessions: dict[int, str] = {}
        self._leases: dict[int, datetime] = {}
        self._tariff_changed: set[int] = set()  # a Tariff arrived while pending

    def queue(self, seq: int, key: Any, owner: str, revision: int, at: datetime) -> None:
        current = self._rows.get(seq)
        if current is None:
            self._rows[seq] = CdrCheck(
                seq=seq,
                country_code=key.country_code,
                party_id=key.party_id,
                cdr_id=key.id,
                owner=owner,
                revision=revision,
                state=CdrCheckState.PENDING,
                queued_at=at,
            )
        elif current.revision != revision:
            self._rows[seq] = dataclasses.replace(
                current, owner=owner, revision=revision, state=CdrCheckState.PENDING
            )

    def _live(self) -> list[CdrCheck]:
        alive = {obj.seq for obj in self._objects.values()}
        return [self._rows[s] for s in sorted(self._rows) if s in alive]

    async def pending(self, *, limit: int = 100) -> list[CdrCheck]:
        return [c for c in self._live() if c.state is CdrCheckState.PENDING][:limit]

    async def claim(
        self, *, limit: int = 100, lease: float = CHECK_LEASE_SECONDS
    ) -> list[CdrCheck]:
        now = self._clock()
        taken: list[CdrCheck] = []
        for c in self._live():
            if len(taken) >= limit:
                break
            held = self._leases.get(c.seq)
            if c.state is CdrCheckState.PENDING and (held is None or held < now):
                self._leases[c.seq] = now + timedelta(seconds=lease)
                taken.append(c)
        return taken

    async def requeue(self, seqs: Sequence[int]) -> int:
        done = 0
        for seq in seqs:
            current = self._rows.get(seq)
            if current is not None and current.state is CdrCheckState.DONE:
                self._rows[seq] = dataclasses.replace(current, state=CdrCheckState.PENDING)
                self._leases.pop(seq, None)
                done += 1
        return done

    def recheck_unverifiable(self, owner: str) -> None:
        """A Tariff of ``owner`` was stored: its unverifiable checks are pending again."""
        self._tariff_changed.update(
            c.seq
            for c in self._rows.values()
            if c.owner == owner and c.state is CdrCheckState.PENDING
        )
        seqs = [
            c.seq
            for c in self._rows.values()
            if c.owner == owner
            and c.state is CdrCheckState.DONE
            and c.verdict is Verdict.UNVERIFIABLE
        ]
        for seq in seqs:
            self._rows[seq] = dataclasses.replace(self._rows[seq], state=CdrCheckState.PENDING)

    async def finish(self, check: CdrCheck, outcome: CheckOutcome) -> bool:
        current = self._rows.get(check.seq)
        if current is None or current.revision != check.revision:
            return False
        self._leases.pop(check.seq, None)
        changed = check.seq in self._tariff_changed
        self._tariff_changed.discard(check.seq)
        again = changed and outcome.verdict is Verdict.UNVERIFIABLE
        self._rows[check.seq] = dataclasses.replace(
            current,
            state=CdrCheckState.PENDING if again else CdrCheckState.DONE,
            checked_at=self._clock(),
            verdict=outcome.verdict,
            result=orjson.loads(orjson.dumps(outcome.to_json())),
        )
        if outcome.session_id is not None:
            self._sessions[check.seq] = ci_key(outcome.session_id)
        return True

    async def finish_many(self, items: Sequence[tuple[CdrCheck, CheckOutcome]]) -> list[bool]:
        return [await self.finish(check, outcome) for check, outcome in items]

    async def first_with_session(
        self, owner: str, session_id: str, *, before_seq: int
    ) -> CdrCheck | None:
        wanted = ci_key(session_id)
        for c in self._live():
            if c.seq < before_seq and c.owner == owner and self._sessions.get(c.seq) == wanted:
                return c
        return None

    async def with_session(self, owner: str, session_id: str, *, before_seq: int) -> list[CdrCheck]:
        wanted = ci_key(session_id)
        return [
            c
            for c in self._live()
            if c.seq < before_seq and c.owner == owner and self._sessions.get(c.seq) == wanted
        ]

    async def with_sessions(
        self, wanted: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[CdrCheck]]:
        pairs = {(owner, ci_key(sid)) for owner, sid in wanted}
        out: dict[tuple[str, str], list[CdrCheck]] = {}
        for c in self._live():
            pair = (c.owner, self._sessions.get(c.seq, ""))
            if pair in pairs:
                out.setdefault(pair, []).append(c)
        return out

    async def listing(
        self,
        *,
        verdicts: Sequence[Verdict] = (),
        partner: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[CdrCheck]:
        out = [
            c
            for c in self._live()
            if (not verdicts or c.verdict in verdicts)
            and (partner is None or c.owner == partner)
            and (since is None or (c.checked_at is not None and c.checked_at >= since))
        ]
        return out[:limit]

    async def find(self, cdr_id: str) -> list[CdrCheck]:
        return [c for c in self._live() if ci_key(c.cdr_id) == ci_key(cdr_id)]

    async def resolve(self, seq: int, resolution: Resolution, note: str | None) -> bool:
        current = self._rows.get(seq)
        if current is None:
            return False
        self._rows[seq] = dataclasses.replace(
            current, resolution=resolution, note=note, resolved_at=self._clock()
        )
        return True
