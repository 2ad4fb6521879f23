"""From signed readings to energy: pair begin/end readings and compare with a CDR.

OCMF readings carry a transaction type (``TX``: B begin, C charging, X exception, E end, ...)
and an OBIS register id (``RI``). A session's energy is the end value minus the begin value of
the active-import register (OBIS C=1, D=8: ``1-b:1.8.0``, ``01-00:01.08.00.FF``, ``1-0:1.8.0*198``);
if there is none, the first energy register that has both a begin and an end is used (the SAFE
``98.8.0`` cable-loss example). A begin and end may sit in one record (KEBA) or in two (most
meters sign a Begin and an End record); records are paired in time order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from ocpikit.eichrecht.model import OcmfRecord, Reading
from ocpikit.eichrecht.result import EnergyCheck, Transaction

__all__ = ["DEFAULT_TOLERANCE_KWH", "check_energy", "find_transactions"]

#: default |signed − CDR| allowed, in kWh: 1 Wh, the usual resolution of Eichrecht meters
DEFAULT_TOLERANCE_KWH = Decimal("0.001")

_OBIS = re.compile(r":(\d+)\.(\d+)")


def _is_import_register(ri: str | None) -> bool:
    match = _OBIS.search(ri or "")
    return match is not None and int(match.group(1)) == 1 and int(match.group(2)) == 8


def _choose_register(events: list[tuple[int, int, Reading]]) -> str | None:
    registers: list[str | None] = []
    for _, _, reading in events:
        if reading.RI not in registers:
            registers.append(reading.RI)
    for ri in registers:
        if _is_import_register(ri):
            return ri
    for ri in registers:
        kinds = {r.tx for _, _, r in events if ri == r.RI}
        if {"B", "E"} <= kinds:
            return ri
    return registers[0] if registers else None


def find_transactions(
    records: Sequence[OcmfRecord],
) -> tuple[list[Transaction], list[str], list[str]]:
    """Pair begin and end readings. Returns (transactions, problems, notes).

    Problems make the data inconsistent (an end below its begin, a pair from different
    meters); notes are worth showing but prove nothing (an unpaired reading, a meter status
    other than G, error flags).
    """
    notes: list[str] = []
    events: list[tuple[int, int, Reading]] = []
    for i, record in enumerate(records):
        for j, reading in enumerate(record.payload.RD):
            if reading.ST not in (None, "G"):
                notes.append(f"record {i} RD[{j}]: meter status ST={reading.ST} (not G, good)")
            if reading.EF:
                notes.append(f"record {i} RD[{j}]: error flags EF={reading.EF}")
            if reading.tx in ("B", "E") and reading.kwh is not None:
                events.append((i, j, reading))
    register = _choose_register(events)
    chosen = [e for e in events if register == e[2].RI]

    def order(event: tuple[int, int, Reading]) -> tuple[float, int, int]:
        when: datetime | None = event[2].time
        return (when.timestamp() if when else float("-inf"), event[0], event[1])

    transactions: list[Transaction] = []
    problems: list[str] = []
    # A record holding both a begin and an end is a transaction of its own (KEBA); the rest
    # (separate Begin and End records) are paired in time order.
    paired: list[tuple[tuple[int, int, Reading], tuple[int, int, Reading]]] = []
    rest: list[tuple[int, int, Reading]] = []
    for i in range(len(records)):
        own = [e for e in chosen if e[0] == i]
        begins = [e for e in own if e[2].tx == "B"]
        ends = [e for e in own if e[2].tx == "E"]
        if len(begins) == 1 and len(ends) == 1:
            paired.append((begins[0], ends[0]))
        else:
            rest.extend(own)
    if all(e[2].time is not None for e in rest):
        rest.sort(key=order)
    open_begin: tuple[int, int, Reading] | None = None
    pending = list(paired)
    for event in rest:
        if event[2].tx == "B":
            if open_begin is not None:
                notes.append(f"record {open_begin[0]}: begin reading without an end reading")
            open_begin = event
            continue
        if open_begin is None:
            notes.append(f"record {event[0]}: end reading without a begin reading")
            continue
        pending.append((open_begin, event))
        open_begin = None
    if open_begin is not None:
        notes.append(f"record {open_begin[0]}: begin reading without an end reading")
    for first, last in pending:
        begin, end = first[2], last[2]
        transaction = Transaction(register, end.RU, begin, end)
        transactions.append(transaction)
        b_meter = records[first[0]].payload.MS
        e_meter = records[last[0]].payload.MS
        if b_meter and e_meter and b_meter != e_meter:
            problems.append(
                f"begin and end readings come from different meters ({b_meter}, {e_meter})"
            )
        if transaction.kwh < 0:
            problems.append(
                f"end reading {end.RV} {end.RU} is below begin reading {begin.RV} {begin.RU}"
                f" on register {register}"
            )
    return transactions, problems, notes


def check_energy(
    records: Sequence[OcmfRecord],
    cdr_kwh: Decimal | None = None,
    tolerance_kwh: Decimal = DEFAULT_TOLERANCE_KWH,
) -> EnergyCheck:
    """Signed energy of the records and, when ``cdr_kwh`` is given, whether it matches."""
    transactions, problems, notes = find_transactions(records)
    signed = sum((t.kwh for t in transactions), Decimal(0)) if transactions else None
    matches: bool | None = None
    if cdr_kwh is not None:
        if signed is None:
            notes.append("no begin/end reading pair: total_energy could not be checked")
        else:
            matches = abs(signed - cdr_kwh) <= tolerance_kwh
    return EnergyCheck(
        transactions=tuple(transactions),
        signed_kwh=signed,
        cdr_kwh=cdr_kwh,
        tolerance_kwh=tolerance_kwh if cdr_kwh is not None else None,
        matches=matches,
        problems=tuple(problems),
        notes=tuple(notes),
    )
