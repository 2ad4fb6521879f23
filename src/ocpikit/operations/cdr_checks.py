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
pending checks, checks them in order (a CDR of a session seen earlier in the batch counts for
``duplicate``) and stores the outcomes in one write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.core.types import parse_datetime
from ocpikit.eichrecht import verify_cdr
from ocpikit.operations.tariffs_in_force import tariffs_in_force
from ocpikit.protocol.cdr_checks import (
    COST_FIELDS,
    DEFAULT_TOLERANCE,
    DISPUTE_VERDICTS,
    CdrCheck,
    CheckOutcome,
    Finding,
    Resolution,
    Verdict,
    verdict_of,
)
from ocpikit.protocol.ports import ObjectKey, Partner, Storage
from ocpikit.protocol.profiles import effective_settings
from ocpikit.protocol.webhooks import EventSink
from ocpikit.tariffs import PricingInputError
from ocpikit.tariffs.reconcile import Discrepancy, check_cdr

__all__ = [
    "check_one",
    "dispute_reasons_of",
    "list_checks",
    "resolve_check",
    "run_pending_checks",
    "tolerance_of",
]

log = logging.getLogger("ocpikit.cdr_checks")

#: ``before_seq`` that takes every CDR
_ALL = 2**62


def tolerance_of(partner: Partner | None) -> Decimal:
    """The partner's ``cdr_tolerance`` switch (currency units), else the default."""
    raw = effective_settings(partner.settings if partner else None).get("cdr_tolerance")
    if raw is None:
        return DEFAULT_TOLERANCE
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        log.warning("partner %s: cdr_tolerance %r is not a number", partner and partner.id, raw)
        return DEFAULT_TOLERANCE
    return value if value >= 0 else DEFAULT_TOLERANCE


def dispute_reasons_of(partner: Partner | None) -> frozenset[str] | None:
    """The partner's ``cdr_dispute_reasons`` switch (a list or a comma-separated string of
    reason codes), None when unset (every reason disputes)."""
    raw = effective_settings(partner.settings if partner else None).get("cdr_dispute_reasons")
    if raw is None:
        return None
    items = raw.split(",") if isinstance(raw, str) else raw if isinstance(raw, list) else []
    return frozenset(str(i).strip() for i in items if str(i).strip())


def _text(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))


def _finding(d: Discrepancy) -> Finding:
    return Finding(d.code, d.field, d.message, d.amount, d.amount_incl)


def _pair(value: Any) -> str | None:
    if isinstance(value, tuple):
        value = value[0] if value else None
    return None if value is None else str(value)


def _differences(found: Sequence[Discrepancy]) -> dict[str, dict[str, str | None]]:
    out: dict[str, dict[str, str | None]] = {}
    for d in found:
        if d.field in COST_FIELDS:
            out[d.field] = {
                "declared": _pair(d.declared),
                "expected": _pair(d.expected),
                "difference": None if d.amount is None else str(d.amount),
            }
    return out


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
    named: list[str] = []
    for period in doc.get("charging_periods") or ():
        tid = period.get("tariff_id") if isinstance(period, dict) else None
        if tid and tid not in named:
            named.append(str(tid))
    for t in doc.get("tariffs") or ():
        tid = t.get("id") if isinstance(t, dict) else None
        if tid and tid not in named:
            named.append(str(tid))
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
    sid = _text(doc.get("session_id"))
    if sid:
        got = await storage.objects.get(ObjectKey("Session", key.country_code, key.party_id, sid))
        if got is not None and got.owner == owner:
            session = got.document
    ref = _text(doc.get("credit_reference_id"))
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


#: the CDRs checked earlier in one batch, not stored yet, per (owner, session id upper-cased):
#: (seq, cdr id, credit_reference_id of a credit CDR or None)
BatchSessions = dict[tuple[str, str], list[tuple[int, str, str | None]]]


async def _still_billed(
    storage: Storage, check: CdrCheck, session_id: str, batch: BatchSessions | None = None
) -> str | None:
    """The earlier CDR of the partner that still bills ``session_id`` (one not cancelled by a
    credit CDR naming it, whenever that arrived; OCPI 2.2.1 cdrs §10.3: a correction is a
    credit CDR, then a new CDR), if any; ``batch``: the CDRs checked before this one in the
    same run, whose results are not stored yet."""
    others = await storage.cdr_checks.with_session(check.owner, session_id, before_seq=_ALL)
    billing: list[str] = []
    credited: set[str] = set()
    for seq, cid, ref in (batch or {}).get((check.owner, session_id.upper()), ()):
        if ref is not None:
            credited.add(ref.upper())
        elif seq < check.seq:
            billing.append(cid)
    for c in others:
        got = await storage.objects.get(ObjectKey("CDR", c.country_code, c.party_id, c.cdr_id))
        if got is None:
            continue
        if got.document.get("credit") is True:
            credited.add(str(got.document.get("credit_reference_id", "")).upper())
        elif c.seq < check.seq:
            billing.append(c.cdr_id)
    live = [cid for cid in billing if cid.upper() not in credited]
    return live[0] if live else None


async def check_one(
    storage: Storage,
    check: CdrCheck,
    partner: Partner | None,
    batch: BatchSessions | None = None,
) -> CheckOutcome:
    """Check the CDR of ``check`` against what we hold (see the module docstring); ``batch``
    as for :func:`_still_billed`, which it also extends with this CDR."""
    key = ObjectKey("CDR", check.country_code, check.party_id, check.cdr_id)
    stored = await storage.objects.get(key)
    doc: Mapping[str, Any] = stored.document if stored is not None else {}
    findings: list[Finding] = []
    detail: dict[str, Any] = {}
    tariffs, missing = await _tariffs(storage, doc, key, check.owner)
    priced = tariffs is not None or bool(doc.get("tariffs"))
    if not priced:
        why = (
            f"tariff(s) {', '.join(missing)} not held"
            if missing
            else "the CDR names no tariff and its connector has none in force at its start"
        )
        findings.append(Finding("tariff_missing", "tariffs", f"cannot price the CDR: {why}"))
    session, original, zone = await _related(storage, doc, key, check.owner)
    found: list[Discrepancy] = []
    try:
        report = check_cdr(
            doc,
            tariffs,
            session,
            original=original,
            time_zone=zone,
            origin=partner.version if partner else None,
        )
        found = report.discrepancies
        detail["notes"] = [n.to_json() for n in report.notes]
        if report.result is not None:
            detail["breakdown"] = report.result.to_json()
    except (PricingInputError, ValueError, TypeError, KeyError) as exc:
        found = [Discrepancy("version_rule", "cdr", f"cannot read the CDR: {exc}")]
    findings.extend(_finding(d) for d in found)
    if doc.get("signed_data"):
        ocmf = verify_cdr(dict(doc))
        detail["signed_data"] = ocmf.to_dict()
        if ocmf.status.failed:
            findings.append(
                Finding("signed_data", "signed_data", f"OCMF {ocmf.status.value}: {ocmf.message}")
            )
    sid = _text(doc.get("session_id"))
    if sid and batch is not None:
        ref = _text(doc.get("credit_reference_id")) if doc.get("credit") is True else None
        batch.setdefault((check.owner, sid.upper()), []).append(
            (check.seq, check.cdr_id, ref or ("" if doc.get("credit") is True else None))
        )
    if sid and doc.get("credit") is not True:
        billed = await _still_billed(storage, check, sid, batch)
        if billed is not None:
            findings.append(
                Finding(
                    "duplicate",
                    "session_id",
                    f"session {sid} was already billed by CDR {billed}",
                )
            )
    if doc.get("credit") is True:
        detail["credit"] = True
    detail["findings"] = [
        {"code": f.code, "field": f.field, "message": f.message} for f in findings
    ]
    verdict = verdict_of(
        findings, tolerance_of(partner), priced=priced, disputing=dispute_reasons_of(partner)
    )
    reasons = list(dict.fromkeys(f.code for f in findings))
    return CheckOutcome(verdict, reasons, _differences(found), sid, detail)


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


async def run_pending_checks(
    storage: Storage, events: EventSink | None = None, *, limit: int = 100
) -> int:
    """Check up to ``limit`` pending CDRs in their arrival order, store the outcomes (in one
    write) and queue a ``cdr.checked`` webhook event for each; the number checked. A CDR
    written again while it was checked stays pending (its next run checks the new
    revision)."""
    pending = await storage.cdr_checks.claim(limit=limit)
    partners: dict[str, Partner | None] = {}
    batch: BatchSessions = {}
    outcomes: list[tuple[CdrCheck, CheckOutcome]] = []
    for check in pending:
        if check.owner not in partners:
            partners[check.owner] = await storage.partners.get(check.owner)
        outcomes.append((check, await check_one(storage, check, partners[check.owner], batch)))
        await asyncio.sleep(0)  # let the endpoints answer between two checks (same event loop)
    stored = await storage.cdr_checks.finish_many(outcomes) if outcomes else []
    done = 0
    for (check, outcome), ok in zip(outcomes, stored, strict=True):
        if not ok:
            continue
        done += 1
        if outcome.detail.get("credit") and outcome.session_id:
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
