"""SQLite pages of wire bytes without a date window (``list_wire``), served from the listing
cache (:mod:`.listing_cache`; docs/storage.md, "Listing cache").

Plan: first one statement outside a transaction (its own snapshot, no BEGIN and COMMIT) reads
the kind's epoch and ``max(chg)``; when the listing held is at both and holds every item of the
page, the page is a list slice. Otherwise, in a read transaction, the listing is brought up to
date through :class:`SqliteListingSource` and the page's missing items are read and kept.

Invariant: a page is what ``list_page`` would give in the same snapshot (the tests break the
cache on purpose and compare). A reader whose transaction is older than the listing another
thread holds serves its page from SQLite with an ``OFFSET`` walk and a ``COUNT(*)``.
"""

from __future__ import annotations

from typing import Any, cast

import sqlalchemy as sa

from ocpikit.protocol.ports import ANY_OWNER, OwnerFilter, StoredObject, WirePage
from ocpikit.storage.sql.database import Database, cursor
from ocpikit.storage.sql.listing_cache import ListingCache, ListingShape
from ocpikit.storage.sql.object_rows import wire_page

__all__ = ["SQLITE_LISTING_STATE", "SqliteListingSource", "SqliteWirePages"]

#: a kind's creation-order epoch and ``max(chg)``
SQLITE_LISTING_STATE = (
    "SELECT (SELECT epoch FROM ocpi_object_order WHERE kind = ?), "
    "(SELECT max(chg) FROM ocpi_objects INDEXED BY ix_ocpi_objects_chg WHERE kind = ?)"
)

#: seqs per ``IN (...)`` of a cache fill (below SQLite's oldest bound-parameter limit, 999)
_FILL_CHUNK = 500


class SqliteListingSource:
    """A listing (the objects of ``cond`` with ``args``) read on ``cur``, in its transaction
    (:class:`~.listing_cache.ListingSource`)."""

    def __init__(self, cur: Any, cond: str, args: list[Any]) -> None:
        self._cur = cur
        self._cond = cond
        self._args = args

    def positions(self) -> tuple[list[int], list[int]]:
        rows = self._cur.execute(
            f"SELECT seq, revision FROM ocpi_objects WHERE {self._cond} ORDER BY seq", self._args
        ).fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    def changed_since(self, gen: int) -> list[tuple[int, int]]:
        # through the chg index: the planner would otherwise pick the listing's own index
        rows: list[tuple[int, int]] = self._cur.execute(
            "SELECT seq, revision FROM ocpi_objects INDEXED BY ix_ocpi_objects_chg "
            f"WHERE {self._cond} AND chg > ? ORDER BY seq",
            [*self._args, gen],
        ).fetchall()
        return rows

    def bodies(self, revisions: dict[int, int], version: str | None) -> dict[int, bytes]:
        found: dict[int, bytes] = {}
        wanted = list(revisions)
        for at in range(0, len(wanted), _FILL_CHUNK):
            part = wanted[at : at + _FILL_CHUNK]
            marks = ",".join("?" * len(part))
            if version is None:
                rows = self._cur.execute(
                    "SELECT seq, revision, CAST(document AS BLOB) FROM ocpi_objects "
                    f"WHERE seq IN ({marks})",
                    part,
                )
            else:
                rows = self._cur.execute(
                    "SELECT object_seq, revision, body FROM ocpi_object_wire "
                    f"WHERE version = ? AND object_seq IN ({marks})",
                    [version, *part],
                )
            for seq, revision, body in rows:
                if revisions[seq] == revision:
                    found[seq] = body
        return found


def _page_rows(
    cur: Any, cond: str, args: list[Any], skip: int, limit: int, version: str | None
) -> list[tuple[int, bytes | None]]:
    """``limit`` rows of a listing from position ``skip``: (seq, body), the body from the
    wire cache of ``version`` (None where it is not cached) or the head document when
    ``version`` is None. The OFFSET walk runs over the covering index only."""
    key_args = [*args, 0, limit, skip]
    if version is None:
        # the documents straight from the index walk (SQLite skips the OFFSET rows before it
        # reads their columns), rather than joining the keys back to the table
        rows: list[tuple[int, bytes | None]] = cur.execute(
            f"SELECT seq, CAST(document AS BLOB) FROM ocpi_objects WHERE {cond} AND seq >= ? "
            "ORDER BY seq LIMIT ? OFFSET ?",
            key_args,
        ).fetchall()
        return rows
    keys = (
        f"SELECT seq, revision FROM ocpi_objects WHERE {cond} AND seq >= ? "
        "ORDER BY seq LIMIT ? OFFSET ?"
    )
    rows = cur.execute(
        f"SELECT p.seq, w.body FROM ({keys}) AS p LEFT JOIN ocpi_object_wire AS w "
        "ON w.object_seq = p.seq AND w.version = ? AND w.revision = p.revision "
        "ORDER BY p.seq",
        [*key_args, version],
    ).fetchall()
    return rows


def _condition(
    kind: str, owner: OwnerFilter, cc: str | None, pid: str | None
) -> tuple[str, list[Any]]:
    """The WHERE of a listing and its parameters."""
    where = ["kind = ?"]
    args: list[Any] = [kind]
    if owner is not ANY_OWNER:
        if owner is None:
            where.append("owner IS NULL")
        else:
            where.append("owner = ?")
            args.append(owner)
    if cc is not None:
        where.append("cc_key = ?")
        args.append(cc)
    if pid is not None:
        where.append("pid_key = ?")
        args.append(pid)
    return " AND ".join(where), args


class SqliteWirePages:
    """``list_wire`` on SQLite without a date window, over one :class:`ListingCache`."""

    def __init__(self, db: Database, cache: ListingCache) -> None:
        self._db = db
        self.cache = cache

    def quick(
        self,
        kind: str,
        offset: int,
        limit: int,
        owner: OwnerFilter,
        cc: str | None,
        pid: str | None,
        version: str | None,
    ) -> WirePage | None:
        """The page when the listing held is current and holds all of it (one statement,
        its own snapshot: no transaction to begin and end), else None (then :meth:`page`)."""
        cache = self.cache
        shape: ListingShape = (kind, repr(owner), cc or "", pid or "")

        def quick(cur: Any) -> WirePage | None:
            epoch, gen = cur.execute(SQLITE_LISTING_STATE, (kind, kind)).fetchone()
            found = cache.quick(shape, int(epoch or 0), int(gen or 0), offset, limit, version)
            if found is None:
                return None
            total, part = found
            items = cast("list[bytes | StoredObject]", part)
            return WirePage(items=items, total=total, offset=offset, limit=limit, wire=True)

        return self._db.read_quick(quick)

    def page(
        self,
        conn: sa.Connection,
        kind: str,
        offset: int,
        limit: int,
        owner: OwnerFilter,
        cc: str | None,
        pid: str | None,
        version: str | None,
    ) -> WirePage:
        """A page in the read transaction of ``conn``: the listing brought up to date, then
        its held bytes and the missing ones read (see the module docstring)."""
        cond, args = _condition(kind, owner, cc, pid)
        shape: ListingShape = (kind, repr(owner), cc or "", pid or "")
        cache = self.cache
        cur = cursor(conn)
        try:
            epoch, gen = cur.execute(SQLITE_LISTING_STATE, (kind, kind)).fetchone()
            epoch, gen = int(epoch or 0), int(gen or 0)
            source = SqliteListingSource(cur, cond, args)
            listing = cache.listing(source, shape, epoch, gen)
            bodies = None
            if listing is not None:
                total = len(listing.seqs)
                if offset >= total or limit == 0:
                    return WirePage(items=[], total=total, offset=offset, limit=limit)
                bodies = cache.page(source, shape, listing, epoch, gen, offset, limit, version)
            if bodies is None:
                # this transaction is older than the listing another thread holds: from SQLite
                counted = cur.execute(f"SELECT count(*) FROM ocpi_objects WHERE {cond}", args)
                total = int(counted.fetchone()[0])
                rows = _page_rows(cur, cond, args, offset, limit, version)
                return wire_page(conn, rows, total, offset, limit)
            if None not in bodies:
                items = cast("list[bytes | StoredObject]", bodies)
                return WirePage(items=items, total=total, offset=offset, limit=limit)
            assert listing is not None
            seqs = listing.seqs[offset : offset + limit]
            return wire_page(conn, list(zip(seqs, bodies, strict=True)), total, offset, limit)
        finally:
            cur.close()
