"""Pull sync: a partner's objects into our storage, incremental resync, and reconciliation
(``transport_and_format`` §Pull and Push, §Offline behaviour).

- :func:`pull_into_storage` walks the partner's Sender list page by page and upserts each valid
  object in head form with ``owner`` = the partner. An object we hold with the same content is
  not rewritten and counts as unchanged (so re-reading is harmless). The sync mark (per partner
  and module) is set to the time the pull *started*, and only when the walk finished, so the
  next incremental pull never misses a change made during a pull; its ``date_from`` is the mark
  minus :data:`~ocpikit.protocol.paging.DELTA_OVERLAP`, so neither does an update stamped in
  the same second as the pull's start.
- A page that fails is retried by the module client (``pull_retries``, ``pull_max_wait``:
  :mod:`ocpikit.protocol.pull_retry`). A pull that still fails keeps what it stored: after each
  page stored whole the partner's next-page URL is recorded (:class:`PullResume`), and the next
  pull of that module with the same ``date_from`` window starts there, no older than
  :data:`RESUME_MAX_AGE`; it then sets the mark to when the interrupted pull started. A
  complete pull clears the resume point, and so does a recorded URL that is refused for good
  (an expired cursor, a 4xx: the pull then starts afresh at once).
- :func:`resync` pulls every module the partner sends us, since the last success: call it when a
  partner comes back (after an outage, or on a schedule: :func:`resync_forever`, with a random
  splay as the spec advises, "think in hours, not minutes").
- :func:`reconcile` pulls a whole module without a date filter and reports what differs from our
  copy (missing here, missing there, different, with the differing fields); with ``apply`` the
  partner's version is stored (the pull "is the new truth").

Ownership (DIGEST §1.8): an object of a party the partner did not register is skipped unless the
partner is a hub or has the ``pull_any_party`` switch; an object we own, or another partner
owns, is never overwritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson

from ocpikit.core.clock import Clock
from ocpikit.core.errors import LocalError, OcpiError, PullFailed
from ocpikit.core.types import ci_equal
from ocpikit.core.versions import V2_2_1, InterfaceRole
from ocpikit.operations.partners import SYNCED_MODULES
from ocpikit.protocol import cdr_evse_uid
from ocpikit.protocol.endpoints import INTERFACES
from ocpikit.protocol.id_case import case_conflict, compares_case, id_field_of
from ocpikit.protocol.paging import delta_date_from
from ocpikit.protocol.parties import TrafficLearner, client_info_entry, is_hub
from ocpikit.protocol.partner_objects import PulledPage
from ocpikit.protocol.ports import ObjectKey, Partner, PullResume, Storage
from ocpikit.protocol.profiles import effective_settings, without_stamps
from ocpikit.protocol.pull_retry import failure_of
from ocpikit.protocol.reconcile import ReconcileReport, diff_fields, digest

from .partner import MODULE_OBJECTS, PartnerClient, PulledObject

__all__ = [
    "HUB_MODULE",
    "PULL_MODULES",
    "RESUME_MAX_AGE",
    "PullReport",
    "ReconcileResult",
    "pull_into_storage",
    "pullable_modules",
    "reconcile",
    "remember_auth",
    "resync",
    "resync_forever",
]

log = logging.getLogger("ocpikit.sync")

PULL_MODULES = SYNCED_MODULES
"""Modules with a Sender list we pull, in dependency order (locations before sessions)."""

HUB_MODULE = "hubclientinfo"
"""A hub's list of the parties behind it, pulled first from a hub (the party directory)."""

Progress = Callable[[int, int | None], None]
"""``progress(objects seen, X-Total-Count or None)`` after every page."""

RESUME_MAX_AGE = timedelta(days=1)
"""An interrupted pull older than this starts afresh: the partner's offsets have moved on."""


@dataclass(slots=True)
class PullReport:
    partner_id: str
    module: str
    since: datetime | None
    started_at: datetime
    seen: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # invalid objects (logged with their problems)
    refused: int = 0  # ownership: not the partner's to send
    stale: int = 0  # older than what we hold (a push overtook this pull)
    pages: int = 0
    total: int | None = None
    complete: bool = False
    #: the objects an interrupted pull had read when this one went on from where it stopped
    resumed_at: int | None = None
    #: why the pull failed (resync: the pull's exception, e.g. a page's HTTP and OCPI status)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["since"] = self.since.isoformat() if self.since else None
        out["started_at"] = self.started_at.isoformat()
        return out


def remember_auth(storage: Storage) -> Callable[[str, bool], Awaitable[None]]:
    """A client callback that persists the Authorization encoding that worked
    (``encode_auth`` in the partner's settings; the row is re-read right before the write)."""

    async def save(partner_id: str, encode: bool) -> None:
        current = await storage.partners.get(partner_id)
        if current is None or current.settings.get("encode_auth") is encode:
            return
        settings = {**current.settings, "encode_auth": encode}
        await storage.partners.save(dataclasses.replace(current, settings=settings))

    return save


def _may_send(partner: Partner, key: ObjectKey, any_party: bool) -> bool:
    """A partner lists objects of its own parties; a hub those of the parties behind it, never
    of our party (the one it registered with); ``pull_any_party`` lets everything in."""
    if any_party:
        return True
    if is_hub(partner):
        local = partner.local_party
        return local is None or not (
            ci_equal(local[0], key.country_code) and ci_equal(local[1], key.party_id)
        )
    return any(
        ci_equal(r.country_code, key.country_code) and ci_equal(r.party_id, key.party_id)
        for r in partner.roles
    )


async def _store(
    client: PartnerClient,
    storage: Storage,
    item: PulledObject,
    report: PullReport,
    learner: TrafficLearner,
) -> None:
    partner = client.partner
    if not _may_send(partner, item.key, client.switches.pull_any_party):
        report.refused += 1
        log.warning(
            "partner %s: skipped %s %s/%s/%s: not a party it registered",
            partner.id,
            item.key.kind,
            item.key.country_code,
            item.key.party_id,
            item.key.id,
        )
        return
    raw = orjson.dumps(item.head)
    existing = await storage.objects.get(item.key)
    if existing is not None:
        if existing.owner != partner.id:
            report.refused += 1
            log.warning(
                "partner %s: skipped %s %s: owned by %s",
                partner.id,
                item.key.kind,
                item.key.id,
                existing.owner or "us",
            )
            return
        if compares_case(partner) and case_conflict(
            item.key.kind, existing.document, str(item.head.get(id_field_of(item.key.kind), ""))
        ):
            # the hub holds two objects whose ids differ only in case; one key here: refuse
            report.refused += 1
            log.warning(
                "partner %s: skipped %s %s: its id differs only in case from the stored one "
                "(switch case_sensitive_ids)",
                partner.id,
                item.key.kind,
                item.key.id,
            )
            return
        if existing.raw == raw or existing.document == item.head:
            # the same version again (a delta window's overlap, a resumed walk): deduplicated
            report.unchanged += 1
            return
        if existing.last_updated > item.last_updated:
            # A push that arrived while this page was in flight is newer; keep it (the next pull
            # from the sync mark brings anything later).
            report.stale += 1
            return
    await storage.objects.put(item.key, raw, last_updated=item.last_updated, owner=partner.id)
    await _learn(storage, partner, item, learner)
    if existing is None:
        report.created += 1
    else:
        report.updated += 1


async def _learn(
    storage: Storage, partner: Partner, item: PulledObject, learner: TrafficLearner
) -> None:
    """What a hub listed fills the party directory: a ClientInfo with its status, any other
    object its party (:mod:`ocpikit.protocol.parties`)."""
    if item.key.kind == "ClientInfo":
        if is_hub(partner):
            await storage.parties.learn([client_info_entry(partner, item.head)])
        return
    key = item.key
    await learner.saw(storage.parties, partner, key.country_code, key.party_id, key.kind)


async def pull_into_storage(
    client: PartnerClient,
    storage: Storage,
    module: str,
    *,
    since: datetime | None = None,
    full: bool = False,
    limit: int | None = None,
    progress: Progress | None = None,
    clock: Clock | None = None,
) -> PullReport:
    """Pull ``module`` from the partner into storage (see the module docstring).

    ``since`` overrides the window from the stored mark; ``full`` ignores both (no
    ``date_from``). Raises what the client raises (:class:`~ocpikit.core.errors.PullFailed`
    for a page that failed after its retries); the mark is then left alone and the resume point
    names the page after the last one stored."""
    now = (clock or client.clock).now()
    partner_id = client.partner.id
    marks = storage.partners
    if since is None and not full:
        since = delta_date_from(await marks.get_sync_mark(partner_id, module))
    date_from = None if full else since
    resume = await marks.get_pull_resume(partner_id, module)
    if resume is not None and (
        resume.date_from != date_from or now - resume.started_at > RESUME_MAX_AGE
    ):
        resume = None
    started = resume.started_at if resume is not None else now
    report = PullReport(partner_id, module, since, started)
    if resume is not None:
        report.resumed_at = resume.offset
        log.info(
            "partner %s: %s: going on with page %d (%d objects read before)",
            partner_id,
            module,
            resume.pages + 1,
            resume.offset,
        )
    try:
        await _walk(client, storage, report, date_from, resume, limit, progress)
    except (PullFailed, LocalError) as exc:
        if resume is None or report.pages or _partner_down(exc):
            raise
        # the recorded URL itself is refused (an expired cursor, a host no longer allowed)
        log.warning(
            "partner %s: %s: the recorded next page failed (%s); starting afresh",
            partner_id,
            module,
            exc.message,
        )
        await marks.set_pull_resume(partner_id, module, None)
        return await pull_into_storage(
            client,
            storage,
            module,
            since=since,
            full=full,
            limit=limit,
            progress=progress,
            clock=clock,
        )
    # cleared first: a crash between the two writes leaves a pull that starts afresh
    await marks.set_pull_resume(partner_id, module, None)
    await marks.set_sync_mark(partner_id, module, started)
    report.complete = True
    log.info(
        "partner %s: pulled %s: %d seen, %d new, %d updated, %d skipped",
        partner_id,
        module,
        report.seen,
        report.created,
        report.updated,
        report.skipped,
    )
    return report


def _partner_down(exc: Exception) -> bool:
    """Whether a pull failed because the partner is unreachable or failing for now (worth the
    same page next time), rather than because the page's URL is refused."""
    return (
        isinstance(exc, PullFailed)
        and isinstance(exc.__cause__, OcpiError)
        and failure_of(exc.__cause__).retryable
    )


async def _repaired_cdrs(
    client: PartnerClient, storage: Storage, module: str, page: PulledPage
) -> list[PulledObject]:
    """The CDRs of ``page`` skipped as invalid that the partner's ``cdr_evse_uid_from_location``
    switch makes valid, filling ``cdr_location.evse_uid`` from its Location
    (:mod:`ocpikit.protocol.cdr_evse_uid`); none without the switch."""
    partner = client.partner
    if (
        module != "cdrs"
        or not page.skipped
        or client.version < V2_2_1
        or not cdr_evse_uid.switched_on(partner.settings)
    ):
        return []
    fixed = [
        await cdr_evse_uid.with_evse_uid(storage.objects, skip.raw, owner=partner.id)
        for skip in page.skipped
    ]
    items, _still_invalid = client.driver.objects.page_items(
        "CDR", [raw for raw, skip in zip(fixed, page.skipped, strict=True) if raw is not skip.raw]
    )
    return items


async def _walk(
    client: PartnerClient,
    storage: Storage,
    report: PullReport,
    date_from: datetime | None,
    resume: PullResume | None,
    limit: int | None,
    progress: Progress | None,
) -> None:
    """Store the pages of one walk (from ``resume`` when given), recording after each page
    where the walk goes on."""
    partner_id, module = report.partner_id, report.module
    offset = resume.offset if resume is not None else 0
    pages_before = resume.pages if resume is not None else 0
    walk = client.pages(
        module,
        date_from=date_from,
        limit=limit,
        offset=offset,
        resume_url=resume.url if resume is not None else None,
        first_page=pages_before + 1,
    )
    learner = TrafficLearner()  # each party behind a hub written once per walk
    async for page in walk:
        report.pages += 1
        report.total = page.total_count
        report.skipped += len(page.skipped)
        report.seen += len(page.items) + len(page.skipped)
        repaired = await _repaired_cdrs(client, storage, module, page)
        report.skipped -= len(repaired)
        for item in [*page.items, *repaired]:
            await _store(client, storage, item, report, learner)
        if page.next_url is not None:
            here = PullResume(
                page.next_url,
                date_from,
                offset + report.seen,
                pages_before + report.pages,
                report.started_at,
            )
            await storage.partners.set_pull_resume(partner_id, module, here)
        if progress is not None:
            progress(offset + report.seen, report.total)


def pullable_modules(client: PartnerClient) -> list[str]:
    """Modules the partner offers as Sender and whose data owner role it has (2.1.1 endpoints
    carry no interface role, so the partner's roles decide); a hub's HubClientInfo list
    first."""
    roles = {r.role.upper() for r in client.partner.roles}
    out: list[str] = []
    if is_hub(client.partner) and client.has_endpoint(HUB_MODULE, InterfaceRole.SENDER):
        out.append(HUB_MODULE)  # who is behind the hub, first (the party directory)
    for module in PULL_MODULES:
        owners = {
            i.implemented_by.value
            for i in INTERFACES
            if i.module == module and i.role is InterfaceRole.SENDER
        }
        hub = is_hub(client.partner)
        if (roles & owners or hub) and client.has_endpoint(module, InterfaceRole.SENDER):
            out.append(module)
    return out


async def resync(
    client: PartnerClient,
    storage: Storage,
    modules: Iterable[str] | None = None,
    *,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> list[PullReport]:
    """Pull what changed since the last success, module by module. A module that fails is
    logged and the others still run; its mark stays, so the next resync retries it."""
    reports: list[PullReport] = []
    for module in modules if modules is not None else pullable_modules(client):
        cb: Progress | None = None
        if progress is not None:

            def cb(seen: int, total: int | None, _m: str = module) -> None:
                progress(_m, seen, total)

        try:
            reports.append(await pull_into_storage(client, storage, module, progress=cb))
        except Exception as exc:  # one module's failure must not stop the others
            log.warning("partner %s: resync of %s failed: %s", client.partner.id, module, exc)
            failed = PullReport(client.partner.id, module, None, client.clock.now())
            failed.error = getattr(exc, "message", None) or str(exc)
            reports.append(failed)
    return reports


async def resync_forever(
    storage: Storage,
    make_client: Callable[[Partner], PartnerClient],
    *,
    interval: float = 3600.0,
    splay: float = 0.1,
    stop: asyncio.Event | None = None,
    rng: random.Random | None = None,
) -> None:
    """Resync every registered partner every ``interval`` seconds (± ``splay`` × interval)."""
    from ocpikit.protocol.ports import PartnerStatus

    rand = rng or random.Random()
    halt = stop or asyncio.Event()
    while not halt.is_set():
        for partner in await storage.partners.all(status=PartnerStatus.REGISTERED):
            try:
                await resync(make_client(partner), storage)
            except Exception as exc:
                log.warning("partner %s: resync failed: %s", partner.id, exc)
        wait = interval * (1 + splay * (2 * rand.random() - 1))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(halt.wait(), timeout=wait)


@dataclass(slots=True)
class ReconcileResult:
    """A reconciliation of one module: the key lists of :class:`ReconcileReport` plus, for each
    differing object, the JSON paths that differ."""

    module: str
    report: ReconcileReport
    fields: dict[ObjectKey, list[str]] = field(default_factory=dict)
    applied: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        def k(key: ObjectKey) -> str:
            return f"{key.country_code}/{key.party_id}/{key.id}"

        return {
            "module": self.module,
            "in_sync": self.report.in_sync,
            "same": self.report.same,
            "missing_here": [k(x) for x in self.report.missing_here],
            "missing_there": [k(x) for x in self.report.missing_there],
            "different": {k(x): self.fields.get(x, []) for x in self.report.different},
            "applied": self.applied,
            "skipped_invalid": self.skipped,
        }


async def reconcile(
    client: PartnerClient,
    storage: Storage,
    module: str,
    *,
    apply: bool = False,
    limit: int | None = None,
    page_size: int = 500,
) -> ReconcileResult:
    """Full pull of ``module`` compared with what we store from this partner (streaming: only
    the set of the partner's keys is kept in memory)."""
    kind = MODULE_OBJECTS[module]
    partner_id = client.partner.id
    stamped = effective_settings(client.partner.settings).get("hub_sets_last_updated") is True

    def differs(here: Mapping[str, Any], there: Mapping[str, Any]) -> bool:
        """Whether the documents differ (not in ``last_updated`` alone when the hub stamps
        its own times)."""
        if stamped:
            return digest(without_stamps(here)) != digest(without_stamps(there))
        return digest(here) != digest(there)

    report = ReconcileReport()
    result = ReconcileResult(module, report)
    seen: set[ObjectKey] = set()
    started = client.clock.now()
    async for page in client.pages(module, limit=limit):
        result.skipped += len(page.skipped)
        for item in page.items:
            seen.add(item.key)
            stored = await storage.objects.get(item.key)
            mine = stored is not None and stored.owner == partner_id
            if not mine:
                report.missing_here.append(item.key)
            elif stored is not None and differs(stored.document, item.head):
                report.different.append(item.key)
                result.fields[item.key] = diff_fields(item.head, stored.document)
            else:
                report.same += 1
                continue
            if apply and (stored is None or mine):
                await storage.objects.put(
                    item.key,
                    orjson.dumps(item.head),
                    last_updated=item.last_updated,
                    owner=partner_id,
                )
                result.applied += 1
    offset = 0
    while True:
        local = await storage.objects.list_page(
            kind, offset=offset, limit=page_size, owner=partner_id
        )
        for obj in local.items:
            if obj.key not in seen:
                report.missing_there.append(obj.key)
        offset += len(local.items)
        if not local.items or offset >= local.total:
            break
    if apply:
        await storage.partners.set_sync_mark(partner_id, module, started)
    return result
