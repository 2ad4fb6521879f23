"""The statements a run of CDR checks makes on SQLite, as SQL text on the driver's cursor
(docs/cdrs.md "CDR checks in the platform", performance): claim a batch, read the checks of
the sessions it names, store the outcomes.

Why: a run makes these statements for every batch; built as SQLAlchemy constructs, a claim's
and a session read's IN lists of up to 200 values are compiled anew each time, and the outcomes
are bound row by row on the writer thread, where every stretch of Python waits for the busy
event loop's GIL.

Invariant: each function does what the construct of :mod:`.cdr_checks` it stands for does
(same rows, same order, same values written, datetimes as :class:`~.schema.UtcDateTime` stores
and reads them); the checks' tests run on both, and ``tests/storage/test_cdr_checks_sqlite.py``
compares each with its construct on the same database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ocpikit.protocol.cdr_checks import CdrCheck, CdrCheckState, Resolution, Verdict
from ocpikit.storage.sql.database import cursor
from ocpikit.storage.sql.schema import sqlite_time

__all__ = ["claim", "finish", "with_sessions"]

_PENDING = CdrCheckState.PENDING.value
_DONE = CdrCheckState.DONE.value

#: the columns of a check (those of ``cdr_checks._COLUMNS``, in that order)
_COLUMNS = (
    "c.object_seq, o.country_code, o.party_id, o.object_id, c.owner, c.revision, "
    "c.state, c.queued_at, c.checked_at, c.verdict, c.result, c.resolution, c.note, "
    "c.resolved_at"
)
_FROM = "FROM cdr_checks AS c JOIN ocpi_objects AS o ON o.seq = c.object_seq "
_SELECT = f"SELECT {_COLUMNS} {_FROM}"
#: a check is free when pending and not leased (or its lease ran out); parameter: now
_FREE = f"state = '{_PENDING}' AND (lease_until IS NULL OR lease_until < ?)"
_CLAIMABLE = (
    f"{_SELECT}WHERE c.state = '{_PENDING}' AND (c.lease_until IS NULL OR c.lease_until < ?) "
    "ORDER BY c.object_seq LIMIT ?"
)
#: the checks of one partner that read some sessions, with the session key (index on owner,
#: session_key); followed by the keys' parameter marks in brackets
_OF_SESSIONS = f"SELECT {_COLUMNS}, c.session_key {_FROM}WHERE c.owner = ? AND c.session_key IN "
#: session keys asked for in one statement (SQLite allows 999 parameters at the least)
_SESSIONS_AT_ONCE = 200
#: store one outcome; an unverifiable one whose tariff changed while it was checked goes back
#: to pending; parameters: unverifiable, now, session key, verdict, result, seq, revision
_FINISH = (
    "UPDATE cdr_checks SET state = CASE WHEN (? = 1 AND cdr_checks.tariff_changed = 1) "
    f"THEN '{_PENDING}' ELSE '{_DONE}' END, "
    "checked_at = ?, session_key = ?, verdict = ?, result = ?, lease_until = NULL, "
    "tariff_changed = 0 WHERE object_seq = ? AND revision = ?"
)


#: the enum members by their stored value (a dict lookup: an Enum call per row costs more)
_STATES = {s.value: s for s in CdrCheckState}


def _check(row: Sequence[Any]) -> CdrCheck:
    seq, cc, pid, oid, owner, revision, state, queued, checked, verdict, result = row[:11]
    resolution, note, resolved = row[11:14]
    return CdrCheck(
        seq,
        cc,
        pid,
        oid,
        owner,
        revision,
        _STATES.get(state) or CdrCheckState(state),
        datetime.fromisoformat(queued),
        None if checked is None else datetime.fromisoformat(checked),
        None if verdict is None else Verdict(verdict),
        None if result is None else orjson.loads(result),
        None if resolution is None else Resolution(resolution),
        note,
        None if resolved is None else datetime.fromisoformat(resolved),
    )


def claim(conn: sa.Connection, now: datetime, until: datetime, limit: int) -> list[CdrCheck]:
    """Lease up to ``limit`` free checks until ``until``, in creation order."""
    stamp = sqlite_time(now)
    cur = cursor(conn)
    try:
        rows = cur.execute(_CLAIMABLE, (stamp, limit)).fetchall()
        if not rows:
            return []
        seqs = [r[0] for r in rows]
        marks = ", ".join("?" * len(seqs))
        taken = cur.execute(
            f"UPDATE cdr_checks SET lease_until = ? "
            f"WHERE object_seq IN ({marks}) AND {_FREE} RETURNING object_seq",
            (sqlite_time(until), *seqs, stamp),
        ).fetchall()
    finally:
        cur.close()
    mine = {t[0] for t in taken}
    return [_check(r) for r in rows if r[0] in mine]


def with_sessions(
    conn: sa.Connection, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[CdrCheck]]:
    """The checks of each ``(owner, session key)`` in creation order (pairs without any are
    left out): one statement per owner and :data:`_SESSIONS_AT_ONCE` session keys."""
    keys_of: dict[str, list[str]] = {}
    for owner, key in pairs:
        keys_of.setdefault(owner, []).append(key)
    out: dict[tuple[str, str], list[CdrCheck]] = {}
    cur = cursor(conn)
    try:
        for owner, keys in keys_of.items():
            for at in range(0, len(keys), _SESSIONS_AT_ONCE):
                part = keys[at : at + _SESSIONS_AT_ONCE]
                marks = ", ".join("?" * len(part))
                rows = cur.execute(
                    f"{_OF_SESSIONS}({marks}) ORDER BY c.object_seq", (owner, *part)
                ).fetchall()
                for r in rows:
                    out.setdefault((owner, r[14]), []).append(_check(r))
    finally:
        cur.close()
    return out


def finish(
    conn: sa.Connection,
    now: datetime,
    rows: Sequence[tuple[bool, str | None, str, str, int, int]],
) -> list[bool]:
    """Store each outcome ``(unverifiable, session key, verdict, result JSON, seq, revision)``;
    whether each was stored (a CDR written again since it was claimed has another revision)."""
    stamp = sqlite_time(now)
    cur = cursor(conn)
    try:
        out = []
        for unverifiable, session_key, verdict, result, seq, revision in rows:
            cur.execute(
                _FINISH,
                (1 if unverifiable else 0, stamp, session_key, verdict, result, seq, revision),
            )
            out.append(cur.rowcount > 0)
        return out
    finally:
        cur.close()
