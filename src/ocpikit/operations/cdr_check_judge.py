"""Judging one partner CDR check from what it read (docs/cdrs.md "CDR checks in the
platform"): price and compare it with the engine (``ocpikit.tariffs.reconcile.check_cdr``, the
reason codes of ``ocpikit cdr check``), verify ``signed_data`` (OCMF, ``ocpikit.eichrecht``),
find a second CDR of one session (``duplicate``), and give the verdict of
:func:`ocpikit.protocol.cdr_checks.verdict_of` with the partner's ``cdr_tolerance`` and
``cdr_dispute_reasons`` switches.

Invariant: :func:`judge` reads no storage; everything it needs is in :class:`CheckInputs`, so
the one-by-one reads (:func:`ocpikit.operations.cdr_checks.read_inputs`) and the set-based
reads of a batch (:mod:`ocpikit.operations.cdr_check_batch`) give the same outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.eichrecht import verify_cdr
from ocpikit.operations.cdr_check_breakdown import pack_breakdown
from ocpikit.operations.cdr_check_tariffs import ParsedTariffs
from ocpikit.protocol.cdr_checks import (
    COST_FIELDS,
    DEFAULT_TOLERANCE,
    CdrCheck,
    CheckOutcome,
    Finding,
    verdict_of,
)
from ocpikit.protocol.ports import Partner
from ocpikit.protocol.profiles import effective_settings
from ocpikit.tariffs import PricingInputError
from ocpikit.tariffs.reconcile import Discrepancy, check_cdr

__all__ = [
    "BatchSessions",
    "CheckInputs",
    "dispute_reasons_of",
    "judge",
    "named_tariff_ids",
    "text_of",
    "tolerance_of",
]

log = logging.getLogger("ocpikit.cdr_checks")


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


def text_of(value: Any) -> str | None:
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


def named_tariff_ids(doc: Mapping[str, Any]) -> list[str]:
    """The tariff ids the CDR names (its periods' ``tariff_id``, then its embedded tariffs'
    ``id``; OCPI 2.2.1 cdrs §10.4.1), each once, in that order."""
    named: list[str] = []
    for period in doc.get("charging_periods") or ():
        tid = period.get("tariff_id") if isinstance(period, dict) else None
        if tid and tid not in named:
            named.append(str(tid))
    for t in doc.get("tariffs") or ():
        tid = t.get("id") if isinstance(t, dict) else None
        if tid and tid not in named:
            named.append(str(tid))
    return named


#: the CDRs checked earlier in one batch, not stored yet, per (owner, session id upper-cased):
#: (seq, cdr id, credit_reference_id of a credit CDR or None)
BatchSessions = dict[tuple[str, str], list[tuple[int, str, str | None]]]


@dataclass(frozen=True, slots=True)
class CheckInputs:
    """Everything one check reads from storage (the judging itself reads nothing): the CDR's
    document (empty when gone), the stored tariffs it is priced with (None: its embedded
    ones) and the named ids not held, its Session, the original of a credit CDR, the time zone
    of its Location, and ``earlier``: the checks of the partner that read the same session id,
    each with its CDR document (None: gone), as :meth:`CdrCheckStore.with_session` gives them
    (only for a CDR that is not a credit and names a session)."""

    doc: Mapping[str, Any]
    tariffs: list[dict[str, Any]] | None
    missing: list[str]
    session: Any
    original: Any
    zone: str | None
    earlier: Sequence[tuple[CdrCheck, Mapping[str, Any] | None]] = ()


def _still_billed(
    check: CdrCheck,
    session_id: str,
    earlier: Sequence[tuple[CdrCheck, Mapping[str, Any] | None]],
    batch: BatchSessions | None = None,
) -> str | None:
    """The earlier CDR of the partner that still bills ``session_id`` (one not cancelled by a
    credit CDR naming it, whenever that arrived; OCPI 2.2.1 cdrs §10.3: a correction is a
    credit CDR, then a new CDR), if any, from the stored checks ``earlier`` (with their CDR
    documents); ``batch``: the CDRs checked before this one in the same run, whose results are
    not stored yet."""
    billing: list[str] = []
    credited: set[str] = set()
    for seq, cid, ref in (batch or {}).get((check.owner, session_id.upper()), ()):
        if ref is not None:
            credited.add(ref.upper())
        elif seq < check.seq:
            billing.append(cid)
    for c, doc in earlier:
        if doc is None:
            continue
        if doc.get("credit") is True:
            credited.add(str(doc.get("credit_reference_id", "")).upper())
        elif c.seq < check.seq:
            billing.append(c.cdr_id)
    live = [cid for cid in billing if cid.upper() not in credited]
    return live[0] if live else None


def judge(
    check: CdrCheck,
    partner: Partner | None,
    inputs: CheckInputs,
    batch: BatchSessions | None = None,
    parsed: ParsedTariffs | None = None,
) -> CheckOutcome:
    """The outcome of ``check`` from what it read (prices and compares; reads nothing);
    ``batch`` as for :func:`_still_billed`, which it also extends with this CDR; ``parsed``:
    the run's normalised tariffs (:mod:`ocpikit.operations.cdr_check_tariffs`)."""
    doc = inputs.doc
    findings: list[Finding] = []
    detail: dict[str, Any] = {}
    tariffs, missing = inputs.tariffs, inputs.missing
    priced = tariffs is not None or bool(doc.get("tariffs"))
    if not priced:
        why = (
            f"tariff(s) {', '.join(missing)} not held"
            if missing
            else "the CDR names no tariff and its connector has none in force at its start"
        )
        findings.append(Finding("tariff_missing", "tariffs", f"cannot price the CDR: {why}"))
    found: list[Discrepancy] = []
    origin = partner.version if partner else None
    try:
        report = check_cdr(
            doc,
            tariffs if parsed is None or not tariffs else parsed.normalised(tariffs, origin),
            inputs.session,
            original=inputs.original,
            time_zone=inputs.zone,
            origin=origin,
        )
        found = report.discrepancies
        detail["notes"] = [n.to_json() for n in report.notes]
        if report.result is not None:
            # compact (the report of ``ocpikit tariff price --json`` on demand: breakdown_json)
            detail["priced"] = pack_breakdown(report.result)
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
    sid = text_of(doc.get("session_id"))
    if sid and batch is not None:
        ref = text_of(doc.get("credit_reference_id")) if doc.get("credit") is True else None
        batch.setdefault((check.owner, sid.upper()), []).append(
            (check.seq, check.cdr_id, ref or ("" if doc.get("credit") is True else None))
        )
    if sid and doc.get("credit") is not True:
        billed = _still_billed(check, sid, inputs.earlier, batch)
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
