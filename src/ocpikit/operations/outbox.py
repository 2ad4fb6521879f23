"""The push queue as the operator sees and acts on it (``ocpikit outbox``, the console's Queue
page): depth and oldest entry per partner, the dead letters with their reasons, replaying or
dropping them, over the storage port :class:`~ocpikit.protocol.ports.Outbox`.

Invariants: replay and drop touch dead letters only (an entry pending or in flight belongs to
the delivery worker); a replayed letter starts again with no attempts counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.protocol.ports import OutboxEntry, OutboxState, Storage

__all__ = [
    "SCAN_LIMIT",
    "PartnerQueue",
    "QueueOverview",
    "dead_letters",
    "drop",
    "entry_summary",
    "queue_overview",
    "replay",
]

#: the most entries :func:`queue_overview` reads to count depths per partner (the totals per
#: state are exact whatever the size)
SCAN_LIMIT = 20_000


@dataclass(slots=True)
class PartnerQueue:
    """One partner's share of the outbox."""

    partner_id: str
    pending: int = 0
    in_flight: int = 0
    dead: int = 0
    oldest: datetime | None = None

    @property
    def depth(self) -> int:
        return self.pending + self.in_flight


@dataclass(slots=True)
class QueueOverview:
    """``totals`` per state (exact); ``partners`` from the first :data:`SCAN_LIMIT` entries
    (``truncated`` when there were more)."""

    totals: dict[str, int]
    partners: list[PartnerQueue] = field(default_factory=list)
    truncated: bool = False


def entry_summary(e: OutboxEntry) -> dict[str, Any]:
    """An entry as JSON (``ocpikit outbox list --json``)."""
    return {
        "id": e.id,
        "partner": e.partner_id,
        "kind": e.key.kind,
        "object": f"{e.key.country_code}/{e.key.party_id}/{e.key.id}",
        "object_id": e.key.id,
        "operation": e.operation.value,
        "revision": e.revision,
        "state": e.state.value,
        "attempts": e.attempts,
        "created_at": format_datetime(e.created_at),
        "next_attempt_at": format_datetime(e.next_attempt_at),
        "last_error": e.last_error,
        "dead_reason": e.dead_reason,
    }


async def queue_overview(storage: Storage, *, scan: int = SCAN_LIMIT) -> QueueOverview:
    """Depth (pending + in flight), dead letters and the oldest waiting entry per partner."""
    counts = await storage.outbox.counts()
    overview = QueueOverview(totals={state.value: n for state, n in counts.items()})
    per: dict[str, PartnerQueue] = {}
    after, seen = 0, 0
    while seen < scan:
        batch = await storage.outbox.entries(limit=min(1000, scan - seen), after_id=after)
        if not batch:
            break
        for e in batch:
            row = per.setdefault(e.partner_id, PartnerQueue(e.partner_id))
            if e.state is OutboxState.DEAD:
                row.dead += 1
                continue
            if e.state is OutboxState.PENDING:
                row.pending += 1
            else:
                row.in_flight += 1
            if row.oldest is None or e.created_at < row.oldest:
                row.oldest = e.created_at
        seen += len(batch)
        after = batch[-1].id
    overview.truncated = seen >= scan and sum(counts.values()) > seen
    overview.partners = sorted(per.values(), key=lambda r: r.partner_id)
    return overview


async def dead_letters(
    storage: Storage, *, partner_id: str | None = None, limit: int = 100
) -> list[OutboxEntry]:
    """Dead letters, oldest first, with their reasons (``dead_reason``)."""
    return await storage.outbox.entries(state=OutboxState.DEAD, partner_id=partner_id, limit=limit)


async def replay(
    storage: Storage, *, entry_id: int | None = None, partner_id: str | None = None
) -> int:
    """Dead letters back to pending (one, one partner's, or all when neither is given)."""
    return await storage.outbox.replay(entry_id=entry_id, partner_id=partner_id)


async def drop(
    storage: Storage, *, entry_id: int | None = None, partner_id: str | None = None
) -> int:
    """Delete dead letters (one, one partner's, or all when neither is given): the partner
    will not get that state unless the object changes again or it pulls."""
    return await storage.outbox.drop(entry_id=entry_id, partner_id=partner_id)
