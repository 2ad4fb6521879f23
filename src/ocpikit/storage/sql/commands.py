"""Asynchronous commands and charging-profile requests on SQL, sent and received, with their
``response_url``, response, result and deadline (OCPI 2.2.1 mod_commands, mod_charging_profiles:
the result arrives later, so the request must survive a restart)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from ocpikit.protocol.ports import CommandDirection, CommandRecord
from ocpikit.storage.sql.database import Database
from ocpikit.storage.sql.schema import commands

__all__ = ["SqlCommands"]


def _json_or_none(value: Mapping[str, Any] | None) -> str | None:
    return orjson.dumps(dict(value)).decode() if value is not None else None


def _load_or_none(text: str | None) -> dict[str, Any] | None:
    return orjson.loads(text) if text is not None else None


def _row_to_command(row: sa.Row[Any]) -> CommandRecord:
    return CommandRecord(
        id=row.id,
        direction=CommandDirection(row.direction),
        command=row.command,
        state=row.state,
        partner_id=row.partner_id,
        request=_load_or_none(row.request),
        response_url=row.response_url,
        response=_load_or_none(row.response),
        result=_load_or_none(row.result),
        final=bool(row.final),
        deadline=row.deadline,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


class SqlCommands:
    """The command store (:class:`~ocpikit.protocol.ports.CommandStore`)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def save(self, record: CommandRecord) -> CommandRecord:
        db = self._db

        def run(conn: sa.Connection) -> CommandRecord:
            now = db.clock()
            values = {
                "direction": record.direction.value,
                "id": record.id,
                "command": record.command,
                "state": record.state,
                "partner_id": record.partner_id,
                "request": _json_or_none(record.request),
                "response_url": record.response_url,
                "response": _json_or_none(record.response),
                "result": _json_or_none(record.result),
                "final": record.final,
                "deadline": record.deadline,
                "created_at": now,
                "updated_at": now,
            }
            ins = db.insert(commands).values(**values)
            conn.execute(
                ins.on_conflict_do_update(
                    index_elements=[commands.c.direction, commands.c.id],
                    set_={
                        k: v
                        for k, v in values.items()
                        if k not in {"direction", "id", "created_at"}
                    },
                )
            )
            row = conn.execute(
                sa.select(commands).where(
                    commands.c.direction == record.direction.value, commands.c.id == record.id
                )
            ).one()
            return _row_to_command(row)

        return await db.write(run)

    async def get(self, direction: CommandDirection, command_id: str) -> CommandRecord | None:
        query = sa.select(commands).where(
            commands.c.direction == direction.value, commands.c.id == command_id
        )

        def run(conn: sa.Connection) -> CommandRecord | None:
            row = conn.execute(query).one_or_none()
            return _row_to_command(row) if row is not None else None

        return await self._db.read(run)

    async def due(self, *, before: datetime, limit: int = 100) -> list[CommandRecord]:
        query = (
            sa.select(commands)
            .where(
                commands.c.final.is_(False),
                commands.c.deadline.is_not(None),
                commands.c.deadline < before,
            )
            .order_by(commands.c.deadline, commands.c.id)
            .limit(limit)
        )
        return await self._db.read(lambda conn: [_row_to_command(r) for r in conn.execute(query)])
