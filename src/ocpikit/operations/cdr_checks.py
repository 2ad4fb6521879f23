"""The checks of partners' CDRs, as use cases over the ports (docs/cdrs.md "CDR checks in the
platform"): run the pending checks, list them (the disputes), record the operator's
resolution.

A check reads what we hold: the CDR (head document), the tariffs it names as the CPO stored
them with us (else those embedded in the CDR, OCPI 2.2.1 cdrs §10.4.1 ``tariffs``; a CDR that
names none: its connector's tariffs in force at its start), the Session it names (OCPI 2.2.1
sessions; DIGEST §5.6 lists what must agree) and the Location for its time zone. It prices the CDR with the engine (``ocpikit.tariffs.reconcile.check_cdr``,
the reason codes of ``ocpikit cdr check``), verifies ``signed_data`` (OCMF,
``ocpikit.eichrecht``) when present, and finds a second CDR of one session (``duplicate``).
The verdict follows :func:`ocpikit.protocol.cdr_checks.verdict_of` with the partner's
``cdr_tolerance`` and ``cdr_dispute_reasons`` switches. A run claims (leases) a batch of
pending checks, reads what they all need set-based (:mod:`ocpikit.operations.cdr_check_batch`;
:func:`read_inputs` is the plain one-by-one reference), judges them in order
(:mod:`ocpikit.operations.cdr_check_judge`; a CDR of a session seen earlier in the batch
counts for ``duplicate``) and stores the outcomes in one write.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.operations.cdr_check_batch import read_batch
from ocpikit.operations.cdr_check_judge import (
    BatchSessions,
    CheckInputs,
    dispute_reasons_of,
    judge,
    named_tariff_ids,
    text_of,
    tolerance_of,
)
from ocpikit.operations.cdr_check_tariffs import ParsedTariffs
from ocpikit.operations.pace import Pace
from ocpikit.operations.tariffs_in_force import tariffs_in_force
from ocpikit.protocol.cdr_checks import (
    DISPUTE_VERDICTS,
    CdrCheck,
    CheckOutcome,
    Resolution,
    Verdict,
)
from ocpikit.protocol.ports import ObjectKey, Partner, Storage
from ocpikit.protocol.webhooks import EventSink

__all__ = [
    "SERVE_BATCH",
    "check_one",
    "dispute_reasons_of",
    "list_checks",
    "read_inputs",
    "resolve_check",
    "run_pending_checks",
    "tolerance_of",
]

#: ``before_seq`` that takes every CDR
_ALL = 2**62


async def _in_force(
    storage: Storage, doc: Mapping[str, Any], key: ObjectKey, owner: str
) -> list[dict[str, Any]]:
    """The tariffs of the CDR's connector (the partner's Location we hold) in force at the
    CDR's start, for a CDR that names none."""
    loc = doc.get("cdr_location")
    if not isinstance(loc, dict) or not loc.get("id"):
        return []
    got = await storage.objects.get(
        ObjectKey("Location", key.country_code, key.party_id, str(loc["id"]))
    )
    if got is None or got.owner != owner:
        return []
    start = doc.get("start_date_time")
    try:
        at = parse_datetime(start) if isinstance(start, str) else None
    except ValueError:
        at = None
    return await tariffs_in_force(
        storage,
        key.country_code,
        key.party_id,
        location=got.document,
        evse_uid=loc.get("evse_uid"),
        connector_id=loc.get("connector_id"),
        start=at,
        owner=owner,
    )


async def _tariffs(
    storage: Storage, doc: Mapping[str, Any], key: ObjectKey, owner: str
) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """The stored tariffs the CDR names, and the ids of those we do not hold (None: none
    held: the engine then takes the CDR's embedded tariffs). A CDR that names none is priced
    with its connector's tariffs in force at its start (:func:`_in_force`)."""
    named = named_tariff_ids(doc)
    if not named:
        return (await _in_force(storage, doc, key, owner) or None), []
    held: list[dict[str, Any]] = []
    missing: list[str] = []
    for tid in named:
        stored = await storage.objects.get(ObjectKey("Tariff", key.country_code, key.party_id, tid))
        if stored is None:
            missing.append(tid)
        else:
            held.append(stored.document)
    return (held or None), missing


async def _related(
    storage: Storage, doc: Mapping[str, Any], key: ObjectKey, owner: str
) -> tuple[Any, Any, str | None]:
    """The session we hold for the CDR (of the same partner), the original of a credit CDR,
    and the time zone of its location."""
    session = original = None
    sid = text_of(doc.get("session_id"))
    if sid:
        got = await storage.objects.get(ObjectKey("Session", key.country_code, key.party_id, sid))
        if got is not None and got.owner == owner:
            session = got.document
    ref = text_of(doc.get("credit_reference_id"))
    if doc.get("credit") is True and ref:
        got = await storage.objects.get(ObjectKey("CDR", key.country_code, key.party_id, ref))
        original = None if got is None else got.document
    zone = None
    loc = doc.get("cdr_location")
    loc_id = loc.get("id") if isinstance(loc, dict) else None
    if loc_id:
        got = await storage.objects.get(
            ObjectKey("Location", key.country_code, key.party_id, str(loc_id))
        )
        if got is not None and isinstance(got.document.get("time_zone"), str):
            zone = got.document["time_zone"]
    return session, original, zone


async def read_inputs(storage: Storage, check: CdrCheck) -> CheckInputs:
    """What the check of ``check`` reads, one lookup after the other (the reference for
    :mod:`ocpikit.operations.cdr_check_batch`, which reads a whole batch set-based)."""
    key = ObjectKey("CDR", check.country_code, check.party_id, check.cdr_id)
    stored = await storage.objects.get(key)
    doc: Mapping[str, Any] = stored.document if stored is not None else {}
    tariffs, missing = await _tariffs(storage, doc, key, check.owner)
    session, original, zone = await _related(storage, doc, key, check.owner)
    earlier: list[tuple[CdrCheck, Mapping[str, Any] | None]] = []
    sid = text_of(doc.get("session_id"))
    if sid and doc.get("credit") is not True:
        for c in await storage.cdr_checks.with_session(check.owner, sid, before_seq=_ALL):
            got = await storage.objects.get(ObjectKey("CDR", c.country_code, c.party_id, c.cdr_id))
            earlier.append((c, None if got is None else got.document))
    return CheckInputs(doc, tariffs, missing, session, original, zone, earlier)


async def check_one(
    storage: Storage,
    check: CdrCheck,
    partner: Partner | None,
    batch: BatchSessions | None = None,
) -> CheckOutcome:
    """Check the CDR of ``check`` against what we hold (see the module docstring): the plain
    form, :func:`read_inputs` then :func:`judge`; ``batch`` as for :func:`judge`."""
    return judge(check, partner, await read_inputs(storage, check), batch)


async def _recheck_duplicates(storage: Storage, credit: CdrCheck, session_id: str) -> None:
    """A credit CDR of ``session_id`` was checked: the CDRs of the session found ``duplicate``
    are checked again (the new CDR of a correction may have arrived before the credit)."""
    others = await storage.cdr_checks.with_session(credit.owner, session_id, before_seq=_ALL)
    again = [
        c.seq
        for c in others
        if c.seq != credit.seq and "duplicate" in (c.result or {}).get("reasons", ())
    ]
    await storage.cdr_checks.requeue(again)


#: the batch and the pace of the checks ``ocpikit serve`` runs in its own event loop: small
#: batches (a batch's reads hold the loop) and slices that give way to requests
SERVE_BATCH = 20
#: the batch of a run elsewhere (``ocpikit cdr work``): its two writes (claim, results) are
#: shared by this many checks, well within the lease (``CHECK_LEASE_SECONDS``)
BATCH = 200
#: the checks of a batch read together (:func:`read_batch`) and judged before the next read
READ_CHUNK = 50
#: a run without a pace yields to the other tasks of its loop after this many seconds of work
UNPACED_SLICE = 0.001


async def run_pending_checks(
    storage: Storage,
    events: EventSink | None = None,
    *,
    limit: int = BATCH,
    pace: Pace | None = None,
) -> int:
    """Check up to ``limit`` pending CDRs in their arrival order, store the outcomes (in one
    write) and queue a ``cdr.checked`` webhook event for each; the number checked. A CDR
    written again while it was checked stays pending (its next run checks the new
    revision). The batch is read set-based in chunks of :data:`READ_CHUNK` (:func:`read_batch`,
    the same inputs as :func:`check_one` reads one by one) and judged in order. ``pace``: how
    the run gives way to requests of the same event loop (:class:`~ocpikit.operations.pace.Pace`;
    None: a bare yield after every :data:`UNPACED_SLICE` of work)."""
    if pace is not None:
        await pace.give_way()
    pending = await storage.cdr_checks.claim(limit=limit)
    if not pending:
        return 0
    partners: dict[str, Partner | None] = {}
    for owner in dict.fromkeys(c.owner for c in pending):
        partners[owner] = await storage.partners.get(owner)
    batch: BatchSessions = {}
    parsed = ParsedTariffs()
    outcomes: list[tuple[CdrCheck, CheckOutcome]] = []
    credits: list[bool] = []
    slice_start = time.perf_counter()
    # read in chunks and keep each outcome serialized (CheckOutcome.packed): a run holds the
    # documents of one chunk at a time, not a whole batch of them (what outlives many
    # allocations sets off the interpreter's full collections)
    for at in range(0, len(pending), READ_CHUNK):
        chunk = pending[at : at + READ_CHUNK]
        for check, read in zip(chunk, await read_batch(storage, chunk), strict=True):
            outcome = judge(check, partners[check.owner], read, batch, parsed)
            outcomes.append((check, outcome.packed()))
            credits.append(bool(outcome.detail.get("credit")))
            if pace is not None:
                await pace.give_way()
            elif time.perf_counter() - slice_start >= UNPACED_SLICE:
                await asyncio.sleep(0)  # let the other tasks of the loop run
                slice_start = time.perf_counter()
    if pace is not None:
        await pace.give_way()
    stored = await storage.cdr_checks.finish_many(outcomes) if outcomes else []
    done = 0
    for (check, outcome), credit, ok in zip(outcomes, credits, stored, strict=True):
        if not ok:
            continue
        done += 1
        if credit and outcome.session_id:
            await _recheck_duplicates(storage, check, outcome.session_id)
        if events is not None:
            await events.emit(
                "cdr.checked",
                {
                    "cdr_id": check.cdr_id,
                    "country_code": check.country_code,
                    "party_id": check.party_id,
                    "verdict": outcome.verdict.value,
                    "reasons": outcome.reasons,
                    "differences": outcome.differences,
                },
                partner_id=check.owner,
            )
    return done


async def list_checks(
    storage: Storage,
    *,
    verdicts: Sequence[str] = (),
    partner: str | None = None,
    since: datetime | None = None,
    disputes: bool = False,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The checks as JSON (:meth:`CdrCheck.to_json`); ``disputes``: the verdicts that need
    the operator (``disputed``, ``unverifiable``). Raises ValueError for an unknown verdict."""
    wanted = list(DISPUTE_VERDICTS) if disputes else []
    for v in verdicts:
        try:
            wanted.append(Verdict(v))
        except ValueError:
            raise ValueError(
                f"verdict {v!r}: one of {', '.join(x.value for x in Verdict)}"
            ) from None
    rows = await storage.cdr_checks.listing(
        verdicts=wanted, partner=partner, since=since, limit=limit
    )
    return [c.to_json() for c in rows]


async def resolve_check(
    storage: Storage,
    cdr_id: str,
    resolution: str,
    note: str | None = None,
    *,
    party: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Mark the check of CDR ``cdr_id`` accepted or contested with a note; ``party``
    (country_code, party_id) picks one when several parties sent a CDR with this id.
    Raises LookupError (no such check) or ValueError (bad resolution, ambiguous id)."""
    try:
        chosen = Resolution(resolution)
    except ValueError:
        raise ValueError(f"resolution {resolution!r}: accepted or contested") from None
    found = await storage.cdr_checks.find(cdr_id)
    if party is not None:
        cc, pid = (p.upper() for p in party)
        found = [c for c in found if (c.country_code.upper(), c.party_id.upper()) == (cc, pid)]
    if not found:
        raise LookupError(f"no check of CDR {cdr_id!r}")
    if len(found) > 1:
        raise ValueError(f"CDR id {cdr_id!r} is used by several parties: name the party")
    await storage.cdr_checks.resolve(found[0].seq, chosen, note)
    done = await storage.cdr_checks.find(cdr_id)
    return next(c.to_json() for c in done if c.seq == found[0].seq)
