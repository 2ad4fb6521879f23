"""The exchange log on SQL: every OCPI request and response, redacted before it is written
(docs/storage.md, "Exchange log: redaction"; :mod:`ocpikit.storage.redaction`)."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ocpikit.protocol.exchanges import (
    ERROR_STATUSES,
    ROW_OVERHEAD,
    Exchange,
    ExchangeDirection,
    ExchangeQuery,
    exchange_query,
)
from ocpikit.storage.redaction import Redacted, redact_fields
from ocpikit.storage.sql.batch_parts import power_parts
from ocpikit.storage.sql.database import Database, cursor
from ocpikit.storage.sql.schema import exchange_log, sqlite_time

__all__ = ["SqlExchangeLog"]


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
    "module",
    "object_id",
)
#: log rows per INSERT statement on SQLite at most (17 values each: below the 32,766 variables
#: of SQLite 3.32+, or the 999 of older builds); a batch is written in parts of powers of two
#: (:func:`~ocpikit.storage.sql.batch_parts.power_parts`), so the driver's statement cache
#: keeps at most nine INSERTs, not one per batch size
_LOG_ROWS_PER_INSERT = 256 if sqlite3.sqlite_version_info >= (3, 32) else 32


@functools.lru_cache(maxsize=16)
def _sqlite_log_insert(rows: int) -> str:
    """One INSERT of ``rows`` log rows. One statement is one ``sqlite3_step``: the driver
    releases and takes back the GIL around every step, and with ``executemany`` (a step per
    row) that was two GIL hand-offs per logged request against the busy event loop thread."""
    one = f"({', '.join('?' for _ in _LOG_COLUMNS)})"
    return f"INSERT INTO exchange_log ({', '.join(_LOG_COLUMNS)}) VALUES " + ", ".join([one] * rows)


def _sqlite_log_rows(conn: sa.Connection, values: list[tuple[Any, ...]]) -> None:
    cur = cursor(conn)
    try:
        for part in power_parts(values, _LOG_ROWS_PER_INSERT):
            cur.execute(_sqlite_log_insert(len(part)), [v for row in part for v in row])
    finally:
        cur.close()


#: PostgreSQL: a batch of log rows in one statement, each column an array (parameters: the
#: columns of :data:`_LOG_COLUMNS`, in order)
_PG_LOG_INSERT = (
    f"INSERT INTO exchange_log ({', '.join(_LOG_COLUMNS)}) "
    "SELECT started_at, direction, partner_id, method, url, status, ocpi_status, duration_ms, "
    "request_id, correlation_id, request_headers::jsonb, request_body, "
    "response_headers::jsonb, response_body, error, module, object_id FROM unnest("
    "%b::timestamptz[], %b::text[], %b::text[], %b::text[], %b::text[], %b::int[], %b::int[], "
    "%b::float8[], %b::text[], %b::text[], %b::text[], %b::bytea[], %b::text[], %b::bytea[], "
    f"%b::text[], %b::text[], %b::text[]) AS r({', '.join(_LOG_COLUMNS)})"
)


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
        e.module,
        e.object_id,
    )


#: SQLite: log rows per write (see ``SqlExchangeLog._record_sqlite``)
_ROWS_PER_WRITE = 256

#: log rows redacted and built between two turns of the event loop: a batch (a fifth of a
#: second of requests, thousands under load) built in one go held every request waiting
_ROWS_PER_TURN = 128


async def _rows_between_turns(
    exchanges: Sequence[Exchange], row: Callable[[Exchange], tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """``[row(e) for e in exchanges]``, letting the event loop run other work after every
    :data:`_ROWS_PER_TURN` rows."""
    rows: list[tuple[Any, ...]] = []
    for at in range(0, len(exchanges), _ROWS_PER_TURN):
        if at:
            await asyncio.sleep(0)
        rows += [row(e) for e in exchanges[at : at + _ROWS_PER_TURN]]
    return rows


def _headers_json(headers: tuple[tuple[str, str], ...]) -> str:
    if not headers:  # a compacted row's
        return "[]"
    return orjson.dumps(headers).decode()


def _headers_tuple(text: str) -> tuple[tuple[str, str], ...]:
    return tuple((str(name), str(value)) for name, value in orjson.loads(text))


def _filtered(q: ExchangeQuery) -> sa.Select[Any]:
    """The rows :meth:`ExchangeQuery.matches` keeps (that method is the reference)."""
    c = exchange_log.c
    select = sa.select(exchange_log)
    if q.before_id is not None:
        select = select.where(c.id < q.before_id)
    for column, value in (
        (c.direction, q.direction.value if q.direction is not None else None),
        (c.partner_id, q.partner_id),
        (c.module, q.module),
        (c.object_id, q.object_id),
    ):
        if value is not None:
            select = select.where(column == value)
    if q.since is not None:
        select = select.where(c.started_at >= q.since)
    bounds = q.status_bounds()
    if bounds is not None:
        within = c.status.between(*bounds)
        select = select.where(
            sa.or_(within, c.status.is_(None)) if bounds == ERROR_STATUSES else within
        )
    return select


class SqlExchangeLog:
    """The exchange log (:class:`~ocpikit.protocol.ports.ExchangeLog`); every exchange is
    redacted before it is written."""

    def __init__(self, db: Database, max_body_bytes: int) -> None:
        self._db = db
        self._max = max_body_bytes

    async def record(self, exchanges: Sequence[Exchange]) -> None:
        if not exchanges:
            return
        limit = self._max
        if self._db.dialect == "sqlite":
            await self._record_sqlite(exchanges)
            return
        rows = await _rows_between_turns(
            exchanges,
            lambda e: _log_values(e, redact_fields(e, max_body_bytes=limit), e.started_at),
        )
        pool = self._db.pg_pool
        if pool is None:
            named = [dict(zip(_LOG_COLUMNS, row, strict=True)) for row in rows]
            await self._db.write(lambda conn: conn.execute(sa.insert(exchange_log), named))
            return
        columns = [list(column) for column in zip(*rows, strict=True)]
        # on the event loop's connections, one round trip (a pipeline), and as on SQLite no
        # flush of its own: it is on disk with the next durable commit
        async with pool.connection() as conn, conn.pipeline(), conn.transaction():
            await conn.execute("SET LOCAL synchronous_commit TO OFF")
            await conn.execute(_PG_LOG_INSERT, columns)

    async def _record_sqlite(self, exchanges: Sequence[Exchange]) -> None:
        """The SQLite write: SQL text on the driver, like the other SQLite fast paths, and the
        values built straight from each exchange and its redacted fields (no redacted copy):
        the log takes one row per OCPI request, and SQLAlchemy's per-row parameter processing
        was most of it.

        In parts of :data:`_ROWS_PER_WRITE` rows, each written before the next is built: the
        writer thread runs the writes queued together in one transaction, so a batch written
        at once (a fifth of a second of requests, a thousand rows under load) held the durable
        writes queued beside it, and their answers, as long as its insert took (the write
        path's 99th percentile, docs/server.md "Performance"). Invariant: the parts are written
        in order, every row once. A debugging record, not a promise to a partner: no fsync of
        its own (it rides along with the next durable commit, or the WAL checkpoint)."""
        limit = self._max
        for at in range(0, len(exchanges), _ROWS_PER_WRITE):
            values = [
                _log_values(e, redact_fields(e, max_body_bytes=limit), sqlite_time(e.started_at))
                for e in exchanges[at : at + _ROWS_PER_WRITE]
            ]
            await self._db.write(functools.partial(_sqlite_log_rows, values=values), durable=False)

    async def recent(
        self,
        *,
        limit: int = 100,
        before_id: int | None = None,
        partner_id: str | None = None,
        query: ExchangeQuery | None = None,
    ) -> list[Exchange]:
        select = _filtered(exchange_query(query, before_id=before_id, partner_id=partner_id))
        select = select.order_by(exchange_log.c.id.desc()).limit(limit)

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
                    module=row.module,
                    object_id=row.object_id,
                )
                for row in conn.execute(select)
            ]

        return await self._db.read(run)

    async def prune(self, before: datetime) -> int:
        stmt = sa.delete(exchange_log).where(exchange_log.c.started_at < before)
        return await self._db.write(lambda conn: conn.execute(stmt).rowcount)

    async def prune_to(self, max_bytes: int) -> int:
        """One pass: the log's estimated size and row count, then, when over ``max_bytes``,
        the oldest rows in proportion to the excess (a tenth more, so that the next pass need
        not follow at once) deleted in one statement by id."""
        t = exchange_log.c
        size = sa.func.coalesce(
            sa.func.sum(
                ROW_OVERHEAD
                + sa.func.length(t.url)
                + sa.func.length(sa.cast(t.request_headers, sa.Text))
                + sa.func.length(sa.cast(t.response_headers, sa.Text))
                + sa.func.coalesce(sa.func.length(t.request_body), 0)
                + sa.func.coalesce(sa.func.length(t.response_body), 0)
                + sa.func.coalesce(sa.func.length(t.error), 0)
            ),
            0,
        )

        def run(conn: sa.Connection) -> int:
            total, rows = conn.execute(sa.select(size, sa.func.count())).one()
            if int(total) <= max_bytes or not rows:
                return 0
            excess = (int(total) - max_bytes) / int(total)
            n = min(int(rows), int(rows * excess * 1.1) + 1)
            last = conn.execute(sa.select(t.id).order_by(t.id).offset(n - 1).limit(1)).scalar_one()
            return int(conn.execute(sa.delete(exchange_log).where(t.id <= last)).rowcount)

        return await self._db.write(run)
