"""Group commit for SQLite's single writer connection (docs/storage.md, "Where the threads are").

**A write may run more than once.** Every write queued here must do nothing but database work
on the connection it gets, and give the same result when it runs again: a group whose write
failed half way is rolled back and run again with a SAVEPOINT around each write.

Plan: writes queue here; the writer thread takes everything queued (at most
:attr:`GroupCommit.MAX_GROUP`) and runs it in one ``BEGIN IMMEDIATE`` transaction, then
commits once and wakes each event loop once. So each caller still gets an atomic write of its
own (a write that raises is undone and only its caller sees the error) that is durable when its
``await`` returns, while concurrent requests share one fsync.

When a group starts is the loop's call: the first write queued while the writer is idle starts
it from the event loop's next round of callbacks (``call_soon``), not at once, and a writer
that finds more writes queued after a commit hands the start of the next group to the loop
that gets the results (it waits, parked, for that loop's next round, at most
:attr:`GroupCommit.HAND_OFF_WAIT`). The writer needs the GIL the loop holds anyway, and so the
writes the loop queues in the rest of its round join the group: fewer, larger groups, so
fewer commits (each an fsync), statements and thread wake-ups per write.

Invariants:

- The writes run straight, without a SAVEPOINT each. A write that raises before it changed
  anything (SQLite undoes a failed statement itself; ``total_changes`` has not moved) fails
  alone. One that raises after it changed rows (:class:`PartialWrite`) rolls the group back,
  and the group runs again with a SAVEPOINT around each write and no batches.
- A write may name a :class:`Batch`: a run of consecutive writes of a group with the same
  runner and distinct keys runs as one call of the runner. The runner may leave some of the
  run to their own write function; a runner that raises before it changed anything leaves all
  of them to it. A run never crosses another write, and a key repeated in a run ends it, so
  writes of the same object keep their order.
- Every queued write gets written: a start handed to a loop happens in that loop's next
  round; when that loop has closed meanwhile (its callbacks are lost), the next write queued,
  from any loop, starts the writer, and a parked writer goes on by itself after
  :attr:`GroupCommit.HAND_OFF_WAIT`.
- The writer thread keeps its connection from one group to the next; a group that fails at
  BEGIN or COMMIT gives it back and the next takes a fresh one. :meth:`GroupCommit.release`
  gives it back for good (on close).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import threading
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

__all__ = ["Batch", "BatchRunner", "GroupCommit", "Outcome", "PartialWrite", "Pending"]

Result = TypeVar("Result")

Outcome = tuple[bool, Any]
"""What one write of a group gave: ``(True, result)`` or ``(False, exception)``."""

BatchRunner = Callable[[sa.Connection, list[Any]], list[Outcome | None]]
"""Writes a run of batch items at once: per item, its outcome, or None for a write it left to
the write's own function."""


@dataclass(frozen=True, slots=True)
class Batch:
    """How a write may run with its neighbours in a group: ``runner(conn, items)`` writes a run
    of them at once (it must not raise after it changed rows unless a retry of the whole group
    with savepoints is acceptable, as for any write). ``key`` identifies what the write
    changes: a run holds each key once."""

    runner: BatchRunner
    item: Any
    key: Hashable


@dataclass(slots=True)
class Pending:
    """A queued write: its function, the future its caller awaits on ``loop``, whether its
    commit must be fsynced (``durable``) and the batch it may join."""

    write: Callable[[sa.Connection], Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    durable: bool
    batch: Batch | None


class PartialWrite(Exception):
    """A write of a group raised after it had changed rows (only a savepoint can undo it)."""


class GroupCommit:
    """The queue and the writer thread's loop (see the module docstring)."""

    MAX_GROUP = 256
    #: seconds a parked writer waits for the loop to start the next group before it goes on
    HAND_OFF_WAIT = 0.05

    def __init__(self, engine: sa.Engine, executor: ThreadPoolExecutor, *, full: bool) -> None:
        self._engine = engine
        self._executor = executor
        self._full = full  # the writer commits with synchronous=FULL
        self._queue: collections.deque[Pending] = collections.deque()
        self._lock = threading.Lock()
        self._draining = False
        #: the loop whose next round starts the next group (None: none is to)
        self._starting: asyncio.AbstractEventLoop | None = None
        #: the writer waits in :meth:`_drain` for that start (else it is to be submitted)
        self._parked = False
        self._resume: queue.SimpleQueue[None] = queue.SimpleQueue()
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
        write: Callable[[sa.Connection], Result],
        *,
        durable: bool = True,
        batch: Batch | None = None,
    ) -> Result:
        """Run ``write`` in the next group. ``durable=False`` (the exchange log): a group made
        only of such writes commits without the WAL fsync (``synchronous=NORMAL``: lost on a
        power cut, never corrupt); one durable write in the group makes the whole commit
        durable. ``batch``: ``write`` may run together with its neighbours."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Result] = loop.create_future()
        with self._lock:
            self._queue.append(Pending(write, future, loop, durable, batch))
            start = not self._draining
            self._draining = True
            if start:
                self._starting = loop
            lost = self._starting is not None and self._starting.is_closed()
        if start:
            loop.call_soon(self._start)
        elif lost:  # the loop that was to start the writer closed first
            self._start()
        return await future

    def _start(self) -> None:
        """Start the next group (in the loop it was handed to): wake the parked writer, or
        submit an idle one."""
        with self._lock:
            if self._starting is None:
                return  # started already
            self._starting = None
            parked, self._parked = self._parked, False
        if parked:
            self._resume.put(None)
        else:
            self._executor.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._draining = False
                    return
                n = min(len(self._queue), self.MAX_GROUP)
                group = [self._queue.popleft() for _ in range(n)]
            relaxed = self._full and not any(pending.durable for pending in group)
            try:
                try:
                    outcomes = self._run(group, relaxed, savepoints=False)
                except PartialWrite:
                    outcomes = self._run(group, relaxed, savepoints=True)
            except Exception as exc:  # BEGIN, a lone write or COMMIT failed: nothing stored
                outcomes = [(False, exc)] * len(group)
            if self._settle(group, outcomes):
                self._wait_for_start()

    def _settle(self, group: list[Pending], outcomes: list[Outcome]) -> bool:
        """Hand each loop its results, with one wake-up per loop for the whole group (each
        ``call_soon_threadsafe`` writes to the loop's self-pipe). When more writes are queued,
        the first loop's callback also starts the next group: True when one does."""
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]]
        by_loop = {}
        for pending, outcome in zip(group, outcomes, strict=True):
            by_loop.setdefault(pending.loop, []).append((pending.future, outcome))
        with self._lock:
            more = bool(self._queue)
        handed = False
        for loop, settled in by_loop.items():
            if more and not handed:
                with self._lock:
                    self._starting, self._parked = loop, True
                try:
                    loop.call_soon_threadsafe(self._settle_and_start, settled)
                    handed = True
                except RuntimeError:  # that loop is closed: the next one, or none
                    with self._lock:
                        self._starting, self._parked = None, False
                continue
            with contextlib.suppress(RuntimeError):  # that loop is closed
                loop.call_soon_threadsafe(_settle_all, settled)
        return handed

    def _settle_and_start(self, settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
        _settle_all(settled)
        asyncio.get_running_loop().call_soon(self._start)

    def _wait_for_start(self) -> None:
        """Park until the loop starts the next group, or :attr:`HAND_OFF_WAIT` has passed."""
        try:
            self._resume.get(timeout=self.HAND_OFF_WAIT)
        except queue.Empty:
            with self._lock:
                started = self._starting is None  # its wake-up is on the way
                self._starting, self._parked = None, False
            if started:
                self._resume.get()

    def _run(self, group: list[Pending], relaxed: bool, *, savepoints: bool) -> list[Outcome]:
        """One transaction for ``group``: each write's outcome."""
        try:
            return self._transaction(self._connection(), group, relaxed, savepoints)
        except PartialWrite:
            raise  # rolled back; the connection is fine
        except BaseException:
            self.release()  # BEGIN, COMMIT or a lone write failed: next group, fresh connection
            raise

    def _transaction(
        self, conn: sa.Connection, group: list[Pending], relaxed: bool, savepoints: bool
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with _synchronous(conn, relaxed), conn.begin():
            if len(group) == 1:
                return [(True, group[0].write(conn))]
            dbapi = conn.connection.dbapi_connection
            assert dbapi is not None
            at = 0
            while at < len(group):
                end = at if savepoints else _batch_end(group, at)
                if end - at > 1:
                    outcomes += _run_batch(conn, dbapi, group[at:end])
                    at = end
                    continue
                outcomes.append(_run_one(conn, dbapi, group[at].write, savepoints))
                at += 1
        return outcomes


def _run_batch(conn: sa.Connection, dbapi: Any, run: list[Pending]) -> list[Outcome]:
    """A run of writes with the same batch runner: one call of the runner, then each write it
    left (None) on its own."""
    first = run[0].batch
    assert first is not None
    before = dbapi.total_changes
    try:
        done = first.runner(conn, [pending.batch.item for pending in run if pending.batch])
    except Exception as exc:
        if dbapi.total_changes != before or not dbapi.in_transaction:
            raise PartialWrite() from exc
        done = [None] * len(run)
    return [
        outcome if outcome is not None else _run_one(conn, dbapi, pending.write, False)
        for pending, outcome in zip(run, done, strict=True)
    ]


def _batch_end(group: list[Pending], at: int) -> int:
    """The end of the batch run starting at ``at`` (``at`` itself when there is none): the
    consecutive writes with the same runner and distinct keys."""
    first = group[at].batch
    if first is None:
        return at
    keys = {first.key}
    end = at + 1
    while end < len(group):
        batch = group[end].batch
        if batch is None or batch.runner is not first.runner or batch.key in keys:
            break
        keys.add(batch.key)
        end += 1
    return end


def _run_one(
    conn: sa.Connection, dbapi: Any, write: Callable[[sa.Connection], Any], savepoints: bool
) -> Outcome:
    """One write of a group: its outcome; :class:`PartialWrite` when it raised after it
    changed rows (without a savepoint around it)."""
    if savepoints:
        # straight on the driver: SQLAlchemy would compile a new SAVEPOINT construct per call
        dbapi.execute("SAVEPOINT ocpikit_write")
        try:
            result = write(conn)
        except Exception as exc:
            dbapi.execute("ROLLBACK TO ocpikit_write")
            dbapi.execute("RELEASE ocpikit_write")
            return (False, exc)
        dbapi.execute("RELEASE ocpikit_write")
        return (True, result)
    before = dbapi.total_changes
    try:
        return (True, write(conn))
    except Exception as exc:
        if dbapi.total_changes != before or not dbapi.in_transaction:
            raise PartialWrite() from exc
        return (False, exc)


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


def _settle_all(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value) in settled:
        if future.done():  # the caller was cancelled; the write itself stands
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
