"""Implementations of the storage ports of :mod:`ocpikit.protocol.ports` (docs/storage.md).

- :class:`MemoryStorage`: in-memory, for tests and the test kit.
- :class:`SqlStorage`: SQLAlchemy on SQLite (default, a file) or PostgreSQL
  (``postgresql+psycopg://``); the schema is brought up to date by :func:`upgrade`.

:func:`open_storage` is the composition root's one call: it applies the migrations and returns
the storage for a URL.
"""

from __future__ import annotations

from ocpikit.storage.memory import MemoryStorage
from ocpikit.storage.sql import SqlStorage, upgrade

__all__ = ["DEFAULT_DATABASE_URL", "MemoryStorage", "SqlStorage", "open_storage", "upgrade"]

DEFAULT_DATABASE_URL = "sqlite:///ocpikit.db"
"""A SQLite file in the working directory."""


def open_storage(
    database_url: str = DEFAULT_DATABASE_URL, *, migrate: bool = True, pool_size: int = 8
) -> SqlStorage | MemoryStorage:
    """Storage for ``database_url`` (``memory://`` for a throwaway in-memory store); applies the
    migrations first unless ``migrate`` is false."""
    if database_url.startswith("memory:"):
        return MemoryStorage()
    if migrate:
        upgrade(database_url)
    return SqlStorage.from_url(database_url, pool_size=pool_size)
