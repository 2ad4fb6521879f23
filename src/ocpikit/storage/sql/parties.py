"""The ``remote_parties`` and ``object_routes`` tables: the learned part of the party
directory (:class:`~ocpikit.protocol.ports.PartyDirectory`, rules in
:mod:`ocpikit.protocol.parties`).

Invariants: one row per (connection, party, role); a party learned from traffic never
overrides a row the hub listed (its status stays); party parts compared case-insensitively
(``cc_key``/``pid_key`` hold :func:`~ocpikit.core.types.ci_key`), the hub's spelling kept; a
pin is written once and never moved (``pin`` of a pinned object returns the first connection).
Rows go with their connection (foreign keys, ``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa

from ocpikit.core.types import ci_key
from ocpikit.protocol.party_records import Learned, Path, RemoteParty
from ocpikit.storage.sql.schema import object_routes, remote_parties

T = TypeVar("T")

__all__ = ["SqlParties"]


class Database(Protocol):
    clock: Callable[[], datetime]

    def insert(self, table: sa.Table) -> Any: ...

    async def read(self, fn: Callable[[sa.Connection], T], *, scan: bool = False) -> T: ...

    async def write(self, fn: Callable[[sa.Connection], T]) -> T: ...


def _row_of(entry: RemoteParty, now: datetime) -> dict[str, Any]:
    return {
        "partner_id": entry.partner_id,
        "cc_key": ci_key(entry.country_code),
        "pid_key": ci_key(entry.party_id),
        "role": entry.role.upper(),
        "country_code": entry.country_code,
        "party_id": entry.party_id,
        "learned": entry.learned.value,
        "status": entry.status,
        "updated_at": entry.updated_at or now,
    }


def _entry_of(row: Any) -> RemoteParty:
    return RemoteParty(
        row.country_code,
        row.party_id,
        row.role,
        row.partner_id,
        Path.HUB,
        Learned(row.learned),
        status=row.status,
        updated_at=row.updated_at,
    )


def _route_key(kind: str, country_code: str, party_id: str, object_id: str) -> dict[str, str]:
    return {
        "kind": kind,
        "cc_key": ci_key(country_code),
        "pid_key": ci_key(party_id),
        "id_key": ci_key(object_id),
    }


class SqlParties:
    """The learned directory entries and the object pins on SQL."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def learn(self, entries: Sequence[RemoteParty]) -> None:
        if not entries:
            return
        db = self._db

        def run(conn: sa.Connection) -> None:
            now = db.clock()
            for entry in entries:
                row = _row_of(entry, now)
                ins = db.insert(remote_parties).values(**row)
                if entry.learned is Learned.TRAFFIC:  # never overrides what the hub listed
                    conn.execute(ins.on_conflict_do_nothing())
                    continue
                conn.execute(
                    ins.on_conflict_do_update(
                        index_elements=["partner_id", "cc_key", "pid_key", "role"],
                        set_={k: row[k] for k in ("learned", "status", "updated_at")},
                    )
                )

        await db.write(run)

    async def learned(self, *, partner_id: str | None = None) -> list[RemoteParty]:
        query = sa.select(remote_parties).order_by(
            remote_parties.c.cc_key, remote_parties.c.pid_key, remote_parties.c.partner_id
        )
        if partner_id is not None:
            query = query.where(remote_parties.c.partner_id == partner_id)

        def run(conn: sa.Connection) -> list[RemoteParty]:
            return [_entry_of(row) for row in conn.execute(query)]

        return await self._db.read(run)

    async def forget(self, partner_id: str, *, learned: Learned | None = None) -> int:
        stmt = sa.delete(remote_parties).where(remote_parties.c.partner_id == partner_id)
        if learned is not None:
            stmt = stmt.where(remote_parties.c.learned == learned.value)

        def run(conn: sa.Connection) -> int:
            return int(conn.execute(stmt).rowcount or 0)

        return await self._db.write(run)

    async def pin(
        self, kind: str, country_code: str, party_id: str, object_id: str, to: str
    ) -> str:
        db = self._db
        key = _route_key(kind, country_code, party_id, object_id)
        query = sa.select(object_routes.c.partner_id).where(
            *(object_routes.c[k] == v for k, v in key.items())
        )

        def run(conn: sa.Connection) -> str:
            ins = db.insert(object_routes).values(**key, partner_id=to, created_at=db.clock())
            conn.execute(ins.on_conflict_do_nothing())
            return str(conn.execute(query).scalar_one())

        return await db.write(run)

    async def pinned(
        self, kind: str, country_code: str, party_id: str, object_id: str
    ) -> str | None:
        key = _route_key(kind, country_code, party_id, object_id)
        query = sa.select(object_routes.c.partner_id).where(
            *(object_routes.c[k] == v for k, v in key.items())
        )

        def run(conn: sa.Connection) -> str | None:
            value = conn.execute(query).scalar_one_or_none()
            return None if value is None else str(value)

        return await self._db.read(run)
