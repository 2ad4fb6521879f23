"""The SQL backend of the storage ports (SQLAlchemy Core; SQLite and PostgreSQL).

Each port method is one short transaction run on a worker thread (``_Db.read``/``_Db.write``):
a bounded pool of reader threads (as many as reader connections) and, on SQLite, one writer
thread with one ``BEGIN IMMEDIATE`` connection, so writers queue in-process instead of
contending on the database lock. On PostgreSQL reads and writes share one pool.

Why threads and not an async driver: see :mod:`ocpikit.storage.sql.engine`. A page read is a
handful of index probes plus copying bytes; sqlite3 and psycopg release the GIL while the
database works, so the thread hop (tens of microseconds) is small against the query and keeps
the event loop free.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import contextlib
import functools
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL

from ocpikit.core.types import ci_key
from ocpikit.protocol.ports import (
    ANY_OWNER,
    CommandDirection,
    CommandRecord,
    CredentialsToken,
    Endpoint,
    Exchange,
    ExchangeDirection,
    Merge,
    ObjectKey,
    OutboxEntry,
    OutboxOperation,
    OutboxState,
    OwnerFilter,
    Page,
    Partner,
    PartnerStatus,
    PartyRole,
    StoredObject,
    TokenKind,
    WireEntry,
    WirePage,
    dump_document,
    token_digest,
)
from ocpikit.storage._common import Clock, last_updated_of, utcnow, wire_page_of
from ocpikit.storage.redaction import Redacted, redact_fields
from ocpikit.storage.sql.engine import Engines, create_engines
from ocpikit.storage.sql.facts import SqlFacts
from ocpikit.storage.sql.schema import (
    UtcDateTime,
    commands,
    credentials_tokens,
    exchange_log,
    object_counts,
    object_order,
    object_wire,
    objects,
    outbox,
    partner_parties,
    partners,
    sqlite_time_text,
    sync_marks,
)

__all__ = ["SqlStorage"]

T = TypeVar("T")


class _GroupCommit:
    """Group commit for SQLite's single writer connection.

    Writes queue here; the writer thread takes everything queued (at most ``MAX_GROUP``) and
    runs it in one ``BEGIN IMMEDIATE`` transaction, then commits once. So each caller still
    gets an atomic write of its own (a write that raises is undone and only its caller sees
    the error) that is durable when its ``await`` returns, while concurrent requests share one
    fsync instead of paying one each (the WAL fsync of ``synchronous=FULL`` is most of a small
    write's cost).

    The writes run straight, without a SAVEPOINT each: a write that raises before it changed
    anything (SQLite undoes a failed statement itself; ``total_changes`` has not moved) fails
    alone. One that raises after it changed rows rolls the group back, and the group runs
    again with a SAVEPOINT around each write. Every statement is a GIL hand-off between this
    thread and the event loop's (the driver releases the GIL around each step), and the two
    savepoint statements per write were two thirds of an object write's statements. Writes
    must therefore do nothing but database work: they may run twice.

    A write may also name a *batch* (:class:`Batch`): a run of consecutive writes of a group
    with the same batch runner and distinct batch keys runs as one call of the runner (on
    SQLite, one multi-row statement for a run of object PUTs or PATCHes instead of one each:
    each statement is a GIL hand-off between this thread and the busy event loop, and the
    statement's own overhead is most of a small write's cost in SQLite). The runner may leave
    some of the run to their own ``fn`` (an object of another owner); a runner that raises
    before it changed anything leaves all of them to it. A run never crosses another write,
    and a key repeated in a run ends it, so writes of the same object keep their order.

    The writer thread keeps its connection from one group to the next (taking it from the
    pool and giving it back, with the pool's reset ROLLBACK, was a third of a group's own
    cost); a group that fails at BEGIN or COMMIT gives it back and the next takes a fresh
    one. :meth:`release` gives it back for good (on close)."""

    MAX_GROUP = 256

    def __init__(self, engine: sa.Engine, executor: ThreadPoolExecutor, *, full: bool) -> None:
        self._engine = engine
        self._executor = executor
        self._full = full  # the writer commits with synchronous=FULL
        self._queue: collections.deque[_Pending] = collections.deque()
        self._lock = threading.Lock()
        self._draining = False
        self._conn: sa.Connection | None = None  # the writer thread's, kept between groups

    def release(self) -> None:
        """Give the writer connection back to the pool (run it on the writer thread)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _connection(self) -> sa.Connection:
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self._engine.connect()
        return conn

    async def submit(
        self,
        fn: Callable[[sa.Connection], T],
        *,
        durable: bool = True,
        batch: Batch | None = None,
    ) -> T:
        """Run ``fn`` in the next group. ``durable=False`` (the exchange log): a group made only
        of such writes commits without the WAL fsync (``synchronous=NORMAL``: lost on a power
        cut, never corrupt); one durable write in the group makes the whole commit durable.
        ``batch``: ``fn`` may run together with its neighbours (see the class docstring)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._queue.append((fn, future, loop, durable, batch))
            start = not self._draining
            self._draining = True
        if start:
            self._executor.submit(self._drain)
        return await future

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining = False
                    return
                n = min(len(self._queue), self.MAX_GROUP)
                group = [self._queue.popleft() for _ in range(n)]
            relaxed = self._full and not any(pending[3] for pending in group)
            try:
                try:
                    outcomes = self._run(group, relaxed, savepoints=False)
                except _PartialWrite:
                    outcomes = self._run(group, relaxed, savepoints=True)
            except Exception as exc:  # BEGIN, a lone write or COMMIT failed: nothing stored
                outcomes = [(False, exc)] * len(group)
            # one wake-up per event loop for the whole group (each call_soon_threadsafe
            # writes to the loop's self-pipe)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]]
            by_loop = {}
            for (_fn, future, loop, _durable, _batch), (ok, value) in zip(
                group, outcomes, strict=True
            ):
                by_loop.setdefault(loop, []).append((future, ok, value))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # that loop is closed
                    loop.call_soon_threadsafe(_settle_all, settled)

    def _run(
        self, group: list[_Pending], relaxed: bool, *, savepoints: bool
    ) -> list[tuple[bool, Any]]:
        """One transaction for ``group``: each write's (ok, result or exception)."""
        try:
            return self._transaction(self._connection(), group, relaxed, savepoints)
        except _PartialWrite:
            raise  # rolled back; the connection is fine
        except BaseException:
            self.release()  # BEGIN, COMMIT or a lone write failed: next group, fresh connection
            raise

    def _transaction(
        self, conn: sa.Connection, group: list[_Pending], relaxed: bool, savepoints: bool
    ) -> list[tuple[bool, Any]]:
        outcomes: list[tuple[bool, Any]] = []
        with _synchronous(conn, relaxed), conn.begin():
            if len(group) == 1:
                return [(True, group[0][0](conn))]
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            at = 0
            while at < len(group):
                end = at if savepoints else _batch_end(group, at)
                if end - at > 1:
                    outcomes += self._batch(conn, dbapi, group[at:end])
                    at = end
                    continue
                outcomes.append(_one(conn, dbapi, group[at][0], savepoints))
                at += 1
        return outcomes

    @staticmethod
    def _batch(conn: sa.Connection, dbapi: Any, run: list[_Pending]) -> list[tuple[bool, Any]]:
        """A run of writes with the same batch runner: one call of the runner, then each write
        it left (None) on its own."""
        runner = cast("Batch", run[0][4]).runner
        before = dbapi.total_changes
        try:
            done = runner(conn, [cast("Batch", pending[4]).item for pending in run])
        except Exception as exc:
            if dbapi.total_changes != before or not dbapi.in_transaction:
                raise _PartialWrite() from exc
            done = [None] * len(run)
        return [
            outcome if outcome is not None else _one(conn, dbapi, pending[0], False)
            for pending, outcome in zip(run, done, strict=True)
        ]


def _batch_end(group: list[_Pending], at: int) -> int:
    """The end of the batch run starting at ``at`` (``at`` itself when there is none): the
    consecutive writes with the same runner and distinct keys."""
    first = group[at][4]
    if first is None:
        return at
    keys = {first.key}
    end = at + 1
    while end < len(group):
        batch = group[end][4]
        if batch is None or batch.runner is not first.runner or batch.key in keys:
            break
        keys.add(batch.key)
        end += 1
    return end


def _one(
    conn: sa.Connection, dbapi: Any, fn: Callable[[sa.Connection], Any], savepoints: bool
) -> tuple[bool, Any]:
    """One write of a group: its (ok, result or exception); :class:`_PartialWrite` when it
    raised after it changed rows (without a savepoint around it)."""
    if savepoints:
        # straight on the driver: SQLAlchemy compiles a new SAVEPOINT construct per call
        # (~0.1 ms each, two per write)
        dbapi.execute("SAVEPOINT ocpikit_write")
        try:
            result = fn(conn)
        except Exception as exc:
            dbapi.execute("ROLLBACK TO ocpikit_write")
            dbapi.execute("RELEASE ocpikit_write")
            return (False, exc)
        dbapi.execute("RELEASE ocpikit_write")
        return (True, result)
    before = dbapi.total_changes
    try:
        return (True, fn(conn))
    except Exception as exc:
        if dbapi.total_changes != before or not dbapi.in_transaction:
            raise _PartialWrite() from exc
        return (False, exc)


@dataclass(frozen=True, slots=True)
class Batch:
    """How a write may run with its neighbours in a group (:class:`_GroupCommit`):
    ``runner(conn, items)`` writes a run of them at once and gives, per item, ``(True,
    result)`` or None for a write it left to the write's own function (it must not raise after
    it changed rows unless a retry of the whole group with savepoints is acceptable, as for
    any write). ``key`` identifies what the write changes: a run holds each key once."""

    runner: Callable[[sa.Connection, list[Any]], list[tuple[bool, Any] | None]]
    item: Any
    key: Hashable


class _PartialWrite(Exception):
    """A write of a group raised after it had changed rows (only a savepoint can undo it)."""


_Pending = tuple[
    Callable[[sa.Connection], Any],
    "asyncio.Future[Any]",
    asyncio.AbstractEventLoop,
    bool,
    Batch | None,
]


@contextlib.contextmanager
def _synchronous(conn: sa.Connection, relaxed: bool) -> Iterator[None]:
    """``synchronous=NORMAL`` for one transaction of non-durable writes, then FULL again."""
    if not relaxed:
        yield
        return
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    dbapi.execute("PRAGMA synchronous=NORMAL")
    try:
        yield
    finally:
        dbapi.execute("PRAGMA synchronous=FULL")


def _settle_all(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():  # the caller was cancelled; the write itself stands
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class _Db:
    def __init__(self, engines: Engines, clock: Clock) -> None:
        self.engines = engines
        self.clock = clock
        self.dialect = engines.read.dialect.name
        self._read_pool = ThreadPoolExecutor(engines.pool_size, thread_name_prefix="ocpikit-db")
        self._write_pool = (
            ThreadPoolExecutor(1, thread_name_prefix="ocpikit-db-write")
            if engines.single_writer
            else self._read_pool
        )
        self._local = threading.local()  # each thread's inline reader connection
        self._group = (
            _GroupCommit(engines.write, self._write_pool, full=engines.durable)
            if engines.single_writer
            else None
        )

    @staticmethod
    def _run(engine: sa.Engine, fn: Callable[[sa.Connection], T]) -> T:
        with engine.begin() as conn:
            return fn(conn)

    async def read(self, fn: Callable[[sa.Connection], T], *, scan: bool = False) -> T:
        """Run ``fn`` in a read transaction.

        SQLite: on the calling thread with that thread's own reader connection. A bounded
        read (a page, a lookup) costs 50-200 µs in SQLite's C code; handing it to a thread and
        back costs more than that in GIL hand-offs and wake-ups under load (measured: a page of
        100 locations took 0.22 ms inline and 0.54 ms through the pool). ``scan=True`` marks
        reads that walk a whole table (reconciliation, exports), which keep to the pool so the
        event loop is not blocked. PostgreSQL: always the pool (a network round trip)."""
        inline = self.engines.inline
        if inline is not None and not scan:
            conn = getattr(self._local, "conn", None)
            if conn is None or conn.closed or conn.invalidated:
                conn = self._local.conn = inline.connect()
            with conn.begin():
                return fn(conn)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._read_pool, functools.partial(self._run, self.engines.read, fn)
        )

    def read_quick(self, fn: Callable[[Any], T | None]) -> T | None:
        """SQLite: ``fn(cursor)`` on this thread's reader connection outside any transaction
        (each statement reads its own snapshot), for a lookup that is one statement or gives
        up (None); None without an inline reader (PostgreSQL). Saves the BEGIN and COMMIT,
        a tenth of a page served from the listing cache."""
        inline = self.engines.inline
        if inline is None:
            return None
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = inline.connect()
        if conn.in_transaction():
            return None
        cur = _cursor(conn)
        try:
            return fn(cur)
        finally:
            cur.close()

    async def write(
        self,
        fn: Callable[[sa.Connection], T],
        *,
        durable: bool = True,
        batch: Batch | None = None,
    ) -> T:
        """Run ``fn`` in a write transaction; on SQLite in the next group commit, where
        ``batch`` lets it run with its neighbours (:class:`_GroupCommit`)."""
        if self._group is not None:
            return await self._group.submit(fn, durable=durable, batch=batch)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._write_pool, functools.partial(self._run, self.engines.write, fn)
        )

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT (both have ``on_conflict_do_update`` and ``excluded``)."""
        if self.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
        if self._group is not None:
            with contextlib.suppress(RuntimeError):  # the pool was shut down already
                self._write_pool.submit(self._group.release).result()
        self._read_pool.shutdown(wait=True)
        if self._write_pool is not self._read_pool:
            self._write_pool.shutdown(wait=True)
        self.engines.dispose()


def _text(raw: bytes | None) -> str | None:
    return raw.decode() if raw is not None else None


def _bytes(text: str | None) -> bytes | None:
    return text.encode() if text is not None else None


# --- objects ---------------------------------------------------------------------------------

_KEY_COLS = (objects.c.kind, objects.c.cc_key, objects.c.pid_key, objects.c.id_key)
_OBJ_COLS = (
    objects.c.seq,
    objects.c.kind,
    objects.c.country_code,
    objects.c.party_id,
    objects.c.object_id,
    objects.c.owner,
    objects.c.last_updated,
    objects.c.revision,
    sa.cast(objects.c.document, sa.Text).label("document"),
)


def _key_where(key: ObjectKey) -> list[sa.ColumnElement[bool]]:
    return [col == part for col, part in zip(_KEY_COLS, key.norm, strict=True)]


def _row_to_object(row: sa.Row[Any], wire: bytes | None = None) -> StoredObject:
    return StoredObject(
        key=ObjectKey(row.kind, row.country_code, row.party_id, row.object_id),
        owner=row.owner,
        raw=row.document.encode(),
        last_updated=row.last_updated,
        seq=row.seq,
        revision=row.revision,
        wire=wire,
    )


def _enqueue(
    db: _Db,
    conn: sa.Connection,
    partner_id: str,
    key: ObjectKey,
    operation: OutboxOperation,
    payload: str | None,
    revision: int,
) -> None:
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


def _bump_count(db: _Db, conn: sa.Connection, kind: str, owner: str | None, delta: int) -> None:
    ins = db.insert(object_counts).values(kind=kind, owner_key=owner or "", n=delta)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[object_counts.c.kind, object_counts.c.owner_key],
            set_={"n": object_counts.c.n + delta},
        )
    )


def _cursor(conn: sa.Connection) -> Any:
    """The driver's cursor on the transaction's connection (SQLite fast paths)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


_SQLITE_TIME = UtcDateTime()
_SQLITE_DIALECT = sqlite.dialect()


def _sqlite_time(value: datetime) -> str:
    """How :class:`~ocpikit.storage.sql.schema.UtcDateTime` stores ``value`` in SQLite."""
    if value.tzinfo is not UTC:
        text: str = _SQLITE_TIME.process_bind_param(value, _SQLITE_DIALECT)
        return text
    return sqlite_time_text(value)


_SQLITE_OWNER = (
    "SELECT owner FROM ocpi_objects WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ?"
)
#: ``chg``: one more than the kind's highest (an index seek; writers are serialized)
_SQLITE_UPSERT_INTO = (
    "INSERT INTO ocpi_objects (kind, country_code, party_id, object_id, cc_key, pid_key, "
    "id_key, owner, last_updated, revision, document, chg) VALUES "
)
_SQLITE_UPSERT_ROW = (
    "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, "
    "(SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects WHERE kind = ?))"
)
_SQLITE_UPSERT_SET = (
    " ON CONFLICT (kind, cc_key, pid_key, id_key) DO UPDATE SET "
    "country_code = excluded.country_code, party_id = excluded.party_id, "
    "object_id = excluded.object_id, owner = excluded.owner, "
    "last_updated = excluded.last_updated, revision = ocpi_objects.revision + 1, "
    "document = excluded.document, chg = excluded.chg"
)
#: leaves an object of another owner alone (and returns no row for it)
_SQLITE_SAME_OWNER = " WHERE ocpi_objects.owner IS excluded.owner"
_SQLITE_UPSERT = (
    _SQLITE_UPSERT_INTO + _SQLITE_UPSERT_ROW + _SQLITE_UPSERT_SET + " RETURNING seq, revision"
)
_SQLITE_UPSERT_SAME_OWNER = (
    _SQLITE_UPSERT_INTO
    + _SQLITE_UPSERT_ROW
    + _SQLITE_UPSERT_SET
    + _SQLITE_SAME_OWNER
    + " RETURNING seq, revision"
)


@functools.cache
def _sqlite_upsert_rows(n: int) -> str:
    """:data:`_SQLITE_UPSERT_SAME_OWNER` for ``n`` objects at once, returning each row's key
    (RETURNING gives rows in no set order). ``n`` is a power of two (:func:`_power_parts`), so
    the driver's statement cache holds a few of these, not one per group size."""
    return (
        _SQLITE_UPSERT_INTO
        + ", ".join([_SQLITE_UPSERT_ROW] * n)
        + _SQLITE_UPSERT_SET
        + _SQLITE_SAME_OWNER
        + " RETURNING kind, cc_key, pid_key, id_key, seq, revision"
    )


#: the largest part of a batch run written by one statement (11 parameters per object)
_BATCH_PART_MAX = 64


def _power_parts(items: list[T]) -> Iterator[list[T]]:
    """``items`` in consecutive parts whose sizes are powers of two, largest first, at most
    :data:`_BATCH_PART_MAX` (13 objects: 8, 4, 1)."""
    at = 0
    while at < len(items):
        left = len(items) - at
        size = min(_BATCH_PART_MAX, 1 << (left.bit_length() - 1))
        yield items[at : at + size]
        at += size


#: ``patch(fields=...)``: the values merged into the document by SQLite's JSON1 (3.38+ has it
#: built in), the revision and ``chg`` moved as an upsert moves them
_SQLITE_JSON_PATCH = sqlite3.sqlite_version_info >= (3, 38)
#: the SET of a ``patch(fields=...)``, over the values sent (``patch``), the new indexed
#: timestamp (``stamp``) and the kind (``kind``): SQL for each, placeholders or columns
_SQLITE_PATCH_SET = (
    "UPDATE ocpi_objects SET document = json_patch(document, {patch}), "
    "last_updated = {stamp}, revision = revision + 1, "
    "chg = (SELECT coalesce(max(chg), 0) + 1 FROM ocpi_objects AS m WHERE m.kind = {kind}) "
)
#: what a ``patch(fields=...)`` statement returns of each object (:func:`_patched`)
_SQLITE_PATCHED = "seq, revision, country_code, party_id, object_id, owner, last_updated, document"
_SQLITE_PATCH_FIELDS = (
    _SQLITE_PATCH_SET.format(patch="?", stamp="?", kind="?")
    + "WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ? RETURNING "
    + _SQLITE_PATCHED
)
_SQLITE_PATCH_FIELDS_OWNER = _SQLITE_PATCH_FIELDS.replace(" RETURNING", " AND owner IS ? RETURNING")


@functools.cache
def _sqlite_patch_rows(n: int) -> str:
    """:data:`_SQLITE_PATCH_FIELDS_OWNER` for ``n`` objects at once (an UPDATE joined with
    their rows of parameters, each in :data:`_SQLITE_PATCH_FIELDS_OWNER`'s order), returning
    each row's key first; ``n`` a power of two as in :func:`_sqlite_upsert_rows`."""
    rows = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * n)
    return (
        _SQLITE_PATCH_SET.format(patch="p.column1", stamp="p.column2", kind="p.column3")
        + f"FROM (VALUES {rows}) AS p "
        "WHERE ocpi_objects.kind = p.column4 AND ocpi_objects.cc_key = p.column5 "
        "AND ocpi_objects.pid_key = p.column6 AND ocpi_objects.id_key = p.column7 "
        "AND ocpi_objects.owner IS p.column8 "
        "RETURNING kind, cc_key, pid_key, id_key, " + _SQLITE_PATCHED
    )


_SQLITE_COUNT = (
    "INSERT INTO ocpi_object_counts (kind, owner_key, n) VALUES (?, ?, ?) "
    "ON CONFLICT (kind, owner_key) DO UPDATE SET n = ocpi_object_counts.n + excluded.n"
)
_SQLITE_ORDER = (
    "INSERT INTO ocpi_object_order (kind, epoch) VALUES (?, 1) "
    "ON CONFLICT (kind) DO UPDATE SET epoch = ocpi_object_order.epoch + 1"
)
_SQLITE_GET = (
    "SELECT seq, kind, country_code, party_id, object_id, owner, last_updated, revision, "
    "CAST(document AS BLOB) FROM ocpi_objects "
    "WHERE kind = ? AND cc_key = ? AND pid_key = ? AND id_key = ?"
)


def _sqlite_object_values(
    key: ObjectKey, raw: str, last_updated: datetime, owner: str | None
) -> tuple[Any, ...]:
    """The parameters of :data:`_SQLITE_UPSERT_ROW` for one object."""
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
        _sqlite_time(last_updated),
        raw,
        key.kind,
    )


_PutItem = tuple[ObjectKey, tuple[Any, ...], str, datetime, "str | None"]
"""An object PUT in a batch: key, upsert parameters, document, last_updated, owner."""


def _sqlite_put_rows(conn: sa.Connection, items: list[_PutItem]) -> list[tuple[bool, Any] | None]:
    """A run of object PUTs of one group (:class:`Batch`) as multi-row upserts: what
    :meth:`SqlObjects._sqlite_write` does for each, in a statement per part of the run
    (:func:`_power_parts`) and one count update per kind and owner for the objects created.
    An object that exists under another owner is left to its own write (it moves owner)."""
    out: list[tuple[bool, Any] | None] = []
    created: collections.Counter[tuple[str, str]] = collections.Counter()
    cur = _cursor(conn)
    try:
        for part in _power_parts(items):
            params = [value for item in part for value in item[1]]
            written = {
                (kind, cc, pid, oid): (seq, revision)
                for kind, cc, pid, oid, seq, revision in cur.execute(
                    _sqlite_upsert_rows(len(part)), params
                ).fetchall()
            }
            for key, _values, raw, last_updated, owner in part:
                row = written.get(key.norm)
                if row is None:
                    out.append(None)
                    continue
                seq, revision = row
                if revision == 1:
                    created[(key.kind, owner or "")] += 1
                stored = StoredObject(
                    key=key,
                    owner=owner,
                    raw=raw.encode(),
                    last_updated=last_updated,
                    seq=seq,
                    revision=revision,
                )
                out.append((True, stored))
        for (kind, owner_key), n in created.items():
            cur.execute(_SQLITE_COUNT, (kind, owner_key, n))
    finally:
        cur.close()
    return out


def _patched(kind: str, row: Sequence[Any]) -> StoredObject:
    """The object a ``patch(fields=...)`` statement returned: ``seq, revision, country_code,
    party_id, object_id, owner, last_updated, document``."""
    seq, revision, cc, pid, oid, owner, stamp, raw = row
    return StoredObject(
        key=ObjectKey(kind, cc, pid, oid),
        owner=owner,
        raw=raw.encode(),
        last_updated=datetime.fromisoformat(stamp),
        seq=seq,
        revision=revision,
    )


def _sqlite_patch_run(
    conn: sa.Connection, items: list[tuple[Any, ...]]
) -> list[tuple[bool, Any] | None]:
    """A run of ``patch(fields=...)`` of one group (:class:`Batch`; each item the parameters
    of :data:`_SQLITE_PATCH_FIELDS_OWNER`) in a statement per part of the run. An object not
    found under that owner is left to its own write (which answers None)."""
    out: list[tuple[bool, Any] | None] = []
    cur = _cursor(conn)
    try:
        for part in _power_parts(items):
            params = [value for item in part for value in item]
            written = {
                tuple(row[:4]): row[4:]
                for row in cur.execute(_sqlite_patch_rows(len(part)), params).fetchall()
            }
            for item in part:
                row = written.get(item[3:7])
                out.append(None if row is None else (True, _patched(item[2], row)))
    finally:
        cur.close()
    return out


def _sqlite_get(conn: sa.Connection, key: ObjectKey, version: str | None) -> StoredObject | None:
    cur = _cursor(conn)
    try:
        row = cur.execute(_SQLITE_GET, key.norm).fetchone()
        if row is None:
            return None
        seq, kind, cc, pid, oid, owner, stamp, revision, raw = row
        wire = None
        if version is not None:
            hit = cur.execute(
                "SELECT body FROM ocpi_object_wire "
                "WHERE object_seq = ? AND version = ? AND revision = ?",
                (seq, version, revision),
            ).fetchone()
            wire = hit[0] if hit is not None else None
    finally:
        cur.close()
    return StoredObject(
        key=ObjectKey(kind, cc, pid, oid),
        owner=owner,
        raw=raw,
        last_updated=datetime.fromisoformat(stamp),
        seq=seq,
        revision=revision,
        wire=wire,
    )


def _bump_order(db: _Db, conn: sa.Connection, kind: str) -> None:
    """An object of ``kind`` left its place in creation order: position maps are void."""
    ins = db.insert(object_order).values(kind=kind, epoch=1)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[object_order.c.kind], set_={"epoch": object_order.c.epoch + 1}
        )
    )


#: a listing's positions are refreshed row by row while at most this share of them changed
#: (``chg > g`` through its index); beyond it, re-read whole (one walk of the covering index)
_REFRESH_SHARE = 8

#: positions per eviction block of the wire cache (one LRU entry per block and version)
_BLOCK = 128

_LISTING_STATE = (
    "SELECT (SELECT epoch FROM ocpi_object_order WHERE kind = ?), "
    "(SELECT max(chg) FROM ocpi_objects INDEXED BY ix_ocpi_objects_chg WHERE kind = ?)"
)


def _sqlite_page_rows(
    cur: Any, cond: str, args: list[Any], start: int, skip: int, limit: int, version: str | None
) -> list[tuple[int, bytes | None]]:
    """``limit`` rows of a listing from position ``skip`` after seq ``start``: (seq, body),
    the body from the wire cache of ``version`` (None where it is not cached) or the head
    document when ``version`` is None. The OFFSET walk runs over the covering index only."""
    keys = (
        f"SELECT seq, revision FROM ocpi_objects WHERE {cond} AND seq >= ? "
        "ORDER BY seq LIMIT ? OFFSET ?"
    )
    key_args = [*args, start, limit, skip]
    if version is None:
        # the documents straight from the index walk (SQLite skips the OFFSET rows before it
        # reads their columns): 20 % faster than joining the keys back to the table
        rows: list[tuple[int, bytes | None]] = cur.execute(
            f"SELECT seq, CAST(document AS BLOB) FROM ocpi_objects WHERE {cond} AND seq >= ? "
            "ORDER BY seq LIMIT ? OFFSET ?",
            key_args,
        ).fetchall()
        return rows
    rows = cur.execute(
        f"SELECT p.seq, w.body FROM ({keys}) AS p LEFT JOIN ocpi_object_wire AS w "
        "ON w.object_seq = p.seq AND w.version = ? AND w.revision = p.revision "
        "ORDER BY p.seq",
        [*key_args, version],
    ).fetchall()
    return rows


#: default budget of the in-process wire bytes cache of SQLite pages (``SqlStorage``)
WIRE_CACHE_BYTES = 256 * 1024 * 1024

#: seqs per ``IN (...)`` of a cache fill (below SQLite's oldest bound-parameter limit, 999)
_FILL_CHUNK = 500

_Shape = tuple[str, str, str, str]
"""A listing: kind, owner filter (repr), cc_key, pid_key ("" for no filter)."""


class _Listing:
    """One listing's objects in creation order as of the kind's ``epoch`` and ``gen``
    (``max(chg)``): ``seqs`` ascending, ``revs`` their revisions, and per version (``""`` for
    head documents) the wire bytes by position where cached (None elsewhere). Position ``i``
    holds ``seqs[i]`` for as long as the epoch stands: objects are only created at the end of
    creation order, and leaving it (a delete, a move to another owner) bumps the epoch."""

    __slots__ = ("bodies", "epoch", "gen", "revs", "seqs")

    def __init__(self, epoch: int, gen: int, seqs: list[int], revs: list[int]) -> None:
        self.epoch = epoch
        self.gen = gen
        self.seqs = seqs
        self.revs = revs
        self.bodies: dict[str, list[bytes | None]] = {}


class _WireCache:
    """The listings' positions and their items' wire bytes, for SQLite pages without a date
    window (docs/storage.md, "Listing cache"). A page whose listing has not changed since it
    was last seen costs one query (the kind's epoch and ``max(chg)``), a list slice and a
    join, whatever its offset: no OFFSET walk, no per-item lookup, no document read.

    The positions are refreshed when the kind's ``max(chg)`` moved (the rows with a higher
    ``chg``: an update's new revision drops that position's bytes, creations are appended) and
    re-read when its epoch moved. That holds across processes: every write sets ``chg`` in the
    same SQLite transaction. Readers of the same transaction see the same epoch and ``gen`` as
    the listing they use; a reader older than the listing serves the page from SQLite.

    The bytes are bounded by ``budget`` (the sum of their lengths; 0 keeps none), evicted by
    blocks of ``_BLOCK`` positions, least recently served first. The positions (two ints per
    object of a listing served) are not counted. ``hits``/``misses`` count page items,
    ``refreshes``/``rereads`` the listings brought up to date row by row or read whole."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.refreshes = 0
        self.rereads = 0
        self._count = 0
        self._lock = threading.Lock()
        self._listings: dict[_Shape, _Listing] = {}
        #: (shape, version, block) -> [bytes, items], least recently served first
        self._blocks: collections.OrderedDict[tuple[_Shape, str, int], list[int]] = (
            collections.OrderedDict()
        )

    def __len__(self) -> int:
        """Items whose bytes are held."""
        return self._count

    def listing(
        self, cur: Any, shape: _Shape, cond: str, args: list[Any], epoch: int, gen: int
    ) -> _Listing | None:
        """The listing as of ``epoch``/``gen`` (this transaction's), refreshed or read from
        ``cur`` if it is older; None when the one held is newer than this transaction."""
        with self._lock:
            held = self._listings.get(shape)
            if held is None:
                seen = None
            elif held.epoch == epoch and held.gen == gen:
                return held
            else:
                seen = (held.epoch, held.gen)
        if seen is not None and seen > (epoch, gen):
            return None
        changed: list[tuple[int, int]] | None = None
        if held is not None and seen is not None and seen[0] == epoch:
            changed = cur.execute(
                f"SELECT seq, revision FROM ocpi_objects INDEXED BY ix_ocpi_objects_chg "
                f"WHERE {cond} AND chg > ? ORDER BY seq",
                [*args, seen[1]],
            ).fetchall()
            if len(changed) > max(_BLOCK, len(held.seqs) // _REFRESH_SHARE):
                changed = None
        fresh = _Listing(epoch, gen, *_read_positions(cur, cond, args)) if changed is None else None
        with self._lock:
            now = self._listings.get(shape)
            if now is not held or (held is not None and (held.epoch, held.gen) != seen):
                # another thread refreshed it meanwhile: usable only if it is at ours
                if now is not None and now.epoch == epoch and now.gen == gen:
                    return now
                return None
            if held is not None and changed is not None:
                if self._apply(shape, held, changed):
                    held.gen = gen
                    self.refreshes += 1
                    return held
                fresh = _Listing(epoch, gen, *_read_positions(cur, cond, args))
            assert fresh is not None
            self.rereads += 1
            if held is not None:
                self._drop(shape, held)
            self._listings[shape] = fresh
            return fresh

    def _apply(self, shape: _Shape, held: _Listing, changed: list[tuple[int, int]]) -> bool:
        """Apply the rows changed since ``held.gen`` (in seq order); False if one is neither
        a known position nor past the end (cannot happen within an epoch: re-read)."""
        seqs, revs = held.seqs, held.revs
        last = seqs[-1] if seqs else 0
        for seq, revision in changed:
            if seq > last:
                seqs.append(seq)
                revs.append(revision)
                for bodies in held.bodies.values():
                    bodies.append(None)
                last = seq
                continue
            at = bisect.bisect_left(seqs, seq)
            if at == len(seqs) or seqs[at] != seq:
                return False
            if revs[at] != revision:
                revs[at] = revision
                for version, bodies in held.bodies.items():
                    old = bodies[at]
                    if old is not None:
                        bodies[at] = None
                        self._forget(shape, version, at, len(old))
        return True

    def _forget(self, shape: _Shape, version: str, at: int, length: int) -> None:
        block = (shape, version, at // _BLOCK)
        held = self._blocks[block]
        held[0] -= length
        held[1] -= 1
        if held[1] == 0:
            del self._blocks[block]
        self.size -= length
        self._count -= 1

    def _drop(self, shape: _Shape, listing: _Listing) -> None:
        for version, bodies in listing.bodies.items():
            for b in range(0, len(bodies), _BLOCK):
                held = self._blocks.pop((shape, version, b // _BLOCK), None)
                if held is not None:
                    self.size -= held[0]
                    self._count -= held[1]
        listing.bodies.clear()

    def quick(
        self, shape: _Shape, epoch: int, gen: int, offset: int, limit: int, version: str | None
    ) -> tuple[int, list[bytes]] | None:
        """The total and the page's bytes when the listing held is at ``epoch``/``gen`` and
        holds every item of the page, else None."""
        with self._lock:
            listing = self._listings.get(shape)
            if listing is None or listing.epoch != epoch or listing.gen != gen:
                return None
            total = len(listing.seqs)
            if offset >= total or limit == 0:
                return total, []
            v = version or ""
            bodies = listing.bodies.get(v)
            if bodies is None:
                return None
            end = min(offset + limit, total)
            part = bodies[offset:end]
            if None in part:
                return None
            self._touch(shape, v, offset, end)
            self.hits += len(part)
            return total, cast("list[bytes]", part)

    def _touch(self, shape: _Shape, version: str, offset: int, end: int) -> None:
        blocks = self._blocks
        for b in range(offset // _BLOCK, (end - 1) // _BLOCK + 1):
            blocks.move_to_end((shape, version, b))

    def page(
        self,
        cur: Any,
        shape: _Shape,
        listing: _Listing,
        epoch: int,
        gen: int,
        offset: int,
        limit: int,
        version: str | None,
    ) -> list[bytes | None] | None:
        """The bytes at positions ``offset`` to ``offset + limit`` of ``listing`` as
        :meth:`listing` returned it: held ones, the others read from ``cur`` (in the caller's
        transaction) and kept. A version's rows without wire bytes for that revision stay
        None, unkept. None if another thread has refreshed the listing since."""
        v = version or ""
        end = min(offset + limit, len(listing.seqs))
        with self._lock:
            if (
                self._listings.get(shape) is not listing
                or listing.gen != gen
                or listing.epoch != epoch
            ):
                return None
            bodies = listing.bodies.get(v)
            if bodies is None:
                bodies = listing.bodies[v] = [None] * len(listing.seqs)
            part = bodies[offset:end]
            if None not in part:
                self._touch(shape, v, offset, end)
                self.hits += len(part)
                return part
            seqs = listing.seqs[offset:end]
            wanted = {
                seq: listing.revs[offset + i]
                for i, (seq, body) in enumerate(zip(seqs, part, strict=True))
                if body is None
            }
            self.hits += len(part) - len(wanted)
            self.misses += len(wanted)
        fetched = _sqlite_fetch_bodies(cur, wanted, version)
        with self._lock:
            current = self._listings.get(shape) is listing
            if current and listing.gen == gen and listing.epoch == epoch and self.budget:
                self._keep(shape, listing, v, offset, seqs, fetched)
        return [
            fetched.get(seq) if body is None else body for seq, body in zip(seqs, part, strict=True)
        ]

    def _keep(
        self,
        shape: _Shape,
        listing: _Listing,
        version: str,
        offset: int,
        seqs: list[int],
        fetched: dict[int, bytes],
    ) -> None:
        bodies = listing.bodies[version]
        blocks = self._blocks
        for i, seq in enumerate(seqs):
            body = fetched.get(seq)
            at = offset + i
            if body is None or bodies[at] is not None or len(body) > self.budget:
                continue
            bodies[at] = body
            key = (shape, version, at // _BLOCK)
            held = blocks.get(key)
            if held is None:
                held = blocks[key] = [0, 0]
            else:
                blocks.move_to_end(key)
            held[0] += len(body)
            held[1] += 1
            self.size += len(body)
            self._count += 1
        while self.size > self.budget:
            (shape_, version_, b), (length, items) = blocks.popitem(last=False)
            self.size -= length
            self._count -= items
            evicted = self._listings[shape_].bodies[version_]
            start = b * _BLOCK
            evicted[start : start + _BLOCK] = [None] * len(evicted[start : start + _BLOCK])


def _read_positions(cur: Any, cond: str, args: list[Any]) -> tuple[list[int], list[int]]:
    rows = cur.execute(
        f"SELECT seq, revision FROM ocpi_objects WHERE {cond} ORDER BY seq", args
    ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]


def _sqlite_fetch_bodies(
    cur: Any, revisions: dict[int, int], version: str | None
) -> dict[int, bytes]:
    """The head documents (``version`` None) or the ``version`` wire bytes of the objects
    ``revisions`` maps (seq -> revision), where those are of that revision."""
    found: dict[int, bytes] = {}
    wanted = list(revisions)
    for at in range(0, len(wanted), _FILL_CHUNK):
        part = wanted[at : at + _FILL_CHUNK]
        marks = ",".join("?" * len(part))
        if version is None:
            rows = cur.execute(
                "SELECT seq, revision, CAST(document AS BLOB) FROM ocpi_objects "
                f"WHERE seq IN ({marks})",
                part,
            )
        else:
            rows = cur.execute(
                "SELECT object_seq, revision, body FROM ocpi_object_wire "
                f"WHERE version = ? AND object_seq IN ({marks})",
                [version, *part],
            )
        for seq, revision, body in rows:
            if revisions[seq] == revision:
                found[seq] = body
    return found


def _wire_page(
    conn: sa.Connection,
    rows: list[tuple[int, bytes | None]],
    total: int,
    offset: int,
    limit: int,
) -> WirePage:
    """A page of wire bytes; rows missing from the wire cache are read as stored objects."""
    missing = [seq for seq, body in rows if body is None]
    items: list[bytes | StoredObject] = [body for _seq, body in rows if body is not None]
    if missing:
        found = {
            r.seq: _row_to_object(r)
            for r in conn.execute(sa.select(*_OBJ_COLS).where(objects.c.seq.in_(missing)))
        }
        items = [found[seq] if body is None else body for (seq, body) in rows]
    return WirePage(items=items, total=total, offset=offset, limit=limit)


class SqlObjects:
    def __init__(self, db: _Db, *, wire_cache_bytes: int = WIRE_CACHE_BYTES) -> None:
        """``wire_cache_bytes``: budget of the in-process cache of SQLite page items (see
        :class:`_WireCache`); 0 keeps no bytes (the listings' positions are still kept)."""
        if wire_cache_bytes < 0:
            raise ValueError("wire_cache_bytes must not be negative")
        self._db = db
        self._listings = _WireCache(wire_cache_bytes) if db.dialect == "sqlite" else None

    @property
    def wire_cache(self) -> _WireCache | None:
        """The page items' cache (SQLite with a budget), else None."""
        cache = self._listings
        return cache if cache is not None and cache.budget else None

    def _write(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        raw: str,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str],
    ) -> StoredObject:
        if self._db.dialect == "sqlite":
            return self._sqlite_write(conn, key, raw, last_updated, owner, push_to)
        before = sa.select(objects.c.owner).where(*_key_where(key))
        if self._db.dialect == "postgresql":
            before = before.with_for_update()
        old = conn.execute(before).one_or_none()
        ins = self._db.insert(objects).values(
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
            index_elements=list(_KEY_COLS),
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
            _bump_count(self._db, conn, key.kind, owner, 1)
        else:
            conn.execute(sa.delete(object_wire).where(object_wire.c.object_seq == seq))
            if old is not None and old.owner != owner:
                _bump_count(self._db, conn, key.kind, old.owner, -1)
                _bump_count(self._db, conn, key.kind, owner, 1)
                _bump_order(self._db, conn, key.kind)
        for partner_id in push_to:
            _enqueue(self._db, conn, partner_id, key, OutboxOperation.PUT, raw, revision)
        return StoredObject(
            key=key,
            owner=owner,
            raw=raw.encode(),
            last_updated=last_updated,
            seq=seq,
            revision=revision,
        )

    def _sqlite_write(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        raw: str,
        last_updated: datetime,
        owner: str | None,
        push_to: Sequence[str],
        values: tuple[Any, ...] | None = None,
    ) -> StoredObject:
        """:meth:`_write` on SQLite, as SQL text on the driver's cursor: the same statements,
        without building and cache-keying SQLAlchemy constructs per write (that was 1.5 ms of
        a 1.8 ms write; the statements themselves take 0.1 ms). ``values``: the upsert's
        parameters when the caller has them (:func:`_sqlite_object_values`)."""
        kind, cc, pid, oid = key.norm
        if values is None:
            values = _sqlite_object_values(key, raw, last_updated, owner)
        cur = _cursor(conn)
        try:
            # one statement for a creation or an update under the same owner (each statement
            # is a GIL hand-off between this writer thread and the event loop's); the stale
            # wire bytes of an update stay until the next store_wire of that version replaces
            # them: every read matches the revision
            row = cur.execute(_SQLITE_UPSERT_SAME_OWNER, values).fetchone()
            if row is not None:
                seq, revision = row
                if revision == 1:
                    cur.execute(_SQLITE_COUNT, (key.kind, owner or "", 1))
            else:  # the object exists under another owner: it moves to ``owner``
                (old,) = cur.execute(_SQLITE_OWNER, (kind, cc, pid, oid)).fetchone()
                seq, revision = cur.execute(_SQLITE_UPSERT, values).fetchone()
                cur.execute(_SQLITE_COUNT, (key.kind, old or "", -1))
                cur.execute(_SQLITE_COUNT, (key.kind, owner or "", 1))
                cur.execute(_SQLITE_ORDER, (key.kind,))
        finally:
            cur.close()
        for partner_id in push_to:
            _enqueue(self._db, conn, partner_id, key, OutboxOperation.PUT, raw, revision)
        return StoredObject(
            key=key,
            owner=owner,
            raw=raw.encode(),
            last_updated=last_updated,
            seq=seq,
            revision=revision,
        )

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
        if self._db.dialect != "sqlite" or push_to:
            return await self._db.write(
                lambda conn: self._write(conn, key, raw, last_updated, owner, push_to)
            )
        # the parameters are built here, not on the writer thread (where every stretch of
        # Python waits for the event loop's GIL), and the write may share one statement with
        # the PUTs next to it in its group (_sqlite_put_rows)
        values = _sqlite_object_values(key, raw, last_updated, owner)
        return await self._db.write(
            lambda conn: self._sqlite_write(conn, key, raw, last_updated, owner, (), values),
            batch=Batch(_sqlite_put_rows, (key, values, raw, last_updated, owner), key.norm),
        )

    async def get(self, key: ObjectKey, *, version: str | None = None) -> StoredObject | None:
        if self._db.dialect == "sqlite":
            return await self._db.read(lambda conn: _sqlite_get(conn, key, version))

        def run(conn: sa.Connection) -> StoredObject | None:
            row = conn.execute(sa.select(*_OBJ_COLS).where(*_key_where(key))).one_or_none()
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
            return _row_to_object(row, wire)

        return await self._db.read(run)

    async def patch(
        self,
        key: ObjectKey,
        merge: Merge,
        *,
        push_to: Sequence[str] = (),
        owner: OwnerFilter = ANY_OWNER,
        fields: Mapping[str, Any] | None = None,
    ) -> StoredObject | None:
        if (
            fields is not None
            and self._db.dialect == "sqlite"
            and _SQLITE_JSON_PATCH
            and isinstance(fields.get("last_updated"), str)
        ):
            # the new values and the indexed timestamp are ready before the write: the writer
            # thread runs one statement and no Python merge (each statement and each stretch
            # of Python there is a GIL hand-off with the busy event loop thread)
            values = (
                orjson.dumps(fields).decode(),
                _sqlite_time(last_updated_of(fields)),
                key.kind,
                *key.norm,
            )
            batch = None
            if owner is not ANY_OWNER and not push_to:
                # it may share one statement with the PATCHes next to it in its group
                batch = Batch(_sqlite_patch_run, (*values, owner), key.norm)
            return await self._db.write(
                lambda conn: self._sqlite_patch_fields(conn, key, values, owner, push_to),
                batch=batch,
            )

        def run(conn: sa.Connection) -> StoredObject | None:
            current: StoredObject | None
            if self._db.dialect == "sqlite":
                current = _sqlite_get(conn, key, None)
            else:
                query = sa.select(*_OBJ_COLS).where(*_key_where(key)).with_for_update()
                row = conn.execute(query).one_or_none()
                current = _row_to_object(row) if row is not None else None
            if current is None or (owner is not ANY_OWNER and current.owner != owner):
                return None
            merged = merge(current.document)
            raw = orjson.dumps(merged).decode()
            return self._write(
                conn, current.key, raw, last_updated_of(merged), current.owner, push_to
            )

        return await self._db.write(run)

    def _sqlite_patch_fields(
        self,
        conn: sa.Connection,
        key: ObjectKey,
        values: tuple[Any, ...],
        owner: OwnerFilter,
        push_to: Sequence[str],
    ) -> StoredObject | None:
        """:meth:`patch` with ``fields`` on SQLite: one UPDATE merging them in with
        ``json_patch`` (RFC 7396: for top-level values that are neither null nor objects, the
        same document as ``{**document, **fields}`` serialized by orjson, key order included)."""
        cur = _cursor(conn)
        try:
            if owner is ANY_OWNER:
                row = cur.execute(_SQLITE_PATCH_FIELDS, values).fetchone()
            else:
                row = cur.execute(_SQLITE_PATCH_FIELDS_OWNER, (*values, owner)).fetchone()
        finally:
            cur.close()
        if row is None:
            return None
        stored = _patched(key.kind, row)
        for partner_id in push_to:
            _enqueue(self._db, conn, partner_id, stored.key, OutboxOperation.PUT, row[7], row[1])
        return stored

    async def delete(self, key: ObjectKey, *, push_to: Sequence[str] = ()) -> bool:
        def run(conn: sa.Connection) -> bool:
            row = conn.execute(
                sa.delete(objects)
                .where(*_key_where(key))
                .returning(objects.c.seq, objects.c.revision, objects.c.owner)
            ).one_or_none()
            if row is None:
                return False
            _bump_count(self._db, conn, key.kind, row.owner, -1)
            _bump_order(self._db, conn, key.kind)
            conn.execute(sa.delete(object_wire).where(object_wire.c.object_seq == row.seq))
            for partner_id in push_to:
                _enqueue(
                    self._db, conn, partner_id, key, OutboxOperation.DELETE, None, row.revision + 1
                )
            return True

        return await self._db.write(run)

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
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        where: list[sa.ColumnElement[bool]] = [objects.c.kind == kind]
        if owner is not ANY_OWNER:
            where.append(objects.c.owner.is_(None) if owner is None else objects.c.owner == owner)
        if date_from is not None:
            where.append(objects.c.last_updated >= date_from)
        if date_to is not None:
            where.append(objects.c.last_updated < date_to)
        if country_code is not None:
            where.append(objects.c.cc_key == ci_key(country_code))
        if party_id is not None:
            where.append(objects.c.pid_key == ci_key(party_id))

        # The page's keys come from the index alone (LIMIT/OFFSET walks index entries, not
        # rows); only the page's rows are then read.
        page_keys = (
            sa.select(objects.c.seq)
            .where(*where)
            .order_by(objects.c.seq)
            .limit(limit)
            .offset(offset)
            .subquery("page")
        )
        if version is None:
            query = sa.select(*_OBJ_COLS, sa.null().label("wire"))
        else:
            query = sa.select(*_OBJ_COLS, object_wire.c.body.label("wire"))
        joined = objects.join(page_keys, objects.c.seq == page_keys.c.seq)
        if version is not None:
            joined = joined.outerjoin(
                object_wire,
                sa.and_(
                    object_wire.c.object_seq == objects.c.seq,
                    object_wire.c.version == version,
                    object_wire.c.revision == objects.c.revision,
                ),
            )
        query = query.select_from(joined).order_by(objects.c.seq)
        filtered = not (
            date_from is None and date_to is None and country_code is None and party_id is None
        )
        if not filtered:
            # maintained by writes: one row instead of counting index entries
            counted = sa.select(sa.func.coalesce(sa.func.sum(object_counts.c.n), 0)).where(
                object_counts.c.kind == kind
            )
            if owner is not ANY_OWNER:
                counted = counted.where(object_counts.c.owner_key == (owner or ""))
            count: sa.Select[Any] = counted
        else:
            count = sa.select(sa.func.count()).select_from(objects).where(*where)

        def run(conn: sa.Connection) -> Page:
            rows = conn.execute(query).all()
            if 0 < len(rows) < limit or (offset == 0 and len(rows) < limit):
                total = offset + len(rows)  # the last page: no need to count
            else:
                total = conn.execute(count).scalar_one()
            items = [_row_to_object(row, row.wire) for row in rows]
            return Page(items=items, total=total, offset=offset, limit=limit)

        # a filtered listing counts its matches (O(matches)): off the event loop
        return await self._db.read(run, scan=filtered)

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
        if offset < 0 or limit < 0:
            raise ValueError("offset and limit must not be negative")
        if self._db.dialect != "sqlite" or date_from is not None or date_to is not None:
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
        cc = ci_key(country_code) if country_code is not None else None
        pid = ci_key(party_id) if party_id is not None else None
        cache = self._listings
        assert cache is not None
        shape: _Shape = (kind, repr(owner), cc or "", pid or "")

        def quick(cur: Any) -> WirePage | None:
            # one statement, its own snapshot: no transaction to begin and end when the
            # listing held is current and holds the whole page (the common case)
            epoch, gen = cur.execute(_LISTING_STATE, (kind, kind)).fetchone()
            found = cache.quick(shape, int(epoch or 0), int(gen or 0), offset, limit, version)
            if found is None:
                return None
            total, part = found
            items = cast("list[bytes | StoredObject]", part)
            return WirePage(items=items, total=total, offset=offset, limit=limit, wire=True)

        served = self._db.read_quick(quick)
        if served is not None:
            return served
        return await self._db.read(
            lambda conn: self._sqlite_wire_page(conn, kind, offset, limit, owner, cc, pid, version)
        )

    def _sqlite_wire_page(
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
        """A page from the listing cache (SQLite, no date window): one query for the kind's
        epoch and ``max(chg)``, then the listing's positions and held bytes, whatever the
        offset (see :class:`_WireCache`)."""
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
        cond = " AND ".join(where)
        shape: _Shape = (kind, repr(owner), cc or "", pid or "")
        cache = self._listings
        assert cache is not None
        cur = _cursor(conn)
        try:
            epoch, gen = cur.execute(_LISTING_STATE, (kind, kind)).fetchone()
            epoch, gen = int(epoch or 0), int(gen or 0)
            listing = cache.listing(cur, shape, cond, args, epoch, gen)
            bodies = None
            if listing is not None:
                total = len(listing.seqs)
                if offset >= total or limit == 0:
                    return WirePage(items=[], total=total, offset=offset, limit=limit)
                bodies = cache.page(cur, shape, listing, epoch, gen, offset, limit, version)
            if bodies is None:
                # this transaction is older than the listing another thread holds: from SQLite
                counted = cur.execute(f"SELECT count(*) FROM ocpi_objects WHERE {cond}", args)
                total = int(counted.fetchone()[0])
                rows = _sqlite_page_rows(cur, cond, args, 0, offset, limit, version)
                return _wire_page(conn, rows, total, offset, limit)
            if None not in bodies:
                items = cast("list[bytes | StoredObject]", bodies)
                return WirePage(items=items, total=total, offset=offset, limit=limit)
            assert listing is not None
            seqs = listing.seqs[offset : offset + limit]
            return _wire_page(conn, list(zip(seqs, bodies, strict=True)), total, offset, limit)
        finally:
            cur.close()

    async def store_wire(self, entries: Iterable[WireEntry]) -> None:
        params = [
            {
                "k": e.key.kind,
                "cc": e.key.norm[1],
                "pid": e.key.norm[2],
                "oid": e.key.norm[3],
                "rev": e.revision,
                "ver": e.version,
                "body": e.body,
            }
            for e in entries
        ]
        if not params:
            return
        source = sa.select(
            objects.c.seq,
            sa.bindparam("ver", type_=sa.String()),
            objects.c.revision,
            sa.bindparam("body", type_=sa.LargeBinary()),
        ).where(
            objects.c.kind == sa.bindparam("k"),
            objects.c.cc_key == sa.bindparam("cc"),
            objects.c.pid_key == sa.bindparam("pid"),
            objects.c.id_key == sa.bindparam("oid"),
            objects.c.revision == sa.bindparam("rev"),
        )
        ins = self._db.insert(object_wire).from_select(
            ["object_seq", "version", "revision", "body"], source
        )
        stmt = ins.on_conflict_do_update(
            index_elements=[object_wire.c.object_seq, object_wire.c.version],
            set_={"revision": ins.excluded.revision, "body": ins.excluded.body},
        )
        await self._db.write(lambda conn: conn.execute(stmt, params))


# --- partners and tokens ----------------------------------------------------------------------


def _issue(
    db: _Db,
    conn: sa.Connection,
    token: str,
    kind: TokenKind,
    partner_id: str | None,
    local_party: tuple[str, str] | None,
) -> CredentialsToken:
    record = CredentialsToken(
        digest=token_digest(token),
        kind=kind,
        partner_id=partner_id,
        local_party=local_party,
        hint=token[-4:],
        created_at=db.clock(),
    )
    values = {
        "digest": record.digest,
        "kind": record.kind.value,
        "partner_id": partner_id,
        "local_country_code": local_party[0] if local_party else None,
        "local_party_id": local_party[1] if local_party else None,
        "hint": record.hint,
        "created_at": record.created_at,
        "revoked_at": None,
    }
    ins = db.insert(credentials_tokens).values(**values)
    conn.execute(
        ins.on_conflict_do_update(
            index_elements=[credentials_tokens.c.digest],
            set_={k: v for k, v in values.items() if k != "digest"},
        )
    )
    return record


def _revoke(db: _Db, conn: sa.Connection, token: str) -> bool:
    result = conn.execute(
        sa.update(credentials_tokens)
        .where(
            credentials_tokens.c.digest == token_digest(token),
            credentials_tokens.c.revoked_at.is_(None),
        )
        .values(revoked_at=db.clock())
    )
    return result.rowcount > 0


def _row_to_partner(row: sa.Row[Any]) -> Partner:
    roles = tuple(
        PartyRole(
            role=r["role"],
            country_code=r["country_code"],
            party_id=r["party_id"],
            business_details=r.get("business_details"),
        )
        for r in orjson.loads(row.roles)
    )
    endpoints = tuple(
        Endpoint(identifier=e["identifier"], url=e["url"], role=e.get("role"))
        for e in orjson.loads(row.endpoints)
    )
    local = (
        (row.local_country_code, row.local_party_id)
        if row.local_country_code is not None and row.local_party_id is not None
        else None
    )
    return Partner(
        id=row.id,
        status=PartnerStatus(row.status),
        roles=roles,
        version=row.version,
        versions_url=row.versions_url,
        endpoints=endpoints,
        outbound_token=row.outbound_token,
        local_party=local,
        settings=orjson.loads(row.settings),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlPartners:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def save(
        self,
        partner: Partner,
        *,
        issue: Sequence[tuple[str, TokenKind]] = (),
        revoke: Sequence[str] = (),
    ) -> Partner:
        db = self._db

        def run(conn: sa.Connection) -> Partner:
            now = db.clock()
            values = {
                "id": partner.id,
                "status": partner.status.value,
                "version": partner.version,
                "versions_url": partner.versions_url,
                "roles": orjson.dumps(
                    [
                        {
                            "role": r.role,
                            "country_code": r.country_code,
                            "party_id": r.party_id,
                            "business_details": r.business_details,
                        }
                        for r in partner.roles
                    ]
                ).decode(),
                "endpoints": orjson.dumps(
                    [
                        {"identifier": e.identifier, "url": e.url, "role": e.role}
                        for e in partner.endpoints
                    ]
                ).decode(),
                "outbound_token": partner.outbound_token,
                "local_country_code": partner.local_party[0] if partner.local_party else None,
                "local_party_id": partner.local_party[1] if partner.local_party else None,
                "settings": orjson.dumps(dict(partner.settings)).decode(),
                "created_at": now,
                "updated_at": now,
            }
            ins = db.insert(partners).values(**values)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[partners.c.id],
                    set_={k: v for k, v in values.items() if k not in {"id", "created_at"}},
                )
            )
            conn.execute(
                sa.delete(partner_parties).where(partner_parties.c.partner_id == partner.id)
            )
            parties = {(r.role, ci_key(r.country_code), ci_key(r.party_id)) for r in partner.roles}
            if parties:
                conn.execute(
                    sa.insert(partner_parties),
                    [
                        {"partner_id": partner.id, "role": role, "cc_key": cc, "pid_key": pid}
                        for role, cc, pid in sorted(parties)
                    ],
                )
            for token, kind in issue:
                _issue(db, conn, token, kind, partner.id, partner.local_party)
            for token in revoke:
                _revoke(db, conn, token)
            row = conn.execute(sa.select(partners).where(partners.c.id == partner.id)).one()
            return _row_to_partner(row)

        return await db.write(run)

    async def get(self, partner_id: str) -> Partner | None:
        def run(conn: sa.Connection) -> Partner | None:
            row = conn.execute(sa.select(partners).where(partners.c.id == partner_id)).one_or_none()
            return _row_to_partner(row) if row is not None else None

        return await self._db.read(run)

    async def all(self, *, status: PartnerStatus | None = None) -> list[Partner]:
        query = sa.select(partners).order_by(partners.c.created_at, partners.c.id)
        if status is not None:
            query = query.where(partners.c.status == status.value)
        return await self._db.read(
            lambda conn: [_row_to_partner(row) for row in conn.execute(query)]
        )

    async def find_by_party(self, country_code: str, party_id: str) -> list[Partner]:
        ids = (
            sa.select(partner_parties.c.partner_id)
            .where(
                partner_parties.c.cc_key == ci_key(country_code),
                partner_parties.c.pid_key == ci_key(party_id),
            )
            .scalar_subquery()
        )
        query = (
            sa.select(partners)
            .where(partners.c.id.in_(ids))
            .order_by(partners.c.created_at, partners.c.id)
        )
        return await self._db.read(
            lambda conn: [_row_to_partner(row) for row in conn.execute(query)]
        )

    async def delete(self, partner_id: str) -> bool:
        def run(conn: sa.Connection) -> bool:
            # explicit, so correctness never depends on the FK cascade being enabled
            for table in (partner_parties, sync_marks, credentials_tokens, outbox):
                conn.execute(sa.delete(table).where(table.c.partner_id == partner_id))
            return conn.execute(sa.delete(partners).where(partners.c.id == partner_id)).rowcount > 0

        return await self._db.write(run)

    async def get_sync_mark(self, partner_id: str, module: str) -> datetime | None:
        query = sa.select(sync_marks.c.at).where(
            sync_marks.c.partner_id == partner_id, sync_marks.c.module == module
        )
        return await self._db.read(lambda conn: conn.execute(query).scalar_one_or_none())

    async def set_sync_mark(self, partner_id: str, module: str, at: datetime) -> None:
        ins = self._db.insert(sync_marks).values(partner_id=partner_id, module=module, at=at)
        stmt = ins.on_conflict_do_update(
            index_elements=[sync_marks.c.partner_id, sync_marks.c.module],
            set_={"at": ins.excluded.at},
        )
        await self._db.write(lambda conn: conn.execute(stmt))


def _row_to_token(row: sa.Row[Any]) -> CredentialsToken:
    local = (
        (row.local_country_code, row.local_party_id)
        if row.local_country_code is not None and row.local_party_id is not None
        else None
    )
    return CredentialsToken(
        digest=row.digest,
        kind=TokenKind(row.kind),
        partner_id=row.partner_id,
        local_party=local,
        hint=row.hint,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class SqlTokens:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def issue(
        self,
        token: str,
        kind: TokenKind,
        *,
        partner_id: str | None = None,
        local_party: tuple[str, str] | None = None,
    ) -> CredentialsToken:
        return await self._db.write(
            lambda conn: _issue(self._db, conn, token, kind, partner_id, local_party)
        )

    async def lookup(self, token: str) -> CredentialsToken | None:
        query = sa.select(credentials_tokens).where(
            credentials_tokens.c.digest == token_digest(token),
            credentials_tokens.c.revoked_at.is_(None),
        )

        def run(conn: sa.Connection) -> CredentialsToken | None:
            row = conn.execute(query).one_or_none()
            return _row_to_token(row) if row is not None else None

        return await self._db.read(run)

    async def revoke(self, token: str) -> bool:
        return await self._db.write(lambda conn: _revoke(self._db, conn, token))

    async def revoke_partner(self, partner_id: str, kind: TokenKind | None = None) -> int:
        where = [
            credentials_tokens.c.partner_id == partner_id,
            credentials_tokens.c.revoked_at.is_(None),
        ]
        if kind is not None:
            where.append(credentials_tokens.c.kind == kind.value)

        def run(conn: sa.Connection) -> int:
            stmt = sa.update(credentials_tokens).where(*where).values(revoked_at=self._db.clock())
            return conn.execute(stmt).rowcount

        return await self._db.write(run)


# --- exchange log -----------------------------------------------------------------------------


_LOG_COLUMNS = (
    "started_at",
    "direction",
    "partner_id",
    "method",
    "url",
    "status",
    "ocpi_status",
    "duration_ms",
    "request_id",
    "correlation_id",
    "request_headers",
    "request_body",
    "response_headers",
    "response_body",
    "error",
)
#: log rows per INSERT statement on SQLite (15 values each: below the 32,766 variables of
#: SQLite 3.32+, or the 999 of older builds)
_LOG_ROWS_PER_INSERT = 256 if sqlite3.sqlite_version_info >= (3, 32) else 999 // len(_LOG_COLUMNS)


@functools.lru_cache(maxsize=8)
def _sqlite_log_insert(rows: int) -> str:
    """One INSERT of ``rows`` log rows. One statement is one ``sqlite3_step``: the driver
    releases and takes back the GIL around every step, and with ``executemany`` (a step per
    row) that was two GIL hand-offs per logged request against the busy event loop thread."""
    one = f"({', '.join('?' for _ in _LOG_COLUMNS)})"
    return f"INSERT INTO exchange_log ({', '.join(_LOG_COLUMNS)}) VALUES " + ", ".join([one] * rows)


def _sqlite_log_rows(conn: sa.Connection, values: list[tuple[Any, ...]]) -> None:
    cur = _cursor(conn)
    try:
        for at in range(0, len(values), _LOG_ROWS_PER_INSERT):
            part = values[at : at + _LOG_ROWS_PER_INSERT]
            cur.execute(_sqlite_log_insert(len(part)), [v for row in part for v in row])
    finally:
        cur.close()


def _log_values(e: Exchange, safe: Redacted, started_at: Any) -> tuple[Any, ...]:
    """An exchange's column values in :data:`_LOG_COLUMNS` order, with its redacted fields
    ``safe`` (:func:`~ocpikit.storage.redaction.redact_fields`)."""
    url, request_headers, response_headers, request_body, response_body, error = safe
    return (
        started_at,
        e.direction.value,
        e.partner_id,
        e.method,
        url,
        e.status,
        e.ocpi_status,
        e.duration_ms,
        e.request_id,
        e.correlation_id,
        _headers_json(request_headers),
        request_body,
        _headers_json(response_headers),
        response_body,
        error,
    )


def _headers_json(headers: tuple[tuple[str, str], ...]) -> str:
    return orjson.dumps(headers).decode()


def _headers_tuple(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in orjson.loads(text))


class SqlExchangeLog:
    def __init__(self, db: _Db, max_body_bytes: int) -> None:
        self._db = db
        self._max = max_body_bytes

    async def record(self, exchanges: Sequence[Exchange]) -> None:
        if not exchanges:
            return
        limit = self._max
        if self._db.dialect == "sqlite":
            # SQL text on the driver, like the other SQLite fast paths, and the values built
            # straight from each exchange and its redacted fields (no redacted copy): the log
            # takes one row per OCPI request, and SQLAlchemy's per-row parameter processing
            # was most of it
            values = [
                _log_values(e, redact_fields(e, max_body_bytes=limit), _sqlite_time(e.started_at))
                for e in exchanges
            ]
            # a debugging record, not a promise to a partner: no fsync of its own (it rides
            # along with the next durable commit, or the WAL checkpoint)
            await self._db.write(lambda conn: _sqlite_log_rows(conn, values), durable=False)
            return
        rows = [
            dict(
                zip(
                    _LOG_COLUMNS,
                    _log_values(e, redact_fields(e, max_body_bytes=limit), e.started_at),
                    strict=True,
                )
            )
            for e in exchanges
        ]
        await self._db.write(lambda conn: conn.execute(sa.insert(exchange_log), rows))

    async def recent(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        partner_id: str | None = None,
    ) -> list[Exchange]:
        query = sa.select(exchange_log).order_by(exchange_log.c.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(exchange_log.c.id < before_id)
        if partner_id is not None:
            query = query.where(exchange_log.c.partner_id == partner_id)

        def run(conn: sa.Connection) -> list[Exchange]:
            return [
                Exchange(
                    id=row.id,
                    direction=ExchangeDirection(row.direction),
                    method=row.method,
                    url=row.url,
                    started_at=row.started_at,
                    partner_id=row.partner_id,
                    duration_ms=row.duration_ms,
                    status=row.status,
                    ocpi_status=row.ocpi_status,
                    request_headers=_headers_tuple(row.request_headers),
                    request_body=row.request_body,
                    response_headers=_headers_tuple(row.response_headers),
                    response_body=row.response_body,
                    request_id=row.request_id,
                    correlation_id=row.correlation_id,
                    error=row.error,
                )
                for row in conn.execute(query)
            ]

        return await self._db.read(run)

    async def prune(self, before: datetime) -> int:
        stmt = sa.delete(exchange_log).where(exchange_log.c.started_at < before)
        return await self._db.write(lambda conn: conn.execute(stmt).rowcount)


# --- outbox -----------------------------------------------------------------------------------


def _row_to_entry(row: sa.Row[Any]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        partner_id=row.partner_id,
        key=ObjectKey(row.kind, row.country_code, row.party_id, row.object_id),
        operation=OutboxOperation(row.operation),
        payload=_bytes(row.payload),
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
    def __init__(self, db: _Db) -> None:
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
        text = _text(dump_document(payload)) if payload is not None else None
        await self._db.write(
            lambda conn: _enqueue(self._db, conn, partner_id, key, operation, text, revision)
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

    async def counts(self) -> dict[OutboxState, int]:
        query = sa.select(outbox.c.state, sa.func.count()).group_by(outbox.c.state)

        def run(conn: sa.Connection) -> dict[OutboxState, int]:
            counts = dict.fromkeys(OutboxState, 0)
            for state, n in conn.execute(query):
                counts[OutboxState(state)] = n
            return counts

        return await self._db.read(run)


# --- commands ---------------------------------------------------------------------------------


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return orjson.dumps(dict(value)).decode() if value is not None else None


def _load_or_none(text: str | None) -> dict[str, Any] | None:
    return orjson.loads(text) if text is not None else None


def _row_to_command(row: sa.Row[Any]) -> CommandRecord:
    return CommandRecord(
        id=row.id,
        direction=CommandDirection(row.direction),
        command=row.command,
        state=row.state,
        partner_id=row.partner_id,
        request=_load_or_none(row.request),
        response_url=row.response_url,
        response=_load_or_none(row.response),
        result=_load_or_none(row.result),
        final=bool(row.final),
        deadline=row.deadline,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCommands:
    def __init__(self, db: _Db) -> None:
        self._db = db

    async def save(self, record: CommandRecord) -> CommandRecord:
        db = self._db

        def run(conn: sa.Connection) -> CommandRecord:
            now = db.clock()
            values = {
                "direction": record.direction.value,
                "id": record.id,
                "command": record.command,
                "state": record.state,
                "partner_id": record.partner_id,
                "request": _json_or_none(record.request),
                "response_url": record.response_url,
                "response": _json_or_none(record.response),
                "result": _json_or_none(record.result),
                "final": record.final,
                "deadline": record.deadline,
                "created_at": now,
                "updated_at": now,
            }
            ins = db.insert(commands).values(**values)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[commands.c.direction, commands.c.id],
                    set_={
                        k: v
                        for k, v in values.items()
                        if k not in {"direction", "id", "created_at"}
                    },
                )
            )
            row = conn.execute(
                sa.select(commands).where(
                    commands.c.direction == record.direction.value, commands.c.id == record.id
                )
            ).one()
            return _row_to_command(row)

        return await db.write(run)

    async def get(self, direction: CommandDirection, command_id: str) -> CommandRecord | None:
        query = sa.select(commands).where(
            commands.c.direction == direction.value, commands.c.id == command_id
        )

        def run(conn: sa.Connection) -> CommandRecord | None:
            row = conn.execute(query).one_or_none()
            return _row_to_command(row) if row is not None else None

        return await self._db.read(run)

    async def due(self, *, before: datetime, limit: int = 100) -> list[CommandRecord]:
        query = (
            sa.select(commands)
            .where(
                commands.c.final.is_(False),
                commands.c.deadline.is_not(None),
                commands.c.deadline < before,
            )
            .order_by(commands.c.deadline, commands.c.id)
            .limit(limit)
        )
        return await self._db.read(lambda conn: [_row_to_command(r) for r in conn.execute(query)])


# --- the storage ------------------------------------------------------------------------------


class SqlStorage:
    """All repositories over one database. Build with :meth:`from_url`; the schema must be
    current (call :func:`ocpikit.storage.upgrade` first, as ``ocpikit db upgrade`` and the
    server's start do)."""

    def __init__(
        self,
        engines: Engines,
        *,
        clock: Clock = utcnow,
        max_body_bytes: int = 256 * 1024,
        wire_cache_bytes: int = WIRE_CACHE_BYTES,
    ) -> None:
        self._db = _Db(engines, clock)
        self._objects = SqlObjects(self._db, wire_cache_bytes=wire_cache_bytes)
        self._partners = SqlPartners(self._db)
        self._tokens = SqlTokens(self._db)
        self._exchanges = SqlExchangeLog(self._db, max_body_bytes)
        self._outbox = SqlOutbox(self._db)
        self._commands = SqlCommands(self._db)
        self._facts = SqlFacts(self._db)

    @classmethod
    def from_url(
        cls,
        url: str | URL,
        *,
        clock: Clock = utcnow,
        pool_size: int | None = None,
        max_body_bytes: int = 256 * 1024,
        durable: bool = True,
        wire_cache_bytes: int = WIRE_CACHE_BYTES,
    ) -> SqlStorage:
        """``pool_size``: reader connections (default: per core, see
        :func:`~ocpikit.storage.sql.engine.default_pool_size`); ``durable``: see
        :func:`~ocpikit.storage.sql.engine.create_engines`; ``wire_cache_bytes``: budget of
        the in-process cache of SQLite page items (0: off; see :class:`_WireCache`)."""
        return cls(
            create_engines(url, pool_size=pool_size, durable=durable),
            clock=clock,
            max_body_bytes=max_body_bytes,
            wire_cache_bytes=wire_cache_bytes,
        )

    @property
    def engines(self) -> Engines:
        return self._db.engines

    @property
    def facts(self) -> SqlFacts:
        return self._facts

    @property
    def objects(self) -> SqlObjects:
        return self._objects

    @property
    def partners(self) -> SqlPartners:
        return self._partners

    @property
    def tokens(self) -> SqlTokens:
        return self._tokens

    @property
    def exchanges(self) -> SqlExchangeLog:
        return self._exchanges

    @property
    def outbox(self) -> SqlOutbox:
        return self._outbox

    @property
    def commands(self) -> SqlCommands:
        return self._commands

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._db.close)
