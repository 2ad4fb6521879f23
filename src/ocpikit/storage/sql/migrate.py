"""Applying the Alembic migrations shipped in ``ocpikit/storage/migrations``.

:func:`upgrade` is what ``ocpikit db upgrade`` and the server's start call. It is idempotent
(an up-to-date database is left alone) and safe to run from several processes at once on
PostgreSQL (a transaction-level advisory lock serialises them); on SQLite the writer's
``BEGIN IMMEDIATE`` does the same.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL

from ocpikit.storage.sql.engine import create_engines

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_LOCK_ID = 0x0C91_5707  # arbitrary, constant: the advisory lock key of ocpikit's migrations


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations found")
    return head


def current_revision(database_url: str | URL) -> str | None:
    engines = create_engines(database_url, pool_size=1)
    try:
        with engines.read.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engines.dispose()


def upgrade(database_url: str | URL, revision: str = "head") -> None:
    """Bring the database at ``database_url`` to ``revision`` (default: the newest)."""
    engines = create_engines(database_url, pool_size=1)
    try:
        with engines.write.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
            config = alembic_config()
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.commit()
    finally:
        engines.dispose()
