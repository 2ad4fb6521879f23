"""The ``cdr_checks`` table: :class:`~ocpikit.protocol.cdr_checks.CdrCheckStore` on SQL.

Rows are inserted by the trigger of migration 0009 (in the transaction that stores a partner's
CDR); this module reads the queue and writes outcomes and resolutions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import orjson
import sqlalchemy as sa

from ocpikit.core.types import ci_key
from ocpikit.protocol.cdr_checks import (
    CHECK_LEASE_SECONDS,
    CdrCheck,
    CdrCheckState,
    CheckOutcome,
    Resolution,
    Verdict,
)
from ocpikit.storage.sql import cdr_checks_sqlite as sqlite_statements
from ocpikit.storage.sql.schema import cdr_checks, objects

T = TypeVar("T")

__all__ = ["SqlCdrChecks"]


class Database(Protocol):
    clock: Callable[[], datetime]
    dialect: str

    async def read(self, fn: Callable[[sa.Connection], T], *, scan: bool = False) -> T: ...

    async def write(self, fn: Callable[[sa.Connection], T]) -> T: ...


_COLUMNS = (
    cdr_checks.c.object_seq,
    objects.c.country_code,
    objects.c.party_id,
    objects.c.object_id,
    cdr_checks.c.owner,
    cdr_checks.c.revision,
    cdr_checks.c.state,
    cdr_checks.c.queued_at,
    cdr_checks.c.checked_at,
    cdr_checks.c.verdict,
    cdr_checks.c.result,
    cdr_checks.c.resolution,
    cdr_checks.c.note,
    cdr_checks.c.resolved_at,
)
_JOINED = cdr_checks.join(objects, objects.c.seq == cdr_checks.c.object_seq)


#: the checks of one partner that read one session (built once: a check runs it per CDR)
_WITH_SESSION = (
    sa.select(*_COLUMNS)
    .select_from(_JOINED)
    .where(
        cdr_checks.c.owner == sa.bindparam("owner"),
        cdr_checks.c.session_key == sa.bindparam("session_key"),
        cdr_checks.c.object_seq < sa.bindparam("before_seq"),
    )
    .order_by(cdr_checks.c.object_seq)
)


#: store one outcome (parameters ``b_*``); an unverifiable one whose tariff changed while it
#: was checked goes back to pending (a tariff arrived: check it again)
_FINISH = (
    sa.update(cdr_checks)
    .where(
        cdr_checks.c.object_seq == sa.bindparam("b_seq"),
        cdr_checks.c.revision == sa.bindparam("b_revision"),
    )
    .values(
        state=sa.case(
            (
                sa.and_(
                    sa.bindparam("b_unverifiable", type_=sa.Boolean()), cdr_checks.c.tariff_changed
                ),
                CdrCheckState.PENDING.value,
            ),
            else_=CdrCheckState.DONE.value,
        ),
        tariff_changed=False,
        verdict=sa.bindparam("b_verdict"),
        result=sa.bindparam("b_result"),
        session_key=sa.bindparam("b_session_key"),
        lease_until=None,
        checked_at=sa.bindparam("b_now"),
    )
)


def _check(row: Any) -> CdrCheck:
    return CdrCheck(
        seq=row.object_seq,
        country_code=row.country_code,
        party_id=row.party_id,
        cdr_id=row.object_id,
        owner=row.owner,
        revision=row.revision,
        state=CdrCheckState(row.state),
        queued_at=row.queued_at,
        checked_at=row.checked_at,
        verdict=None if row.verdict is None else Verdict(row.verdict),
        result=None if row.result is None else orjson.loads(row.result),
        resolution=None if row.resolution is None else Resolution(row.resolution),
        note=row.note,
        resolved_at=row.resolved_at,
    )


class SqlCdrChecks:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self, *, limit: int = 100) -> list[CdrCheck]:
        query = (
            sa.select(*_COLUMNS)
            .select_from(_JOINED)
            .where(cdr_checks.c.state == CdrCheckState.PENDING.value)
            .order_by(cdr_checks.c.object_seq)
            .limit(limit)
        )
        return await self._db.read(lambda conn: [_check(r) for r in conn.execute(query)])

    async def claim(
        self, *, limit: int = 100, lease: float = CHECK_LEASE_SECONDS
    ) -> list[CdrCheck]:
        db = self._db
        if db.dialect == "sqlite":

            def run_sqlite(conn: sa.Connection) -> list[CdrCheck]:
                now = db.clock()
                return sqlite_statements.claim(conn, now, now + timedelta(seconds=lease), limit)

            return await db.write(run_sqlite)

        def run(conn: sa.Connection) -> list[CdrCheck]:
            now = db.clock()
            free = sa.and_(
                cdr_checks.c.state == CdrCheckState.PENDING.value,
                sa.or_(cdr_checks.c.lease_until.is_(None), cdr_checks.c.lease_until < now),
            )
            rows = conn.execute(
                sa.select(*_COLUMNS)
                .select_from(_JOINED)
                .where(free)
                .order_by(cdr_checks.c.object_seq)
                .limit(limit)
            ).all()
            if not rows:
                return []
            until = now + timedelta(seconds=lease)
            taken = conn.execute(
                sa.update(cdr_checks)
                .where(cdr_checks.c.object_seq.in_([r.object_seq for r in rows]), free)
                .values(lease_until=until)
                .returning(cdr_checks.c.object_seq)
            ).scalars()
            mine = set(taken)
            return [_check(r) for r in rows if r.object_seq in mine]

        return await db.write(run)

    async def requeue(self, seqs: Sequence[int]) -> int:
        if not seqs:
            return 0
        stmt = (
            sa.update(cdr_checks)
            .where(
                cdr_checks.c.object_seq.in_(list(seqs)),
                cdr_checks.c.state == CdrCheckState.DONE.value,
            )
            .values(state=CdrCheckState.PENDING.value, lease_until=None)
        )
        return await self._db.write(lambda conn: conn.execute(stmt).rowcount)

    async def finish(self, check: CdrCheck, outcome: CheckOutcome) -> bool:
        (done,) = await self.finish_many([(check, outcome)])
        return done

    async def finish_many(self, items: Sequence[tuple[CdrCheck, CheckOutcome]]) -> list[bool]:
        db = self._db
        # (unverifiable, session key, verdict, result JSON, seq, revision) of each outcome
        rows = [
            (
                outcome.verdict is Verdict.UNVERIFIABLE,
                None if outcome.session_id is None else ci_key(outcome.session_id),
                outcome.verdict.value,
                outcome.json_bytes().decode(),
                check.seq,
                check.revision,
            )
            for check, outcome in items
        ]
        if db.dialect == "sqlite":
            return await db.write(lambda conn: sqlite_statements.finish(conn, db.clock(), rows))
        params = [
            {
                "b_unverifiable": unverifiable,
                "b_session_key": session_key,
                "b_verdict": verdict,
                "b_result": result,
                "b_seq": seq,
                "b_revision": revision,
            }
            for unverifiable, session_key, verdict, result, seq, revision in rows
        ]

        def run(conn: sa.Connection) -> list[bool]:
            now = db.clock()
            # one statement, executed per row: a rowcount each (a CDR written again since it
            # was claimed has another revision and is left pending)
            return [conn.execute(_FINISH, {**p, "b_now": now}).rowcount > 0 for p in params]

        return await db.write(run)

    async def first_with_session(
        self, owner: str, session_id: str, *, before_seq: int
    ) -> CdrCheck | None:
        query = (
            sa.select(*_COLUMNS)
            .select_from(_JOINED)
            .where(
                cdr_checks.c.owner == owner,
                cdr_checks.c.session_key == ci_key(session_id),
                cdr_checks.c.object_seq < before_seq,
            )
            .order_by(cdr_checks.c.object_seq)
            .limit(1)
        )

        def run(conn: sa.Connection) -> CdrCheck | None:
            row = conn.execute(query).first()
            return None if row is None else _check(row)

        return await self._db.read(run)

    async def with_session(self, owner: str, session_id: str, *, before_seq: int) -> list[CdrCheck]:
        params = {"owner": owner, "session_key": ci_key(session_id), "before_seq": before_seq}
        return await self._db.read(
            lambda conn: [_check(r) for r in conn.execute(_WITH_SESSION, params)]
        )

    async def with_sessions(
        self, wanted: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[CdrCheck]]:
        pairs = sorted({(owner, ci_key(sid)) for owner, sid in wanted})
        if not pairs:
            return {}
        if self._db.dialect == "sqlite":
            return await self._db.read(lambda conn: sqlite_statements.with_sessions(conn, pairs))
        pair_of = sa.tuple_(cdr_checks.c.owner, cdr_checks.c.session_key)

        def run(conn: sa.Connection) -> dict[tuple[str, str], list[CdrCheck]]:
            out: dict[tuple[str, str], list[CdrCheck]] = {}
            for at in range(0, len(pairs), 200):
                query = (
                    sa.select(*_COLUMNS, cdr_checks.c.session_key)
                    .select_from(_JOINED)
                    .where(pair_of.in_(pairs[at : at + 200]))
                    .order_by(cdr_checks.c.object_seq)
                )
                for r in conn.execute(query):
                    out.setdefault((r.owner, r.session_key), []).append(_check(r))
            return out

        return await self._db.read(run)

    async def listing(
        self,
        *,
        verdicts: Sequence[Verdict] = (),
        partner: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[CdrCheck]:
        query = sa.select(*_COLUMNS).select_from(_JOINED)
        if verdicts:
            query = query.where(cdr_checks.c.verdict.in_([v.value for v in verdicts]))
        if partner is not None:
            query = query.where(cdr_checks.c.owner == partner)
        if since is not None:
            query = query.where(cdr_checks.c.checked_at >= since)
        query = query.order_by(cdr_checks.c.object_seq).limit(limit)
        return await self._db.read(lambda conn: [_check(r) for r in conn.execute(query)], scan=True)

    async def find(self, cdr_id: str) -> list[CdrCheck]:
        query = (
            sa.select(*_COLUMNS)
            .select_from(_JOINED)
            .where(objects.c.kind == "CDR", objects.c.id_key == ci_key(cdr_id))
            .order_by(cdr_checks.c.object_seq)
        )
        return await self._db.read(lambda conn: [_check(r) for r in conn.execute(query)])

    async def resolve(self, seq: int, resolution: Resolution, note: str | None) -> bool:
        db = self._db

        def run(conn: sa.Connection) -> bool:
            stmt = (
                sa.update(cdr_checks)
                .where(cdr_checks.c.object_seq == seq)
                .values(resolution=resolution.value, note=note, resolved_at=db.clock())
            )
            return conn.execute(stmt).rowcount > 0

        return await db.write(run)
