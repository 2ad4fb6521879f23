"""Runs of PostgreSQL writes that share one statement: PostgreSQL's counterpart of SQLite's
group commit batches (:mod:`.group_commit`, :mod:`.sqlite_put_batch`).

Plan: a write goes at once while fewer than ``width`` statements of its kind are on their way;
beyond that it waits, and the writes that waited go together when one comes back: one
multi-row statement (one round trip, one commit, one flush of the WAL) for the run. Under load
a request then costs a share of a statement instead of a statement; alone, it waits for
nothing.

Invariants: each write is atomic on its own and its caller learns of its outcome only: a run's
statement writes all of its rows or none, and a run whose statement failed is written again
one write at a time, so that only the failing write fails. A run never holds one key twice (it
ends before a key it holds: a statement may not write a row twice). The caller's ``send``
writes a run's rows in key order, so that two runs on their way lock rows in the same order
and cannot deadlock on each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["WriteRuns"]

Item = TypeVar("Item")
Out = TypeVar("Out")

#: writes per run at most (a statement's parameters grow with it)
MOST = 64


class WriteRuns(Generic[Item, Out]):
    """Writes of one kind of statement, coalesced into runs (see the module's plan).
    ``send(items)`` writes a run in one statement and gives each item's outcome, in order;
    ``key(item)`` names the row an item writes."""

    def __init__(
        self,
        send: Callable[[list[Item]], Awaitable[list[Out]]],
        key: Callable[[Item], Hashable],
        width: int = 2,
    ) -> None:
        self._send = send
        self._key = key
        self.width = width
        self._on_way = 0
        self._waiting: list[tuple[Item, asyncio.Future[Out]]] = []
        #: the tasks sending runs of waiting writes (kept: the loop holds tasks weakly)
        self._tasks: set[asyncio.Task[None]] = set()
        #: statements sent and writes written (``writes / runs``: the mean run)
        self.runs = 0
        self.writes = 0

    async def submit(self, item: Item) -> Out:
        if self._on_way < self.width and not self._waiting:
            self._on_way += 1
            try:
                return (await self._write([item]))[0]
            finally:
                self._on_way -= 1
                self._next()
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        return await future

    async def _write(self, items: list[Item]) -> list[Out]:
        self.runs += 1
        self.writes += len(items)
        return await self._send(items)

    def _next(self) -> None:
        """Send the writes that waited (as many runs as there is room for)."""
        while self._waiting and self._on_way < self.width:
            run: list[tuple[Item, asyncio.Future[Out]]] = []
            keys: set[Hashable] = set()
            for entry in self._waiting:
                key = self._key(entry[0])
                if key in keys or len(run) == MOST:
                    break
                keys.add(key)
                run.append(entry)
            del self._waiting[: len(run)]
            self._on_way += 1
            task = asyncio.ensure_future(self._run(run))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run(self, run: list[tuple[Item, asyncio.Future[Out]]]) -> None:
        try:
            live = [(item, future) for item, future in run if not future.done()]
            if not live:
                return
            try:
                outs = await self._write([item for item, _future in live])
            except Exception:
                if len(live) == 1:
                    raise
                await self._alone(live)  # only the failing write fails
                return
            for (_item, future), out in zip(live, outs, strict=True):
                if not future.done():
                    future.set_result(out)
        except Exception as exc:
            for _item, future in run:
                if not future.done():
                    future.set_exception(exc)
        finally:
            self._on_way -= 1
            self._next()

    async def _alone(self, run: list[tuple[Item, asyncio.Future[Out]]]) -> None:
        for item, future in run:
            try:
                out = (await self._write([item]))[0]
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(out)
