"""Correcting a CDR of ours (CPO side): a Credit CDR, then a new CDR (OCPI 2.2.1 cdrs §10.3
"Credit CDRs", DIGEST §5.4; docs/cdrs.md "Corrections").

Invariants:

- the Credit CDR carries all the data of the original with a new id (default: the original's
  id + ``-C``, hence CiString(39)), ``credit = true``, ``credit_reference_id`` = the original's
  id, and every cost field negated (DIGEST A9: the platform's default policy ``all_costs``,
  which its own CDR checks expect); volumes stay positive;
- the new CDR has a new id (default: the original's + ``-2``, ``-3``, ... the first free one,
  at most 36 characters) and no credit fields: the one given, else rebuilt from the session
  with the tariffs held now (:func:`ocpikit.operations.cdr_builds.build_one`);
- both are stored as ours and queued for the original's receivers
  (:func:`~ocpikit.operations.own_objects.put_own_object`), the Credit CDR first; an original
  that is a credit CDR, or was credited already, cannot be credited;
- a correction is finished or can be finished: both documents are kept as a platform fact
  (:func:`correction_fact`) before the first is stored and forgotten after the second, so a
  correction interrupted between its two writes (a crash) is completed, as first asked, by the
  next request to correct the same CDR.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from ocpikit.core.types import format_datetime
from ocpikit.models.v2_3_0.cdrs import CDR
from ocpikit.operations.cdr_builds import BuildFailed, build_one
from ocpikit.operations.own_objects import put_own_object
from ocpikit.protocol.cdr_checks import COST_FIELDS
from ocpikit.protocol.parties import RoutingRules
from ocpikit.protocol.ports import ObjectKey, Storage

__all__ = ["CreditRefused", "correction_fact", "credit_cdr", "credit_of"]


class CreditRefused(ValueError):
    """The CDR cannot be credited (the message names the field)."""

    def __init__(self, message: str, field: str = "id") -> None:
        super().__init__(message)
        self.field = field


def _negate(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        return value
    return -Decimal(str(value))


def _negated_price(price: Any) -> Any:
    if not isinstance(price, Mapping):
        return price
    out = dict(price)
    for key in ("before_taxes", "excl_vat", "incl_vat"):
        if key in out:
            out[key] = _negate(out[key])
    if isinstance(out.get("taxes"), list):
        out["taxes"] = [
            {**t, "amount": _negate(t.get("amount"))} if isinstance(t, Mapping) else t
            for t in out["taxes"]
        ]
    return out


def credit_of(original: Mapping[str, Any], credit_id: str, now: datetime) -> dict[str, Any]:
    """The Credit CDR of ``original`` (head document) under ``credit_id``."""
    doc = copy.deepcopy(dict(original))
    doc["id"] = credit_id
    doc["credit"] = True
    doc["credit_reference_id"] = original["id"]
    for name in COST_FIELDS:
        if name in doc:
            doc[name] = _negated_price(doc[name])
    doc["last_updated"] = format_datetime(now)
    return CDR.model_validate(doc).dump()


def correction_fact(key: ObjectKey) -> str:
    """The platform fact that holds the correction of our CDR ``key`` while it is written."""
    return f"cdr-correction/{key.country_code.upper()}/{key.party_id.upper()}/{key.id}"


async def _free_id(storage: Storage, key: ObjectKey) -> str:
    for n in range(2, 1000):
        candidate = f"{key.id}-{n}"
        got = await storage.objects.get(ObjectKey("CDR", key.country_code, key.party_id, candidate))
        if got is None:
            if len(candidate) > 36:
                break
            return candidate
    raise CreditRefused(f"new_id: no free id for the new CDR of {key.id}: name one", "new_id")


async def credit_cdr(
    storage: Storage,
    key: ObjectKey,
    *,
    now: datetime,
    credit_id: str | None = None,
    new_id: str | None = None,
    replacement: Mapping[str, Any] | None = None,
    rebuild: bool = True,
    rules: RoutingRules | None = None,
) -> dict[str, Any]:
    """Credit our CDR ``key`` and store the new one; ``{"credit": ..., "cdr": ... | None}``
    (head documents). Raises LookupError (no such CDR of ours) or :class:`CreditRefused`."""
    stored = await storage.objects.get(key)
    if stored is None or stored.owner is not None:
        raise LookupError(f"no CDR {key.id!r} of ours")
    unfinished = await storage.facts.get(correction_fact(key))
    if unfinished:
        return await _write(storage, key, json.loads(unfinished), rules)
    original = stored.document
    if original.get("credit") is True:
        raise CreditRefused(f"id: CDR {key.id} is a credit CDR itself")
    credit_id = credit_id or f"{key.id}-C"
    if len(credit_id) > 39:
        raise CreditRefused("credit_id: at most 39 characters", "credit_id")
    ckey = ObjectKey("CDR", key.country_code, key.party_id, credit_id)
    if await storage.objects.get(ckey) is not None:
        raise CreditRefused(
            f"credit_id: CDR {credit_id} exists: {key.id} was credited already", "credit_id"
        )
    new_doc = await _new_cdr(storage, key, original, new_id, replacement, rebuild, now)
    correction = {"credit": credit_of(original, credit_id, now), "cdr": new_doc}
    await storage.facts.set(correction_fact(key), json.dumps(correction))
    return await _write(storage, key, correction, rules)


async def _write(
    storage: Storage,
    key: ObjectKey,
    correction: dict[str, Any],
    rules: RoutingRules | None,
) -> dict[str, Any]:
    """Store the Credit CDR, then the new CDR, each unless stored already, and forget the
    correction's fact."""
    for doc in (correction["credit"], correction["cdr"]):
        if doc is None:
            continue
        dkey = ObjectKey("CDR", key.country_code, key.party_id, str(doc["id"]))
        if await storage.objects.get(dkey) is None:
            await put_own_object(storage, dkey, doc, rules=rules)
    await storage.facts.delete(correction_fact(key))
    return correction


async def _new_cdr(
    storage: Storage,
    key: ObjectKey,
    original: Mapping[str, Any],
    new_id: str | None,
    replacement: Mapping[str, Any] | None,
    rebuild: bool,
    now: datetime,
) -> dict[str, Any] | None:
    """The corrected CDR (validated, new id, no credit fields), or None (credit only)."""
    if replacement is None and not rebuild:
        return None
    cdr_id = new_id or (replacement or {}).get("id")
    if not cdr_id or cdr_id == key.id:
        cdr_id = await _free_id(storage, key)
    if len(str(cdr_id)) > 36:
        raise CreditRefused(
            "new_id: a CDR that is not a credit has at most 36 characters", "new_id"
        )
    nkey = ObjectKey("CDR", key.country_code, key.party_id, str(cdr_id))
    if await storage.objects.get(nkey) is not None:
        raise CreditRefused(f"new_id: CDR {cdr_id} exists already: name another", "new_id")
    if replacement is not None:
        doc = {**replacement, "id": cdr_id, "last_updated": format_datetime(now)}
        for name in ("credit", "credit_reference_id"):
            doc.pop(name, None)
        try:
            return CDR.model_validate(doc).dump()
        except ValueError as exc:
            raise CreditRefused(f"cdr: not a valid CDR: {exc}", "cdr") from None
    sid = original.get("session_id")
    session = None
    if isinstance(sid, str):
        session = await storage.objects.get(
            ObjectKey("Session", key.country_code, key.party_id, sid)
        )
    if session is None or session.owner is not None:
        raise CreditRefused(
            f"cdr: the session {sid!r} of CDR {key.id} is not held: give the new CDR", "cdr"
        )
    try:
        return await build_one(storage, session.document, cdr_id=str(cdr_id), now=now)
    except BuildFailed as exc:
        raise CreditRefused(f"cdr: cannot rebuild from the session: {exc}", "cdr") from None
