"""Where a storage call runs: connections and threads (docs/storage.md, "Where the threads are").

Each port method is one short transaction. :class:`Database` runs it:

- SQLite reads inline, on the calling thread with that thread's own reader connection
  (``scan=True`` reads, which walk a whole table, on a bounded pool of reader threads);
- SQLite writes in the writer thread's next group commit (:mod:`.group_commit`);
- PostgreSQL reads and writes on one bounded pool of threads, except the hot statements
  (pages, an object's put, patch and get), which run on the event loop over
  :attr:`Database.pg_pool` (:mod:`.pg_pool`: psycopg's asyncio connections).

Why threads and not an async driver: see :mod:`ocpikit.storage.sql.engine`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ocpikit.storage._common import Clock
from ocpikit.storage.sql.engine import Engines
from ocpikit.storage.sql.group_commit import Batch, GroupCommit
from ocpikit.storage.sql.pg_pool import AsyncPool, default_async_connections

__all__ = ["Database", "cursor"]

Result = TypeVar("Result")


def cursor(conn: sa.Connection) -> Any:
    """The driver's cursor on the transaction's connection (the SQLite statements run as SQL
    text on it, without building SQLAlchemy constructs per call)."""
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


class Database:
    """The engines, the clock, and the threads that run reads and writes."""

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
            GroupCommit(engines.write, self._write_pool, full=engines.durable)
            if engines.single_writer
            else None
        )
        #: PostgreSQL: the event loop's connections for the hot statements
        self.pg_pool: AsyncPool | None = None
        if self.dialect == "postgresql":
            self.pg_pool = AsyncPool(self.conninfo(), default_async_connections())

    def conninfo(self) -> str:
        """PostgreSQL: the libpq connection string of the database (the driver's own)."""
        url = self.engines.read.url.set(drivername="postgresql")
        return url.render_as_string(hide_password=False)

    @staticmethod
    def _run(engine: sa.Engine, fn: Callable[[sa.Connection], Result]) -> Result:
        with engine.begin() as conn:
            return fn(conn)

    def _inline_connection(self, inline: sa.Engine) -> sa.Connection:
        conn: sa.Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = inline.connect()
        return conn

    async def read(self, fn: Callable[[sa.Connection], Result], *, scan: bool = False) -> Result:
        """Run ``fn`` in a read transaction.

        SQLite: on the calling thread with that thread's own reader connection: a bounded read
        (a page, a lookup) is shorter than handing it to a thread and back under load.
        ``scan=True`` marks reads that walk a whole table (reconciliation, exports), which keep
        to the pool so the event loop is not blocked. PostgreSQL: always the pool."""
        inline = self.engines.inline
        if inline is not None and not scan:
            conn = self._inline_connection(inline)
            with conn.begin():
                return fn(conn)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._read_pool, functools.partial(self._run, self.engines.read, fn)
        )

    def read_quick(self, fn: Callable[[Any], Result | None]) -> Result | None:
        """SQLite: ``fn(cursor)`` on this thread's reader connection outside any transaction
        (each statement reads its own snapshot), for a lookup that is one statement or gives
        up (None); None without an inline reader (PostgreSQL). Saves the BEGIN and COMMIT of
        a page served from the listing cache."""
        inline = self.engines.inline
        if inline is None:
            return None
        conn = self._inline_connection(inline)
        if conn.in_transaction():
            return None
        cur = cursor(conn)
        try:
            return fn(cur)
        finally:
            cur.close()

    async def write(
        self,
        fn: Callable[[sa.Connection], Result],
        *,
        durable: bool = True,
        batch: Batch | None = None,
    ) -> Result:
        """Run ``fn`` in a write transaction; on SQLite in the next group commit, where
        ``batch`` lets it run with its neighbours. ``fn`` may run more than once
        (:mod:`.group_commit`)."""
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
        if self.pg_pool is not None:
            self.pg_pool.close()
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
