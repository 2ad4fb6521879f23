"""A hub's counters per connection (docs/hubs.md "Hub operations"): the requests it forwarded by
outcome, and what the version conversions of forwarded and broadcast objects could not carry,
by loss rule (:mod:`ocpikit.convert`'s loss table).

Plan: a request only adds to a dictionary in memory (:meth:`HubCounters.count`, no I/O); one
background task writes the increments in one transaction at most every
:data:`COUNTER_INTERVAL` seconds while requests keep coming (an upsert that adds to the stored
count, so several processes of one hub add up), and a clean shutdown writes what is left.

Outcomes (:data:`OUTCOMES`): ``delivered`` (the receiver answered 1xxx), ``receiver_error``
(it answered with an error: 2xxx, 3xxx or an HTTP error), ``4001`` (no connection holds the
party named), ``4002`` (no answer in time), ``4003`` (the receiver is not connected or cannot
be reached). Each forward is counted twice: ``sent.<outcome>`` on the sender's connection and,
once a receiver was chosen, ``received.<outcome>`` on the receiver's. A conversion loss is
``loss:<rule id>`` (e.g. ``loss:2.1.1>2.2.1 CDR.cdr_token``) on the sender's connection.

Invariants: counts are never lost while the process runs; a crash loses at most the last
interval's increments; a failed write keeps its increments for the next one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from ocpikit.convert import Loss
from ocpikit.protocol.ports import Storage

__all__ = [
    "COUNTER_INTERVAL",
    "LOSS",
    "OUTCOMES",
    "HubCounters",
    "forwarded_summary",
    "loss_rows",
]

log = logging.getLogger("ocpikit.hub")

#: seconds between two writes of the counters
COUNTER_INTERVAL = 1.0
#: the outcomes of a forwarded request
OUTCOMES = ("delivered", "4001", "4002", "4003", "receiver_error")
#: the prefix of a loss counter
LOSS = "loss:"


class HubCounters:
    """The increments not yet written and their writer task."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._pending: Counter[tuple[str, str]] = Counter()
        self._writer: asyncio.Task[None] | None = None

    def count(self, partner_id: str | None, counter: str, n: int = 1) -> None:
        """Add ``n`` to ``counter`` of a connection (nothing without a connection)."""
        if partner_id is None or n == 0:
            return
        self._pending[partner_id, counter] += n
        if self._writer is None or self._writer.done():
            with contextlib.suppress(RuntimeError):  # no running loop: written at flush
                self._writer = asyncio.get_running_loop().create_task(self._write_soon())

    def forwarded(self, sender: str | None, receiver: str | None, outcome: str) -> None:
        """One forwarded request's outcome, on both connections."""
        self.count(sender, f"sent.{outcome}")
        self.count(receiver, f"received.{outcome}")

    def losses(self, partner_id: str | None, lost: Iterable[Loss]) -> None:
        """The losses of one conversion, on the connection whose object it was."""
        for loss in lost:
            self.count(partner_id, LOSS + loss.rule)

    async def _write_soon(self) -> None:
        await asyncio.sleep(COUNTER_INTERVAL)
        await self.flush()

    async def flush(self) -> None:
        """Write the pending increments now (kept for the next write when this one fails)."""
        batch, self._pending = self._pending, Counter()
        if not batch:
            return
        try:
            await self.storage.hub_counters.add(dict(batch))
        except Exception:
            log.exception("hub counters not written; kept for the next write")
            self._pending.update(batch)

    async def close(self) -> None:
        """Write everything pending (clean shutdown)."""
        writer = self._writer
        if writer is not None and not writer.done():
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        await self.flush()

    async def all(self) -> dict[str, dict[str, int]]:
        """What is stored plus what this process has not written yet."""
        stored = await self.storage.hub_counters.all()
        for (pid, name), n in self._pending.items():
            row = stored.setdefault(pid, {})
            row[name] = row.get(name, 0) + n
        return stored


def forwarded_summary(counts: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """``{"sent": {outcome: n}, "received": {outcome: n}}`` of one connection's counters,
    every outcome present (0 when none); ``received`` has no ``4001`` (no receiver)."""
    return {
        side: {
            outcome: int(counts.get(f"{side}.{outcome}", 0))
            for outcome in OUTCOMES
            if not (side == "received" and outcome == "4001")
        }
        for side in ("sent", "received")
    }


def loss_rows(counters: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """One row per connection and loss rule (``ocpikit hub losses``): the connection, the
    object, the versions ``from`` and ``to``, the field and how many conversions lost it,
    most frequent first within a connection."""
    rows: list[dict[str, Any]] = []
    for pid in sorted(counters):
        found = [
            (name[len(LOSS) :], n) for name, n in counters[pid].items() if name.startswith(LOSS)
        ]
        for rule, n in sorted(found, key=lambda rn: (-rn[1], rn[0])):
            direction, _, field = rule.partition(" ")
            source, _, target = direction.partition(">")
            kind, _, path = field.partition(".")
            rows.append(
                {
                    "partner": pid,
                    "rule": rule,
                    "object": kind,
                    "from": source,
                    "to": target,
                    "field": path,
                    "count": n,
                }
            )
    return rows
