"""The durable push queue on SQL (docs/storage.md, "Outbox"; OCPI 2.2.1 transport §PUSH
model: a platform pushes object changes to its partners).

One row per ``(partner, object)``: enqueueing a newer change replaces the payload (coalescing
to the latest state). An entry in flight is never claimed twice (PostgreSQL: ``FOR UPDATE
SKIP LOCKED``), which keeps per-object order; ``complete``, ``retry_later`` and ``bury`` check
the lease owner, so a worker that stalled past its lease cannot overwrite the new owner's work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ocpikit.protocol.ports import (
    ObjectKey,
    OutboxDepth,
    OutboxEntry,
    OutboxOperation,
    OutboxState,
    dump_document,
)
from ocpikit.protocol.push_patches import Changes, PushPatch, coalesce
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.schema import outbox

__all__ = ["SqlOutbox", "enqueue", "enqueue_pushes"]


def enqueue(
    db: Database,
    conn: sa.Connection,
    partner_id: str,
    key: ObjectKey,
    operation: OutboxOperation,
    payload: str | None,
    revision: int,
    changes: str | None = None,
) -> None:
    """Queue ``operation`` of ``key`` for ``partner_id`` in the caller's transaction (the
    transactional outbox: an object write and its entries commit together); ``changes``: a
    ``PATCH`` entry's changed fields."""
    now = db.clock()
    ins = db.insert(outbox).values(
        partner_id=partner_id,
        kind=key.kind,
        country_code=key.country_code,
        party_id=key.party_id,
        object_id=key.id,
        cc_key=key.norm[1],
        pid_key=key.norm[2],
        id_key=key.norm[3],
        operation=operation.value,
        payload=payload,
        revision=revision,
        state=OutboxState.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
        changes=changes,
    )
    in_flight = outbox.c.state == OutboxState.IN_FLIGHT.value
    stmt = ins.on_conflict_do_update(
        index_elements=[
            outbox.c.partner_id,
            outbox.c.kind,
            outbox.c.cc_key,
            outbox.c.pid_key,
            outbox.c.id_key,
        ],
        set_={
            "country_code": ins.excluded.country_code,
            "party_id": ins.excluded.party_id,
            "object_id": ins.excluded.object_id,
            "operation": ins.excluded.operation,
            "payload": ins.excluded.payload,
            "changes": ins.excluded.changes,
            "revision": ins.excluded.revision,
            # an entry in flight stays leased; complete() sends the newer revision after it
            "state": sa.case((in_flight, outbox.c.state), else_=OutboxState.PENDING.value),
            "attempts": sa.case((in_flight, outbox.c.attempts), else_=0),
            "next_attempt_at": sa.case(
                (in_flight, outbox.c.next_attempt_at), else_=ins.excluded.next_attempt_at
            ),
            "dead_reason": sa.case((in_flight, outbox.c.dead_reason), else_=sa.null()),
            "updated_at": ins.excluded.updated_at,
        },
    )
    conn.execute(stmt)


def enqueue_pushes(
    db: Database,
    conn: sa.Connection,
    push_to: Sequence[str],
    key: ObjectKey,
    raw: str,
    revision: int,
    push_patch: PushPatch | None = None,
) -> None:
    """Queue the write of ``key`` (full state ``raw``) for every partner of ``push_to``: a
    PUT, or for the partners of ``push_patch`` a PATCH whose changes are coalesced with the
    entry already queued (:func:`~ocpikit.protocol.push_patches.coalesce`). The object's row
    is locked by its write, so no other write of the object changes that entry meanwhile, and
    on PostgreSQL the entry is locked from its read to its write, so no worker claims it in
    between (SQLite has one writer at a time)."""
    for partner_id in push_to:
        if push_patch is None or partner_id not in push_patch.partners:
            enqueue(db, conn, partner_id, key, OutboxOperation.PUT, raw, revision)
            continue
        query = sa.select(outbox.c.operation, outbox.c.changes, outbox.c.state).where(
            outbox.c.partner_id == partner_id,
            outbox.c.kind == key.kind,
            outbox.c.cc_key == key.norm[1],
            outbox.c.pid_key == key.norm[2],
            outbox.c.id_key == key.norm[3],
        )
        if db.dialect == "postgresql":
            # a worker's claim (SKIP LOCKED) must not take the entry between this read and the
            # write below: appended items decided as "not in flight" would then be sent twice
            query = query.with_for_update()
        row = conn.execute(query).one_or_none()
        merged = coalesce(
            row.operation if row is not None else None,
            Changes.loads(row.changes) if row is not None and row.changes else None,
            row is not None and row.state == OutboxState.IN_FLIGHT.value,
            push_patch.changes,
        )
        if merged is None:
            enqueue(db, conn, partner_id, key, OutboxOperation.PUT, raw, revision)
        else:
            operation = OutboxOperation.PATCH
            enqueue(db, conn, partner_id, key, operation, raw, revision, merged.dumps().decode())


def _row_to_entry(row: sa.Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        partner_id=row.partner_id,
        key=ObjectKey(row.kind, row.country_code, row.party_id, row.object_id),
        operation=OutboxOperation(row.operation),
        payload=row.payload.encode() if row.payload is not None else None,
        revision=row.revision,
        state=OutboxState(row.state),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        lease_owner=row.lease_owner,
        lease_until=row.lease_until,
        last_error=row.last_error,
        dead_reason=row.dead_reason,
        changes=row.changes.encode() if row.changes is not None else None,
    )


# the columns a claim returns, in the order _claimed_entry reads them (by position: reading
# an ``sa.Row`` by name costs more than building the entry)
_CLAIMED = (
    outbox.c.id,
    outbox.c.partner_id,
    outbox.c.kind,
    outbox.c.country_code,
    outbox.c.party_id,
    outbox.c.object_id,
    outbox.c.operation,
    outbox.c.payload,
    outbox.c.revision,
    outbox.c.state,
    outbox.c.attempts,
    outbox.c.next_attempt_at,
    outbox.c.created_at,
    outbox.c.updated_at,
    outbox.c.lease_owner,
    outbox.c.lease_until,
    outbox.c.last_error,
    outbox.c.dead_reason,
    outbox.c.changes,
)
_OPERATIONS = {o.value: o for o in OutboxOperation}
_STATES = {s.value: s for s in OutboxState}


def _claimed_entry(row: Any) -> OutboxEntry:
    """An entry from a row of ``_CLAIMED``."""
    (
        id_,
        partner_id,
        kind,
        country_code,
        party_id,
        object_id,
        operation,
        payload,
        revision,
        state,
        attempts,
        next_attempt_at,
        created_at,
        updated_at,
        lease_owner,
        lease_until,
        last_error,
        dead_reason,
        changes,
    ) = row
    return OutboxEntry(
        id_,
        partner_id,
        ObjectKey(kind, country_code, party_id, object_id),
        _OPERATIONS[operation],
        payload.encode() if payload is not None else None,
        revision,
        _STATES[state],
        attempts,
        next_attempt_at,
        created_at,
        updated_at,
        lease_owner,
        lease_until,
        last_error,
        dead_reason,
        changes.encode() if changes is not None else None,
    )


_ACK_CHUNK = 500  # entries per statement (two bound parameters each)
_ACK_LEASED = sa.and_(
    outbox.c.state == OutboxState.IN_FLIGHT.value,
    outbox.c.lease_owner == sa.bindparam("owner"),
)
_ACK_DELETE = (
    sa.delete(outbox)
    .where(
        _ACK_LEASED,
        sa.tuple_(outbox.c.id, outbox.c.revision).in_(sa.bindparam("pairs", expanding=True)),
    )
    .returning(outbox.c.id)
)
_ACK_REQUEUE = (
    sa.update(outbox)
    .where(_ACK_LEASED, outbox.c.id.in_(sa.bindparam("ids", expanding=True)))
    .values(
        state=OutboxState.PENDING.value,
        attempts=0,
        next_attempt_at=sa.bindparam("now"),
        lease_owner=None,
        lease_until=None,
        last_error=None,
        updated_at=sa.bindparam("now"),
    )
    .returning(outbox.c.id)
)


class SqlOutbox:
    """The push queue (:class:`~ocpikit.protocol.ports.Outbox`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def enqueue(
        self,
        partner_id: str,
        key: ObjectKey,
        operation: OutboxOperation,
        payload: Mapping[str, Any] | bytes | str | None,
        *,
        revision: int = 0,
    ) -> None:
        text = dump_document(payload).decode() if payload is not None else None
        await self._db.write(
            lambda conn: enqueue(self._db, conn, partner_id, key, operation, text, revision)
        )

    async def claim(
        self,
        worker: str,
        *,
        limit: int,
        lease: timedelta,
        skip_partners: Iterable[str] = (),
    ) -> list[OutboxEntry]:
        db = self._db
        skip = sorted(set(skip_partners))

        def run(conn: sa.Connection) -> list[OutboxEntry]:
            now = db.clock()
            claimed: list[OutboxEntry] = []
            # pending and due first (index order), then expired leases of crashed workers
            for due in (
                sa.and_(
                    outbox.c.state == OutboxState.PENDING.value,
                    outbox.c.next_attempt_at <= now,
                ),
                sa.and_(
                    outbox.c.state == OutboxState.IN_FLIGHT.value,
                    outbox.c.lease_until < now,
                ),
            ):
                want = limit - len(claimed)
                if want <= 0:
                    break
                ids = (
                    sa.select(outbox.c.id)
                    .where(due)
                    .order_by(outbox.c.next_attempt_at, outbox.c.id)
                    .limit(want)
                )
                if skip:  # paused partners: not claimed, so no attempt is counted
                    ids = ids.where(outbox.c.partner_id.not_in(skip))
                if db.dialect == "postgresql":
                    ids = ids.with_for_update(skip_locked=True)
                stmt = (
                    sa.update(outbox)
                    .where(outbox.c.id.in_(ids.scalar_subquery()))
                    .values(
                        state=OutboxState.IN_FLIGHT.value,
                        lease_owner=worker,
                        lease_until=now + lease,
                        attempts=outbox.c.attempts + 1,
                        updated_at=now,
                    )
                    .returning(*_CLAIMED)
                )
                claimed.extend(map(_claimed_entry, conn.execute(stmt)))
            claimed.sort(key=lambda e: (e.next_attempt_at, e.id))
            return claimed

        return await db.write(run)

    @staticmethod
    def _leased(entry: OutboxEntry) -> list[sa.ColumnElement[bool]]:
        return [
            outbox.c.id == entry.id,
            outbox.c.state == OutboxState.IN_FLIGHT.value,
            outbox.c.lease_owner == entry.lease_owner,
        ]

    async def complete(self, entry: OutboxEntry) -> bool:
        db = self._db

        def run(conn: sa.Connection) -> bool:
            done = conn.execute(
                sa.delete(outbox).where(*self._leased(entry), outbox.c.revision == entry.revision)
            )
            if done.rowcount > 0:
                return True
            now = db.clock()
            again = conn.execute(
                sa.update(outbox)
                .where(*self._leased(entry))
                .values(
                    state=OutboxState.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    lease_owner=None,
                    lease_until=None,
                    last_error=None,
                    updated_at=now,
                )
            )
            return again.rowcount > 0

        return await db.write(run)

    async def complete_many(self, entries: Sequence[OutboxEntry]) -> list[bool]:
        """One transaction for all: per lease owner and chunk, one DELETE of the entries whose
        revision is unchanged, and one UPDATE back to pending of those a newer revision
        coalesced into meanwhile (rare)."""
        db = self._db
        if not entries:
            return []

        def run(conn: sa.Connection) -> list[bool]:
            now = db.clock()
            ok: set[int] = set()
            owners: dict[str | None, list[OutboxEntry]] = {}
            for e in entries:
                owners.setdefault(e.lease_owner, []).append(e)
            for owner, mine in owners.items():
                for i in range(0, len(mine), _ACK_CHUNK):
                    chunk = mine[i : i + _ACK_CHUNK]
                    deleted = conn.execute(
                        _ACK_DELETE,
                        {"owner": owner, "pairs": [(e.id, e.revision) for e in chunk]},
                    )
                    gone = set(deleted.scalars())
                    ok |= gone
                    rest = [e.id for e in chunk if e.id not in gone]
                    if rest:
                        again = conn.execute(
                            _ACK_REQUEUE, {"owner": owner, "ids": rest, "now": now}
                        )
                        ok.update(again.scalars())
            return [e.id in ok for e in entries]

        return await db.write(run)

    async def retry_later(
        self, entry: OutboxEntry, *, at: datetime, error: str, attempted: bool = True
    ) -> bool:
        def run(conn: sa.Connection) -> bool:
            stmt = (
                sa.update(outbox)
                .where(*self._leased(entry))
                .values(
                    attempts=outbox.c.attempts if attempted else outbox.c.attempts - 1,
                    state=OutboxState.PENDING.value,
                    next_attempt_at=at,
                    lease_owner=None,
                    lease_until=None,
                    last_error=error,
                    updated_at=self._db.clock(),
                )
            )
            return conn.execute(stmt).rowcount > 0

        return await self._db.write(run)

    async def bury(self, entry: OutboxEntry, *, reason: str) -> bool:
        def run(conn: sa.Connection) -> bool:
            stmt = (
                sa.update(outbox)
                .where(*self._leased(entry))
                .values(
                    state=OutboxState.DEAD.value,
                    lease_owner=None,
                    lease_until=None,
                    dead_reason=reason,
                    updated_at=self._db.clock(),
                )
            )
            return conn.execute(stmt).rowcount > 0

        return await self._db.write(run)

    async def replay(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        where = [outbox.c.state == OutboxState.DEAD.value]
        if entry_id is not None:
            where.append(outbox.c.id == entry_id)
        if partner_id is not None:
            where.append(outbox.c.partner_id == partner_id)

        def run(conn: sa.Connection) -> int:
            now = self._db.clock()
            stmt = (
                sa.update(outbox)
                .where(*where)
                .values(
                    state=OutboxState.PENDING.value,
                    attempts=0,
                    next_attempt_at=now,
                    dead_reason=None,
                    updated_at=now,
                )
            )
            return conn.execute(stmt).rowcount

        return await self._db.write(run)

    async def drop(self, *, entry_id: int | None = None, partner_id: str | None = None) -> int:
        where = [outbox.c.state == OutboxState.DEAD.value]
        if entry_id is not None:
            where.append(outbox.c.id == entry_id)
        if partner_id is not None:
            where.append(outbox.c.partner_id == partner_id)

        def run(conn: sa.Connection) -> int:
            return conn.execute(sa.delete(outbox).where(*where)).rowcount

        return await self._db.write(run)

    async def entries(
        self,
        *,
        state: OutboxState | None = None,
        partner_id: str | None = None,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[OutboxEntry]:
        query = sa.select(outbox).where(outbox.c.id > after_id).order_by(outbox.c.id).limit(limit)
        if state is not None:
            query = query.where(outbox.c.state == state.value)
        if partner_id is not None:
            query = query.where(outbox.c.partner_id == partner_id)
        return await self._db.read(lambda conn: [_row_to_entry(r) for r in conn.execute(query)])

    async def depths(self) -> list[OutboxDepth]:
        c = outbox.c
        query = (
            sa.select(c.partner_id, c.state, sa.func.count(), sa.func.min(c.created_at))
            .group_by(c.partner_id, c.state)
            .order_by(c.partner_id, c.state)
        )

        def run(conn: sa.Connection) -> list[OutboxDepth]:
            return [
                OutboxDepth(partner, OutboxState(state), n, oldest)
                for partner, state, n, oldest in conn.execute(query)
            ]

        return await self._db.read(run)

    async def counts(self) -> dict[OutboxState, int]:
        query = sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)

        def run(conn: sa.Connection) -> dict[OutboxState, int]:
            counts = dict.fromkeys(OutboxState, 0)
            for state, n in conn.execute(query):
                counts[OutboxState(state)] = n
            return counts

        return await self._db.read(run)
