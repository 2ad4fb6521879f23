"""What a batch of CDR checks reads, read set-based (docs/cdrs.md "CDR checks in the
platform", performance).

Plan: whatever the number of checks, at most five reads:

1. the checks' CDRs (``objects.get_many``);
2. everything those CDRs name, in one ``get_many``: the stored Tariffs of the ids they name,
   their Sessions, the originals of credit CDRs, their Locations;
3. for CDRs that name no tariff, the Tariffs their connector names (one ``get_many``);
4. the stored checks that read the same session ids (``cdr_checks.with_sessions``);
5. those checks' CDRs not read in 1 (one ``get_many``).

Then each check's :class:`~ocpikit.operations.cdr_check_judge.CheckInputs` is put together in
Python.

Invariant: for every check, :func:`read_batch` gives the inputs that the one-by-one reads of
:func:`ocpikit.operations.cdr_checks.read_inputs` (the reference, kept plain) give at the same
moment: the same ownership rules (a Session, and a Location or Tariff found through a connector,
count only when held for the check's partner; a named Tariff, a credit's original and the
Location of the time zone do not ask), the same order (named tariffs in naming order, connector
tariffs in connector order, earlier checks in creation order). The batch test
(tests/contract/server/test_cdr_check_batch.py) compares both on a varied set of CDRs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpikit.core.types import ci_key, parse_datetime
from ocpikit.operations.cdr_check_judge import CheckInputs, named_tariff_ids, text_of
from ocpikit.operations.tariffs_in_force import connector_tariff_ids, in_force
from ocpikit.protocol.cdr_checks import CdrCheck
from ocpikit.protocol.ports import ObjectKey, Storage, StoredObject

__all__ = ["read_batch"]

Found = dict[ObjectKey, StoredObject]


def _key(check: CdrCheck, kind: str, object_id: Any) -> ObjectKey:
    return ObjectKey(kind, check.country_code, check.party_id, str(object_id))


def _location_id(doc: Mapping[str, Any]) -> Any:
    loc = doc.get("cdr_location")
    return loc.get("id") if isinstance(loc, dict) else None


def _start(doc: Mapping[str, Any]) -> datetime | None:
    start = doc.get("start_date_time")
    try:
        return parse_datetime(start) if isinstance(start, str) else None
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class _Names:
    """The keys of what one CDR names, built once per check (read 2 and putting the inputs
    together): the tariffs by id in naming order, its Session, the original of a credit CDR
    and its Location."""

    tariffs: list[tuple[str, ObjectKey]]
    session: ObjectKey | None
    original: ObjectKey | None
    location: ObjectKey | None

    def all_keys(self) -> list[ObjectKey]:
        keys = [k for _, k in self.tariffs]
        keys.extend(k for k in (self.session, self.original, self.location) if k is not None)
        return keys


def _names(check: CdrCheck, doc: Mapping[str, Any]) -> _Names:
    sid = text_of(doc.get("session_id"))
    ref = text_of(doc.get("credit_reference_id"))
    loc_id = _location_id(doc)
    return _Names(
        [(tid, _key(check, "Tariff", tid)) for tid in named_tariff_ids(doc)],
        _key(check, "Session", sid) if sid else None,
        _key(check, "CDR", ref) if doc.get("credit") is True and ref else None,
        _key(check, "Location", loc_id) if loc_id else None,
    )


def _connector_ids(check: CdrCheck, doc: Mapping[str, Any], found: Found) -> list[str] | None:
    """The tariff ids of the CDR's connector (the partner's Location), None when that
    Location is not held for the partner (no tariff in force then)."""
    loc = doc.get("cdr_location")
    if not isinstance(loc, dict) or not loc.get("id"):
        return None
    got = found.get(_key(check, "Location", loc["id"]))
    if got is None or got.owner != check.owner:
        return None
    return connector_tariff_ids(got.document, loc.get("evse_uid"), loc.get("connector_id"))


def _tariffs(
    check: CdrCheck, doc: Mapping[str, Any], names: _Names, found: Found
) -> tuple[list[dict[str, Any]] | None, list[str]]:
    if not names.tariffs:
        ids = _connector_ids(check, doc, found) or []
        at = _start(doc)
        held = []
        for tid in dict.fromkeys(ids):
            got = found.get(_key(check, "Tariff", tid))
            if got is not None and got.owner == check.owner:
                held.append(dict(got.document))
        return [t for t in held if in_force(t, at)] or None, []
    tariffs: list[dict[str, Any]] = []
    missing: list[str] = []
    for tid, key in names.tariffs:
        got = found.get(key)
        if got is None:
            missing.append(tid)
        else:
            tariffs.append(got.document)
    return (tariffs or None), missing


def _inputs(
    check: CdrCheck,
    doc: Mapping[str, Any],
    names: _Names,
    found: Found,
    earlier: Sequence[tuple[CdrCheck, Mapping[str, Any] | None]],
) -> CheckInputs:
    tariffs, missing = _tariffs(check, doc, names, found)
    session = original = zone = None
    if names.session is not None:
        got = found.get(names.session)
        if got is not None and got.owner == check.owner:
            session = got.document
    if names.original is not None:
        got = found.get(names.original)
        original = None if got is None else got.document
    if names.location is not None:
        got = found.get(names.location)
        if got is not None and isinstance(got.document.get("time_zone"), str):
            zone = got.document["time_zone"]
    return CheckInputs(doc, tariffs, missing, session, original, zone, earlier)


def _session_of(doc: Mapping[str, Any]) -> str | None:
    """The session id whose earlier CDRs the check reads (not for a credit CDR)."""
    sid = text_of(doc.get("session_id"))
    return sid if sid and doc.get("credit") is not True else None


async def read_batch(storage: Storage, checks: Sequence[CdrCheck]) -> list[CheckInputs]:
    """The inputs of each of ``checks`` (same order), read as the module docstring plans."""
    cdr_keys = [_key(c, "CDR", c.cdr_id) for c in checks]
    found: Found = await storage.objects.get_many(cdr_keys)
    docs: list[Mapping[str, Any]] = [
        got.document if (got := found.get(k)) is not None else {} for k in cdr_keys
    ]
    names = [_names(c, doc) for c, doc in zip(checks, docs, strict=True)]
    named = [k for n in names for k in n.all_keys()]
    found.update(await storage.objects.get_many(k for k in named if k not in found))
    connector = [
        _key(c, "Tariff", tid)
        for c, doc, n in zip(checks, docs, names, strict=True)
        if not n.tariffs
        for tid in _connector_ids(c, doc, found) or ()
    ]
    if connector:
        found.update(await storage.objects.get_many(k for k in connector if k not in found))
    pairs = {
        (c.owner, sid) for c, doc in zip(checks, docs, strict=True) if (sid := _session_of(doc))
    }
    others = await storage.cdr_checks.with_sessions(pairs) if pairs else {}
    # the CDRs of those checks: most are this batch's own (already read, by seq)
    by_seq = {c.seq: k for c, k in zip(checks, cdr_keys, strict=True)}
    other_keys = {
        o.seq: by_seq.get(o.seq) or _key(o, "CDR", o.cdr_id)
        for group in others.values()
        for o in group
    }
    missing = [k for k in other_keys.values() if k not in found]
    if missing:
        found.update(await storage.objects.get_many(missing))
    out = []
    for check, doc, n in zip(checks, docs, names, strict=True):
        sid = _session_of(doc)
        group = others.get((check.owner, ci_key(sid)), []) if sid else []
        earlier = [(o, _document(found, other_keys[o.seq])) for o in group]
        out.append(_inputs(check, doc, n, found, earlier))
    return out


def _document(found: Found, key: ObjectKey) -> Mapping[str, Any] | None:
    got = found.get(key)
    return None if got is None else got.document
