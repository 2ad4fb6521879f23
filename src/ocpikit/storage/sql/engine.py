"""Engines for SQLite and PostgreSQL, tuned for a service.

SQLAlchemy's asyncio layer is not used: it needs ``greenlet`` (and an async SQLite driver such
as ``aiosqlite``, itself a thread per connection); neither is a dependency. Each call through
these engines runs as one short transaction on a worker thread of a bounded pool sized to the
connection pool (SQLite reads inline; see :mod:`ocpikit.storage.sql.database` and
docs/storage.md); PostgreSQL's hot statements use psycopg's own asyncio connections instead
(:mod:`ocpikit.storage.sql.pg_pool`).

SQLite (the default): WAL so readers never block the writer, the writer's commits fsynced
(``synchronous=FULL``: a write acknowledged to a partner survives a power loss; ``durable=False``
gives ``NORMAL``: durable across application crashes only),
``busy_timeout`` so a second process waits instead of failing, foreign keys on, a modest page
cache and no memory map (see ``SQLITE_PRAGMAS``). Reads and writes get separate engines: many reader connections
that ``BEGIN`` (deferred) and one writer connection that ``BEGIN IMMEDIATE``, so a write
transaction never has to upgrade its lock (the classic SQLITE_BUSY deadlock) and writers queue
in-process instead of spinning on the busy handler.

PostgreSQL: one pooled engine (``postgresql+psycopg://``), ``READ COMMITTED``, for everything
but the hot statements.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

__all__ = ["Engines", "create_engines", "default_pool_size", "is_sqlite"]


@dataclass(frozen=True, slots=True)
class Engines:
    read: Engine
    write: Engine
    pool_size: int
    #: SQLite: one reader connection per thread (``SingletonThreadPool``) for reads run on the
    #: calling (event loop) thread; None on PostgreSQL
    inline: Engine | None = None
    #: SQLite: the writer commits with ``synchronous=FULL``
    durable: bool = False

    @property
    def single_writer(self) -> bool:
        return self.read is not self.write

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()
        if self.inline is not None:
            self.inline.dispose()


def is_sqlite(url: str | URL) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
    # 8 MiB page cache per connection and no memory map: a page reads a few hundred KiB, the
    # OS file cache holds the rest, and the process stays small (docs/storage.md, tuning)
    "PRAGMA cache_size=-8192",
    "PRAGMA mmap_size=0",
    "PRAGMA temp_store=MEMORY",
)


#: page cache of each inline (event-loop thread) reader connection, KiB
INLINE_CACHE_KIB = 65536


def default_pool_size() -> int:
    """Reader connections (and threads): one per core, at least 2, at most 8. Reads are short
    and sqlite3/psycopg release the GIL only while the database works, so more threads than
    cores just queue on the GIL."""
    return max(2, min(8, os.cpu_count() or 2))


def _sqlite_engine(
    url: URL,
    *,
    pool_size: int,
    immediate: bool,
    durable: bool = False,
    per_thread: bool = False,
) -> Engine:
    database = url.database or ""
    if database in {"", ":memory:"} or database.startswith("file::memory:"):
        raise ValueError("SQLite storage needs a file (several connections share it)")
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if per_thread:
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.SingletonThreadPool,
            pool_size=pool_size,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
    else:
        engine = sa.create_engine(
            url,
            poolclass=sa.pool.QueuePool,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=60,
            connect_args={"check_same_thread": False, "timeout": 10},
        )
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own transaction handling
        # would delay it to the first write and never take the lock up front).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            if durable:
                # the writer: every commit is on disk (WAL fsynced) before it returns
                cursor.execute("PRAGMA synchronous=FULL")
            if per_thread:
                # the event loop's reader serves every page: a 64 MiB page cache (bounded, one
                # per serving thread) saves a third of a page's read against 8 MiB
                cursor.execute(f"PRAGMA cache_size=-{INLINE_CACHE_KIB}")
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # straight on the driver: SQLAlchemy's statement machinery for a bare BEGIN costs more
        # than a short read itself
        dbapi = conn.connection.dbapi_connection
        assert dbapi is not None
        dbapi.execute(begin)

    return engine


def create_private_file(path: str | None) -> None:
    """Create the SQLite file ``path`` readable by its owner only (0600) when it does not exist
    yet (SQLite gives its WAL and shared-memory files the same mode); an existing file keeps
    its mode. In-memory databases have no file."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(file, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def create_engines(
    url: str | URL, *, pool_size: int | None = None, durable: bool = True
) -> Engines:
    """Engines for ``url``: ``sqlite:///path`` or ``postgresql+psycopg://...``.

    ``durable`` (SQLite): the writer commits with ``synchronous=FULL``, so a committed write
    survives a power loss, not only a crash of the process (``NORMAL``, the readers' setting,
    where the last commits can be lost but the database never corrupts). PostgreSQL commits
    durably by its own configuration."""
    parsed = make_url(url)
    if pool_size is None:
        pool_size = default_pool_size()
    if parsed.get_backend_name() == "sqlite":
        create_private_file(parsed.database)
        read = _sqlite_engine(parsed, pool_size=pool_size, immediate=False)
        write = _sqlite_engine(parsed, pool_size=1, immediate=True, durable=durable)
        inline = _sqlite_engine(parsed, pool_size=4, immediate=False, per_thread=True)
        return Engines(read=read, write=write, pool_size=pool_size, inline=inline, durable=durable)
    engine = sa.create_engine(
        parsed,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=60,
    )
    return Engines(read=engine, write=engine, pool_size=pool_size)
