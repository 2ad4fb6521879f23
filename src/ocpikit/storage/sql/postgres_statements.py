"""PostgreSQL's hot object statements, as complete SQL texts on the event loop's connections
(:mod:`.pg_pool`): ``put``, the two kinds of ``patch``, ``get`` and ``store_wire``.

Plan: each is one round trip where it can be: a ``put`` is one statement (the upsert and, for
a creation, the count, in data-modifying CTEs; autocommit makes it one transaction), a
:class:`~ocpikit.protocol.ports.SetFields` PATCH is one ``UPDATE`` that merges with JSONB's
``||`` (top-level keys of the right replace the left's: ``{**document, **fields}``), a
``get`` one ``SELECT`` joined with the cached form. psycopg prepares a statement on the server
after a few executions, so a hot one is neither parsed nor planned again. What these do not
cover falls back to :class:`~.objects_postgres.PostgresObjectStatements` (SQLAlchemy, on the
thread pool): outbox entries to write (``push_to``, ``push_patch``) and an object that moves
to another owner (its counts and the kind's epoch), which these statements leave alone (and
say so by returning None).

Invariants: the same as :mod:`.object_rows` (revision counts writes, ``seq`` never changes,
counts move only on creation), and as :mod:`.objects_sqlite`, an update leaves the old wire
forms in place (every read matches their revision; the next ``store_wire`` replaces them).
``chg`` is set by the trigger of migration 0014, whichever statement writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

import orjson

from ocpikit.protocol.ports import (
    ANY_OWNER,
    Merge,
    ObjectKey,
    OwnerFilter,
    SetFields,
    StoredObject,
    WireEntry,
)
from ocpikit.storage._common import last_updated_of
from ocpikit.storage.sql.pg_pool import AsyncPool
from ocpikit.storage.sql.postgres_runs import WriteRuns

__all__ = ["PostgresStatements"]

#: creates the object or replaces it under the same owner (no row: it has another owner), and
#: counts a creation; parameters: kind, country_code, party_id, object_id, the three keys,
#: owner, last_updated, document, then kind and owner key for the count
PG_PUT = (
    "WITH w AS (INSERT INTO ocpi_objects AS o (kind, country_code, party_id, object_id, "
    "cc_key, pid_key, id_key, owner, last_updated, revision, document) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 1, %s::jsonb) "
    "ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
    "country_code = excluded.country_code, party_id = excluded.party_id, "
    "object_id = excluded.object_id, last_updated = excluded.last_updated, "
    "revision = o.revision + 1, document = excluded.document "
    "WHERE o.owner IS NOT DISTINCT FROM excluded.owner "
    "RETURNING seq, revision), "
    "n AS (INSERT INTO ocpi_object_counts (kind, owner_key, n) "
    "SELECT %s, %s, 1 FROM w WHERE w.revision = 1 "
    "ON CONFLICT (kind, owner_key) DO UPDATE SET n = ocpi_object_counts.n + 1) "
    "SELECT seq, revision FROM w"
)
#: :data:`PG_PUT` for a run of objects (arrays of their values, in key order): each created, or
#: replaced under the same owner (no row for one of another owner), and the creations counted
PG_PUT_RUN = (
    "WITH v AS (SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[], %b::text[], %b::timestamptz[], %b::text[]) "
    "AS v(kind, country_code, party_id, object_id, cc_key, pid_key, id_key, owner, "
    "last_updated, document)), "
    "w AS (INSERT INTO ocpi_objects AS o (kind, country_code, party_id, object_id, "
    "cc_key, pid_key, id_key, owner, last_updated, revision, document) "
    "SELECT kind, country_code, party_id, object_id, cc_key, pid_key, id_key, owner, "
    "last_updated, 1, document::jsonb FROM v ORDER BY kind, cc_key, pid_key, id_key "
    "ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
    "country_code = excluded.country_code, party_id = excluded.party_id, "
    "object_id = excluded.object_id, last_updated = excluded.last_updated, "
    "revision = o.revision + 1, document = excluded.document "
    "WHERE o.owner IS NOT DISTINCT FROM excluded.owner "
    "RETURNING seq, revision, kind, cc_key, pid_key, id_key, owner), "
    "n AS (INSERT INTO ocpi_object_counts (kind, owner_key, n) "
    "SELECT kind, coalesce(owner, ''), count(*) FROM w WHERE revision = 1 "
    "GROUP BY kind, coalesce(owner, '') ORDER BY 1, 2 "
    "ON CONFLICT (kind, owner_key) DO UPDATE SET n = ocpi_object_counts.n + excluded.n) "
    "SELECT seq, revision, kind, cc_key, pid_key, id_key FROM w"
)
_RETURNING = (
    "RETURNING seq, kind, country_code, party_id, object_id, owner, last_updated, revision, "
    "document::text"
)
#: merges top-level fields into an object of any owner; parameters: fields (JSON),
#: last_updated, the key
PG_PATCH_FIELDS = (
    "UPDATE ocpi_objects SET document = document || %s::jsonb, last_updated = %s, "
    "revision = revision + 1 "
    f"WHERE kind = %s AND cc_key = %s AND pid_key = %s AND id_key = %s {_RETURNING}"
)
#: :data:`PG_PATCH_FIELDS` of an object of the given owner only (one more parameter)
PG_PATCH_FIELDS_OF_OWNER = (
    "UPDATE ocpi_objects SET document = document || %s::jsonb, last_updated = %s, "
    "revision = revision + 1 "
    "WHERE kind = %s AND cc_key = %s AND pid_key = %s AND id_key = %s "
    f"AND owner IS NOT DISTINCT FROM %s {_RETURNING}"
)
#: :data:`PG_PATCH_FIELDS_OF_OWNER` for a run of objects (arrays: fields, last_updated, the
#: keys, the owner, whether any owner will do): the rows locked in key order first, then merged
PG_PATCH_FIELDS_RUN = (
    "WITH v AS (SELECT * FROM unnest(%b::text[], %b::timestamptz[], %b::text[], %b::text[], "
    "%b::text[], %b::text[], %b::text[], %b::bool[]) "
    "AS v(fields, last_updated, kind, cc_key, pid_key, id_key, owner, any_owner)), "
    "t AS (SELECT o.seq, v.fields, v.last_updated FROM v JOIN ocpi_objects AS o "
    "ON o.kind = v.kind AND o.cc_key = v.cc_key AND o.pid_key = v.pid_key "
    "AND o.id_key = v.id_key AND (v.any_owner OR o.owner IS NOT DISTINCT FROM v.owner) "
    "ORDER BY v.kind, v.cc_key, v.pid_key, v.id_key FOR UPDATE OF o) "
    "UPDATE ocpi_objects AS o SET document = o.document || t.fields::jsonb, "
    "last_updated = t.last_updated, revision = o.revision + 1 FROM t WHERE o.seq = t.seq "
    "RETURNING o.seq, o.kind, o.country_code, o.party_id, o.object_id, o.owner, "
    "o.last_updated, o.revision, o.document::text, o.cc_key, o.pid_key, o.id_key"
)
_COLUMNS = (
    "o.seq, o.kind, o.country_code, o.party_id, o.object_id, o.owner, o.last_updated, "
    "o.revision, o.document::text"
)
_KEY = "o.kind = %s AND o.cc_key = %s AND o.pid_key = %s AND o.id_key = %s"
#: an object with its cached form of a version (NULL: none) of its current revision
PG_GET = (
    f"SELECT {_COLUMNS}, w.body FROM ocpi_objects AS o LEFT JOIN ocpi_object_wire AS w "
    "ON w.object_seq = o.seq AND w.version = %s AND w.revision = o.revision "
    f"WHERE {_KEY}"
)
#: an object, locked for the rest of the transaction (a read-merge-write)
PG_CURRENT = f"SELECT {_COLUMNS} FROM ocpi_objects AS o WHERE {_KEY} FOR UPDATE"
#: replaces a locked object's document
PG_REPLACE = (
    "UPDATE ocpi_objects SET document = %s::jsonb, last_updated = %s, "
    "revision = revision + 1 WHERE seq = %s RETURNING revision"
)
#: caches forms of objects that are still at the entries' revisions (arrays of the entries)
PG_STORE_WIRE = (
    "INSERT INTO ocpi_object_wire (object_seq, version, revision, body) "
    "SELECT o.seq, e.version, o.revision, e.body FROM unnest("
    "%b::text[], %b::text[], %b::text[], %b::text[], %b::int[], %b::text[], %b::bytea[]) "
    "AS e(kind, cc, pid, oid, revision, version, body) "
    "JOIN ocpi_objects AS o ON o.kind = e.kind AND o.cc_key = e.cc AND o.pid_key = e.pid "
    "AND o.id_key = e.oid AND o.revision = e.revision "
    "ON CONFLICT (object_seq, version) DO UPDATE "
    "SET revision = excluded.revision, body = excluded.body"
)


def _put(item: PutItem, seq: int, revision: int) -> StoredObject:
    key, raw, last_updated, owner = item
    return StoredObject(
        key=key,
        owner=owner,
        raw=raw.encode(),
        last_updated=last_updated,
        seq=seq,
        revision=revision,
    )


def _stored(row: tuple[Any, ...], wire: bytes | None = None) -> StoredObject:
    seq, kind, cc, pid, oid, owner, stamp, revision, raw = row[:9]
    return StoredObject(
        key=ObjectKey(kind, cc, pid, oid),
        owner=owner,
        raw=raw.encode(),
        last_updated=cast("datetime", stamp),
        seq=seq,
        revision=revision,
        wire=wire,
    )


#: a put: the key, the document (JSON text), ``last_updated``, the owner
PutItem = tuple[ObjectKey, str, datetime, str | None]
#: a field PATCH: the key, the fields (JSON text), ``last_updated``, the owner filter
PatchItem = tuple[ObjectKey, str, datetime, OwnerFilter]


class PostgresStatements:
    """The hot object statements over one :class:`~.pg_pool.AsyncPool`; puts (and field
    PATCHes) that arrive while others are on their way share a statement
    (:class:`~.postgres_runs.WriteRuns`)."""

    def __init__(self, pool: AsyncPool) -> None:
        self._pool = pool
        self.puts: WriteRuns[PutItem, StoredObject | None] = WriteRuns(
            self._put_run, key=lambda item: item[0].norm
        )
        self.patches: WriteRuns[PatchItem, StoredObject | None] = WriteRuns(
            self._patch_run, key=lambda item: item[0].norm
        )

    async def put(
        self, key: ObjectKey, raw: str, last_updated: datetime, owner: str | None
    ) -> StoredObject | None:
        """Create the object or replace it under the same owner; None when it exists under
        another owner (nothing written: the caller moves it)."""
        return await self.puts.submit((key, raw, last_updated, owner))

    async def _put_run(self, items: list[PutItem]) -> list[StoredObject | None]:
        if len(items) == 1:
            key, raw, last_updated, owner = items[0]
            _kind, cc, pid, oid = key.norm
            params: tuple[Any, ...] = (
                key.kind,
                key.country_code,
                key.party_id,
                key.id,
                cc,
                pid,
                oid,
                owner,
                last_updated,
                raw,
                key.kind,
                owner or "",
            )
            async with self._pool.connection() as conn:
                cur = await conn.execute(PG_PUT, params)
                row = await cur.fetchone()
            return [None if row is None else _put(items[0], row[0], row[1])]
        columns: list[list[Any]] = [[] for _ in range(10)]
        for key, raw, last_updated, owner in items:
            values = (key.kind, key.country_code, key.party_id, key.id, *key.norm[1:])
            for column, value in zip(columns, (*values, owner, last_updated, raw), strict=True):
                column.append(value)
        async with self._pool.connection() as conn:
            cur = await conn.execute(PG_PUT_RUN, columns)
            rows = await cur.fetchall()
        written = {tuple(row[2:]): (row[0], row[1]) for row in rows}
        out: list[StoredObject | None] = []
        for item in items:
            found = written.get(item[0].norm)
            out.append(None if found is None else _put(item, *found))
        return out

    async def patch_fields(
        self, key: ObjectKey, plan: SetFields, owner: OwnerFilter
    ) -> StoredObject | None:
        """``plan`` merged in the UPDATE; None: no such object (of that owner)."""
        fields = orjson.dumps(plan.fields).decode()
        return await self.patches.submit((key, fields, last_updated_of(plan.fields), owner))

    async def _patch_run(self, items: list[PatchItem]) -> list[StoredObject | None]:
        if len(items) == 1:
            key, fields, last_updated, owner = items[0]
            params: list[Any] = [fields, last_updated, *key.norm]
            if owner is ANY_OWNER:
                statement = PG_PATCH_FIELDS
            else:
                statement = PG_PATCH_FIELDS_OF_OWNER
                params.append(owner)
            async with self._pool.connection() as conn:
                cur = await conn.execute(statement, params)
                row = await cur.fetchone()
            return [None if row is None else _stored(row)]
        columns: list[list[Any]] = [[] for _ in range(8)]
        for key, fields, last_updated, owner in items:
            anyone = owner is ANY_OWNER
            values = (fields, last_updated, *key.norm, None if anyone else owner, anyone)
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        async with self._pool.connection() as conn:
            cur = await conn.execute(PG_PATCH_FIELDS_RUN, columns)
            rows = await cur.fetchall()
        written = {(row[1], *row[9:]): _stored(row) for row in rows}
        return [written.get(item[0].norm) for item in items]

    async def patch_merge(
        self, key: ObjectKey, merge: Merge, owner: OwnerFilter
    ) -> StoredObject | None:
        """The document read (locked), merged in Python and written back, in one
        transaction; None: no such object (of that owner)."""
        async with self._pool.connection() as conn, conn.transaction():
            cur = await conn.execute(PG_CURRENT, key.norm)
            row = await cur.fetchone()
            if row is None:
                return None
            current = _stored(row)
            if owner is not ANY_OWNER and current.owner != owner:
                return None
            merged = merge(current.document)
            raw = orjson.dumps(merged).decode()
            stamp = last_updated_of(merged)
            cur = await conn.execute(PG_REPLACE, (raw, stamp, current.seq))
            written = await cur.fetchone()
            assert written is not None  # the row is locked by this transaction
            (revision,) = written
        return StoredObject(
            key=current.key,
            owner=current.owner,
            raw=raw.encode(),
            last_updated=stamp,
            seq=current.seq,
            revision=revision,
        )

    async def get(self, key: ObjectKey, version: str | None) -> StoredObject | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(PG_GET, (version, *key.norm))
            row = await cur.fetchone()
        if row is None:
            return None
        wire = row[9]
        return _stored(row[:9], bytes(wire) if wire is not None else None)

    async def store_wire(self, entries: Iterable[WireEntry]) -> None:
        # one entry per object and version (the last): a statement may not write a row twice
        latest = {(e.key.norm, e.version): e for e in entries}
        if not latest:
            return
        columns: list[list[Any]] = [[], [], [], [], [], [], []]
        for (norm, version), e in latest.items():
            for column, value in zip(columns, (*norm, e.revision, version, e.body), strict=True):
                column.append(value)
        async with self._pool.connection() as conn:
            await conn.execute(PG_STORE_WIRE, columns)
