"""SQLite group commit: concurrent writes share one transaction and one fsync, yet each is
atomic on its own — a write that fails is rolled back alone and only its caller sees the error.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ocpikit.protocol.ports import ObjectKey
from ocpikit.storage import SqlStorage, upgrade

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


class Boom(Exception):
    pass


async def _grouped(storage: SqlStorage, writes: list[Any]) -> list[Any]:
    """Run ``writes`` as one group: the writer is held busy until they are all queued."""
    import threading

    gate = threading.Event()
    holder = asyncio.ensure_future(storage.objects._db.write(lambda conn: gate.wait(10)))
    await asyncio.sleep(0.05)  # the writer thread is now inside the holder
    tasks = [asyncio.ensure_future(w) for w in writes]
    await asyncio.sleep(0.05)  # every write is queued behind it
    gate.set()
    await holder
    return await asyncio.gather(*tasks, return_exceptions=True)


def _doc(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"S{i}",
        "country_code": "DE",
        "party_id": "CPO",
        "last_updated": "2024-03-01T12:00:00Z",
        **extra,
    }


async def test_a_failing_write_in_a_group_fails_alone(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    try:
        key = ObjectKey("Session", "DE", "CPO", "S0")
        await storage.objects.put(key, _doc(0, kwh=1), last_updated=T0, owner="DE-CPO")

        def explode(current: Any) -> Any:
            # a write that has already changed the row when it fails
            raise Boom("merge failed")

        def bump(current: Any) -> Any:
            return {**current, "kwh": current["kwh"] + 1}

        writes = [
            storage.objects.put(
                ObjectKey("Session", "DE", "CPO", f"S{i}"), _doc(i), last_updated=T0, owner="DE-CPO"
            )
            for i in range(1, 40)
        ]
        writes.insert(10, storage.objects.patch(key, explode))
        writes.insert(20, storage.objects.patch(key, bump))
        results = await _grouped(storage, writes)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert len(errors) == 1 and isinstance(errors[0], Boom)
        for i in range(1, 40):
            assert await storage.objects.get(ObjectKey("Session", "DE", "CPO", f"S{i}")) is not None
        stored = await storage.objects.get(key)
        assert stored is not None and stored.document["kwh"] == 2
        page = await storage.objects.list_page("Session", offset=0, limit=100, owner="DE-CPO")
        assert page.total == 40  # the counts table agrees with the rows
    finally:
        await storage.aclose()


async def test_a_duplicate_key_error_inside_a_group_keeps_the_others(tmp_path: Path) -> None:
    """An SQL error (not just a Python one) inside one write leaves the group's transaction
    usable for the writes after it."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db  # the internal write path, to force an SQL error in a group
    try:

        def bad(conn: sa.Connection) -> None:
            # writes a whole object (row, counts), then fails: all of it must be undone
            key = ObjectKey("Tariff", "DE", "CPO", "HALF")
            storage.objects._write(conn, key, '{"id": "HALF"}', T0, None, ())
            conn.exec_driver_sql("INSERT INTO no_such_table VALUES (1)")

        writes: list[Any] = [
            storage.objects.put(
                ObjectKey("Tariff", "DE", "CPO", f"T{i}"),
                {"id": f"T{i}"},
                last_updated=T0,
                owner=None,
            )
            for i in range(20)
        ]
        writes.insert(5, db.write(bad))
        results = await _grouped(storage, writes)
        failures = [r for r in results if isinstance(r, BaseException)]
        assert len(failures) == 1 and isinstance(failures[0], sa.exc.OperationalError)
        page = await storage.objects.list_page("Tariff", offset=0, limit=100, owner=None)
        assert page.total == 20 and len(page.items) == 20
        assert await storage.objects.get(ObjectKey("Tariff", "DE", "CPO", "HALF")) is None
    finally:
        await storage.aclose()


@pytest.mark.parametrize("n", [1, 300])
async def test_every_caller_gets_its_own_result(tmp_path: Path, n: int) -> None:
    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    try:
        stored = await asyncio.gather(
            *(
                storage.objects.put(
                    ObjectKey("Location", "NL", "CPO", f"L{i}"),
                    {"id": f"L{i}"},
                    last_updated=T0,
                    owner=None,
                )
                for i in range(n)
            )
        )
        assert [s.key.id for s in stored] == [f"L{i}" for i in range(n)]
        assert all(s.created for s in stored)
    finally:
        await storage.aclose()


async def test_only_groups_of_non_durable_writes_skip_the_fsync(tmp_path: Path) -> None:
    """The exchange log commits with ``synchronous=NORMAL`` (no WAL fsync); any group holding
    a durable write, and every write after, commits with ``FULL``."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db

    def level(conn: sa.Connection) -> int:
        return int(conn.exec_driver_sql("PRAGMA synchronous").scalar_one())

    try:
        assert await db.write(level, durable=False) == 1  # NORMAL
        assert await db.write(level) == 2  # FULL again
        mixed = await _grouped(storage, [db.write(level, durable=False), db.write(level)])
        assert mixed == [2, 2]  # one durable write makes the whole group durable
        relaxed = await _grouped(storage, [db.write(level, durable=False) for _ in range(3)])
        assert relaxed == [1, 1, 1]
        assert await db.write(level) == 2
    finally:
        await storage.aclose()


async def test_savepoints_only_after_a_write_failed_half_way(tmp_path: Path) -> None:
    """A group of good writes, and one with a write that fails before it changed anything,
    runs without a SAVEPOINT per write; a write that fails after it changed rows makes the
    group run again with them (and its other writes still land, once)."""
    import sqlalchemy as sa

    url = f"sqlite:///{tmp_path / 'g.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    statements: list[str] = []

    @sa.event.listens_for(db.engines.write, "connect")
    def _trace(dbapi: Any, _record: Any) -> None:
        dbapi.set_trace_callback(statements.append)

    db.engines.write.dispose()  # reconnect with the trace
    try:

        def put(i: int) -> Any:
            key = ObjectKey("Tariff", "DE", "CPO", f"T{i}")
            return storage.objects.put(key, {"id": f"T{i}"}, last_updated=T0, owner=None)

        def refuse(conn: sa.Connection) -> None:
            conn.exec_driver_sql("SELECT 1").fetchall()
            raise Boom("nothing written yet")

        results = await _grouped(storage, [put(i) for i in range(10)] + [db.write(refuse)])
        assert [isinstance(r, Boom) for r in results] == [False] * 10 + [True]
        assert not any("SAVEPOINT" in s for s in statements)

        def half(conn: sa.Connection) -> None:
            key = ObjectKey("Tariff", "DE", "CPO", "HALF")
            storage.objects._write(conn, key, '{"id": "HALF"}', T0, None, ())
            raise Boom("after a write")

        statements.clear()
        results = await _grouped(storage, [put(i) for i in range(10, 20)] + [db.write(half)])
        assert [isinstance(r, Boom) for r in results] == [False] * 10 + [True]
        assert sum(s.startswith("SAVEPOINT") for s in statements) == 11
        assert sum(s.startswith("ROLLBACK TO") for s in statements) == 1
        assert await storage.objects.get(ObjectKey("Tariff", "DE", "CPO", "HALF")) is None
        page = await storage.objects.list_page("Tariff", offset=0, limit=100, owner=None)
        assert page.total == 20 and [o.revision for o in page.items] == [1] * 20
    finally:
        await storage.aclose()


async def test_the_writer_keeps_its_connection_and_replaces_a_broken_one(tmp_path: Path) -> None:
    """Groups share one writer connection (no pool round trip per group); a group whose
    COMMIT fails hands it back and the next group works on a fresh one; close gives it back."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    storage = SqlStorage.from_url(url)
    db = storage.objects._db
    group = db._group
    assert group is not None
    try:
        ids = set()
        for i in range(3):
            await storage.objects.put(
                ObjectKey("Session", "DE", "CPO", f"S{i}"), _doc(i), last_updated=T0, owner="X"
            )
            ids.add(id(group._conn))
        assert len(ids) == 1 and group._conn is not None
        kept = group._conn

        def breaks_the_connection(conn: Any) -> None:
            conn.connection.dbapi_connection.close()  # so the group's COMMIT fails

        with pytest.raises(Exception, match="closed database"):
            await db.write(breaks_the_connection)
        assert group._conn is None and kept.closed
        await storage.objects.put(
            ObjectKey("Session", "DE", "CPO", "S9"), _doc(9), last_updated=T0, owner="X"
        )
        assert group._conn is not None and group._conn is not kept
        assert await storage.objects.get(ObjectKey("Session", "DE", "CPO", "S9")) is not None
        last = group._conn
    finally:
        await storage.aclose()
    assert group._conn is None and last.closed
