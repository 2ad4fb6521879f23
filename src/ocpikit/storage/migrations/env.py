"""Alembic environment for ocpikit's schema.

Run through :func:`ocpikit.storage.upgrade` (``ocpikit db upgrade`` and server start), which
passes the database URL (or an open connection) in ``config.attributes``; the ``alembic`` command
line also works with ``-x url=...`` or ``sqlalchemy.url`` in an ini file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ocpikit.storage.sql.engine import create_engines
from ocpikit.storage.sql.schema import metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # ALTER TABLE via copy on SQLite
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = (
        config.attributes.get("url")
        or context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
    )
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or use ocpikit.storage.upgrade()")
    engines = create_engines(url, pool_size=1)
    try:
        with engines.write.connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        engines.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) mode is not supported; run against a database")
run_migrations_online()
