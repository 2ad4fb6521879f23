"""The ``cdr_builds`` table: :class:`~ocpikit.protocol.cdr_builds.CdrBuildStore` on SQL.

Rows are inserted by the trigger of the ``cdr_builds`` migration (in the transaction that
stores one of our Sessions as ``COMPLETED``); this module leases the queue and records how each
build ended. A claim is one write transaction whose conditional UPDATE re-checks the lease, so
two processes never hold the same build (PostgreSQL re-evaluates the WHERE of a row another
transaction changed; SQLite serialises writers).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from ocpikit.protocol.cdr_builds import BUILD_LEASE_SECONDS, CdrBuild, CdrBuildState
from ocpikit.storage.sql.schema import cdr_builds, objects

T = TypeVar("T")

__all__ = ["SqlCdrBuilds"]


class Database(Protocol):
    clock: Callable[[], datetime]

    async def read(self, fn: Callable[[sa.Connection], T], *, scan: bool = False) -> T: ...

    async def write(self, fn: Callable[[sa.Connection], T]) -> T: ...


_COLUMNS = (
    cdr_builds.c.session_seq,
    objects.c.country_code,
    objects.c.party_id,
    objects.c.object_id,
    cdr_builds.c.state,
    cdr_builds.c.queued_at,
    cdr_builds.c.built_at,
    cdr_builds.c.cdr_id,
    cdr_builds.c.error,
)
_JOINED = cdr_builds.join(objects, objects.c.seq == cdr_builds.c.session_seq)


def _build(row: Any) -> CdrBuild:
    return CdrBuild(
        seq=row.session_seq,
        country_code=row.country_code,
        party_id=row.party_id,
        session_id=row.object_id,
        state=CdrBuildState(row.state),
        queued_at=row.queued_at,
        built_at=row.built_at,
        cdr_id=row.cdr_id,
        error=row.error,
    )


class SqlCdrBuilds:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, *, limit: int = 50, lease: float = BUILD_LEASE_SECONDS) -> list[CdrBuild]:
        db = self._db

        def run(conn: sa.Connection) -> list[CdrBuild]:
            now = db.clock()
            free = sa.and_(
                cdr_builds.c.state == CdrBuildState.PENDING.value,
                sa.or_(cdr_builds.c.lease_until.is_(None), cdr_builds.c.lease_until < now),
            )
            rows = conn.execute(
                sa.select(*_COLUMNS)
                .select_from(_JOINED)
                .where(free)
                .order_by(cdr_builds.c.session_seq)
                .limit(limit)
            ).all()
            until = now + timedelta(seconds=lease)
            taken = []
            for row in rows:
                stmt = (
                    sa.update(cdr_builds)
                    .where(cdr_builds.c.session_seq == row.session_seq, free)
                    .values(lease_until=until)
                )
                if conn.execute(stmt).rowcount > 0:
                    taken.append(_build(row))
            return taken

        return await db.write(run)

    async def finish(
        self, seq: int, state: CdrBuildState, *, cdr_id: str | None, error: str | None
    ) -> bool:
        db = self._db

        def run(conn: sa.Connection) -> bool:
            stmt = (
                sa.update(cdr_builds)
                .where(
                    cdr_builds.c.session_seq == seq,
                    cdr_builds.c.state == CdrBuildState.PENDING.value,
                )
                .values(
                    state=state.value,
                    cdr_id=cdr_id,
                    error=error,
                    built_at=db.clock(),
                    lease_until=None,
                )
            )
            return conn.execute(stmt).rowcount > 0

        return await db.write(run)

    async def listing(
        self, *, states: Sequence[CdrBuildState] = (), limit: int = 1000
    ) -> list[CdrBuild]:
        query = sa.select(*_COLUMNS).select_from(_JOINED)
        if states:
            query = query.where(cdr_builds.c.state.in_([s.value for s in states]))
        query = query.order_by(cdr_builds.c.session_seq).limit(limit)
        return await self._db.read(lambda conn: [_build(r) for r in conn.execute(query)], scan=True)
