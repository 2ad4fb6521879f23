"""How an object is read and written on PostgreSQL inside a transaction of the thread pool:
SQLAlchemy statements, row locks (``FOR UPDATE``) so that concurrent transactions of several
processes serialise per object. The hot paths run on the event loop instead
(:mod:`.postgres_statements`); these take the writes those leave (outbox entries to queue,
an object moving to another owner).

The write keeps the invariants of :mod:`.object_rows`; SQLite's counterpart is
:mod:`.objects_sqlite`, and the same storage suite runs against both. ``chg`` is set by the
trigger of migration 0014.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa

from ocpikit.protocol.ports import ObjectKey, StoredObject
from ocpikit.protocol.push_patches import PushPatch
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.object_rows import (
    KEY_COLUMNS,
    OBJECT_COLUMNS,
    bump_count,
    bump_order,
    key_where,
    row_to_object,
)
from ocpikit.storage.sql.outbox import enqueue_pushes
from ocpikit.storage.sql.schema import object_wire, objects

__all__ = ["PostgresObjectStatements"]


class PostgresObjectStatements:
    """The object statements of PostgreSQL (see :class:`~.objects.ObjectStatements`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        raw: str,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str],
        *,
        push_patch: PushPatch | None = None,
    ) -> StoredObject:
        """Insert or replace the object (one upsert), then its bookkeeping and outbox entries."""
        db = self._db
        before = sa.select(objects.c.owner).where(*key_where(key)).with_for_update()
        old = conn.execute(before).one_or_none()
        ins = db.insert(objects).values(
            kind=key.kind,
            country_code=key.country_code,
            party_id=key.party_id,
            object_id=key.id,
            cc_key=key.norm[1],
            pid_key=key.norm[2],
            id_key=key.norm[3],
            owner=owner,
            last_updated=last_updated,
            revision=1,
            document=raw,
        )
        stmt = ins.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={
                "country_code": ins.excluded.country_code,
                "party_id": ins.excluded.party_id,
                "object_id": ins.excluded.object_id,
                "owner": ins.excluded.owner,
                "last_updated": ins.excluded.last_updated,
                "revision": objects.c.revision + 1,
                "document": ins.excluded.document,
            },
        ).returning(objects.c.seq, objects.c.revision)
        seq, revision = conn.execute(stmt).one()
        if revision == 1:
            bump_count(db, conn, key.kind, owner, 1)
        else:
            conn.execute(sa.delete(object_wire).where(object_wire.c.object_seq == seq))
            if old is not None and old.owner != owner:
                bump_count(db, conn, key.kind, old.owner, -1)
                bump_count(db, conn, key.kind, owner, 1)
                bump_order(db, conn, key.kind)
        enqueue_pushes(db, conn, push_to, key, raw, revision, push_patch)
        return StoredObject(
            key=key,
            owner=owner,
            raw=raw.encode(),
            last_updated=last_updated,
            seq=seq,
            revision=revision,
        )

    def current(self, conn: sa.Connection, key: ObjectKey) -> StoredObject | None:
        """The object, locked for the rest of the transaction (a read-merge-write)."""
        query = sa.select(*OBJECT_COLUMNS).where(*key_where(key)).with_for_update()
        row = conn.execute(query).one_or_none()
        return row_to_object(row) if row is not None else None

    def get(self, conn: sa.Connection, key: ObjectKey, version: str | None) -> StoredObject | None:
        """The object, with its cached ``version`` form of the current revision if any."""
        row = conn.execute(sa.select(*OBJECT_COLUMNS).where(*key_where(key))).one_or_none()
        if row is None:
            return None
        wire = None
        if version is not None:
            wire = conn.execute(
                sa.select(object_wire.c.body).where(
                    object_wire.c.object_seq == row.seq,
                    object_wire.c.version == version,
                    object_wire.c.revision == row.revision,
                )
            ).scalar_one_or_none()
        return row_to_object(row, wire)
