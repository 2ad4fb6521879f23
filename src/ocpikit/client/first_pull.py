"""The first pull after a registration: a partner's Sender modules pulled once, in the background,
soon after the credentials handshake (whichever side started it), so its locations and tariffs
are there without an operator's ``ocpikit pull`` (OCPI 2.2.1 credentials §"Registration":
after the handshake each party may GET the other's Sender interfaces).

Invariant: a registered partner none of whose pullable modules has a sync mark has never been
pulled; :meth:`FirstPull.sweep` pulls exactly those. A pull that leaves every module without a
mark (the partner failed) is tried again after ``first_retry`` seconds, then after three times
as long as the wait before, at most ``retry`` seconds apart: the side that answered a
registration pulls within a second, and the side that started it may not have stored the
registration yet and refuse our token for a moment (its 401 is final for the page); once one
module has a mark the partner is left to the resyncs (on return, at start, on a schedule;
``ocpikit.client.sync``).
The state is in the database (the marks), so a registration made by another process (``ocpikit
register``) or before a crash is picked up by the next sweep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from ocpikit.protocol.ports import Partner, PartnerStatus, Storage

from .partner import PartnerClient
from .sync import PullReport, pullable_modules, resync

__all__ = ["FirstPull"]

log = logging.getLogger("ocpikit.sync")


class FirstPull:
    """Finds registered partners that were never pulled and pulls them once.

    ``skip_present``: partners already registered at the first sweep are left out (the resync at
    start covers them). ``monotonic`` is injectable for tests."""

    def __init__(
        self,
        storage: Storage,
        make_client: Callable[[Partner], PartnerClient],
        *,
        poll: float = 1.0,
        retry: float = 60.0,
        first_retry: float = 2.0,
        skip_present: bool = False,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage = storage
        self._make_client = make_client
        self._poll = poll
        self._retry = retry
        self._first_retry = min(first_retry, retry)
        #: the wait before the next attempt of each partner that failed so far
        self._waits: dict[str, float] = {}
        self._skip_present = skip_present
        self._monotonic = monotonic
        self._settled: set[str] = set()  # pulled once, or found pulled before
        self._retry_at: dict[str, float] = {}
        self._first_sweep = True

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep every ``poll`` seconds until ``stop`` is set. A sweep under way when ``stop``
        is set is cancelled at once: a pull needs no grace period (its marks are set only when
        a module's walk completed, so the next start pulls it again)."""
        while not stop.is_set():
            sweep = asyncio.ensure_future(self.sweep())
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({sweep, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
            if not sweep.done():
                sweep.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweep
                return
            if sweep.exception() is not None:  # storage trouble: try again at the next sweep
                log.warning("first pull: sweep failed: %s", sweep.exception())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._poll)

    async def sweep(self) -> dict[str, list[PullReport]]:
        """Pull every registered partner that was never pulled; returns the reports by partner."""
        partners = await self._storage.partners.all(status=PartnerStatus.REGISTERED)
        if self._first_sweep:
            self._first_sweep = False
            if self._skip_present:
                self._settled.update(p.id for p in partners)
                return {}
        pulled: dict[str, list[PullReport]] = {}
        now = self._monotonic()
        for partner in partners:
            if partner.id in self._settled or self._retry_at.get(partner.id, 0.0) > now:
                continue
            reports = await self._pull_if_never_pulled(partner)
            if reports is not None:
                pulled[partner.id] = reports
        return pulled

    async def _pull_if_never_pulled(self, partner: Partner) -> list[PullReport] | None:
        client = self._make_client(partner)
        modules = pullable_modules(client)
        marks = [await self._storage.partners.get_sync_mark(partner.id, m) for m in modules]
        if not modules or any(mark is not None for mark in marks):
            self._settled.add(partner.id)
            return None
        reports = await resync(client, self._storage, modules)
        if any(r.complete for r in reports):
            self._settled.add(partner.id)
            self._retry_at.pop(partner.id, None)
            self._waits.pop(partner.id, None)
        else:
            previous = self._waits.get(partner.id)
            wait = self._first_retry if previous is None else min(self._retry, previous * 3)
            self._waits[partner.id] = wait
            self._retry_at[partner.id] = self._monotonic() + wait
        log.info(
            "partner %s: first pull after registration: %s",
            partner.id,
            ", ".join(
                f"{r.module} {r.created} new" if r.complete else f"{r.module} failed ({r.error})"
                for r in reports
            ),
        )
        return reports
