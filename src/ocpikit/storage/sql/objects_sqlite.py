"""How an object is read and written on SQLite: each statement a complete SQL text, run on
the driver's cursor inside the transaction (no SQLAlchemy construct built and cache-keyed per
call: on the writer thread every stretch of Python waits for the busy event loop's GIL).

The write keeps the invariants of :mod:`.object_rows`, and one more for the listing cache
(:mod:`.listing_cache`): every write sets ``chg`` to one more than its kind's highest (an
index seek on ``(kind, chg)``; writers are serialized), so ``max(chg)`` of a kind moves with
every creation and update. A write leaves an update's stale wire forms in place: every read
matches their revision, and the next ``store_wire`` of that version replaces them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ocpikit.protocol.ports import ObjectKey, StoredObject
from ocpikit.protocol.push_patches import PushPatch
from ocpikit.storage.sql.database import Database, cursor
from ocpikit.storage.sql.outbox import enqueue_pushes
from ocpikit.storage.sql.schema import sqlite_time

__all__ = [
    "SQLITE_COUNT_ADD",
    "SqliteObjectStatements",
    "object_values",
]

#: creates the object or replaces it (whatever its owner), returning ``seq, revision``;
#: parameters: :func:`object_values`
SQLITE_UPSERT = (
    "INSERT INTO ocpi_objects (kind, country_code, party_id, object_id, cc_key, pid_key, "
    "id_key, owner, last_updated, revision, document, chg) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, "
    "(SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects WHERE kind = ?)) "
    "ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
    "country_code = excluded.country_code, party_id = excluded.party_id, "
    "object_id = excluded.object_id, owner = excluded.owner, "
    "last_updated = excluded.last_updated, revision = ocpi_objects.revision + 1, "
    "document = excluded.document, chg = excluded.chg "
    "RETURNING seq, revision"
)
#: :data:`SQLITE_UPSERT` that leaves an object of another owner alone (and returns no row)
SQLITE_UPSERT_SAME_OWNER = (
    "INSERT INTO ocpi_objects (kind, country_code, party_id, object_id, cc_key, pid_key, "
    "id_key, owner, last_updated, revision, document, chg) VALUES "
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, "
    "(SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects WHERE kind = ?)) "
    "ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
    "country_code = excluded.country_code, party_id = excluded.party_id, "
    "object_id = excluded.object_id, owner = excluded.owner, "
    "last_updated = excluded.last_updated, revision = ocpi_objects.revision + 1, "
    "document = excluded.document, chg = excluded.chg "
    "WHERE ocpi_objects.owner IS excluded.owner "
    "RETURNING seq, revision"
)
#: the owner of an object, by its normalised key
SQLITE_OWNER_OF = (
    "SELECT owner FROM ocpi_objects WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ?"
)
#: adds to the count of ``(kind, owner_key)``
SQLITE_COUNT_ADD = (
    "INSERT INTO ocpi_object_counts (kind, owner_key, n) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, owner_key) DO UPDATE SET n = ocpi_object_counts.n + excluded.n"
)
#: bumps the creation-order epoch of a kind
SQLITE_ORDER_BUMP = (
    "INSERT INTO ocpi_object_order (kind, epoch) VALUES (?, 1) "
    "ON CONFLICT (kind) DO UPDATE SET epoch = ocpi_object_order.epoch + 1"
)
#: an object by its normalised key, the document as bytes
SQLITE_GET = (
    "SELECT seq, kind, country_code, party_id, object_id, owner, last_updated, revision, "
    "CAST(document AS BLOB) FROM ocpi_objects "
    "WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ?"
)
#: how many ids one read of :meth:`SqliteObjectStatements.get_many` asks for (a shorter list
#: is padded to the next size: a few statement texts, each prepared once per connection)
_IDS_SIZES = (1, 4, 16, 64, 200)
#: the objects of one kind and party among some ids, per size of the id list
_SQLITE_GET_IDS = {
    n: SQLITE_GET.replace(" AND id_key = ?", f" AND id_key IN ({', '.join('?' * n)})")
    for n in _IDS_SIZES
}
#: an object's cached form of a version, if it is of the given revision
SQLITE_GET_WIRE = (
    "SELECT body FROM ocpi_object_wire WHERE object_seq = ? AND version = ? AND revision = ?"
)
#: :data:`SQLITE_GET` and :data:`SQLITE_GET_WIRE` in one statement (one snapshot, so it needs
#: no transaction): the object and its cached form of a version at its current revision
SQLITE_GET_WITH_WIRE = (
    "SELECT o.seq, o.kind, o.country_code, o.party_id, o.object_id, o.owner, o.last_updated, "
    "o.revision, CAST(o.document AS BLOB), w.body FROM ocpi_objects o "
    "LEFT JOIN ocpi_object_wire w "
    "ON w.object_seq = o.seq AND w.version = ? AND w.revision = o.revision "
    "WHERE o.kind = ? AND o.cc_key = ? AND o.pid_key = ? AND o.id_key = ?"
)


def object_values(
    key: ObjectKey, raw: str, last_updated: datetime, owner: str | None
) -> tuple[Any, ...]:
    """The parameters of :data:`SQLITE_UPSERT` for one object."""
    _kind, cc, pid, oid = key.norm
    return (
        key.kind,
        key.country_code,
        key.party_id,
        key.id,
        cc,
        pid,
        oid,
        owner,
        sqlite_time(last_updated),
        raw,
        key.kind,
    )


def _stored(row: Sequence[Any], wire: bytes | None = None) -> StoredObject:
    """A row of :data:`SQLITE_GET` (with ``wire``, its cached form of a version) as a stored
    object."""
    seq, kind, cc, pid, oid, owner, stamp, revision, raw = row
    return StoredObject(
        key=ObjectKey(kind, cc, pid, oid),
        owner=owner,
        raw=raw,
        last_updated=datetime.fromisoformat(stamp),
        seq=seq,
        revision=revision,
        wire=wire,
    )


class SqliteObjectStatements:
    """The object statements of SQLite (see :class:`~.objects.ObjectStatements`)."""

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
        values: tuple[Any, ...] | None = None,
        *,
        push_patch: PushPatch | None = None,
    ) -> StoredObject:
        """Insert or replace the object. ``values``: the upsert's parameters when the caller
        has them (:func:`object_values`, built off the writer thread)."""
        if values is None:
            values = object_values(key, raw, last_updated, owner)
        cur = cursor(conn)
        try:
            # one statement for a creation or an update under the same owner
            row = cur.execute(SQLITE_UPSERT_SAME_OWNER, values).fetchone()
            if row is not None:
                seq, revision = row
                if revision == 1:
                    cur.execute(SQLITE_COUNT_ADD, (key.kind, owner or "", 1))
            else:  # the object exists under another owner: it moves to ``owner``
                (old,) = cur.execute(SQLITE_OWNER_OF, key.norm).fetchone()
                seq, revision = cur.execute(SQLITE_UPSERT, values).fetchone()
                cur.execute(SQLITE_COUNT_ADD, (key.kind, old or "", -1))
                cur.execute(SQLITE_COUNT_ADD, (key.kind, owner or "", 1))
                cur.execute(SQLITE_ORDER_BUMP, (key.kind,))
        finally:
            cur.close()
        enqueue_pushes(self._db, conn, push_to, key, raw, revision, push_patch)
        return StoredObject(
            key=key,
            owner=owner,
            raw=raw.encode(),
            last_updated=last_updated,
            seq=seq,
            revision=revision,
        )

    def current(self, conn: sa.Connection, key: ObjectKey) -> StoredObject | None:
        """The object (the writer's transaction holds the database lock already)."""
        return self.get(conn, key, None)

    def get_many(
        self, conn: sa.Connection, keys: Sequence[ObjectKey]
    ) -> dict[ObjectKey, StoredObject]:
        """The objects of ``keys`` that exist, each read as :meth:`get` reads it: the keys of
        one kind and party in one statement per :data:`_IDS_SIZES` ids (index seeks on
        ``(kind, cc_key, pid_key, id_key)``; a row-value IN list would scan the table)."""
        groups: dict[tuple[str, str, str], list[str]] = {}
        for key in keys:
            kind, cc, pid, oid = key.norm
            groups.setdefault((kind, cc, pid), []).append(oid)
        found: dict[ObjectKey, StoredObject] = {}
        cur = cursor(conn)
        try:
            for party, ids in groups.items():
                for at in range(0, len(ids), _IDS_SIZES[-1]):
                    chunk = ids[at : at + _IDS_SIZES[-1]]
                    size = next(n for n in _IDS_SIZES if n >= len(chunk))
                    padded = chunk + chunk[-1:] * (size - len(chunk))  # IN is a set test
                    for row in cur.execute(_SQLITE_GET_IDS[size], (*party, *padded)):
                        obj = _stored(row)
                        found[obj.key] = obj
        finally:
            cur.close()
        return found

    def get(self, conn: sa.Connection, key: ObjectKey, version: str | None) -> StoredObject | None:
        """The object, with its cached ``version`` form of the current revision if any."""
        cur = cursor(conn)
        try:
            row = cur.execute(SQLITE_GET, key.norm).fetchone()
            if row is None:
                return None
            wire = None
            if version is not None:
                seq, revision = row[0], row[7]
                hit = cur.execute(SQLITE_GET_WIRE, (seq, version, revision)).fetchone()
                wire = hit[0] if hit is not None else None
        finally:
            cur.close()
        return _stored(row, wire)

    @staticmethod
    def get_alone(cur: Any, key: ObjectKey, version: str) -> tuple[StoredObject | None]:
        """:meth:`get` in one statement on a driver cursor outside any transaction (each
        statement reads its own snapshot: ``Database.read_quick``); the answer is wrapped, as
        ``read_quick`` gives None when it cannot run."""
        row = cur.execute(SQLITE_GET_WITH_WIRE, (version, *key.norm)).fetchone()
        return (_stored(row[:9], row[9]) if row is not None else None,)
