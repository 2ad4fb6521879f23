"""The ``platform_facts`` table: :class:`~ocpikit.protocol.ports.PlatformFacts` on SQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from ocpikit.storage.sql.schema import platform_facts

T = TypeVar("T")

__all__ = ["SqlFacts"]


class Database(Protocol):
    """What the facts need of the store's database: a clock, a dialect-aware insert and the
    read and write paths."""

    clock: Callable[[], datetime]

    def insert(self, table: sa.Table) -> Any: ...

    async def read(self, fn: Callable[[sa.Connection], T], *, scan: bool = False) -> T: ...

    async def write(self, fn: Callable[[sa.Connection], T]) -> T: ...


class SqlFacts:
    """One row per fact name; ``set`` is an upsert."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> str | None:
        query = sa.select(platform_facts.c.value).where(platform_facts.c.name == name)

        def run(conn: sa.Connection) -> str | None:
            value = conn.execute(query).scalar_one_or_none()
            return None if value is None else str(value)

        return await self._db.read(run)

    async def set(self, name: str, value: str) -> None:
        db = self._db

        def run(conn: sa.Connection) -> None:
            now = db.clock()
            ins = db.insert(platform_facts).values(name=name, value=value, updated_at=now)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[platform_facts.c.name],
                    set_={"value": value, "updated_at": now},
                )
            )

        await db.write(run)

    async def delete(self, name: str) -> None:
        stmt = sa.delete(platform_facts).where(platform_facts.c.name == name)
        await self._db.write(lambda conn: conn.execute(stmt))
