"""Whether any process changed a partner or a credentials token
(:class:`~ocpikit.protocol.ports.CredentialsChanges` on SQL; docs/security.md).

The database keeps a generation of the credentials: triggers raise
``credentials_generation.value`` in every transaction that changes ``partners`` or
``credentials_tokens``, whoever runs it (this process, ``ocpikit partners unregister`` in
another, a second server), and on PostgreSQL also notify the channel :data:`CHANNEL` at
commit (migration 0006).

- SQLite (:class:`GenerationRead`): the mark is the generation, read outside any transaction
  on a connection of its own (one row by its key, a few microseconds: no thread hop, no round
  trip).
- PostgreSQL (:class:`NotificationCount`): a thread holds a connection that ``LISTEN`` s on
  :data:`CHANNEL`; the mark counts the notifications heard (and the connections made), with no
  I/O. While the listener is not known to be connected (starting, reconnecting, silent for
  :data:`LISTENER_SILENCE` seconds) the mark is the generation, read from the database.

Invariant: a change committed before :meth:`mark` starts changes the mark, except on
PostgreSQL for the moment between the commit and the notification reaching the listener (the
server sends it at commit), or, should the listener's connection die without a word, for at
most :data:`LISTENER_SILENCE` seconds.
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa

from ocpikit.storage.sql.database import Database

__all__ = [
    "CHANNEL",
    "LISTENER_POLL",
    "LISTENER_SILENCE",
    "GenerationRead",
    "NotificationCount",
    "credentials_changes",
]

log = logging.getLogger("ocpikit.storage")

#: the PostgreSQL notification channel of credentials changes (migration 0006)
CHANNEL = "ocpikit_credentials"

#: the listener waits this long for notifications, then checks its connection (seconds)
LISTENER_POLL = 1.0

#: a listener that has not confirmed its connection for this long counts as down (seconds)
LISTENER_SILENCE = 5.0

_GENERATION = "SELECT value FROM credentials_generation WHERE id = 1"


def _generation_by_cursor(cursor: Any) -> int | None:
    row = cursor.execute(_GENERATION).fetchone()
    return None if row is None else int(row[0])


def _generation(conn: sa.Connection) -> int | None:
    value = conn.execute(sa.text(_GENERATION)).scalar_one_or_none()
    return None if value is None else int(value)


class GenerationRead:
    """SQLite: the mark is the generation as the database has it now, read on a connection of
    its own with one kept cursor (half the cost of going through SQLAlchemy's)."""

    def __init__(self, db: Database, path: str) -> None:
        self._db = db
        self._path = path
        self._cursor: sqlite3.Cursor | None = None

    async def mark(self) -> Hashable:
        try:
            if self._cursor is None:
                conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                self._cursor = conn.cursor()
            return _generation_by_cursor(self._cursor)
        except sqlite3.Error:  # a moment's trouble with this connection: the ordinary read
            self.close()
            return await self._db.read(_generation)

    def close(self) -> None:
        if self._cursor is not None:
            self._cursor.connection.close()
            self._cursor = None


class NotificationCount:
    """The mark counts the notifications a listening thread heard; see the module's plan."""

    def __init__(self, db: Database, conninfo: str) -> None:
        self._db = db
        self._conninfo = conninfo
        #: notifications heard plus connections made: only the listener thread writes it
        self._heard = 0
        #: ``time.monotonic()`` when the listener last knew it was connected
        self._alive_at = -math.inf
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    async def mark(self) -> Hashable:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._listen, name="ocpikit-credentials-listener", daemon=True
            )
            self._thread.start()
        if time.monotonic() - self._alive_at < LISTENER_SILENCE:
            return ("heard", self._heard)
        return ("read", await self._db.read(_generation))

    def _listen(self) -> None:
        import psycopg  # the PostgreSQL driver, present whenever a PostgreSQL store is

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._heard += 1  # whatever happened while nobody listened
                    self._alive_at = time.monotonic()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=LISTENER_POLL):
                            self._heard += 1
                        conn.execute("SELECT 1")
                        self._alive_at = time.monotonic()
            except Exception as exc:  # any failure: count as down, try again
                log.warning("credentials listener lost its connection (%s); reconnecting", exc)
            finally:
                self._alive_at = -math.inf
            self._stop.wait(LISTENER_POLL)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3 * LISTENER_POLL + 5)


def credentials_changes(db: Database) -> GenerationRead | NotificationCount:
    """The right kind for the database's dialect."""
    url = db.engines.read.url
    if db.dialect != "postgresql":
        return GenerationRead(db, url.database or "")
    url = url.set(drivername="postgresql")
    return NotificationCount(db, url.render_as_string(hide_password=False))
