"""OCPI objects on SQL (:class:`~ocpikit.protocol.ports.ObjectRepository`; docs/storage.md,
"Objects"): head documents keyed by ``(kind, country_code, party_id, id)``.

:class:`SqlObjects` composes one write path per dialect (:class:`ObjectStatements`:
:mod:`.objects_sqlite` or :mod:`.objects_postgres`), the page reads (:mod:`.object_pages`,
and without a date window :mod:`.wire_pages` on SQLite, :mod:`.postgres_wire_pages` on
PostgreSQL, over the listing cache), on SQLite the group commit's batches
(:mod:`.sqlite_put_batch`, :mod:`.sqlite_field_patch`) and on PostgreSQL the hot statements
on the event loop (:mod:`.postgres_statements`), each of which gives what its plain path
gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

import orjson
import sqlalchemy as sa

from ocpikit.core.types import ci_key
from ocpikit.protocol.ports import (
    ANY_OWNER,
    Merge,
    ObjectKey,
    OwnerFilter,
    Page,
    PatchPlan,
    ReplaceDocument,
    SetFields,
    StoredObject,
    WireEntry,
    WirePage,
    dump_document,
    patch_plan,
)
from ocpikit.protocol.push_patches import PushPatch
from ocpikit.storage._common import last_updated_of, wire_page_of
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.group_commit import Batch
from ocpikit.storage.sql.listing_cache import WIRE_CACHE_BYTES, ListingCache
from ocpikit.storage.sql.object_pages import read_page
from ocpikit.storage.sql.object_rows import (
    KEY_COLUMNS,
    OBJECT_COLUMNS,
    delete_object,
    row_to_object,
    store_wire_params,
    store_wire_statement,
)
from ocpikit.storage.sql.objects_postgres import PostgresObjectStatements
from ocpikit.storage.sql.objects_sqlite import SqliteObjectStatements, object_values
from ocpikit.storage.sql.postgres_statements import PostgresStatements
from ocpikit.storage.sql.postgres_wire_pages import PostgresWirePages
from ocpikit.storage.sql.sqlite_field_patch import JSON_PATCH, FieldPatch, patch_fields, patch_run
from ocpikit.storage.sql.sqlite_put_batch import PutItem, put_rows
from ocpikit.storage.sql.wire_pages import SqliteWirePages

__all__ = ["ObjectStatements", "SqlObjects"]

#: keys per statement of :meth:`SqlObjects.get_many` (4 bound values each)
_MANY_CHUNK = 200


class ObjectStatements(Protocol):
    """How one dialect reads and writes one object inside a transaction."""

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
        """Insert or replace the object (keeping the invariants of :mod:`.object_rows`) and
        queue a ``PUT`` of it for each partner of ``push_to`` (a ``PATCH`` for those of
        ``push_patch``: :func:`.outbox.enqueue_pushes`)."""
        ...

    def current(self, conn: sa.Connection, key: ObjectKey) -> StoredObject | None:
        """The object, as a read-merge-write must see it (locked where the dialect needs)."""
        ...

    def get(self, conn: sa.Connection, key: ObjectKey, version: str | None) -> StoredObject | None:
        """The object, with its cached ``version`` form of the current revision if any."""
        ...


class SqlObjects:
    """The object repository over one :class:`~.database.Database`."""

    def __init__(self, db: Database, *, wire_cache_bytes: int = WIRE_CACHE_BYTES) -> None:
        """``wire_cache_bytes``: budget of the in-process wire bytes of listings (see
        :class:`~.listing_cache.ListingCache`); 0 keeps no bytes (the listings' positions are
        still kept)."""
        if wire_cache_bytes < 0:
            raise ValueError("wire_cache_bytes must not be negative")
        self._db = db
        self._sqlite = SqliteObjectStatements(db) if db.dialect == "sqlite" else None
        self._statements: ObjectStatements = self._sqlite or PostgresObjectStatements(db)
        #: a SetFields PATCH merged by SQLite in the UPDATE (:mod:`.sqlite_field_patch`)
        self._fields_in_sql = self._sqlite is not None and JSON_PATCH
        self._wire_pages = (
            SqliteWirePages(db, ListingCache(wire_cache_bytes)) if self._sqlite else None
        )
        pool = db.pg_pool
        #: PostgreSQL: the hot statements and pages on the event loop
        self._pg = PostgresStatements(pool) if pool is not None else None
        self._pg_pages = (
            PostgresWirePages(pool, ListingCache(wire_cache_bytes)) if pool is not None else None
        )
        self._store_wire = store_wire_statement(db)
        #: called (in the event loop) after a write that queued outbox entries: an in-process
        #: delivery worker wakes at once instead of at its next poll
        self.push_listeners: set[Callable[[], None]] = set()

    def _pushed(self, push_to: Sequence[str]) -> None:
        if push_to:
            for listener in list(self.push_listeners):
                listener()

    @property
    def wire_cache(self) -> ListingCache | None:
        """The listing cache of pages when it keeps bytes, else None."""
        pages = self._wire_pages or self._pg_pages
        return pages.cache if pages is not None and pages.cache.budget else None

    def _write(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        raw: str,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str],
    ) -> StoredObject:
        return self._statements.write(conn, key, raw, last_updated, owner, push_to)

    async def put(
        self,
        key: ObjectKey,
        document: Mapping[str, Any] | bytes | str,
        *,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str] = (),
    ) -> StoredObject:
        raw = document if isinstance(document, str) else dump_document(document).decode()
        if self._pg is not None and not push_to:
            stored = await self._pg.put(key, raw, last_updated, owner)
            if stored is not None:
                return stored
            # it exists under another owner: the plain path moves it
        sqlite = self._sqlite
        if sqlite is None or push_to:
            stored = await self._db.write(
                lambda conn: self._write(conn, key, raw, last_updated, owner, push_to)
            )
            self._pushed(push_to)
            return stored
        # the parameters are built here, not on the writer thread (where every stretch of
        # Python waits for the event loop's GIL), and the write may share one statement with
        # the PUTs next to it in its group
        values = object_values(key, raw, last_updated, owner)
        return await self._db.write(
            lambda conn: sqlite.write(conn, key, raw, last_updated, owner, (), values),
            batch=Batch(put_rows, PutItem(key, values, raw, last_updated, owner), key.norm),
        )

    async def get(self, key: ObjectKey, *, version: str | None = None) -> StoredObject | None:
        if self._sqlite is not None and version is not None:
            # one statement, no transaction (a single object served to a partner)
            found = self._db.read_quick(
                lambda cur: SqliteObjectStatements.get_alone(cur, key, version)
            )
            if found is not None:
                return found[0]
        if self._pg is not None:
            return await self._pg.get(key, version)
        return await self._db.read(lambda conn: self._statements.get(conn, key, version))

    async def get_many(self, keys: Iterable[ObjectKey]) -> dict[ObjectKey, StoredObject]:
        wanted = list({k.norm: k for k in keys}.values())
        if not wanted:
            return {}
        sqlite = self._sqlite
        if sqlite is not None:
            return await self._db.read(lambda conn: sqlite.get_many(conn, wanted))

        def run(conn: sa.Connection) -> dict[ObjectKey, StoredObject]:
            found: dict[ObjectKey, StoredObject] = {}
            for at in range(0, len(wanted), _MANY_CHUNK):
                chunk = [k.norm for k in wanted[at : at + _MANY_CHUNK]]
                query = sa.select(*OBJECT_COLUMNS).where(sa.tuple_(*KEY_COLUMNS).in_(chunk))
                for row in conn.execute(query):
                    obj = row_to_object(row)
                    found[obj.key] = obj
            return found

        return await self._db.read(run)

    async def patch(
        self,
        key: ObjectKey,
        plan: PatchPlan | Merge,
        *,
        push_to: Sequence[str] = (),
        owner: OwnerFilter = ANY_OWNER,
        push_patch: PushPatch | None = None,
    ) -> StoredObject | None:
        plan = patch_plan(plan)
        merge: Merge
        pg = self._pg if not push_to and push_patch is None else None
        match plan:
            case SetFields() if self._fields_in_sql and push_patch is None:
                patched = await self._patch_in_sql(key, plan, owner, push_to)
                self._pushed(push_to)
                return patched
            case SetFields() if pg is not None:
                return await pg.patch_fields(key, plan, owner)
            case SetFields():
                merge = plan.apply
            case ReplaceDocument():
                merge = plan.merge
        if pg is not None:
            return await pg.patch_merge(key, merge, owner)
        stored = await self._db.write(
            lambda conn: self._read_merge_write(conn, key, merge, owner, push_to, push_patch)
        )
        self._pushed(push_to)
        return stored

    def _read_merge_write(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        merge: Merge,
        owner: OwnerFilter,
        push_to: Sequence[str],
        push_patch: PushPatch | None = None,
    ) -> StoredObject | None:
        """The plain PATCH: the current document, merged in Python, written back."""
        current = self._statements.current(conn, key)
        if current is None or (owner is not ANY_OWNER and current.owner != owner):
            return None
        merged = merge(current.document)
        raw = orjson.dumps(merged).decode()
        return self._statements.write(
            conn,
            current.key,
            raw,
            last_updated_of(merged),
            current.owner,
            push_to,
            push_patch=push_patch,
        )

    async def _patch_in_sql(
        self, key: ObjectKey, plan: SetFields, owner: OwnerFilter, push_to: Sequence[str]
    ) -> StoredObject | None:
        patch = FieldPatch.of(key, plan, owner)
        batch = None
        if owner is not ANY_OWNER and not push_to:
            # it may share one statement with the PATCHes next to it in its group
            batch = Batch(patch_run, patch, key.norm)
        return await self._db.write(
            lambda conn: self._sqlite_patch_fields(conn, patch, push_to), batch=batch
        )

    def _sqlite_patch_fields(
        self, conn: sa.Connection, patch: FieldPatch, push_to: Sequence[str]
    ) -> StoredObject | None:
        return patch_fields(self._db, conn, patch, push_to)

    async def delete(self, key: ObjectKey, *, push_to: Sequence[str] = ()) -> bool:
        return await self._db.write(lambda conn: delete_object(self._db, conn, key, push_to))

    async def list_page(
        self,
        kind: str,
        *,
        offset: int = 0,
        limit: int,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        owner: OwnerFilter = ANY_OWNER,
        country_code: str | None = None,
        party_id: str | None = None,
        version: str | None = None,
    ) -> Page:
        return await read_page(
            self._db,
            kind,
            offset=offset,
            limit=limit,
            date_from=date_from,
            date_to=date_to,
            owner=owner,
            country_code=country_code,
            party_id=party_id,
            version=version,
        )

    async def list_wire(
        self,
        kind: str,
        *,
        offset: int = 0,
        limit: int,
        date_from: datetime | None = None,
        date_to: datetime | None = None,
        owner: OwnerFilter = ANY_OWNER,
        country_code: str | None = None,
        party_id: str | None = None,
        version: str | None = None,
    ) -> WirePage:
        """Without a date window: from the listing cache (:mod:`.wire_pages`,
        :mod:`.postgres_wire_pages`); else :meth:`list_page` with each item's fresh cached
        bytes where there are some."""
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        pages = self._wire_pages
        windowed = date_from is not None or date_to is not None
        cc = ci_key(country_code) if country_code is not None else None
        pid = ci_key(party_id) if party_id is not None else None
        if self._pg_pages is not None and not windowed:
            served = await self._pg_pages.page(kind, offset, limit, owner, cc, pid, version)
            if served is not None:
                return served
        if pages is None or windowed:
            page = await self.list_page(
                kind,
                offset=offset,
                limit=limit,
                date_from=date_from,
                date_to=date_to,
                owner=owner,
                country_code=country_code,
                party_id=party_id,
                version=version,
            )
            return wire_page_of(page, version)
        served = pages.quick(kind, offset, limit, owner, cc, pid, version)
        if served is not None:
            return served
        return await self._db.read(
            lambda conn: pages.page(conn, kind, offset, limit, owner, cc, pid, version)
        )

    async def store_wire(self, entries: Iterable[WireEntry]) -> None:
        if self._pg is not None:
            return await self._pg.store_wire(entries)
        params = store_wire_params(entries)
        if not params:
            return
        stmt = self._store_wire
        await self._db.write(lambda conn: conn.execute(stmt, params))
