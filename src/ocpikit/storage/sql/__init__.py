"""SQL storage: SQLAlchemy Core on SQLite (default) or PostgreSQL (docs/storage.md)."""

from ocpikit.storage.sql.engine import create_engines
from ocpikit.storage.sql.migrate import current_revision, head_revision, upgrade
from ocpikit.storage.sql.storage import SqlStorage

__all__ = ["SqlStorage", "create_engines", "current_revision", "head_revision", "upgrade"]
