"""Whether any process changed a partner or a credentials token
(:class:`~ocpikit.protocol.ports.CredentialsChanges` on SQL; docs/security.md).

The database keeps a generation of the credentials: triggers raise
``credentials_generation.value`` in every transaction that changes ``partners`` or
``credentials_tokens``, whoever runs it (this process, ``ocpikit partners unregister`` in
another, a second server), and on PostgreSQL also notify the channel :data:`CHANNEL` at
commit (migration 0008).

- SQLite (:class:`SignalFile`): reading even one row costs tens of microseconds while
  another connection writes (SQLite starts each read afresh after a commit, and the call lets
  the writer thread take the GIL), and so would a system call per request. So every change
  made through this storage writes fresh random bytes into a small file beside the database
  after its commit (``<database>-credentials``, :meth:`SignalFile.touch`, from the partner and
  token repositories), which every process maps into memory (shared, like SQLite's own
  ``-shm``): the mark is the generation as last read, read again when those bytes differ from
  the ones seen before that read, and at least every :data:`REREAD_SECONDS` (a change made
  otherwise, SQL by hand, shows within that time). A request costs a 16-byte compare.
- PostgreSQL (:class:`NotificationCount`): a thread holds a connection that ``LISTEN`` s on
  :data:`CHANNEL`; the mark counts the notifications heard (and the connections made), with no
  I/O. While the listener is not known to be connected (starting, reconnecting, silent for
  :data:`LISTENER_SILENCE` seconds) the mark is the generation, read from the database.

Invariant: a change committed (and, on SQLite, its file touched) before ``mark()`` starts
changes the mark, except on PostgreSQL for the moment between the commit and the notification
reaching the listener (the server sends it at commit), or, should the listener's connection
die without a word, for at most :data:`LISTENER_SILENCE` seconds.
"""

from __future__ import annotations

import logging
import math
import mmap
import os
import threading
import time
from collections.abc import Hashable

import sqlalchemy as sa

from ocpikit.storage.sql.database import Database

__all__ = [
    "CHANNEL",
    "LISTENER_POLL",
    "LISTENER_SILENCE",
    "REREAD_SECONDS",
    "NotificationCount",
    "SignalFile",
    "credentials_changes",
]

log = logging.getLogger("ocpikit.storage")

#: the PostgreSQL notification channel of credentials changes (migration 0008)
CHANNEL = "ocpikit_credentials"

#: the listener waits this long for notifications, then checks its connection (seconds)
LISTENER_POLL = 1.0

#: a listener that has not confirmed its connection for this long counts as down (seconds)
LISTENER_SILENCE = 5.0

#: SQLite: the signal file's length: each touch writes that many random bytes
SIGNAL_BYTES = 16

#: SQLite: the generation is read at least this often, whatever the signal file says: a
#: change that did not touch it (SQL by hand, a process killed between commit and touch)
#: shows within this time (seconds)
REREAD_SECONDS = 1.0

_GENERATION = "SELECT value FROM credentials_generation WHERE id = 1"


def _generation(conn: sa.Connection) -> int | None:
    value = conn.execute(sa.text(_GENERATION)).scalar_one_or_none()
    return None if value is None else int(value)


class SignalFile:
    """SQLite: the generation, read again only when the signal file's bytes changed (or
    :data:`REREAD_SECONDS` after the last read); see the module's plan."""

    def __init__(self, db: Database, database_path: str) -> None:
        self._db = db
        #: beside the database, like SQLite's own ``-wal`` and ``-shm``
        self.path = f"{database_path}-credentials"
        self._map: mmap.mmap | None = None
        #: the file's bytes just before the generation was last read
        self._seen: bytes | None = None
        self._generation: int | None = None
        self._read_at = -math.inf

    async def mark(self) -> Hashable:
        now = time.monotonic()
        if now - self._read_at >= REREAD_SECONDS:
            self._remap()  # also picks up a file that was replaced
        seen = self._map[:SIGNAL_BYTES] if self._map is not None else None
        if seen is None or seen != self._seen or now - self._read_at >= REREAD_SECONDS:
            self._generation = await self._db.read(_generation)
            self._seen, self._read_at = seen, now
        return self._generation

    def _remap(self) -> None:
        self.close()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size < SIGNAL_BYTES:
                    os.ftruncate(fd, SIGNAL_BYTES)
                self._map = mmap.mmap(fd, SIGNAL_BYTES)
            finally:
                os.close(fd)
        except OSError as exc:  # then every request reads the generation: slower, still right
            log.warning("cannot map %s (%s): the generation is read per request", self.path, exc)

    def touch(self) -> None:
        """After a change of the credentials committed: new bytes in the file, for every
        process that maps it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                os.pwrite(fd, os.urandom(SIGNAL_BYTES), 0)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning(
                "cannot touch %s (%s): other processes see the change later", self.path, exc
            )

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
            self._map = None


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

    def touch(self) -> None:
        """Nothing to do: the trigger's notification tells the other processes."""

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3 * LISTENER_POLL + 5)


def credentials_changes(db: Database) -> SignalFile | NotificationCount:
    """The right kind for the database's dialect."""
    if db.dialect != "postgresql":
        return SignalFile(db, db.engines.read.url.database or "")
    return NotificationCount(db, db.conninfo())
