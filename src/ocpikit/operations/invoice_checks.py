"""Invoice Reconciliation in the platform (OCPI 2.3.0 ``mod_invoice_reconciliation``;
docs/cdrs.md "Invoice Reconciliation"): each InvoiceReconciliationRecord we hold, ours (we
invoice) or a partner's (we are invoiced), checked against the CDRs we hold and their checked
totals.

"When the MSP has both the Invoice Reconciliation Record and the invoice, they can easily
reconcile by computing the total amount for the Invoice Reconciliation Record's CDRs in their
own systems" (2.3.0 §Flow and Lifecycle). Computed when listed, so a CDR or a check that
arrives after the record counts at once. For each record:

- ``declared_total``: the sum of the ``total_cost`` of the CDRs named (a credit CDR's is
  negative), excl. and incl. taxes, decimal strings;
- ``checked_total``: the excl.-tax sum with each CDR at the price our check of it found (a
  partner's CDR; ours count as declared); ``difference``: declared - checked (excl.); amounts
  with at least two decimals;
- ``missing``: CDR ids we do not hold: of the record's party and owner (direct billing), or,
  for a record a partner sent us about CDRs we issued (reverse billing: the eMSP invoices the
  CPO, §Flow and Lifecycle), ours under the party that connection registered with;
  ``repeated``: ids named
  twice; ``disputed``: CDRs whose check verdict is ``disputed`` or ``unverifiable``;
  ``unchecked``: CDRs whose check is still pending;
- ``verdict``: ``ok`` when all are empty and the totals agree, else ``differences``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from ocpikit.protocol.cdr_checks import DISPUTE_VERDICTS, CdrCheckState
from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, OwnerFilter, Storage, StoredObject

__all__ = ["check_record", "list_invoice_checks"]

KIND = "InvoiceReconciliationRecord"


def _dec(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value is not None else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _fmt(value: Decimal) -> str:
    """An amount as a decimal string with at least two decimals (``"7.50"``)."""
    cents = value.quantize(Decimal("0.01"))
    return str(cents if cents == value else value)


def price_amounts(price: Any) -> tuple[Decimal, Decimal]:
    """(excl, incl) of a head Price (``before_taxes`` + Σ ``taxes[].amount``)."""
    if not isinstance(price, Mapping):
        return Decimal(0), Decimal(0)
    excl = _dec(price.get("before_taxes"))
    taxes = sum(
        (_dec(t.get("amount")) for t in price.get("taxes") or () if isinstance(t, Mapping)),
        Decimal(0),
    )
    return excl, excl + taxes


async def _check_of(storage: Storage, key: ObjectKey) -> Any:
    for c in await storage.cdr_checks.find(key.id):
        if (c.country_code.upper(), c.party_id.upper()) == (
            key.country_code.upper(),
            key.party_id.upper(),
        ):
            return c
    return None


async def _our_party(storage: Storage, partner_id: str | None) -> tuple[str, str] | None:
    partner = await storage.partners.get(partner_id) if partner_id is not None else None
    return partner.local_party if partner is not None else None


async def _cdr_named(
    storage: Storage, record: StoredObject, cid: str, ours: tuple[str, str] | None
) -> StoredObject | None:
    """The CDR ``cid`` of ``record``: the invoicing party's, as its connection sent it to us
    (direct billing), else, for a partner's record, ours (reverse billing)."""
    doc = record.document
    key = ObjectKey("CDR", str(doc.get("country_code")), str(doc.get("party_id")), cid)
    cdr = await storage.objects.get(key)
    if cdr is not None and cdr.owner == record.owner:
        return cdr
    if record.owner is not None and ours is not None:
        own = await storage.objects.get(ObjectKey("CDR", ours[0], ours[1], cid))
        if own is not None and own.owner is None:
            return own
    return None


async def check_record(storage: Storage, record: StoredObject) -> dict[str, Any]:
    """The check of one stored record (see the module docstring)."""
    doc = record.document
    cc, pid = str(doc.get("country_code")), str(doc.get("party_id"))
    ours = await _our_party(storage, record.owner)
    missing: list[str] = []
    repeated: list[str] = []
    disputed: list[dict[str, Any]] = []
    unchecked: list[str] = []
    seen: set[str] = set()
    declared = [Decimal(0), Decimal(0)]
    checked = Decimal(0)
    for raw in doc.get("cdrs") or ():
        cid = str(raw)
        if cid.upper() in seen:
            repeated.append(cid)
            continue
        seen.add(cid.upper())
        cdr = await _cdr_named(storage, record, cid, ours)
        if cdr is None:
            missing.append(cid)
            continue
        excl, incl = price_amounts(cdr.document.get("total_cost"))
        declared[0] += excl
        declared[1] += incl
        diff = Decimal(0)
        if cdr.owner is not None:  # a partner's CDR: as our check of it found it
            check = await _check_of(storage, cdr.key)
            if check is None or check.state is CdrCheckState.PENDING:
                unchecked.append(cid)
            else:
                result = check.result or {}
                total = (result.get("differences") or {}).get("total_cost") or {}
                diff = _dec(total.get("difference"))
                if check.verdict in DISPUTE_VERDICTS:
                    disputed.append(
                        {
                            "cdr_id": cid,
                            "verdict": check.verdict.value if check.verdict else None,
                            "reasons": list(result.get("reasons", [])),
                        }
                    )
        checked += excl - diff
    difference = declared[0] - checked
    clean = not (missing or repeated or disputed or unchecked) and difference == 0
    return {
        "record_id": doc.get("id"),
        "country_code": cc,
        "party_id": pid,
        "partner": record.owner,
        "invoice_id": doc.get("invoice_id"),
        "cdrs": len(doc.get("cdrs") or ()),
        "declared_total": {"excl_vat": _fmt(declared[0]), "incl_vat": _fmt(declared[1])},
        "checked_total": {"excl_vat": _fmt(checked)},
        "difference": _fmt(difference),
        "missing": missing,
        "repeated": repeated,
        "disputed": disputed,
        "unchecked": unchecked,
        "verdict": "ok" if clean else "differences",
        "last_updated": doc.get("last_updated"),
    }


async def list_invoice_checks(
    storage: Storage,
    *,
    partner: str | None = None,
    own: bool = False,
    differences: bool = False,
    limit: int = 1000,
) -> list[dict[str, Any]]:
    """The checks of the records we hold (``partner``: that partner's; ``own``: ours),
    oldest first; ``differences``: only those whose verdict is not ``ok``."""
    owner: OwnerFilter = None if own else partner if partner is not None else ANY_OWNER
    out: list[dict[str, Any]] = []
    offset = 0
    while len(out) < limit:
        page = await storage.objects.list_page(KIND, offset=offset, limit=200, owner=owner)
        if not page.items:
            break
        offset += len(page.items)
        for item in page.items:
            row = await check_record(storage, item)
            if not differences or row["verdict"] != "ok":
                out.append(row)
    return out[:limit]
