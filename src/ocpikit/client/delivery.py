"""Durable push: the outbox delivery worker (docs/client.md "Outbox").

Writing: every change to one of our objects goes through :mod:`ocpikit.operations.own_objects`
(the storage port's object write with ``push_to`` = :func:`push_targets`), so the outbox entries
are written in the same database transaction as the object (transactional outbox). Storage keeps at most one entry per partner and object and coalesces a
newer change into it (the latest state wins; an entry in flight is re-queued after its delivery
completes), which also keeps the per-object order. A change of one of our Locations or
Sessions is queued as a ``PATCH`` entry (the full state plus the changed fields, coalesced per
object: :mod:`ocpikit.protocol.push_patches`) and sent as the smallest PATCHes
(:mod:`.patch_delivery`), falling back to a PUT of the full state.

Delivering: :class:`DeliveryWorker` claims due entries (leases; on PostgreSQL ``SKIP LOCKED``,
so several worker processes never send the same entry) and sends each in the partner's version:
PUT of the full state, POST for a CDR, DELETE for a removed Tariff. A Session or CDR for a 2.1.1
partner embeds its Location: the worker reads that Location from storage when it sends (so the
partner gets the current one, not a placeholder). Sending the full state after
coalescing is what makes a retry safe: PUT is idempotent, and a receiver keys a CDR by its id.

Failures (never lost, never spinning):

- 429/503: wait ``Retry-After`` (or the backoff) and pause the whole partner that long;
- transport failures, timeouts, 5xx, 3xxx/4xxx envelopes, bodies that are not envelopes, 401:
  retry with exponential backoff and jitter (``backoff_base`` × 2^(attempt-1), capped at
  ``backoff_cap``, then scaled by a random factor in [0.5, 1)); a transport failure also pauses
  the partner for that delay;
- a 2xxx rejection of the object (other than 401), a missing endpoint, an object that cannot be
  converted: a dead letter at once (retrying cannot help);
- after ``max_attempts`` (per partner and kind): a dead letter with the last error as reason.

Per-partner policy (:class:`~ocpikit.client.policy.PushPolicy`): ``store-and-forward`` keeps
retrying (default for CDRs and Tariffs); ``drop-and-resync`` gives up after a few attempts
(default 3) with a dead letter whose reason says so: the partner is expected to pull (the spec's
"SHOULD NOT be queued"). Dead letters stay visible (``ocpikit outbox dead``) and replayable
(``ocpikit outbox replay``); a newer change of the object re-queues it with the latest state.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import random
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson

from ocpikit.core.clock import SYSTEM_CLOCK, Clock
from ocpikit.core.errors import (
    ClientError,
    OcpiError,
    PartnerError,
    TransportError,
    Unauthorized,
)
from ocpikit.core.headers import PartyRef
from ocpikit.core.logs import event
from ocpikit.core.types import ci_equal
from ocpikit.core.versions import HEAD
from ocpikit.protocol.handlers.base import embeds_location, location_lookup
from ocpikit.protocol.parties import is_hub
from ocpikit.protocol.ports import (
    ObjectKey,
    Outbox,
    OutboxEntry,
    OutboxOperation,
    Partner,
    PartnerStatus,
    Storage,
)
from ocpikit.protocol.profiles import effective_settings, rfid_uid
from ocpikit.protocol.push import push_targets, token_party

from .modules.bookings import BOOKING_KINDS
from .modules.payments import PAYMENT_PATHS
from .partner import MODULE_OBJECTS, NoEndpoint, PartnerBusy, PartnerClient
from .patch_delivery import send_patches
from .policy import PartnerSwitches, PushPolicy
from .sync import remember_auth

__all__ = [
    "DeliveryWorker",
    "Outcome",
    "backoff_delay",
    "push_targets",
]

log = logging.getLogger("ocpikit.delivery")

_MODULE_OF_KIND = {v: k for k, v in MODULE_OBJECTS.items()}
MIN_DELAY = 0.5
_RNG = random.Random()
"""No retry is ever scheduled sooner than this (seconds): no spinning on a zero Retry-After."""


# --- delivering ---------------------------------------------------------------------------------
def backoff_delay(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds before retry number ``attempts`` (1 = after the first failure): exponential,
    capped, with "equal jitter" (a random factor in [0.5, 1)) so that workers spread out but
    never retry at once."""
    raw = min(cap, base * float(2 ** min(60, max(0, attempts - 1))))
    factor = 0.5 + 0.5 * (rng or _RNG).random()
    return max(MIN_DELAY, raw * factor)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one claimed entry: ``sent``, ``retry`` (at ``retry_at``), ``dead``,
    ``deferred`` (partner paused, not sent) or ``lost`` (the lease expired meanwhile)."""

    entry_id: int
    partner_id: str
    key: ObjectKey
    revision: int
    result: str
    detail: str = ""
    retry_at: datetime | None = None


class _Permanent(Exception):
    """A failure that retrying cannot fix: dead letter at once."""


class DeliveryWorker:
    """Claims and delivers outbox entries (see the module docstring).

    ``run_once`` handles one claimed batch and returns what happened to each entry (tests drive
    it with a fake clock); ``run`` delivers continuously until ``stop`` is set: it claims the
    next batch while the previous one is still being sent (when fewer than half a batch is left
    to send), so the partner never waits for the slowest request of a batch, and sleeps ``idle``
    seconds when nothing is due, unless a write of this process queues entries meanwhile (the
    object repository's ``push_listeners``: then it claims at once). ``concurrency`` bounds the requests in flight across partners
    (different objects only: storage never hands out two entries of one object at a time).

    Successful deliveries are acknowledged in batches (:meth:`Outbox.complete_many`: one
    transaction for every entry acknowledged while the previous batch was being written); an
    entry counts as ``sent`` only once its acknowledgement is committed.
    """

    def __init__(
        self,
        storage: Storage,
        http: httpx.AsyncClient,
        *,
        worker_id: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        batch: int = 100,
        lease: timedelta = timedelta(minutes=2),
        concurrency: int = 32,
        rng: random.Random | None = None,
        on_partner_return: Callable[[Partner], Awaitable[None]] | None = None,
        on_outcome: Callable[[Outcome], None] | None = None,
    ) -> None:
        self.storage = storage
        self.http = http
        self.worker_id = worker_id or f"{socket.gethostname()}-{os.getpid()}-{id(self):x}"
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self.rng = rng or random.Random()
        self.on_partner_return = on_partner_return
        self.on_outcome = on_outcome
        self._sem = asyncio.Semaphore(concurrency)
        self._paused: dict[str, datetime] = {}
        self._failing: set[str] = set()
        self._learn = remember_auth(storage)
        self._acks = _Acks(storage.outbox)
        self._open = 0  # claimed entries not handled yet (``run``)
        self._wake = asyncio.Event()

    # --- loop -----------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event, *, idle: float = 0.5) -> None:
        """Deliver until ``stop`` is set (then finish what is claimed and return)."""
        batches: set[asyncio.Task[list[Outcome]]] = set()
        low = self.batch // 2
        queued = asyncio.Event()  # a write of this process queued entries
        listeners = getattr(self.storage.objects, "push_listeners", None)
        if isinstance(listeners, set):
            listeners.add(queued.set)
        try:
            while not stop.is_set():
                if self._open > low:  # enough to send: wait until some of it is done
                    self._wake.clear()
                    await _first(self._wake.wait(), stop.wait())
                    continue
                queued.clear()
                try:
                    entries = await self._claim(self.batch - self._open)
                except Exception:  # storage hiccup: log, wait, go on (entries stay leased)
                    log.exception("outbox worker %s: claim failed", self.worker_id)
                    entries = []
                if entries:
                    self._open += len(entries)
                    task = asyncio.create_task(self._deliver_batch(entries, counted=True))
                    batches.add(task)
                    task.add_done_callback(_batch_done(batches, self.worker_id))
                    continue
                # nothing due: poll again after the idle time, or at once when a write of
                # this process queues entries
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop.wait(), queued.wait()), timeout=idle)
        finally:
            if isinstance(listeners, set):
                listeners.discard(queued.set)
            if batches:
                await asyncio.gather(*batches, return_exceptions=True)

    async def run_once(self) -> list[Outcome]:
        """Claim one batch of due entries and deliver it; the outcomes, in claim order."""
        entries = await self._claim(self.batch)
        if not entries:
            return []
        return await self._deliver_batch(entries, counted=False)

    async def _claim(self, limit: int) -> list[OutboxEntry]:
        now = self.clock.now()
        paused = [pid for pid, until in self._paused.items() if until > now]
        return await self.storage.outbox.claim(
            self.worker_id, limit=limit, lease=self.lease, skip_partners=paused
        )

    async def _deliver_batch(self, entries: list[OutboxEntry], *, counted: bool) -> list[Outcome]:
        results: dict[int, Outcome] = {}
        handled: set[int] | None = set() if counted else None
        try:
            clients: dict[str, tuple[PartnerClient | None, Partner | None]] = {}
            for pid in dict.fromkeys(e.partner_id for e in entries):
                partner = await self.storage.partners.get(pid)
                clients[pid] = (self._client(partner), partner)
            await asyncio.gather(
                *(self._deliver(*clients[e.partner_id], e, results, handled) for e in entries)
            )
        finally:
            if handled is not None and len(handled) < len(entries):  # never got to _deliver
                self._handled(len(entries) - len(handled))
        outcomes = [results[e.id] for e in entries if e.id in results]
        _log_batch(self.worker_id, outcomes)
        return outcomes

    def _handled(self, n: int = 1) -> None:
        self._open -= n
        if self._open <= self.batch // 2:
            self._wake.set()

    def _client(self, partner: Partner | None) -> PartnerClient | None:
        if partner is None or partner.status is not PartnerStatus.REGISTERED:
            return None
        try:
            return PartnerClient(partner, self.http, clock=self.clock, on_auth_learned=self._learn)
        except NoEndpoint:
            return None

    # --- one entry ------------------------------------------------------------------------------
    async def _deliver(
        self,
        client: PartnerClient | None,
        partner: Partner | None,
        entry: OutboxEntry,
        results: dict[int, Outcome],
        handled: set[int] | None = None,
    ) -> None:
        try:
            outcome = await self._attempt(client, partner, entry)
        except Exception as exc:  # a storage failure while recording: the lease expires
            log.warning("outbox %d to %s: not recorded: %s", entry.id, entry.partner_id, exc)
            outcome = self._outcome(entry, "lost", f"not recorded: {exc}")
        finally:
            if handled is not None:
                handled.add(entry.id)
                self._handled()
        results[entry.id] = outcome
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        if outcome.result == "sent" and partner is not None and partner.id in self._failing:
            self._failing.discard(partner.id)
            self._paused.pop(partner.id, None)
            log.info("partner %s is back", partner.id)
            if self.on_partner_return is not None:
                try:
                    await self.on_partner_return(partner)
                except Exception:
                    log.exception("partner %s: on_partner_return failed", partner.id)

    async def _attempt(
        self, client: PartnerClient | None, partner: Partner | None, entry: OutboxEntry
    ) -> Outcome:
        if partner is None or client is None:
            state = "unknown" if partner is None else partner.status.value.lower()
            return await self._bury(entry, f"partner {entry.partner_id} is {state}")
        switches = client.switches
        async with self._sem:
            now = self.clock.now()
            paused = self._paused.get(partner.id)
            if paused is not None and paused > now:
                # not attempted: the claim's attempt is given back
                ok = await self.storage.outbox.retry_later(
                    entry, at=paused, error=entry.last_error or "partner paused", attempted=False
                )
                return self._outcome(entry, "deferred" if ok else "lost", "partner paused", paused)
            if entry.lease_until is not None and now >= entry.lease_until - _margin(
                self.lease, switches.timeout
            ):
                # waited too long for a turn: another worker may claim it once the lease ends,
                # and two sends of one object must never overlap
                return self._outcome(entry, "lost", "lease ran out before sending")
            try:
                await self._send(client, entry)
            except PartnerBusy as exc:
                wait = exc.retry_after
                delay = (
                    backoff_delay(
                        entry.attempts,
                        base=switches.backoff_base,
                        cap=switches.backoff_cap,
                        rng=self.rng,
                    )
                    if wait is None
                    else max(MIN_DELAY, wait) * (1 + 0.1 * self.rng.random())
                )
                self._pause(partner.id, delay)
                return await self._failed(entry, switches, f"{exc.message}", delay)
            except _Permanent as exc:
                return await self._bury(entry, str(exc))
            except NoEndpoint as exc:
                return await self._bury(entry, exc.message)
            except OcpiError as exc:
                if isinstance(exc, ClientError) and not isinstance(exc, Unauthorized):
                    return await self._bury(entry, f"rejected by the partner: {_describe(exc)}")
                delay = backoff_delay(
                    entry.attempts,
                    base=switches.backoff_base,
                    cap=switches.backoff_cap,
                    rng=self.rng,
                )
                if isinstance(exc, TransportError):
                    self._pause(partner.id, delay)
                return await self._failed(entry, switches, _describe(exc), delay)
        # acknowledged outside the request slot: the next send need not wait for the commit
        ok = await self._acks.complete(entry)
        return self._outcome(entry, "sent" if ok else "lost")

    async def _send(self, client: PartnerClient, entry: OutboxEntry) -> None:
        kind = entry.key.kind
        if kind in PAYMENT_PATHS:
            await _send_payment(client, entry)
            return
        if kind in BOOKING_KINDS:
            await _send_booking(client, entry)
            return
        if kind not in _MODULE_OF_KIND:
            raise _Permanent(f"{kind} objects are not pushed")
        if entry.operation is OutboxOperation.DELETE:
            if kind != "Tariff":
                raise _Permanent(f"OCPI has no DELETE of a {kind}; nothing sent")
            await client.delete_object(kind, entry.key)
            return
        if entry.payload is None:
            raise _Permanent("entry without payload")
        try:
            document = orjson.loads(entry.payload)
        except orjson.JSONDecodeError as exc:
            raise _Permanent(f"entry payload is not JSON: {exc}") from exc
        if not isinstance(document, dict):
            raise _Permanent("entry payload is not a JSON object")
        key = entry.key
        if kind == "Token" and document.get("type") == "RFID":
            key, document = _rfid_repaired(client, key, document)
        relayed = _relayed_from(client.partner, key)
        lookup = None
        if embeds_location(client.version, kind):
            # a 2.1.1 Session/CDR embeds its Location: read it now (our own objects, or for a
            # hub's relayed object the sender's, which owns both)
            owner = None
            if relayed is not None:
                stored = await self.storage.objects.get(entry.key)
                owner = stored.owner if stored is not None else None
            lookup = await location_lookup(self.storage.objects, [document], owner=owner)
        try:
            if client.version == HEAD:
                wire = entry.payload if key is entry.key else orjson.dumps(document)
            else:
                wire = client.wire(kind, document, lookup=lookup)
        except Exception as exc:  # a document we cannot send in the partner's version
            raise _Permanent(f"cannot convert to OCPI {client.version}: {exc}") from exc
        to_party = _token_to_party(client, document) if kind in ("Session", "CDR") else None
        if (
            entry.operation is OutboxOperation.PATCH
            and relayed is None
            and not effective_settings(client.partner.settings).get("whole_object_puts")
            and await send_patches(
                client, _MODULE_OF_KIND[kind], key, document, entry.changes, to_party
            )
        ):
            return
        if relayed is not None:
            await _send_relayed(client, kind, key, wire, to_party, relayed)
        elif kind == "CDR":
            await client.post_cdr(wire=wire, to_party=to_party, object_id=key.id)
        else:
            await client.put_object(kind, key, wire=wire, to_party=to_party)

    def _pause(self, partner_id: str, delay: float) -> None:
        until = self.clock.now() + timedelta(seconds=delay)
        current = self._paused.get(partner_id)
        if current is None or current < until:
            self._paused[partner_id] = until
        self._failing.add(partner_id)

    async def _failed(
        self, entry: OutboxEntry, switches: PartnerSwitches, error: str, delay: float
    ) -> Outcome:
        self._failing.add(entry.partner_id)
        limit = switches.attempts_for(entry.key.kind)
        if entry.attempts >= limit:
            if switches.policy_for(entry.key.kind) is PushPolicy.DROP_AND_RESYNC:
                reason = (
                    f"dropped after {entry.attempts} attempts (drop-and-resync: the partner "
                    f"pulls to resync): {error}"
                )
            else:
                reason = f"gave up after {entry.attempts} attempts: {error}"
            return await self._bury(entry, reason)
        at = self.clock.now() + timedelta(seconds=delay)
        ok = await self.storage.outbox.retry_later(entry, at=at, error=error)
        log.info(
            "outbox %d to %s: attempt %d failed (%s); retry in %.1fs",
            entry.id,
            entry.partner_id,
            entry.attempts,
            error,
            delay,
        )
        return self._outcome(entry, "retry" if ok else "lost", error, at)

    async def _bury(self, entry: OutboxEntry, reason: str) -> Outcome:
        ok = await self.storage.outbox.bury(entry, reason=reason)
        log.warning("outbox %d to %s: dead letter: %s", entry.id, entry.partner_id, reason)
        return self._outcome(entry, "dead" if ok else "lost", reason)

    @staticmethod
    def _outcome(
        entry: OutboxEntry, result: str, detail: str = "", at: datetime | None = None
    ) -> Outcome:
        return Outcome(entry.id, entry.partner_id, entry.key, entry.revision, result, detail, at)


def _margin(lease: timedelta, timeout: float) -> timedelta:
    """How much of its lease an entry must have left to be sent: the request timeout, at most
    half the lease."""
    return min(timedelta(seconds=timeout), lease / 2)


async def _first(*waits: Awaitable[Any]) -> None:
    """Until the first of ``waits`` is done (the others are cancelled)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in tasks:
            t.cancel()


def _batch_done(
    batches: set[asyncio.Task[list[Outcome]]], worker_id: str
) -> Callable[[asyncio.Task[list[Outcome]]], None]:
    def done(task: asyncio.Task[list[Outcome]]) -> None:
        batches.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("outbox worker %s: batch failed", worker_id, exc_info=task.exception())

    return done


class _Acks:
    """Acknowledgements of delivered entries, written in batches: a batch is written when
    ``GROUP`` acknowledgements wait or ``LINGER`` seconds after the first, and everything
    acknowledged while it is written goes into the next one (one transaction and, on SQLite,
    one fsync for all of them). Each caller gets its own entry's result once the batch holding
    it is committed."""

    GROUP = 128
    LINGER = 0.005

    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox
        self._waiting: list[tuple[OutboxEntry, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._full: asyncio.Future[None] | None = None  # set when GROUP acks wait

    async def complete(self, entry: OutboxEntry) -> bool:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append((entry, future))
        full = self._full
        if full is not None and len(self._waiting) >= self.GROUP and not full.done():
            full.set_result(None)
        if self._writer is None:
            self._writer = loop.create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                if len(self._waiting) < self.GROUP:
                    self._full = asyncio.get_running_loop().create_future()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full, timeout=self.LINGER)
                    self._full = None
                group, self._waiting = self._waiting, []
                try:
                    done = await self._outbox.complete_many([e for e, _ in group])
                except Exception as exc:
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), ok in zip(group, done, strict=True):
                    if not future.done():
                        future.set_result(ok)
        finally:
            self._writer = None


def _relayed_from(partner: Partner, key: ObjectKey) -> PartyRef | None:
    """The party of an object a hub relays (not one of ours: the connection registered with
    another of our parties, the hub), which the outbox sends as ``OCPI-from-*`` (OCPI 2.2.1
    transport_and_format §Message Routing: the receiver checks it names the object's owner);
    None for our own objects and for the hub's ClientInfo."""
    local = partner.local_party
    if key.kind == "ClientInfo" or local is None:
        return None
    if ci_equal(local[0], key.country_code) and ci_equal(local[1], key.party_id):
        return None
    return PartyRef(key.country_code, key.party_id)


def _log_batch(worker_id: str, outcomes: list[Outcome]) -> None:
    """One event per delivered batch (a background step): how many of each outcome."""
    if not outcomes or not log.isEnabledFor(logging.INFO):
        return
    counts = collections.Counter(o.result for o in outcomes)
    event(
        log,
        logging.INFO,
        "outbox batch: " + ", ".join(f"{n} {result}" for result, n in sorted(counts.items())),
        worker=worker_id,
        entries=len(outcomes),
        partners=len({o.partner_id for o in outcomes}),
        **{result: n for result, n in counts.items()},
    )


async def _send_relayed(
    client: PartnerClient,
    kind: str,
    key: ObjectKey,
    wire: bytes,
    to_party: PartyRef | None,
    sender: PartyRef,
) -> None:
    """PUT (POST for a CDR) of a relayed object, from its owner's party."""
    driver = client.driver
    module = _MODULE_OF_KIND[kind]
    receiver = to_party or driver.address.their_party(module, PartnerClient.RECEIVER)
    if kind == "CDR":
        url = driver.address.endpoint(module, PartnerClient.RECEIVER)
        await driver.request(
            "POST",
            url,
            module=module,
            content=wire,
            to_party=receiver,
            from_party=sender,
            object_id=key.id,
        )
        return
    await driver.request(
        "PUT",
        driver.address.object_url(kind, key),
        module=module,
        content=wire,
        to_party=receiver,
        from_party=sender,
        object_id=key.id,
    )


async def _send_payment(client: PartnerClient, entry: OutboxEntry) -> None:
    """A PTP's Terminal or FinancialAdviceConfirmation: POSTed to the CPO's Payments Receiver
    as stored (2.3.0 only, the head version; DIGEST §3.9)."""
    if entry.operation is OutboxOperation.DELETE or entry.payload is None:
        raise _Permanent(f"OCPI has no DELETE of a {entry.key.kind}; nothing sent")
    await client.payments.post(entry.key.kind, entry.payload)


async def _send_booking(client: PartnerClient, entry: OutboxEntry) -> None:
    """Our Booking (to the eMSP that asked for it) or BookingLocation: PUT to the eMSP's
    Bookings Receiver as stored (2.3.0 only, the head version; DIGEST §3.10)."""
    if entry.operation is OutboxOperation.DELETE or entry.payload is None:
        raise _Permanent(f"OCPI has no DELETE of a {entry.key.kind}; nothing sent")
    await client.bookings.put(entry.key, entry.payload)


def _token_to_party(client: PartnerClient, document: Mapping[str, Any]) -> PartyRef | None:
    """``OCPI-to-*`` of a Session or CDR: its token's eMSP, when the connection is that eMSP or
    a hub that reaches it (OCPI 2.2.1 transport_and_format §Message Routing); else the
    connection's own receiver party."""
    party = token_party(document)
    if party is None:
        return None
    partner = client.partner
    for r in partner.roles:
        if ci_equal(r.country_code, party[0]) and ci_equal(r.party_id, party[1]):
            return PartyRef(r.country_code, r.party_id)
    return PartyRef(*party) if is_hub(partner) else None


def _rfid_repaired(
    client: PartnerClient, key: ObjectKey, document: dict[str, Any]
) -> tuple[ObjectKey, dict[str, Any]]:
    """An RFID Token as the partner's ``rfid_uid_format`` takes it (the key's uid with it);
    the same key and document when nothing changes; :class:`_Permanent` when it cannot go."""
    uid = str(document.get("uid", ""))
    try:
        fixed = rfid_uid(uid, client.switches.rfid_uid_format)
    except ValueError as exc:
        raise _Permanent(str(exc)) from None
    if fixed == uid:
        return key, document
    log.info("token %s to %s: uid sent as %s (rfid_uid_format)", uid, client.partner.id, fixed)
    ident = fixed + key.id[len(uid) :] if key.id.startswith(uid) else key.id
    return ObjectKey(key.kind, key.country_code, key.party_id, ident), {**document, "uid": fixed}


def _describe(exc: OcpiError) -> str:
    if isinstance(exc, TransportError):
        return f"{exc.message} ({exc.detail})" if exc.detail else exc.message
    status = getattr(exc, "partner_http_status", None)
    code = f"OCPI {exc.status_code}" if isinstance(exc, PartnerError) else type(exc).__name__
    http = f", HTTP {status}" if status else ""
    return f"{code}{http}: {exc.message}"
