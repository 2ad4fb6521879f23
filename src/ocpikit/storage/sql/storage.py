"""The SQL storage: every repository of :class:`~ocpikit.protocol.ports.Storage` over one
database (SQLAlchemy Core; SQLite by default, or PostgreSQL). docs/storage.md.

Each repository lives in its own module (:mod:`.objects`, :mod:`.partners`, :mod:`.tokens`,
:mod:`.exchange_log`, :mod:`.outbox`, :mod:`.commands`, :mod:`.facts`, :mod:`.cdr_checks`,
and the signal
:mod:`.credentials_changes`); they share one
:class:`~.database.Database`, which decides where each transaction runs.
"""

from __future__ import annotations

import asyncio
import functools

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL

from ocpikit.storage._common import Clock, utcnow
from ocpikit.storage.sql.cdr_builds import SqlCdrBuilds
from ocpikit.storage.sql.cdr_checks import SqlCdrChecks
from ocpikit.storage.sql.commands import SqlCommands
from ocpikit.storage.sql.credentials_changes import (
    NotificationCount,
    SignalFile,
    credentials_changes,
)
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.engine import Engines, create_engines
from ocpikit.storage.sql.exchange_log import SqlExchangeLog
from ocpikit.storage.sql.facts import SqlFacts
from ocpikit.storage.sql.hub_counters import SqlHubCounters
from ocpikit.storage.sql.listing_cache import WIRE_CACHE_BYTES
from ocpikit.storage.sql.migrate import head_revision
from ocpikit.storage.sql.objects import SqlObjects
from ocpikit.storage.sql.outbox import SqlOutbox
from ocpikit.storage.sql.parties import SqlParties
from ocpikit.storage.sql.partners import SqlPartners
from ocpikit.storage.sql.secrets import SecretBox
from ocpikit.storage.sql.tokens import SqlTokens

__all__ = ["SqlStorage"]


#: the newest migration shipped (read once: the scripts do not change while a process runs)
_head_revision = functools.cache(head_revision)


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
        secrets: SecretBox | None = None,
    ) -> None:
        self._db = Database(engines, clock)
        self._credentials_changes = credentials_changes(self._db)
        changed = self._credentials_changes.touch
        self._objects = SqlObjects(self._db, wire_cache_bytes=wire_cache_bytes)
        self._partners = SqlPartners(self._db, secrets, changed=changed)
        self._tokens = SqlTokens(self._db, changed=changed)
        self._exchanges = SqlExchangeLog(self._db, max_body_bytes)
        self._outbox = SqlOutbox(self._db)
        self._commands = SqlCommands(self._db)
        self._facts = SqlFacts(self._db)
        self._hub_counters = SqlHubCounters(self._db)
        self._parties = SqlParties(self._db)
        self._cdr_checks = SqlCdrChecks(self._db)
        self._cdr_builds = SqlCdrBuilds(self._db)

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
        secrets: SecretBox | None = None,
    ) -> SqlStorage:
        """``pool_size``: reader connections (default: per core, see
        :func:`~ocpikit.storage.sql.engine.default_pool_size`); ``durable``: see
        :func:`~ocpikit.storage.sql.engine.create_engines`; ``wire_cache_bytes``: budget of
        the in-process cache of SQLite page items (0: off; see :class:`~.listing_cache.ListingCache`);
        ``secrets``: seals the tokens partners gave us at rest (:mod:`~.secrets`; None: kept as
        they are)."""
        return cls(
            create_engines(url, pool_size=pool_size, durable=durable),
            clock=clock,
            max_body_bytes=max_body_bytes,
            wire_cache_bytes=wire_cache_bytes,
            secrets=secrets,
        )

    @property
    def engines(self) -> Engines:
        return self._db.engines

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

    @property
    def facts(self) -> SqlFacts:
        return self._facts

    @property
    def parties(self) -> SqlParties:
        return self._parties

    @property
    def hub_counters(self) -> SqlHubCounters:
        return self._hub_counters

    @property
    def cdr_checks(self) -> SqlCdrChecks:
        return self._cdr_checks

    @property
    def cdr_builds(self) -> SqlCdrBuilds:
        return self._cdr_builds

    @property
    def credentials_changes(self) -> SignalFile | NotificationCount:
        return self._credentials_changes

    async def readiness(self) -> list[str]:
        """The database answers a read, and its schema is at the newest migration."""

        def current(conn: sa.Connection) -> str | None:
            return MigrationContext.configure(conn).get_current_revision()

        try:
            revision = await self._db.read(current)
        except Exception as exc:
            return [f"database unreachable: {type(exc).__name__}"]
        head = _head_revision()
        if revision != head:
            return [f"database schema at migration {revision or 'none'}, expected {head}"]
        return []

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(None, self._close)

    def _close(self) -> None:
        self._credentials_changes.close()
        self._db.close()
