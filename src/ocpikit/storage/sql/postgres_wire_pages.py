"""PostgreSQL pages of wire bytes without a date window (``list_wire``), served from the
listing cache (:mod:`.listing_cache`; docs/storage.md, "Listing cache"), on the event loop's
connections (:mod:`.pg_pool`).

Plan: every write stamps ``ocpi_objects.chg`` with its transaction id (a trigger, migration
0014). A listing remembers the snapshot it was last brought up to date in (its ``gen``, the
text of ``pg_current_snapshot()``), so "what changed since" is "the rows of the listing whose
``chg`` that snapshot does not see": those at or past the snapshot's ``xmax`` and those among
its ``xip`` (in progress then), two ranges of the ``(kind, chg)`` index. Transactions commit
in any order (identity values and ids too): a row that a transaction in progress then wrote is
found once it commits, because that snapshot listed it in ``xip``; and a long transaction
elsewhere in the cluster (which holds ``xmin`` back) does not widen the ranges.

- **A page whose listing holds it** costs one statement (autocommit, its own snapshot): the
  kind's epoch and whether any row of the listing changed since the listing's snapshot; when
  neither, the page is a list slice of the cache. Pages of one listing asked while such a
  check is on its way share the next one (:class:`_Checks`): it is sent after each of them
  was asked, so its snapshot sees every commit that returned before they were.
- **Otherwise**, one listing at a time per process (an ``asyncio.Lock`` per listing), in a
  ``REPEATABLE READ`` read-only transaction: the epoch, the transaction's snapshot and the rows
  changed since the listing's (one statement); the listing is brought up to date to that
  snapshot (changes applied, creations placed at their ``seq``) or read whole (epoch moved, or
  too many changes); the page's missing items are read and kept; rows of a version without
  wire bytes for their revision are read as stored objects. All of it in one snapshot.

Invariant: a page is what ``list_page`` would give in one snapshot (the tests break the cache
on purpose and compare, with writes from another storage on the same database). A change is
seen by the next page read after its commit returned, in any process: the check reads the
database, it does not wait for a notification.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, cast

from ocpikit.protocol.ports import ANY_OWNER, ObjectKey, OwnerFilter, StoredObject, WirePage
from ocpikit.storage.sql.listing_cache import Gen, ListingCache, ListingShape
from ocpikit.storage.sql.pg_pool import AsyncPool

__all__ = ["PostgresListingSource", "PostgresWirePages"]

#: a READ ONLY transaction whose statements all read one snapshot
BEGIN_SNAPSHOT = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

#: the listing's rows changed since a snapshot, i.e. written by a transaction that snapshot
#: does not see: one at or past its ``xmax`` or among its ``xip`` (those in progress); two
#: ranges of the ``(kind, chg)`` index (the ``OFFSET 0`` keeps the planner from pushing the
#: filters into them and walking a page index instead), then the listing's filters
#: (``{cond}``, each clause with its ``AND``); parameters: kind, xmax, kind, xip (array), the
#: filters'
_CHANGED = (
    "SELECT c.seq, c.revision FROM ("
    "SELECT seq, revision, owner, cc_key, pid_key FROM ocpi_objects "
    "WHERE kind = %s AND chg >= %s "
    "UNION ALL SELECT seq, revision, owner, cc_key, pid_key FROM ocpi_objects "
    "WHERE kind = %s AND chg = ANY(%s::bigint[]) OFFSET 0"
    ") AS c WHERE TRUE{cond}"
)
#: the kind's epoch and whether the listing changed since a snapshot (parameters: kind, then
#: those of :data:`_CHANGED`)
_QUICK = f"SELECT (SELECT epoch FROM ocpi_object_order WHERE kind = %s), EXISTS ({_CHANGED})"
#: the kind's epoch, this snapshot and the listing's rows changed since the listing's
#: (parameters: as :data:`_QUICK`)
_STATE_CHANGES = (
    "SELECT (SELECT epoch FROM ocpi_object_order WHERE kind = %s), "
    "pg_current_snapshot()::text, "
    f"ARRAY(SELECT ARRAY[x.seq, x.revision::bigint] FROM ({_CHANGED}) AS x ORDER BY x.seq)"
)
#: the kind's epoch and this snapshot (no listing held yet)
_STATE = "SELECT (SELECT epoch FROM ocpi_object_order WHERE kind = %s), pg_current_snapshot()::text"
_POSITIONS = "SELECT seq, revision FROM ocpi_objects WHERE kind = %s{cond} ORDER BY seq"
_HEADS = "SELECT seq, revision, document::text FROM ocpi_objects WHERE seq = ANY(%s)"
_WIRES = (
    "SELECT object_seq, revision, body FROM ocpi_object_wire "
    "WHERE version = %s AND object_seq = ANY(%s)"
)
_OBJECTS = (
    "SELECT seq, kind, country_code, party_id, object_id, owner, last_updated, revision, "
    "document::text FROM ocpi_objects WHERE seq = ANY(%s)"
)


def _filters(owner: OwnerFilter, cc: str | None, pid: str | None) -> tuple[str, list[Any]]:
    """The listing's filters besides its kind, each clause with its leading ``AND``, and
    their parameters."""
    where = ""
    args: list[Any] = []
    if owner is not ANY_OWNER:
        if owner is None:
            where += " AND owner IS NULL"
        else:
            where += " AND owner = %s"
            args.append(owner)
    if cc is not None:
        where += " AND cc_key = %s"
        args.append(cc)
    if pid is not None:
        where += " AND pid_key = %s"
        args.append(pid)
    return where, args


def _unseen(kind: str, snapshot: str) -> list[Any]:
    """The parameters of :data:`_CHANGED` before the filters': what ``snapshot`` (a
    ``pg_snapshot`` text, ``xmin:xmax:xip,...``) does not see."""
    _xmin, xmax, xip = snapshot.split(":")
    return [kind, int(xmax), kind, [int(x) for x in xip.split(",")] if xip else []]


class PostgresListingSource:
    """A listing read on ``conn`` in its transaction; the async counterpart of
    :class:`~.listing_cache.ListingSource` (its changes come with the state, see
    :data:`_STATE_CHANGES`)."""

    def __init__(self, conn: Any, kind: str, where: str, args: list[Any]) -> None:
        self._conn = conn
        self._kind = kind
        self._where = where
        self._args = args

    async def state(self, since: str | None) -> tuple[int, str, list[tuple[int, int]] | None]:
        """The kind's epoch, this transaction's snapshot and, with ``since`` (a listing's
        snapshot), the listing's rows changed since then in ``seq`` order."""
        if since is None:
            cur = await self._conn.execute(_STATE, [self._kind])
            epoch, snapshot = await cur.fetchone()
            return int(epoch or 0), snapshot, None
        cur = await self._conn.execute(
            _STATE_CHANGES.format(cond=self._where),
            [self._kind, *_unseen(self._kind, since), *self._args],
        )
        epoch, snapshot, changed = await cur.fetchone()
        return int(epoch or 0), snapshot, [(int(s), int(r)) for s, r in changed]

    async def positions(self) -> tuple[list[int], list[int]]:
        cur = await self._conn.execute(
            _POSITIONS.format(cond=self._where), [self._kind, *self._args]
        )
        rows = await cur.fetchall()
        return [r[0] for r in rows], [r[1] for r in rows]

    async def bodies(self, revisions: dict[int, int], version: str | None) -> dict[int, bytes]:
        wanted = list(revisions)
        if version is None:
            cur = await self._conn.execute(_HEADS, [wanted])
            return {
                seq: body.encode()
                for seq, revision, body in await cur.fetchall()
                if revisions[seq] == revision
            }
        cur = await self._conn.execute(_WIRES, [version, wanted])
        return {
            seq: bytes(body)
            for seq, revision, body in await cur.fetchall()
            if revisions[seq] == revision
        }

    async def objects(self, seqs: list[int]) -> dict[int, StoredObject]:
        cur = await self._conn.execute(_OBJECTS, [seqs])
        out: dict[int, StoredObject] = {}
        for seq, kind, cc, pid, oid, owner, stamp, revision, raw in await cur.fetchall():
            out[seq] = StoredObject(
                key=ObjectKey(kind, cc, pid, oid),
                owner=owner,
                raw=raw.encode(),
                last_updated=cast("datetime", stamp),
                seq=seq,
                revision=revision,
            )
        return out


#: what a check of a listing found: the ``(epoch, gen)`` it checked and whether the listing
#: was still at it
_Checked = tuple[tuple[int, Gen], bool]


class _Checks:
    """The freshness checks of one listing, coalesced: a caller waits for the next check sent
    after it asked (one at a time; those who ask while one is on its way share the next)."""

    def __init__(self, run: Callable[[], Awaitable[_Checked | None]]) -> None:
        self._run = run
        self._waiting: list[asyncio.Future[_Checked | None]] = []
        #: the task sending the checks while anyone waits (kept: the loop holds tasks weakly)
        self._driver: asyncio.Task[None] | None = None

    async def ask(self) -> _Checked | None:
        future: asyncio.Future[_Checked | None] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        if self._driver is None:
            self._driver = asyncio.ensure_future(self._drive())
        return await future

    async def _drive(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    result = await self._run()  # sent now: after each of the batch asked
                except Exception as exc:
                    for future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for future in batch:
                    if not future.done():
                        future.set_result(result)
        finally:
            self._driver = None
            for future in self._waiting:  # only if cancelled half-way: they check alone
                if not future.done():
                    future.set_result(None)
            self._waiting.clear()


class PostgresWirePages:
    """``list_wire`` on PostgreSQL without a date window, over one :class:`ListingCache`."""

    def __init__(self, pool: AsyncPool, cache: ListingCache) -> None:
        self._pool = pool
        self.cache = cache
        self._locks: dict[ListingShape, asyncio.Lock] = {}
        self._checks: dict[ListingShape, _Checks] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    def _lock(self, shape: ListingShape) -> asyncio.Lock:
        self._same_loop()
        lock = self._locks.get(shape)
        if lock is None:
            lock = self._locks[shape] = asyncio.Lock()
        return lock

    def _same_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # locks and checks belong to one event loop
            self._locks.clear()
            self._checks.clear()
            self._loop = loop

    async def _check(
        self, shape: ListingShape, kind: str, where: str, args: list[Any]
    ) -> _Checked | None:
        """Whether the listing held is current (see :class:`_Checks`); None: none held."""
        self._same_loop()
        checks = self._checks.get(shape)
        if checks is None:

            async def run() -> _Checked | None:
                held = self.cache.held(shape)
                if held is None:
                    return None
                epoch, gen = held[1]
                snapshot = cast("str", gen)
                async with self._pool.connection() as conn:
                    cur = await conn.execute(
                        _QUICK.format(cond=where), [kind, *_unseen(kind, snapshot), *args]
                    )
                    row = await cur.fetchone()
                assert row is not None  # one row, always
                now, changed = row
                return held[1], int(now or 0) == epoch and not changed

            checks = self._checks[shape] = _Checks(run)
        return await checks.ask()

    async def page(
        self,
        kind: str,
        offset: int,
        limit: int,
        owner: OwnerFilter,
        cc: str | None,
        pid: str | None,
        version: str | None,
    ) -> WirePage | None:
        """A page (see the module's plan); None when the listing could not be used (the
        caller reads the page with ``list_page``)."""
        shape: ListingShape = (kind, repr(owner), cc or "", pid or "")
        where, args = _filters(owner, cc, pid)
        cache = self.cache
        if cache.held(shape) is not None:
            checked = await self._check(shape, kind, where, args)
            if checked is not None and checked[1]:
                (epoch, gen), _current = checked
                found = cache.quick(shape, epoch, gen, offset, limit, version)
                if found is not None:
                    total, part = found
                    items = cast("list[bytes | StoredObject]", part)
                    return WirePage(items=items, total=total, offset=offset, limit=limit, wire=True)
        async with self._lock(shape), self._pool.connection() as conn:
            await conn.execute(BEGIN_SNAPSHOT)
            page = await self._in_snapshot(
                PostgresListingSource(conn, kind, where, args), shape, offset, limit, version
            )
            await conn.execute("COMMIT")
        return page

    async def _in_snapshot(
        self,
        source: PostgresListingSource,
        shape: ListingShape,
        offset: int,
        limit: int,
        version: str | None,
    ) -> WirePage | None:
        cache = self.cache
        held = cache.held(shape)
        epoch, snapshot, changed = await source.state(
            cast("str", held[1][1]) if held is not None else None
        )
        if (
            held is None
            or held[1][0] != epoch
            or (changed is not None and not cache.refreshable(held[0], len(changed)))
        ):
            changed = None
        positions = await source.positions() if changed is None else None
        listing = cache.advance(shape, held, epoch, snapshot, changed, positions)
        if listing is None:
            return None
        total = len(listing.seqs)
        if offset >= total or limit == 0:
            return WirePage(items=[], total=total, offset=offset, limit=limit)
        missing = cache.missing(shape, listing, epoch, snapshot, offset, limit, version)
        if missing is None:
            return None
        part, seqs, wanted = missing
        if wanted:
            fetched = await source.bodies(wanted, version)
            part = cache.fill(shape, listing, epoch, snapshot, offset, version, part, seqs, fetched)
        if None not in part:
            items = cast("list[bytes | StoredObject]", part)
            return WirePage(items=items, total=total, offset=offset, limit=limit, wire=True)
        # rows of a version without wire bytes for their revision: the server converts them
        objects = await source.objects(
            [seq for seq, b in zip(seqs, part, strict=True) if b is None]
        )
        out: list[bytes | StoredObject] = [
            objects[seq] if b is None else b for seq, b in zip(seqs, part, strict=True)
        ]
        return WirePage(items=out, total=total, offset=offset, limit=limit)
