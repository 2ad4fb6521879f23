"""The ``hub_counters`` table: :class:`~ocpikit.protocol.ports.HubCounterStore` on SQL. A batch
of increments is one transaction of upserts that add to the stored count (safe with several
processes of the hub adding at once)."""

from __future__ import annotations

from collections.abc import Mapping

import sqlalchemy as sa

from ocpikit.storage.sql.facts import Database
from ocpikit.storage.sql.schema import hub_counters

__all__ = ["SqlHubCounters"]


class SqlHubCounters:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, increments: Mapping[tuple[str, str], int]) -> None:
        db = self._db
        rows = [
            {"partner_id": pid, "counter": name[:200], "count": n}
            for (pid, name), n in sorted(increments.items())
            if n
        ]
        if not rows:
            return

        def run(conn: sa.Connection) -> None:
            now = db.clock()
            ins = db.insert(hub_counters)
            stmt = ins.on_conflict_do_update(
                index_elements=[hub_counters.c.partner_id, hub_counters.c.counter],
                set_={"count": hub_counters.c.count + ins.excluded.count, "updated_at": now},
            )
            conn.execute(stmt, [{**row, "updated_at": now} for row in rows])

        await db.write(run)

    async def all(self) -> dict[str, dict[str, int]]:
        query = sa.select(hub_counters.c.partner_id, hub_counters.c.counter, hub_counters.c.count)

        def run(conn: sa.Connection) -> dict[str, dict[str, int]]:
            out: dict[str, dict[str, int]] = {}
            for pid, name, n in conn.execute(query):
                out.setdefault(str(pid), {})[str(name)] = int(n)
            return out

        return await self._db.read(run)
