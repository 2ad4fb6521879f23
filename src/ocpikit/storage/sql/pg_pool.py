"""PostgreSQL connections for the event loop: a small pool of psycopg ``AsyncConnection`` s
(docs/storage.md, "Where the threads are").

Plan: the hot statements (a page, an object's put, patch and get, storing wire forms) run on
the event loop itself, each awaiting its round trip, instead of on a thread per call: while
one request waits for PostgreSQL the loop serves others, with no hand-off of the GIL to a
worker thread and back. At most ``size`` connections are open; a caller beyond that waits for
one to come back (first come, first served).

Invariants: connections are in autocommit mode (a statement is its own transaction; a caller
that needs more opens a transaction block and ends it); a connection comes back to the pool
only idle (no transaction open, no result pending), so one that failed, was cancelled
mid-statement or lost its server is closed and replaced by a new one on demand; an idle one
whose server hung up meanwhile (its socket has something to read) is closed when it is next
taken, so a restarted server costs no failed request. The pool
belongs to the event loop that first used it: another loop (a second ``asyncio.run`` over the
same storage) gets fresh connections and the old ones are closed.

Why not ``psycopg_pool.AsyncConnectionPool``: it is opened in one event loop and bound to it
(its worker tasks and locks), while a storage here outlives loops: the CLI and the tests run
several ``asyncio.run`` over one storage. This pool has no tasks of its own to rebind.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import select
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the driver is imported only where a PostgreSQL store is opened
    from psycopg import AsyncConnection

__all__ = ["AsyncPool", "default_async_connections"]


def default_async_connections() -> int:
    """Connections of a process's pool: four per core, 4 to 16. A statement waits mostly on
    the server (a commit on its WAL flush), so a few per core keep the loop busy and let
    PostgreSQL flush several commits at once."""
    return max(4, min(16, 4 * (os.cpu_count() or 1)))


class AsyncPool:
    """At most ``size`` autocommit connections to ``conninfo``, for one event loop."""

    def __init__(self, conninfo: str, size: int) -> None:
        if size < 1:
            raise ValueError("an async pool needs at least one connection")
        self.conninfo = conninfo
        self.size = size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: list[AsyncConnection[Any]] = []
        #: callers waiting for a connection: handed one, or None (a place is free: connect)
        self._waiters: collections.deque[asyncio.Future[AsyncConnection[Any] | None]] = (
            collections.deque()
        )
        self._open = 0
        self._closed = False

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        """An idle connection for the ``async with`` block, given back after it."""
        conn = await self._take()
        try:
            yield conn
        except BaseException:
            self._give(conn)
            raise
        self._give(conn)

    async def _take(self) -> AsyncConnection[Any]:
        if self._closed:
            raise RuntimeError("the storage is closed")
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._reset()
            self._loop = loop
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and not _hung_up(conn):
                return conn
            _finish(conn)
            self._open -= 1
        if self._open >= self.size:
            waiter: asyncio.Future[AsyncConnection[Any] | None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                handed = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand(waiter.result())  # handed over just as the caller gave up
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise
            if handed is not None:
                return handed
            # a connection was closed: its place is this caller's
        self._open += 1
        try:
            return await self._connect()
        except BaseException:
            self._open -= 1
            self._hand(None)
            raise

    async def _connect(self) -> AsyncConnection[Any]:
        from psycopg import AsyncConnection

        conn = await AsyncConnection.connect(self.conninfo, autocommit=True)
        # the hot statements' plans do not depend on their values (key lookups, index ranges
        # on ``(kind, chg)``, unnested arrays), so each is planned once per connection: left to
        # choose, PostgreSQL planned the freshness check of a page anew at every execution
        # (its generic estimate of ``chg >= $1`` is a third of the rows), 130 µs of the server's
        # CPU per check instead of 35
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        return conn

    def _give(self, conn: AsyncConnection[Any]) -> None:
        from psycopg.pq import TransactionStatus

        if self._closed or conn.closed or conn.info.transaction_status != TransactionStatus.IDLE:
            self._open -= 1
            _finish(conn)
            self._hand(None)
            return
        self._hand(conn)

    def _hand(self, conn: AsyncConnection[Any] | None) -> None:
        """``conn`` to the first waiter, or None (a free place: it opens a connection), else
        ``conn`` back to the idle ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(conn)
                return
        if conn is not None:
            if self._closed:
                self._open -= 1
                _finish(conn)
            else:
                self._idle.append(conn)

    def _reset(self) -> None:
        """Forget the connections of another event loop (closing them)."""
        for conn in self._idle:
            _finish(conn)
        self._idle.clear()
        self._open = 0
        for waiter in self._waiters:
            waiter.cancel()
        self._waiters.clear()

    def close(self) -> None:
        """Close the idle connections; those in use are closed when they come back."""
        self._closed = True
        self._reset()


def _hung_up(conn: AsyncConnection[Any]) -> bool:
    """Whether an idle connection has something to read: the server closed it (restarted,
    or ended the session) or sent a message nobody asked for. Either way it is not used
    again; one ``poll`` of its socket instead of a round trip to ask."""
    try:
        return bool(select.select([conn.pgconn.socket], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _finish(conn: AsyncConnection[Any]) -> None:
    """Close ``conn`` without awaiting (its socket is simply closed)."""
    if not conn.closed:
        conn.pgconn.finish()
