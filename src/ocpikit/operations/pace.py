"""How background work that shares the server's event loop gives way to requests
(docs/cdrs.md "CDR checks in the platform", performance).

Plan: the server counts the OCPI requests it is answering (:data:`REQUESTS`, entered and left
by ``ocpikit.server.app.OcpiApp``). A paced worker works in slices of at most ``work``
seconds; between two slices it waits while a request is being answered or one ended less than
``gap`` seconds ago (a partner sending one request after the other), looking again every
``rest`` seconds; after ``patience`` seconds of waiting it takes one slice anyway, so that
sustained traffic slows the work down but never stops it. An answer thus waits for at most
the slice that was running when its request came in.

Invariant: :meth:`Pace.give_way` only ever sleeps; it never changes what the worker does or
in which order, so a paced worker computes exactly what an unpaced one does.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

__all__ = ["REQUESTS", "Pace", "RequestActivity"]


class RequestActivity:
    """The requests this process is answering: how many now, and when the last one ended."""

    __slots__ = ("in_flight", "last_end")

    def __init__(self) -> None:
        self.in_flight = 0
        self.last_end = 0.0

    def enter(self) -> None:
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1
        self.last_end = time.perf_counter()

    def busy(self, gap: float) -> bool:
        """A request is being answered, or one ended less than ``gap`` seconds ago."""
        return self.in_flight > 0 or time.perf_counter() - self.last_end < gap


#: the requests of this process's server (one event loop per process)
REQUESTS = RequestActivity()


@dataclass(slots=True)
class Pace:
    """A worker's give-way rule (see the module docstring); one per run of the worker."""

    work: float = 0.002
    gap: float = 0.01
    rest: float = 0.005
    patience: float = 1.0
    activity: RequestActivity = REQUESTS
    _since: float = field(default=0.0)

    async def give_way(self) -> None:
        """Call between two steps of the work: once the slice is used up, yield, then wait
        while requests are being answered (at most ``patience`` seconds)."""
        now = time.perf_counter()
        if now - self._since < self.work:
            return
        await asyncio.sleep(0)
        waited = 0.0
        while self.activity.busy(self.gap) and waited < self.patience:
            await asyncio.sleep(self.rest)
            waited += self.rest
        self._since = time.perf_counter()
